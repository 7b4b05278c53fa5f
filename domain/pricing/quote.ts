import { bandOf, isPricedBand, windowOf } from "../grid.ts";
import { isOffered, multiplierHundredths } from "./multiplier.ts";
import { touchProbability } from "./touch.ts";

/**
 * The quote of one cell as a pure function of what the last index tick left behind (its time, its
 * price and the volatility figures the model needs) and the market's fixed terms. The server prices
 * bets with it, and the WebSocket pushes the inputs with every `price` message and the terms in
 * `hello`, so a client that runs this same module shows exactly the multiplier the server will quote
 * until the next tick. Every field is a JSON-safe number.
 */
export interface QuoteInputs {
  /** Time of the index tick, epoch ms. */
  t: number;
  /** Index price of that tick, integer cents. */
  priceCents: number;
  /** σ of the log-price per √ms, from the volatility estimate at that tick. */
  sigmaPerSqrtMs: number;
  /** Mean time between index ticks, ms (the discrete-monitoring correction). */
  tickIntervalMs: number;
}

export interface QuoteTerms {
  columnMs: number;
  rowCents: number;
  houseEdgeBp: number;
  minMultiplierHundredths: number;
  maxMultiplierHundredths: number;
}

/** P(touch) of cell (col, row) against `inputs`; undefined when the cell is not a priceable range. */
export function quoteTouchProbability(inputs: QuoteInputs, terms: QuoteTerms, col: number, row: number): number | undefined {
  if (!Number.isSafeInteger(row) || !Number.isSafeInteger(col)) return undefined;
  const window = windowOf(col, terms.columnMs);
  const band = bandOf(row, terms.rowCents);
  if (!isPricedBand(band) || !Number.isSafeInteger(window.endMs)) return undefined;
  return touchProbability({
    spotCents: inputs.priceCents,
    bandLowCents: band.lowCents,
    bandHighCents: band.highCents,
    startInMs: window.startMs - inputs.t,
    windowMs: terms.columnMs,
    sigmaPerSqrtMs: inputs.sigmaPerSqrtMs,
    tickIntervalMs: inputs.tickIntervalMs,
  });
}

/** The offered multiplier in hundredths for a probability, or null outside the offered range. */
export function offeredMultiplierHundredths(pTouch: number, terms: QuoteTerms): number | null {
  const hundredths = multiplierHundredths(pTouch, terms.houseEdgeBp);
  return isOffered(hundredths, terms.minMultiplierHundredths, terms.maxMultiplierHundredths) ? hundredths : null;
}

/**
 * The multiplier (integer hundredths, 347 = 3.47x) the server quotes for cell (col, row) while
 * `inputs` are the latest; null when the cell is not priceable or outside the offered range.
 * Whether the column still accepts bets (lock-ahead, horizon) is a separate check.
 */
export function quoteMultiplierHundredths(inputs: QuoteInputs, terms: QuoteTerms, col: number, row: number): number | null {
  const pTouch = quoteTouchProbability(inputs, terms, col, row);
  return pTouch === undefined ? null : offeredMultiplierHundredths(pTouch, terms);
}
