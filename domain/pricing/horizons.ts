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
  /**
   * Regime distribution: realised variance of consecutive blocks this long, the last `regimeBlocks` of
   * them (5 s × 120 = 10 min). Blocks shorter than a column see a burst as itself: 10 s blocks averaged
   * most bursts with the calm around them, which narrowed the distribution and overcharged far
   * columns (all-offered 0.87 in the jumpy market, 0.88 in the bursty one, seeds 1–4); 2.5 s blocks
   * (five returns each) let tick noise into the distribution and undercharged the mixed market
   * (all-offered 0.996: no edge). 5 s is the compromise the README's table shows.
   */
  regimeBlockMs: number;
  regimeBlocks: number;
  /** Blocks needed before the distribution is used (before: every regime group is the slow level). */
  regimeMinBlocks: number;
  /**
   * Jumps (see fileJumps): a coarse return beyond `jumpThresholdSd` σ of the diffusion, followed by
   * quiet returns, is a jump. Jumps and stale gaps are rare: their counts decay with `rareHalfLifeMs`.
   */
  jumpThresholdSd: number;
  rareHalfLifeMs: number;
  /** A silence between ticks longer than this makes a window void (PRICE_STALE_MS): its rate is counted. */
  staleGapMs: number;
}

/** The regime distribution is summarised by this many groups (the means of the sorted block variances, in quarters). */
export const REGIME_GROUPS = 4;

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
  regimeBlockMs: 5_000,
  regimeBlocks: 120,
  regimeMinBlocks: 24,
  jumpThresholdSd: 5,
  rareHalfLifeMs: 10 * 60_000,
  staleGapMs: 2_000,
};

interface PendingJump {
  r2: number;
  expected: number;
  fastDecay: number;
  slowDecay: number;
  block: number;
  seen: number;
  nextR2: number;
  nextExpected: number;
}

interface Decayed {
  r2: number;
  dt: number;
  n: number;
  /** Σ (weight · dt)²: the sampling variance of r2/dt is 2·(r2/dt)²·dt2/dt² (Gaussian returns). */
  dt2: number;
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
  /** The block being filled: Σr², Σdt and count of its coarse returns. */
  block: Decayed;
  /** Rare events, decayed with `rareHalfLifeMs`: jumps, Σ of their squared sizes, tick gaps over `staleGapMs`, and the time they were counted over (ms). */
  jumps: number;
  jumpR2: number;
  staleGaps: number;
  rareSpanMs: number;
  /** A jump candidate waiting for the next returns to tell a jump (isolated) from a burst (persists). */
  pending: PendingJump | undefined;
  /** Ring of finished blocks' raw Σr², Σdt and counts (noise is removed when the groups are formed). */
  blockR2: Float64Array;
  blockDt: Float64Array;
  blockN: Float64Array;
  blocks: number;
  /** Block variances per ms, sorted then averaged in REGIME_GROUPS groups: recomputed when a block ends. */
  regimeGroups: number[] | undefined;
}

export function createHorizonState(o: HorizonOptions = DEFAULT_HORIZON_OPTIONS): HorizonState {
  return {
    lastT: undefined,
    lastLog: 0,
    lastTickReturn: undefined,
    anchorT: 0,
    anchorLog: 0,
    lastCoarseReturn: undefined,
    fast: { r2: 0, dt: 0, n: 0, dt2: 0 },
    slow: { r2: 0, dt: 0, n: 0, dt2: 0 },
    tickCross: 0,
    tickCrossN: 0,
    tickDt: 0,
    tickN: 0,
    coarseReturns: 0,
    block: { r2: 0, dt: 0, n: 0, dt2: 0 },
    jumps: 0,
    jumpR2: 0,
    staleGaps: 0,
    rareSpanMs: 0,
    pending: undefined,
    blockR2: new Float64Array(o.regimeBlocks),
    blockDt: new Float64Array(o.regimeBlocks),
    blockN: new Float64Array(o.regimeBlocks),
    blocks: 0,
    regimeGroups: undefined,
  };
}

