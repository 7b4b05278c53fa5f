import { isOffered, multiplierHundredths } from "./multiplier.ts";
import { touchProbabilityWithStart } from "./touch.ts";

/**
 * The quote of one cell from the inputs of one index tick (SPEC §4 "Robust to the real market",
 * issue 12). The server's engine calls exactly this function, and the inputs travel with each tick,
 * so a browser computes the same multiplier the server will quote (issue 15). Pure: no clock.
 *
 * Model and its derivation. Log-price relative to the tick's price S at time t:
 *   observed index = efficient price + tick noise ε (variance η², decorrelating within about 1 s);
 *   the efficient price diffuses with a variance rate σ²(s) that is itself random (calm spells and
 *   bursts) and mean-reverting: E[σ²(t+s) | now] = σ²_slow + (σ²_fast − σ²_slow)·e^{−s/θ}, with σ²_fast
 *   the current (6 s half-life) level, σ²_slow the long-run (5 min) level and θ the persistence of
 *   a volatility regime. Integrated, the expected variance over [t, t+h] is the term structure
 *     V(h) = σ²_slow·h + (σ²_fast − σ²_slow)·θ·(1 − e^{−h/θ})
 *   (the same form as a GARCH(1,1)/Heston variance forecast). For a window [t0, t1), τ = t0 − t:
 *   1. the first in-window tick's log-price has variance V(τ + Δ/2) + η²: the diffusion up to it and
 *      the noise of the spot tick itself (the spot is not the efficient price; a bounce reverts);
 *   2. inside the window the efficient price moves with the average rate (V(τ+T) − V(τ))/T;
 *   3. the observed ticks carry noise, so they reach a band edge when the efficient price is within
 *      about η of it: the band is widened by κ·η on each side, κ = 1 (the largest of the noise draws on
 *      the few ticks near the path's extreme: the expected max of ~4 standard normals is 1.03);
 *   4. P = the touch probability of touch.ts with that start variance, in-window σ and the tick
 *      interval Δ (discrete monitoring).
 * Two scenarios are priced and the HIGHER probability is taken (the one that would cost the house):
 *   A. the term structure above (a burst may start or end during the bet);
 *   B. for windows starting within PERSIST_HORIZON_MS: the current regime persists, V(h) = σ²_fast·h
 *      (a burst continues; a calm spell stays calm, which is what makes the price's own cell likely
 *      in a quiet moment).
 * Where the model is least sure — the first column (the regime persists over its short horizon,
 * estimation error is at its largest relative to the move) — cells within one band of the price get
 * up to `NEAR_EXTRA` more P, scaled by how much the horizons disagree (`nearLoading`; the multiplier
 * is (1 − edge)/P, so that is extra house edge there, and none in a steady market).
 */

export interface QuoteInputs {
  /** Time of the index tick (ms) and its price (cents). */
  t: number;
  priceCents: number;
  /** Variance rate of the log-price per ms at the fast (seconds) and slow (minutes) horizon. */
  fastVarPerMs: number;
  slowVarPerMs: number;
  /** Variance of the tick noise, log-price units². */
  noiseVar: number;
  /** Mean time between index ticks (ms). */
  tickIntervalMs: number;
}

export interface QuoteTerms {
  columnMs: number;
  rowCents: number;
  houseEdgeBp: number;
  minMultiplierHundredths: number;
  maxMultiplierHundredths: number;
}

/**
 * θ: how long a volatility regime persists (ms). For a two-state chain (calm ⇄ burst) the expected
 * variance relaxes at rate λ_on + λ_off; bursts of ~8 s arriving 1–2 a minute give θ ≈ 6–7 s; 10 s
 * leans to persistence (the side that protects the house when a burst has just started).
 */
export const REGIME_PERSISTENCE_MS = 10_000;
/**
 * Scenario B (the regime persists) is priced only for windows starting within this of the tick (about
 * the first two columns): a regime lasts seconds to tens of seconds, so for later windows "the
 * current σ for the whole horizon" is not a possibility the house must pay for — the term structure
 * (A) already carries the expected part of the current regime, and B there only overcharged (it took
 * the all-offered return in the bursty regime from 0.835 down to 0.816 on the suite's seeds).
 */
export const PERSIST_HORIZON_MS = 20_000;
/** κ: band widening per noise σ (step 3). */
export const NOISE_WIDENING = 1;
/** Extra probability loading for cells within one band of the price in a window starting within 2 columns. */
export const NEAR_EXTRA = 0.03;

