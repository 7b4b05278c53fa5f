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
 * soon after it ends; SLOW (5 min) is the level volatility returns to. Both sums decay with the age of the returns in time. The
 * level is a posterior between the prior `fallbackSigmaPerSqrtMs` and the data, with a credible range
 * that the quotes price while the estimate is young (issue 21, levelPosterior); fast falls back to slow
 * before a few returns; both are clamped. A silence longer than the stale threshold (an outage, a
 * restart) breaks the returns: the sums only age across it. The mean tick interval (for the
 * discrete-monitoring correction) is tracked as before.
 */

export interface HorizonOptions {
  coarseMs: number;
  fastHalfLifeMs: number;
  slowHalfLifeMs: number;
  /** Coarse returns before jumps are filed and the regime groups used (slow), and before the fast level stands apart from the slow one. */
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
  /**
   * The prior of the level (issue 21): `fallbackSigmaPerSqrtMs` worth this many returns. Infinity makes
   * it certain (a market of known volatility: no estimate, no uncertainty; tests of the quote itself).
   */
  priorReturns: number;
  /** The rare events' priors: jumps and silences per minute before any are seen (0: none). See rareRate. */
  jumpPriorPerMinute: number;
  stalePriorPerMinute: number;
  /** The size of a jump before any was seen, in detection thresholds at the current level (see rareRate). */
  jumpPriorThresholds: number;
  /** The one-sided normal quantile of the level's credible range (CREDIBLE_Z; 0: the range's centre only). */
  credibleZ: number;
}

/** The regime distribution is summarised by this many groups (the means of the sorted block variances, in quarters). */
export const REGIME_GROUPS = 4;

/** The priors of rare events are worth this many events (rareRate): jumps (fatTailFade) and silences (one: the weakest that still says "they may happen"). */
const JUMP_PRIOR_EVENTS = 10;
const STALE_PRIOR_EVENTS = 1;

/**
 * The one-sided normal quantile of every credible range below: z = 2 (a 2.3 % chance that the true
 * value lies beyond the end priced). Per-cell, not only on average: the test on the known random walk
 * (tests/pricing.warmup.test.ts) asks every offered cell of every grid to return at most 1.0.
 */
export const CREDIBLE_Z = 2;

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
  priorReturns: 2,
  jumpPriorPerMinute: 2,
  stalePriorPerMinute: 0.2,
  jumpPriorThresholds: 4,
  credibleZ: CREDIBLE_Z,
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
  /** Slow-decayed Σ r_i·r_{i−1} of tick returns and its count (Roll's estimator); Σ w²·(r_i·r_{i−1})² and Σ w² for its sampling error. */
  tickCross: number;
  tickCrossN: number;
  tickCross2: number;
  tickCrossW2: number;
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
  /** The finished blocks' summary (blockSummary): recomputed when a block ends. */
  blockSummary: BlockSummary | undefined;
}