function decayFactor(dtMs: number, halfLifeMs: number): number {
  return Math.exp((-Math.LN2 * dtMs) / halfLifeMs);
}

/** Folds one return in with `weight` (its r², dt and its count, so that the noise removed, 2η² per return, is weighed alike). */
function fold(sums: Decayed, decay: number, r2: number, dtMs: number, weight = 1): void {
  const dtWeighed = dtMs * weight;
  sums.dt2 = sums.dt2 * decay * decay + dtWeighed * dtWeighed;
  sums.r2 = sums.r2 * decay + r2 * weight;
  sums.dt = sums.dt * decay + dtWeighed;
  sums.n = sums.n * decay + weight;
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
  const rareDecay = decayFactor(dt, o.rareHalfLifeMs);
  s.jumps *= rareDecay;
  s.jumpR2 *= rareDecay;
  s.staleGaps = s.staleGaps * rareDecay + (dt > o.staleGapMs ? 1 : 0);
  s.rareSpanMs = s.rareSpanMs * rareDecay + dt;
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
  const r2 = rc * rc;
  const expected = expectedSquare(s, coarseDt, o);
  // The coarse sums decay by the time since the previous coarse return (its span).
  // The fast horizon weighs every return as one of `coarseMs`: a return across a feed pause is a single
  // χ²₁ draw however long it is, and at its full length (2 s = a quarter of the fast sums) it swung the
  // fast level by ±30 % right after every silence (far cells then returned 1.06 per $1).
  const fastWeight = Math.min(1, o.coarseMs / coarseDt);
  fold(s.fast, decayFactor(coarseDt, o.fastHalfLifeMs), r2, coarseDt, fastWeight);
  const coarseSlowDecay = decayFactor(coarseDt, o.slowHalfLifeMs);
  fold(s.slow, coarseSlowDecay, r2, coarseDt);
  s.lastCoarseReturn = rc;
  s.anchorT = tMs;
  s.anchorLog = log;
  s.coarseReturns += 1;
  fold(s.block, 1, r2, coarseDt);
  fileJumps(s, r2, expected, coarseDt, o);
  if (s.block.dt >= o.regimeBlockMs) endBlock(s, o);
}

/** Roll's estimate of the tick-noise variance (0 before ten tick pairs), capped. */
function noiseVariance(s: HorizonState, o: HorizonOptions): number {
  const rollTick = s.tickCrossN >= 10 ? -s.tickCross / s.tickCrossN : 0;
  return Math.min(Math.max(rollTick, 0), o.maxNoiseSigma * o.maxNoiseSigma);
}

/** σ² per ms of decayed sums, the noise (2η² per return) removed but never below half the raw rate. */
function diffusionRatePerMs(d: Decayed, noiseVar: number): number {
  return Math.max(d.r2 - 2 * noiseVar * d.n, 0.5 * d.r2) / d.dt;
}

/** E[r²] of a coarse return of `dtMs` under the diffusion (+∞ before the estimate is warm: no candidates). */
function expectedSquare(s: HorizonState, dtMs: number, o: HorizonOptions): number {
  if (s.coarseReturns < o.slowMinReturns || !(s.fast.dt > 0) || !(s.slow.dt > 0)) return Number.POSITIVE_INFINITY;
  const noiseVar = noiseVariance(s, o);
  return Math.max(diffusionRatePerMs(s.fast, noiseVar), diffusionRatePerMs(s.slow, noiseVar)) * dtMs + 2 * noiseVar;
}

