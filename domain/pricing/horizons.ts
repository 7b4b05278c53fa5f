import { sigmaFromAnnual } from "./volatility.ts";

/**
 * Online volatility of the index at two horizons, robust to tick noise (SPEC §4, issue 12).
 *
 * Why not one EWMA of 100 ms returns: the index is the efficient price plus tick noise ε (bid–ask
 * bounce, a venue leading the median for a second). A return over dt then has
 *   E[r²] = σ²·dt + 2·η²_dt        (η²_dt: the part of the noise variance that decorrelates within dt)
 * and at dt = 100 ms with σ = 50 %/year and η = $2.5 on $95k, 2η² is ~1.9× σ²·dt: the estimate is
 * mostly noise. So σ² is estimated from COARSE returns: consecutive ticks at least `coarseMs` (500 ms)
 * apart (non-overlapping; a feed pause simply makes one longer return), where 2η² is ~1/3 of σ²·dt
 * in that case, and that remainder is removed with an explicit noise estimate:
 *   η̂² = max(0, −E[r_i·r_{i−1}])  (Roll's estimator: for noise that decorrelates within one return,
 *        consecutive returns share −ε_i with opposite signs, Cov = −η²; the efficient part adds 0)
 * on tick returns (iid bounce). σ² = (Σr² − 2η̂²·n) / Σdt, never below half of Σr²/Σdt. (Roll's
 * estimator on the coarse returns themselves was tried and dropped: with ~400 returns per half-life
 * its sampling error alone is a dollar of "noise"; noise that reverts over a second or two is not
 * estimated — see the README's adversary table, mean-reverting-noise column.)
 *
 * Two horizons (half-lives): FAST (6 s) sees a burst within seconds of its start and forgets it
 * soon after it ends; SLOW (5 min) is the level volatility returns to. Both sums decay with the age of the returns in time. Before enough
 * returns exist, slow falls back to `fallbackSigmaPerSqrtMs` and fast to slow; both are clamped.
 * The mean tick interval (for the discrete-monitoring correction) is tracked as before.
 */

export interface HorizonOptions {
  coarseMs: number;
  fastHalfLifeMs: number;
  slowHalfLifeMs: number;
  /** Warm-up: coarse returns and their span before the slow (resp. fast) estimate is used. */
  slowMinReturns: number;
  fastMinReturns: number;
  fallbackSigmaPerSqrtMs: number;
  minSigmaPerSqrtMs: number;
  maxSigmaPerSqrtMs: number;
  fallbackTickIntervalMs: number;
  maxTickIntervalMs: number;
  /** Cap of the noise σ (log units): 5 bp ≈ $47 on $95k, far above any real bounce. */
  maxNoiseSigma: number;
}

export const DEFAULT_HORIZON_OPTIONS: HorizonOptions = {
  coarseMs: 500,
  fastHalfLifeMs: 6_000,
  slowHalfLifeMs: 5 * 60_000,
  slowMinReturns: 30,
  fastMinReturns: 8,
  fallbackSigmaPerSqrtMs: sigmaFromAnnual(0.6),
  minSigmaPerSqrtMs: sigmaFromAnnual(0.05),
  maxSigmaPerSqrtMs: sigmaFromAnnual(5),
  fallbackTickIntervalMs: 100,
  maxTickIntervalMs: 2_000,
  maxNoiseSigma: 5e-4,
};

interface Decayed {
  r2: number;
  dt: number;
  n: number;
}

export interface HorizonState {
  lastT: number | undefined;
  lastLog: number;
  lastTickReturn: number | undefined;
  anchorT: number;
  anchorLog: number;
  lastCoarseReturn: number | undefined;
  fast: Decayed;
  slow: Decayed;
  /** Slow-decayed Σ r_i·r_{i−1} of tick returns and its count (Roll's estimator). */
  tickCross: number;
  tickCrossN: number;
  /** Slow-decayed Σ min(dt, max) and count of tick gaps. */
  tickDt: number;
  tickN: number;
  coarseReturns: number;
}

export function createHorizonState(): HorizonState {
  return {
    lastT: undefined,
    lastLog: 0,
    lastTickReturn: undefined,
    anchorT: 0,
    anchorLog: 0,
    lastCoarseReturn: undefined,
    fast: { r2: 0, dt: 0, n: 0 },
    slow: { r2: 0, dt: 0, n: 0 },
    tickCross: 0,
    tickCrossN: 0,
    tickDt: 0,
    tickN: 0,
    coarseReturns: 0,
  };
}