interface BlockSummary {
  /** Block variances per ms, sorted then averaged in REGIME_GROUPS groups. */
  groups: number[];
  /** Their dispersion per return (levelPosterior's D); undefined before two blocks. */
  dispersion: number | undefined;
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
    tickCross2: 0,
    tickCrossW2: 0,
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
    blockSummary: undefined,
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
  const silent = dt > o.staleGapMs;
  const slowDecay = decayFactor(dt, o.slowHalfLifeMs);
  const rareDecay = decayFactor(dt, o.rareHalfLifeMs);
  s.jumps *= rareDecay;
  s.jumpR2 *= rareDecay;
  s.staleGaps = s.staleGaps * rareDecay + (silent ? 1 : 0);
  // Rare events are counted over the time the feed was watched: a silence counts up to the stale
  // threshold (by then it is one), not its whole length (a 10-minute outage is not 10 minutes without jumps).
  s.rareSpanMs = s.rareSpanMs * rareDecay + Math.min(dt, o.staleGapMs);
  const r = log - s.lastLog;
  s.tickDt = s.tickDt * slowDecay + Math.min(dt, o.maxTickIntervalMs);
  s.tickN = s.tickN * slowDecay + 1;
  s.tickCross *= slowDecay;
  s.tickCrossN *= slowDecay;
  s.tickCross2 *= slowDecay * slowDecay;
  s.tickCrossW2 *= slowDecay * slowDecay;
  if (s.lastTickReturn !== undefined && !silent) {
    const cross = r * s.lastTickReturn;
    s.tickCross += cross;
    s.tickCrossN += 1;
    s.tickCross2 += cross * cross;
    s.tickCrossW2 += 1;
  }
  s.lastTickReturn = silent ? undefined : r;
  s.lastT = tMs;
  s.lastLog = log;
  const coarseDt = tMs - s.anchorT;
  if (silent) {
    // A silence over the stale threshold (a feed outage, a restart, stored ticks of another day): the
    // move across it is no return of the diffusion the model prices — one χ²₁ draw over minutes, folded
    // at its length it outweighed every return before it (after a 10-minute outage the slow level was
    // that one draw: all offered cells returned 1.08 per $1 in the calm market, 1.18 in the first
    // minute). The sums only age by the time that passed, so a long silence leaves the estimate cold.
    fold(s.fast, decayFactor(coarseDt, o.fastHalfLifeMs), 0, 0, 0);
    fold(s.slow, decayFactor(coarseDt, o.slowHalfLifeMs), 0, 0, 0);
    s.pending = undefined;
    s.anchorT = tMs;
    s.anchorLog = log;
    return;
  }
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

/** σ² per ms of decayed sums, the noise (2η² per return) removed but never below half the raw rate. */
function diffusionRatePerMs(d: Decayed, noiseVar: number): number {
  return Math.max(d.r2 - 2 * noiseVar * d.n, 0.5 * d.r2) / d.dt;
}

/** E[r²] of a coarse return of `dtMs` under the diffusion (+∞ before the estimate is warm: no candidates). */
function expectedSquare(s: HorizonState, dtMs: number, o: HorizonOptions): number {
  if (s.coarseReturns < o.slowMinReturns || !(s.fast.dt > 0) || !(s.slow.dt > 0)) return Number.POSITIVE_INFINITY;
  const noiseVar = noiseEstimate(s, o).point;
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
      s.blockSummary = undefined;
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
  s.blockSummary = undefined;
}

/**
 * The finished blocks (recomputed when one ends): the groups of the regime distribution (block
 * variances, noise removed, sorted, the mean of each quarter) and the blocks' dispersion.
 */
function blockSummary(s: HorizonState, noiseVar: number): BlockSummary {
  if (s.blockSummary !== undefined) return s.blockSummary;
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
  let returns = 0;
  for (let k = 0; k < n; k++) {
    spread += (vars[k]! - mean) ** 2 / n;
    returns += s.blockN[k]! / n;
  }
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
  // The dispersion of the block rates per return (see levelPosterior): 2 for Gaussian returns of a steady rate.
  const dispersion = n >= 2 && mean > 0 ? (returns * spread) / (mean * mean) : undefined;
  s.blockSummary = { groups, dispersion };
  return s.blockSummary;
}

export interface HorizonEstimate {
  /**
   * σ² per ms at the fast and slow horizons (noise removed, clamped), at the UPPER end of the level's
   * credible range (issue 21, levelPosterior): what the quotes price far cells with.
   */
  fastVarPerMs: number;
  slowVarPerMs: number;
  /**
   * The sampling standard deviation of `fastVarPerMs` (per ms; at the same upper end): a 6 s half-life
   * rests on ~20 returns, so the fast level is uncertain by ~30 % in a steady market (more when a feed
   * pause makes one return long), and far cells' P is very convex in it (see quote.ts).
   */
  fastVarSdPerMs: number;
  /** The slow level's point estimate (σ² per ms, the centre of its credible range): what the volatility gauges show. */
  levelVarPerMs: number;
  /**
   * ln(upper/lower) of the level's credible range beyond what a warm estimate has (0 once warm): every
   * variance above is published at its upper end and has its lower end e^(−rateSpreadLog) times that;
   * quote.ts prices each cell at the end that pays less.
   */
  rateSpreadLog: number;
  /** Variance of the tick noise (log-price units²; its own sampling error is in the level's range). */
  noiseVar: number;
  tickIntervalMs: number;
  /** Coarse returns observed since the start (0 = none: the prior alone). */
  samples: number;
  /**
   * The distribution of a block's variance rate (per ms), as REGIME_GROUPS equally likely
   * values (lowest first), scaled so that their mean is `slowVarPerMs`: what a window far enough ahead
   * that the current regime has been forgotten may look like.
   */
  regimeVarsPerMs: number[];
  /** Jumps per ms (the upper end, with the prior while the count is young) and the variance of one jump's log size. */
  jumpRatePerMs: number;
  /** The part of `jumpRatePerMs` that is the prior, not jumps seen (its range's lower end is the rest). */
  jumpPriorPerMs: number;
  jumpVar: number;
  /** Silences longer than `staleGapMs` per ms (with the prior while the count is young). */
  staleGapRatePerMs: number;
}

/**
 * The prior of the block dispersion (per return, see levelPosterior) and its weight in blocks (a
 * minute): before a market has shown its regimes the level's range is that of a market whose rate moves
 * (8, against a steady market's 2 and the simulated bursty market's ~20: one block in four at 25 times
 * the calm variance), fading as blocks are seen. Bursts not seen at all are the fat-tail prior's
 * (fatTailFade): no level range covers a bursty market that has been calm so far.
 */
const DISPERSION_PRIOR = 8;
const DISPERSION_PRIOR_BLOCKS = 12;

/** How warm a decayed sum over time is: its weight in ms against the steady state's (half-life / ln 2), in [0, 1]. */
function warmth(weightMs: number, halfLifeMs: number): number {
  return Math.min(Math.max((weightMs * Math.LN2) / halfLifeMs, 0), 1);
}

/**
 * The warm model's own sampling error is carried by the house edge (the adversary tables were
 * measured with it); so is an error up to this much larger in variance (10 %: ±5 % in its standard
 * deviation, within what one warm run's error differs from another's). Only the uncertainty beyond it
 * is priced: relVar_now − (1 + tolerance)·relVar_warm = relVar_now·(1 − (1 + tolerance)·warmth), which
 * reaches 0 once 91 % of the horizon is filled (17 minutes at a 5-minute half-life) instead of only
 * fading towards it: a warm estimate is then priced exactly as before issue 21, at one evaluation per
 * cell (without the tolerance the bursty market, whose level is ±15 % uncertain even when warm, still
 * priced a 9 % range after 30 minutes: all offered cells 0.888 there).
 */
const WARM_TOLERANCE = 0.1;

/**
 * Once warm, a steady market's level keeps its own sampling error unpriced (WARM_TOLERANCE), but a
 * market whose rate moves does not. Its level rests on the dozen bursts its 5-minute horizon holds
 * (block dispersion D ≈ 20, levelPosterior: ±15 % in variance against a steady market's ±5 %), and
 * that error is slow and public: after a stretch without bursts the level is low for minutes while
 * bursts keep coming at the same rate, and the cells whose multiplier is the highest of their last
 * minute (the cheap cherry-picker) are exactly those moments: 1.035 per $1 expected on seeds 11–13,
 * 1.008 on seeds 21–24 in the simulated bursty market (30 minutes watched, then 7) with the whole warm
 * error left to the house edge.
 * - The share a steady market would have (D up to UNPRICED_DISPERSION: 2 for Gaussian returns, 2.5–3
 *   measured with the dispersion prior's pull and the tick noise) stays the edge's, as before: calm,
 *   jumpy, noisy, mean-reverting and pausing markets are priced exactly as before (their range is 0
 *   once warm).
 * - The rest (the "moving" relative variance, relVar_warm − (1 + tolerance)·relVar_steady) is priced
 *   at MOVING_SHARE of its variance, i.e. at CREDIBLE_Z·√share = one σ instead of two: the picker
 *   gains from the level's error at the moments it picks, about one σ low (a level two σ low is a
 *   rare stretch), and pricing its two-σ end overcharged every far cell of the mixed market (all
 *   offered 0.87, below the 0.88 bar; far cells 0.58) for a picker already at 0.81. At one σ: bursty
 *   cherry-picker 0.945 and all offered 0.909, mixed 0.78 and 0.893 (seeds 11–13); 0.907 and 0.911,
 *   0.75 and 0.881 on seeds 21–24.
 */
const UNPRICED_DISPERSION = 4;
const MOVING_SHARE = 0.25;

/** The share of an estimate's sampling variance that is priced (see WARM_TOLERANCE), from its warmth. */
function excessShare(warm: number): number {
  return Math.max(0, 1 - (1 + WARM_TOLERANCE) * warm);
}

/**
 * The ratio (true / estimated) of a variance at the ends of its credible range, from ν degrees of
 * freedom (ν Gaussian returns): χ²_ν/ν by the Wilson–Hilferty cube, (1 − 2/(9ν) ± z·√(2/(9ν)))³, the
 * ends its reciprocal. Below ~4 degrees of freedom the lower cube reaches 0: the upper end is then
 * unbounded (the caller clamps it to the model's maximum).
 */
function varianceRange(dof: number, z: number): { upper: number; lower: number } {
  if (!(dof > 0)) return { upper: Number.POSITIVE_INFINITY, lower: 0 };
  if (!Number.isFinite(dof)) return { upper: 1, lower: 1 };
  const a = 2 / (9 * dof);
  const low = 1 - a - z * Math.sqrt(a);
  const high = 1 - a + z * Math.sqrt(a);
  return { upper: low > 0 ? 1 / low ** 3 : Number.POSITIVE_INFINITY, lower: 1 / high ** 3 };
}

interface Noise {
  /** Roll's point estimate (capped) and its sampling standard deviation beyond a warm estimate's. */
  point: number;
  excessSd: number;
}

/** Roll's estimate of the tick-noise variance (0 before ten tick pairs), capped, and its sampling error. */
function noiseEstimate(s: HorizonState, o: HorizonOptions): Noise {
  if (!(s.tickCrossN >= 10)) return { point: 0, excessSd: 0 };
  const mean = s.tickCross / s.tickCrossN;
  // Var of the weighted mean of the products x = r_i·r_{i−1}: Σw²(x − x̄)²/(Σw)².
  const variance = Math.max(s.tickCross2 - mean * mean * s.tickCrossW2, 0) / (s.tickCrossN * s.tickCrossN);
  const cap = o.maxNoiseSigma * o.maxNoiseSigma;
  return { point: Math.min(Math.max(-mean, 0), cap), excessSd: Math.sqrt(variance * excessShare(warmth(s.tickDt, o.slowHalfLifeMs))) };
}

interface Level {
  centre: number;
  upper: number;
  lower: number;
}

/**
 * The slow level's credible range (issue 21). Before, the level was a fixed fallback (60 %/year)
 * until 30 returns, then the raw estimate, whose relative sampling error is √(2/n) (26 % at n = 30):
 * far cells, whose P moves several times the variance, were sold at up to 2× per $1 in a fresh
 * server's first minute. Now:
 * - the centre is the conjugate (scaled inverse-χ²) posterior of the variance: the prior
 *   (`fallbackSigmaPerSqrtMs`, worth `priorReturns` returns) and the data's estimate V̂ weighed by
 *   their degrees of freedom, ν₀·V₀ + ν·V̂ over ν₀ + ν, so there is no cliff when the data take over;
 * - the data's degrees of freedom are ν = 2a/D: a = the decayed count of returns behind V̂ (it falls
 *   again when time passes without returns: a feed outage, old stored ticks), and D the dispersion
 *   per return, Var(r²)/E[r²]² for one return's square: 2 for Gaussian returns of a steady rate, more
 *   when the rate itself moves (a bursty market's blocks scatter far beyond their sampling error, and
 *   its level rests on the few bursts seen: D ≈ 20 there). D is measured from the blocks' rates
 *   (their variance against their mean², times the returns per block), shrunk towards a bursty prior
 *   (DISPERSION_PRIOR) until blocks accrue, and never below 2;
 * - the range is the posterior's, at CREDIBLE_Z either side (Wilson–Hilferty), from the degrees of
 *   freedom of the EXCESS uncertainty over a warm estimate: 1/ν_x = 1/ν_now − (1 + WARM_TOLERANCE)/ν_warm,
 *   with ν_warm what the same sums hold in the steady state (a/warmth). A warm estimate keeps its own
 *   ±3–5 % sampling error unpriced, as before: the adversary tables were measured with it and the house
 *   edge carries it (pricing it too charged every far cell 10–20 % more in a warm calm market). So the
 *   range closes as the data fill the 5-minute horizon (after ~17 minutes it is gone), and opens again
 *   after an outage; in a market whose rate moves, the warm error beyond a steady market's is priced
 *   at one σ and never closes (UNPRICED_DISPERSION, MOVING_SHARE);
 * - the noise removed from the returns is itself an estimate: its sampling error adds 2·n·sd(η̂²)/Σdt
 *   to the level's (relative, in quadrature).
 * The quote prices each cell at whichever end pays less (quote.ts): far cells at the upper end (their
 * P grows with the variance), cells at the price at the lower end (their P falls with it, ~0.1 per
 * unit of log-variance). Both ends are clamped to [minSigma, maxSigma].
 */
function levelPosterior(s: HorizonState, o: HorizonOptions, noise: Noise): Level {
  const prior = o.fallbackSigmaPerSqrtMs ** 2;
  if (!Number.isFinite(o.priorReturns)) return { centre: prior, upper: prior, lower: prior };
  const priorDof = Math.max(o.priorReturns, 0);
  const seen = s.slow.dt > 0 && s.slow.n > 0;
  const data = seen ? diffusionRatePerMs(s.slow, noise.point) : 0;
  const dispersion = blockDispersion(s, noise.point);
  const dof = seen ? (2 * s.slow.n) / dispersion : 0;
  const centre = priorDof + dof > 0 ? (priorDof * prior + dof * data) / (priorDof + dof) : prior;
  const warm = warmth(s.slow.dt, o.slowHalfLifeMs);
  const relVarNow = 2 / (priorDof + dof);
  const relVarWarm = warm > 0 ? 2 / (priorDof + dof / warm) : 0;
  const steadyDof = seen ? (2 * s.slow.n) / Math.min(dispersion, UNPRICED_DISPERSION) : 0;
  const relVarSteady = warm > 0 ? 2 / (priorDof + steadyDof / warm) : 0;
  const young = Math.max(relVarNow - (1 + WARM_TOLERANCE) * relVarWarm, 0);
  const moving = MOVING_SHARE * Math.max(relVarWarm - (1 + WARM_TOLERANCE) * relVarSteady, 0);
  const noiseRel = seen && centre > 0 ? (2 * s.slow.n * noise.excessSd) / (s.slow.dt * centre) : 0;
  const excess = young + moving + noiseRel * noiseRel;
  const { upper, lower } = varianceRange(excess > 0 ? 2 / excess : Number.POSITIVE_INFINITY, o.credibleZ);
  return { centre, upper: centre * upper, lower: centre * lower };
}

/** D of levelPosterior: the blocks' dispersion shrunk towards the prior by their number, at least 2. */
function blockDispersion(s: HorizonState, noiseVar: number): number {
  const blocks = Math.min(s.blocks, s.blockR2.length);
  const measured = blocks >= 2 ? blockSummary(s, noiseVar).dispersion : undefined;
  const d = measured === undefined ? DISPERSION_PRIOR : (DISPERSION_PRIOR_BLOCKS * DISPERSION_PRIOR + blocks * measured) / (DISPERSION_PRIOR_BLOCKS + blocks);
  return Math.max(d, 2);
}

/**
 * A rare event's rate (issue 21): n events counted over span S (both decayed with the rare half-life),
 * with a prior of `priorEvents` events at `perMinute` (worth S₀ = priorEvents/λ₀ of watching) whose
 * weight f fades as the feed is watched. Rate = (n + upper + f·α₀)/(S + f·S₀), `upper` the data's own
 * one-σ Poisson allowance (√n for jumps); `seen` is the same without the prior's events. A fresh
 * server has seen no jump and no silence: "rate 0" is then an estimate of no weight, and a market that
 * jumps once a minute would be sold far cells at a fraction of their price for its first minutes; the
 * prior says "assume it may" until the feed has been watched long enough to say otherwise. Once warm
 * (f → 0) it is the count alone, as before. Without a prior (`perMinute` 0) the count is taken over at
 * least half the rare half-life while young, as before issue 21 (one silence seconds after a start is
 * not a rate of one per few seconds).
 */
function rareRate(events: number, upper: number, s: HorizonState, o: HorizonOptions, perMinute: number, priorEvents: number, fade: number): { rate: number; seen: number; priorEvents: number } {
  const prior = perMinute > 0 ? fade * priorEvents : 0;
  const priorSpan = perMinute > 0 ? (prior * 60_000) / perMinute : (fade * o.rareHalfLifeMs) / 2;
  const span = s.rareSpanMs + priorSpan;
  return { rate: span > 0 ? (events + upper + prior) / span : 0, seen: span > 0 ? (events + upper) / span : 0, priorEvents: prior };
}

/** How little of the rare events' horizon has been watched: 1 at a start, → 0 as the rare span fills. */
function rareFade(s: HorizonState, o: HorizonOptions): number {
  return 1 - warmth(s.rareSpanMs, o.rareHalfLifeMs);
}

/**
 * The fat-tail prior's fade: the rare span's, and also the regime window's (1 − blocks/ring): the jump
 * prior stands for every fat tail not yet seen, bursts as much as jumps (a burst of 8 s at 5× the calm
 * volatility moves the price as a jump of ~4 detection thresholds), and until the regime window holds a
 * few bursts the model cannot tell a calm market from a bursty one in a calm stretch. On the simulated
 * bursty market (two bursts a minute), one fresh start in fourteen sees none for two and a half
 * minutes: with a prior of one jump fading as the span fills, far cells of the first column sold there
 * at 14–18× returned up to 2.7 per $1, and a player betting the cells whose multiplier was the highest of
 * their last minute (the estimate relaxing as calm returns accrue) got 1.11 over the first 5 minutes.
 * Ten events at two a minute (JUMP_PRIOR_EVENTS) keep ~1.4 a minute at 100 s and vanish once the regime
 * window is full (10 minutes): a restart warmed from stored ticks keeps its window, and no prior.
 */
function fatTailFade(s: HorizonState, o: HorizonOptions): number {
  return rareFade(s, o) * (1 - Math.min(s.blocks / s.blockR2.length, 1));
}

export function estimateHorizons(s: HorizonState, o: HorizonOptions): HorizonEstimate {
  const tickIntervalMs = s.tickN > 0 ? s.tickDt / s.tickN : o.fallbackTickIntervalMs;
  const noise = noiseEstimate(s, o);
  const noiseVar = noise.point;
  const minVar = o.minSigmaPerSqrtMs * o.minSigmaPerSqrtMs;
  const maxVar = o.maxSigmaPerSqrtMs * o.maxSigmaPerSqrtMs;
  const clamp = (v: number) => Math.min(Math.max(v, minVar), maxVar);
  const perMs = (d: Decayed) => diffusionRatePerMs(d, noiseVar);
  const level = levelPosterior(s, o, noise);
  const slowCentre = clamp(level.centre);
  const upperFactor = clamp(level.upper) / slowCentre;
  const rateSpreadLog = Math.log(clamp(level.upper) / clamp(level.lower));
  const slowWarm = s.coarseReturns >= o.slowMinReturns && s.slow.dt > 0;
  const fastWarm = s.coarseReturns >= o.fastMinReturns && s.fast.dt > 0 && s.fast.n > 0;
  const fastRaw = fastWarm ? clamp(perMs(s.fast)) : slowCentre;
  const relativeSd = (d: Decayed) => (d.dt > 0 ? Math.sqrt(2 * d.dt2) / d.dt : 0);
  const fastRelativeSd = fastWarm ? relativeSd(s.fast) : slowWarm ? relativeSd(s.slow) : 0;
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
  const departure = fastRaw - slowCentre;
  const nullSd = slowCentre * fastRelativeSd;
  const fastCentre = departure !== 0 ? slowCentre + departure * Math.max(0, 1 - (nullSd * nullSd) / (departure * departure)) : fastRaw;
  let regimeVarsPerMs = Array.from({ length: REGIME_GROUPS }, () => slowCentre);
  if (slowWarm && s.blocks >= o.regimeMinBlocks) {
    const { groups } = blockSummary(s, noiseVar);
    const mean = groups.reduce((a, b) => a + b, 0) / groups.length;
    if (mean > 0) regimeVarsPerMs = groups.map((v) => clamp((v * slowCentre) / mean));
  }
  // Jumps: the upper end of the count's one-σ Poisson interval, (n + √n)/span: about ten jumps are seen
  // in the memory of ten minutes, so the count alone is ±30 %, and an underestimated rate undercharges
  // exactly the far cells a jump pays (their return was 1.06 at the point estimate). Detection needs a
  // level (slowMinReturns); the prior (rareRate, fatTailFade) covers the time before and the jumps and
  // bursts not yet seen, at a size of `jumpPriorThresholds` detection thresholds at the level.
  const jumpsSeen = slowWarm ? s.jumps : 0;
  const jumps = rareRate(jumpsSeen, Math.sqrt(jumpsSeen), s, o, o.jumpPriorPerMinute, JUMP_PRIOR_EVENTS, fatTailFade(s, o));
  const priorJumpVar = (o.jumpThresholdSd * o.jumpPriorThresholds) ** 2 * slowCentre * o.coarseMs;
  const jumpWeight = jumpsSeen + jumps.priorEvents;
  const jumpRatePerMs = jumpWeight > 1e-9 ? jumps.rate : 0;
  const jumpPriorPerMs = jumpWeight > 1e-9 ? jumps.rate - jumps.seen : 0;
  const jumpVar = jumpWeight > 1e-9 ? (jumpsSeen * (slowWarm && s.jumps > 1e-9 ? s.jumpR2 / s.jumps : 0) + jumps.priorEvents * priorJumpVar) / jumpWeight : 0;
  // Silences: the point estimate: a refund's value is linear in the rate (no convexity to load for),
  // and the (n + √n) of the jump rate doubled it here (all offered cells of a pausing market at 0.86).
  const staleGapRatePerMs = rareRate(s.staleGaps, 0, s, o, o.stalePriorPerMinute, STALE_PRIOR_EVENTS, rareFade(s, o)).rate;
  const up = (v: number) => clamp(v * upperFactor);
  return {
    fastVarPerMs: up(fastCentre),
    slowVarPerMs: up(slowCentre),
    fastVarSdPerMs: fastRaw * fastRelativeSd * upperFactor,
    levelVarPerMs: slowCentre,
    rateSpreadLog: rateSpreadLog > 0 ? rateSpreadLog : 0,
    noiseVar,
    tickIntervalMs,
    samples: s.coarseReturns,
    regimeVarsPerMs: regimeVarsPerMs.map(up),
    jumpRatePerMs,
    jumpPriorPerMs,
    jumpVar,
    staleGapRatePerMs,
  };
}