/**
 * Jumps, told apart from bursts (mutates the jump statistics and, for a confirmed jump, the sums).
 * Under the diffusion a coarse return has E[r²] = σ²·dt + 2η² (σ² the larger of the fast and slow
 * levels). One beyond `jumpThresholdSd` of that (5 σ: 6e-7 of Gaussian returns) is a CANDIDATE; it is
 * a JUMP when the next JUMP_CONFIRM_RETURNS returns (1 s) are quiet again (Σr² under twice their
 * expectation): a jump is one print (a sweep of one exchange's book), a burst persists. A confirmed
 * jump's excess r² − E[r²] is taken back out of the fast, slow and block sums (with the decay they had
 * since) and filed as one jump of that squared size. A burst's big return stays where it is.
 * Why: left in the diffusion, a jump read as a burst: the fast horizon priced the next columns as
 * violent for ~20 s and the regime blocks widened every window's range, when the path between jumps is
 * as calm as ever (all offered cells of a jumpy market returned 0.86); without the quiet check, the
 * first returns of every burst were filed as jumps and near cells in a bursty market came out cheap
 * (so did a 4 σ threshold, quiet check or not: 5 σ still sees 60 % of 6 bp jumps at 50 %/year).
 */
function fileJumps(s: HorizonState, r2: number, expected: number, dtMs: number, o: HorizonOptions): void {
  if (!(o.jumpThresholdSd > 0) || !Number.isFinite(expected)) return;
  const p = s.pending;
  if (p !== undefined) {
    p.fastDecay *= decayFactor(dtMs, o.fastHalfLifeMs);
    p.slowDecay *= decayFactor(dtMs, o.slowHalfLifeMs);
    p.seen += 1;
    p.nextR2 += r2;
    p.nextExpected += expected;
    if (p.seen < JUMP_CONFIRM_RETURNS) return;
    s.pending = undefined;
    if (p.nextR2 > JUMP_QUIET_RATIO * p.nextExpected) return;
    const excess = p.r2 - p.expected;
    s.fast.r2 -= excess * p.fastDecay;
    s.slow.r2 -= excess * p.slowDecay;
    if (p.block === s.blocks) s.block.r2 -= excess;
    else if (s.blocks - p.block <= s.blockR2.length) {
      s.blockR2[p.block % s.blockR2.length]! -= excess;
      s.regimeGroups = undefined;
    }
    s.jumps += 1;
    s.jumpR2 += excess;
    return;
  }
  if (r2 > o.jumpThresholdSd * o.jumpThresholdSd * expected) {
    s.pending = { r2, expected, fastDecay: Math.min(1, o.coarseMs / dtMs), slowDecay: 1, block: s.blocks, seen: 0, nextR2: 0, nextExpected: 0 };
  }
}

/** A candidate is a jump when the next this many coarse returns are together under JUMP_QUIET_RATIO × their expected squares. */
const JUMP_CONFIRM_RETURNS = 2;
const JUMP_QUIET_RATIO = 2;

/** Files the finished block into the ring (bounded: the oldest is overwritten) and re-forms the groups. */
function endBlock(s: HorizonState, o: HorizonOptions): void {
  const slot = s.blocks % s.blockR2.length;
  s.blockR2[slot] = s.block.r2;
  s.blockDt[slot] = s.block.dt;
  s.blockN[slot] = s.block.n;
  s.blocks += 1;
  s.block = { r2: 0, dt: 0, n: 0, dt2: 0 };
  s.regimeGroups = undefined;
}