function decayFactor(dtMs: number, halfLifeMs: number): number {
  return Math.exp((-Math.LN2 * dtMs) / halfLifeMs);
}

function fold(sums: Decayed, decay: number, r: number, dtMs: number): void {
  sums.r2 = sums.r2 * decay + r * r;
  sums.dt = sums.dt * decay + dtMs;
  sums.n = sums.n * decay + 1;
}

/** Folds one index tick in (mutates). Bad ticks (not after the last, non-positive price) are ignored. */
export function observeHorizonTick(s: HorizonState, tMs: number, priceCents: number, o: HorizonOptions): void {
  if (!(priceCents > 0) || !Number.isFinite(priceCents) || !Number.isFinite(tMs)) return;
  const log = Math.log(priceCents);
  if (s.lastT === undefined) {
    s.lastT = tMs;
    s.lastLog = log;
    s.anchorT = tMs;
    s.anchorLog = log;
    return;
  }
  const dt = tMs - s.lastT;
  if (!(dt > 0)) return;
  const slowDecay = decayFactor(dt, o.slowHalfLifeMs);
  const r = log - s.lastLog;
  s.tickDt = s.tickDt * slowDecay + Math.min(dt, o.maxTickIntervalMs);
  s.tickN = s.tickN * slowDecay + 1;
  s.tickCross *= slowDecay;
  s.tickCrossN *= slowDecay;
  if (s.lastTickReturn !== undefined) {
    s.tickCross += r * s.lastTickReturn;
    s.tickCrossN += 1;
  }
  s.lastTickReturn = r;
  s.lastT = tMs;
  s.lastLog = log;
  const coarseDt = tMs - s.anchorT;
  if (coarseDt < o.coarseMs) return;
  const rc = log - s.anchorLog;
  // The coarse sums decay by the time since the previous coarse return (its span).
  fold(s.fast, decayFactor(coarseDt, o.fastHalfLifeMs), rc, coarseDt);
  const coarseSlowDecay = decayFactor(coarseDt, o.slowHalfLifeMs);
  fold(s.slow, coarseSlowDecay, rc, coarseDt);
  s.lastCoarseReturn = rc;
  s.anchorT = tMs;
  s.anchorLog = log;
  s.coarseReturns += 1;
}

export interface HorizonEstimate {
  /** σ² per ms at the fast and slow horizons (noise removed, clamped). */
  fastVarPerMs: number;
  slowVarPerMs: number;
  /** Variance of the tick noise (log-price units²). */
  noiseVar: number;
  tickIntervalMs: number;
  /** Coarse returns the estimate rests on (0 = fallback). */
  samples: number;
}

export function estimateHorizons(s: HorizonState, o: HorizonOptions): HorizonEstimate {
  const tickIntervalMs = s.tickN > 0 ? s.tickDt / s.tickN : o.fallbackTickIntervalMs;
  const rollTick = s.tickCrossN >= 10 ? -s.tickCross / s.tickCrossN : 0;
  const noiseVar = Math.min(Math.max(rollTick, 0), o.maxNoiseSigma * o.maxNoiseSigma);
  const minVar = o.minSigmaPerSqrtMs * o.minSigmaPerSqrtMs;
  const maxVar = o.maxSigmaPerSqrtMs * o.maxSigmaPerSqrtMs;
  const clamp = (v: number) => Math.min(Math.max(v, minVar), maxVar);
  const perMs = (d: Decayed) => Math.max(d.r2 - 2 * noiseVar * d.n, 0.5 * d.r2) / d.dt;
  const slowWarm = s.coarseReturns >= o.slowMinReturns && s.slow.dt > 0;
  const slowVarPerMs = clamp(slowWarm ? perMs(s.slow) : o.fallbackSigmaPerSqrtMs ** 2);
  const fastWarm = s.coarseReturns >= o.fastMinReturns && s.fast.dt > 0;
  const fastVarPerMs = fastWarm ? clamp(perMs(s.fast)) : slowVarPerMs;
  return { fastVarPerMs, slowVarPerMs, noiseVar, tickIntervalMs, samples: slowWarm ? s.coarseReturns : 0 };
}