/**
 * The near-cell loading: NEAR_EXTRA scaled by how much the horizons disagree (|ln(σ²_fast/σ²_slow)|,
 * capped at 1): none when the model is sure (a steady market: fast = slow), the full 3 % when the
 * current variance is a factor e away from its level (a burst starting or ending).
 */
export function nearLoading(fastVarPerMs: number, slowVarPerMs: number): number {
  if (!(fastVarPerMs > 0) || !(slowVarPerMs > 0)) return NEAR_EXTRA;
  return NEAR_EXTRA * Math.min(1, Math.abs(Math.log(fastVarPerMs / slowVarPerMs)));
}

/** V(h): expected integrated variance over h ms (term structure, scenario A). */
export function termVariance(fastVarPerMs: number, slowVarPerMs: number, h: number): number {
  if (!(h > 0)) return 0;
  const theta = REGIME_PERSISTENCE_MS;
  return slowVarPerMs * h + (fastVarPerMs - slowVarPerMs) * theta * -Math.expm1(-h / theta);
}

/** The model P(touch) of a cell from one tick's inputs (the max of scenarios A and B, with the near loading). */
export function quoteTouchProbability(inputs: QuoteInputs, terms: QuoteTerms, col: number, row: number): number {
  const { priceCents: spot, fastVarPerMs: fast, slowVarPerMs: slow } = inputs;
  const windowStart = col * terms.columnMs;
  const windowMs = terms.columnMs;
  const tickMs = Math.min(Math.max(inputs.tickIntervalMs, 0), windowMs);
  const tau = Math.max(windowStart - inputs.t, 0);
  const noiseVar = Math.max(inputs.noiseVar, 0);
  const widenCents = NOISE_WIDENING * Math.sqrt(noiseVar) * spot;
  const lo = row * terms.rowCents - widenCents;
  const hi = (row + 1) * terms.rowCents + widenCents;
  const base = { spotCents: spot, bandLowCents: lo, bandHighCents: hi, windowMs, tickIntervalMs: tickMs };
  const startH = tau + tickMs / 2;
  const vStart = termVariance(fast, slow, startH);
  const vWindow = (termVariance(fast, slow, tau + windowMs) - termVariance(fast, slow, tau)) / windowMs;
  const pTerm = touchProbabilityWithStart({ ...base, startVariance: vStart + noiseVar, sigmaPerSqrtMs: Math.sqrt(Math.max(vWindow, 0)) });
  let p = pTerm;
  if (tau < PERSIST_HORIZON_MS) {
    const pNow = touchProbabilityWithStart({ ...base, startVariance: fast * startH + noiseVar, sigmaPerSqrtMs: Math.sqrt(Math.max(fast, 0)) });
    p = Math.max(pTerm, pNow);
  }
  const priceRow = Math.floor(spot / terms.rowCents);
  if (tau < 2 * terms.columnMs && Math.abs(row - priceRow) <= 1) p *= 1 + nearLoading(fast, slow);
  return Math.min(p, 1);
}

/** P(touch) and the multiplier of one cell, from one tick's inputs: what the engine caches. */
export function quoteCell(inputs: QuoteInputs, terms: QuoteTerms, col: number, row: number): { pTouch: number; multiplierHundredths: number | null } {
  if (!Number.isSafeInteger(col) || !Number.isSafeInteger(row) || !(inputs.priceCents > 0)) return { pTouch: 0, multiplierHundredths: null };
  if (row < 0 || !Number.isSafeInteger((col + 1) * terms.columnMs) || !Number.isSafeInteger((row + 1) * terms.rowCents)) {
    return { pTouch: 0, multiplierHundredths: null };
  }
  const pTouch = quoteTouchProbability(inputs, terms, col, row);
  const hundredths = multiplierHundredths(pTouch, terms.houseEdgeBp);
  return { pTouch, multiplierHundredths: isOffered(hundredths, terms.minMultiplierHundredths, terms.maxMultiplierHundredths) ? hundredths : null };
}

/**
 * The multiplier (integer hundredths) the server quotes for (col,row) given the inputs of one index
 * tick, or null when not offered. Pure, no clock: depends only on its arguments.
 */
export function quoteMultiplierHundredths(inputs: QuoteInputs, terms: QuoteTerms, col: number, row: number): number | null {
  return quoteCell(inputs, terms, col, row).multiplierHundredths;
}