/** The groups of the regime distribution: block variances (noise removed) sorted, mean of each quarter. */
function regimeGroups(s: HorizonState, noiseVar: number): number[] {
  if (s.regimeGroups !== undefined) return s.regimeGroups;
  const n = Math.min(s.blocks, s.blockR2.length);
  const vars: number[] = [];
  for (let k = 0; k < n; k++) vars.push(Math.max(s.blockR2[k]! - 2 * noiseVar * s.blockN[k]!, 0.5 * s.blockR2[k]!) / s.blockDt[k]!);
  vars.sort((a, b) => a - b);
  let mean = 0;
  // Expected sampling variance of a block's rate if the rate never changed: a block of m returns
  // r = e + ε_i − ε_{i−1} (an MA(1): per-return variance v = σ²Δ + 2η², neighbours share −η²) has
  // Var(Σr²) = 2·m·v² + 4·(m − 1)·η⁴, divided by its span². With tick noise this is well above the
  // 2·rate²/m of noise-free returns, and all of it is scatter, not regimes.
  let sampling = 0;
  for (let k = 0; k < n; k++) {
    const m = Math.max(s.blockN[k]!, 1);
    const v = s.blockR2[k]! / m;
    mean += vars[k]! / n;
    sampling += (2 * m * v * v + 4 * Math.max(m - 1, 0) * noiseVar * noiseVar) / (s.blockDt[k]! * s.blockDt[k]! * n);
  }
  let spread = 0;
  for (let k = 0; k < n; k++) spread += (vars[k]! - mean) ** 2 / n;
  // De-noising: the groups' deviations from the mean are shrunk by √(1 − sampling/spread) (method of
  // moments: the spread the regimes themselves explain), 0 when the scatter explains all of it. Left
  // in, the scatter would spread the mixture and (E√v < √Ev) understate the reach of every cell.
  const shrink = spread > 0 ? Math.sqrt(Math.max(0, 1 - sampling / spread)) : 0;
  const groups: number[] = [];
  for (let g = 0; g < REGIME_GROUPS; g++) {
    const from = Math.floor((g * n) / REGIME_GROUPS);
    const to = Math.floor(((g + 1) * n) / REGIME_GROUPS);
    let sum = 0;
    for (let k = from; k < to; k++) sum += vars[k]!;
    groups.push(mean + shrink * (sum / Math.max(to - from, 1) - mean));
  }
  s.regimeGroups = groups;
  return groups;
}

export interface HorizonEstimate {
  /** σ² per ms at the fast and slow horizons (noise removed, clamped). */
  fastVarPerMs: number;
  slowVarPerMs: number;
  /**
   * The sampling standard deviation of `fastVarPerMs` (per ms): a 6 s half-life rests on ~20 returns,
   * so the fast level is uncertain by ~30 % in a steady market (more when a feed pause makes one
   * return long), and far cells' P is very convex in it (see quote.ts).
   */
  fastVarSdPerMs: number;
  /** Variance of the tick noise (log-price units²). */
  noiseVar: number;
  tickIntervalMs: number;
  /** Coarse returns the estimate rests on (0 = fallback). */
  samples: number;
  /**
   * The distribution of a block's variance rate (per ms), as REGIME_GROUPS equally likely
   * values (lowest first), scaled so that their mean is `slowVarPerMs`: what a window far enough ahead
   * that the current regime has been forgotten may look like.
   */
  regimeVarsPerMs: number[];
  /** Jumps per ms and the variance of one jump's log size (0 and 0 when none were seen). */
  jumpRatePerMs: number;
  jumpVar: number;
  /** Silences longer than `staleGapMs` per ms (0 when none were seen). */
  staleGapRatePerMs: number;
}

/**
 * Rare events (jumps, stale gaps) are counted over at least half their half-life: right after a start
 * one silence over a few seconds of data would read as a rate of one per few seconds (a refund worth
 * the whole stake: nothing offered), one jump as a burst of them.
 */
function rareSpanMin(o: HorizonOptions): number {
  return o.rareHalfLifeMs / 2;
}

