import type { HorizonEstimate } from "../../domain/pricing/horizons.ts";
import type { QuoteInputs, QuoteTerms } from "../../domain/pricing/quote.ts";

/** One priced cell of the grid (SPEC §2, §4). Money and prices are integers. */
export interface CellQuote {
  col: number;
  row: number;
  windowStart: number;
  windowEnd: number;
  bandLowCents: number;
  bandHighCents: number;
  /** Integer hundredths (347 = 3.47x), rounded down; null when outside the offered range. */
  multiplierHundredths: number | null;
  /** Model probability that the index touches the band inside the window. */
  pTouch: number;
}

/** `price_stale`: the index is older than QUOTE_MAX_AGE_MS (no quotes on an old price). */
export type QuoteRefusal = "cell_locked" | "cell_not_offered" | "price_unavailable" | "price_stale";

export type QuoteResult = { ok: true; quote: CellQuote } | { ok: false; reason: QuoteRefusal; quote?: CellQuote };

/** The contract of the pricing module (services/pricing/), used by bets, the grid route and the WebSocket grid. */
export interface PricingService {
  /** Prices one cell now: refuses locked/past/beyond-horizon cells, cells outside the offered range, and no price. */
  quote(col: number, row: number, now: number): QuoteResult;
  /**
   * The offerable cells: `cols` columns from the first unlocked one, `rows` rows centred on the price.
   * With `pin` (the `quoteInputs()` of an earlier tick) the cells are priced against that tick even
   * if the index has moved on since: a large grid can then be priced in parts across turns of the
   * event loop and still be one tick's grid (services/pricing/grid-json.ts).
   */
  grid(cols: number, rows: number, now: number, pin?: QuoteInputs): { priceCents: number; at: number; cells: CellQuote[]; quotes?: "live" | "paused" } | undefined;
  /**
   * Current volatility estimate (σ of log-price per √ms), how many returns it rests on (0 while on
   * the fallback), and the mean tick interval used by the discrete-monitoring correction.
   */
  volatility(): { sigmaPerSqrtMs: number; samples: number; tickIntervalMs: number };
  /** "paused" while there is no index or it is older than QUOTE_MAX_AGE_MS: no quotes, an empty grid. */
  quoteState(now: number): "live" | "paused";
  /** The pricing inputs of the latest index tick: `quoteMultiplierHundredths(inputs, …)` gives the server's quote. */
  quoteInputs(): QuoteInputs | undefined;
  /** Volatility per horizon (σ² per ms, fast and slow), tick-noise variance and tick interval. */
  horizons(): HorizonEstimate;
  /** The fixed terms of every quote (geometry, house edge, offered range). */
  quoteTerms(): QuoteTerms;
  /** "warming" while the quotes still price the estimate's own uncertainty (a fresh start, old stored ticks, a long feed outage). */
  warmUp(): { state: "warming" | "warm"; rateSpreadLog: number };
}
