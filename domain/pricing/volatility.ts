/**
 * Online volatility of the index (SPEC §4), for ticks at irregular times.
 *
 * Under the model (log-price Brownian motion, variance σ² per ms) a return r = ln(p_i / p_{i−1}) over
 * dt = t_i − t_{i−1} ms has E[r²] = σ²·dt, whatever dt is. So σ² is estimated as Σ r² / Σ dt: each
 * return weighs by the real time it spans (sources tick at different rates; a one-second gap counts
 * ten times a 100 ms one), never as "one return = one step". Both sums decay exponentially with the
 * age of the return in time (half-life `halfLifeMs`), which makes the estimate an EWMA that follows
 * regime changes and needs O(1) memory.
 *
 * Before `minReturns` returns spanning at least `minObservedMs` exist the estimate falls back to
 * `fallbackSigmaPerSqrtMs`; the result is always clamped to [min, max] so that one bad tick cannot
 * push multipliers to absurd values. The same state also tracks the mean tick interval, which the
 * discrete-monitoring correction of the touch model needs.
 */

export const MS_PER_YEAR = 365.25 * 86_400_000;

/** σ per √ms for an annualised volatility (0.6 = 60 %/year). */
export function sigmaFromAnnual(annual: number): number {
  return annual / Math.sqrt(MS_PER_YEAR);
}

export function annualFromSigma(sigmaPerSqrtMs: number): number {
  return sigmaPerSqrtMs * Math.sqrt(MS_PER_YEAR);
}

export interface VolatilityOptions {
  halfLifeMs: number;
  minReturns: number;
  minObservedMs: number;
  fallbackSigmaPerSqrtMs: number;
  minSigmaPerSqrtMs: number;
  maxSigmaPerSqrtMs: number;
  /** Tick interval assumed before any tick pair exists. */
  fallbackTickIntervalMs: number;
  /** Gaps longer than this (a stale feed) count at this length in the mean tick interval. */
  maxTickIntervalMs: number;
}

export const DEFAULT_VOLATILITY_OPTIONS: VolatilityOptions = {
  halfLifeMs: 5 * 60_000,
  minReturns: 20,
  minObservedMs: 10_000,
  // BTC's realised volatility is usually 40–80 %/year; 60 % until the feed says otherwise.
  fallbackSigmaPerSqrtMs: sigmaFromAnnual(0.6),
  minSigmaPerSqrtMs: sigmaFromAnnual(0.05),
  maxSigmaPerSqrtMs: sigmaFromAnnual(5),
  fallbackTickIntervalMs: 100,
  maxTickIntervalMs: 2_000,
};

export interface VolatilityState {
  lastT: number | undefined;
  lastLogPrice: number;
  /** Decayed Σ r². */
  sumSquaredReturns: number;
  /** Decayed Σ dt (ms) of the same returns. */
  sumDtMs: number;
  /** Decayed Σ min(dt, maxTickIntervalMs) and decayed count, for the mean tick interval. */
  sumTickIntervalMs: number;
  decayedCount: number;
  /** Returns seen (not decayed) and their total span, for the warm-up rule. */
  returns: number;
  observedMs: number;
}

export function createVolatilityState(): VolatilityState {
  return {
    lastT: undefined,
    lastLogPrice: 0,
    sumSquaredReturns: 0,
    sumDtMs: 0,
    sumTickIntervalMs: 0,
    decayedCount: 0,
    returns: 0,
    observedMs: 0,
  };
}

/**
 * Folds one tick into the state (mutates it). Ticks not after the previous one, and non-positive or
 * non-finite prices, are ignored: the estimator never throws on feed data.
 */
export function observeTick(state: VolatilityState, tMs: number, priceCents: number, options: VolatilityOptions): void {
  if (!(priceCents > 0) || !Number.isFinite(priceCents) || !Number.isFinite(tMs)) return;
  const logPrice = Math.log(priceCents);
  if (state.lastT === undefined) {
    state.lastT = tMs;
    state.lastLogPrice = logPrice;
    return;
  }
  const dtMs = tMs - state.lastT;
  if (!(dtMs > 0)) return;
  const r = logPrice - state.lastLogPrice;
  const decay = Math.exp((-Math.LN2 * dtMs) / options.halfLifeMs);
  state.sumSquaredReturns = state.sumSquaredReturns * decay + r * r;
  state.sumDtMs = state.sumDtMs * decay + dtMs;
  state.sumTickIntervalMs = state.sumTickIntervalMs * decay + Math.min(dtMs, options.maxTickIntervalMs);
  state.decayedCount = state.decayedCount * decay + 1;
  state.returns += 1;
  state.observedMs += dtMs;
  state.lastT = tMs;
  state.lastLogPrice = logPrice;
}

export interface VolatilityEstimate {
  sigmaPerSqrtMs: number;
  /** Returns the estimate rests on (0 while on the fallback). */
  samples: number;
  tickIntervalMs: number;
}

export function estimateVolatility(state: VolatilityState, options: VolatilityOptions): VolatilityEstimate {
  const tickIntervalMs = state.decayedCount > 0 ? state.sumTickIntervalMs / state.decayedCount : options.fallbackTickIntervalMs;
  const warm = state.returns >= options.minReturns && state.observedMs >= options.minObservedMs && state.sumDtMs > 0;
  const raw = warm ? Math.sqrt(state.sumSquaredReturns / state.sumDtMs) : options.fallbackSigmaPerSqrtMs;
  const sigmaPerSqrtMs = Math.min(Math.max(raw, options.minSigmaPerSqrtMs), options.maxSigmaPerSqrtMs);
  return { sigmaPerSqrtMs, samples: warm ? state.returns : 0, tickIntervalMs };
}