export function estimateHorizons(s: HorizonState, o: HorizonOptions): HorizonEstimate {
  const tickIntervalMs = s.tickN > 0 ? s.tickDt / s.tickN : o.fallbackTickIntervalMs;
  const noiseVar = noiseVariance(s, o);
  const minVar = o.minSigmaPerSqrtMs * o.minSigmaPerSqrtMs;
  const maxVar = o.maxSigmaPerSqrtMs * o.maxSigmaPerSqrtMs;
  const clamp = (v: number) => Math.min(Math.max(v, minVar), maxVar);
  const perMs = (d: Decayed) => diffusionRatePerMs(d, noiseVar);
  const slowWarm = s.coarseReturns >= o.slowMinReturns && s.slow.dt > 0;
  const slowVarPerMs = clamp(slowWarm ? perMs(s.slow) : o.fallbackSigmaPerSqrtMs ** 2);
  const fastWarm = s.coarseReturns >= o.fastMinReturns && s.fast.dt > 0;
  const fastRaw = fastWarm ? clamp(perMs(s.fast)) : slowVarPerMs;
  const relativeSd = (d: Decayed) => (d.dt > 0 ? Math.sqrt(2 * d.dt2) / d.dt : 0);
  const fastRelativeSd = fastWarm ? relativeSd(s.fast) : slowWarm ? relativeSd(s.slow) : 0;
  const fastVarSdPerMs = fastRaw * fastRelativeSd;
  // Positive-part James–Stein: the fast level's departure from the slow one, d, is kept in proportion
  // to how far it stands out of its own sampling error, (1 − sd²/d²)⁺. A burst (d several sd) keeps
  // nearly all of it; in a steady market, where d is mostly sampling noise, the quotes stop swinging
  // with it (a player who bets far cells gains E[P_true/P_model] from every swing: far cells right
  // after a feed pause returned 1.05 per $1 without this, 1.02 with it).
  // The sampling error judged is the one the fast level would have AT the slow level (no departure,
  // the null hypothesis of the shrinkage). Judged at the fast level itself, a high reading was shrunk
  // more than a low one, and the fast level sat under the slow one on average in a steady market
  // (fast/true 0.97, 0.98 and 0.93 in the calm, pausing and noisy markets, slow 0.99–1.01; now
  // 1.01, 1.03, 1.01): far cells bet right after a feed pause then returned 0.97 per $1, now 0.94.
  const departure = fastRaw - slowVarPerMs;
  const nullSd = slowVarPerMs * fastRelativeSd;
  const fastVarPerMs = departure !== 0 ? slowVarPerMs + departure * Math.max(0, 1 - (nullSd * nullSd) / (departure * departure)) : fastRaw;
  let regimeVarsPerMs = Array.from({ length: REGIME_GROUPS }, () => slowVarPerMs);
  if (slowWarm && s.blocks >= o.regimeMinBlocks) {
    const groups = regimeGroups(s, noiseVar);
    const mean = groups.reduce((a, b) => a + b, 0) / groups.length;
    if (mean > 0) regimeVarsPerMs = groups.map((v) => clamp((v * slowVarPerMs) / mean));
  }
  const jumpWarm = slowWarm && s.jumps > 1e-9 && s.rareSpanMs > 0;
  // The rate is priced at the upper end of its one-σ Poisson interval, (n + √n)/span: about ten jumps
  // are seen in the memory of ten minutes, so the count alone is ±30 %, and an underestimated rate
  // undercharges exactly the far cells a jump pays (their return was 1.06 at the point estimate).
  const jumpRatePerMs = jumpWarm ? (s.jumps + Math.sqrt(s.jumps)) / Math.max(s.rareSpanMs, rareSpanMin(o)) : 0;
  const jumpVar = jumpWarm ? s.jumpR2 / s.jumps : 0;
  // The point estimate: a refund's value is linear in the rate (no convexity to load for), and the
  // (n + √n) of the jump rate doubled it here (all offered cells of a pausing market at 0.86).
  const staleGapRatePerMs = s.rareSpanMs > 0 ? s.staleGaps / Math.max(s.rareSpanMs, rareSpanMin(o)) : 0;
  return { fastVarPerMs, slowVarPerMs, fastVarSdPerMs, noiseVar, tickIntervalMs, samples: slowWarm ? s.coarseReturns : 0, regimeVarsPerMs, jumpRatePerMs, jumpVar, staleGapRatePerMs };
}
