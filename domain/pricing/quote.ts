import { isOffered, multiplierHundredths } from "./multiplier.ts";
import { touchProbabilityWithStart, type TouchStartInput } from "./touch.ts";

type TouchBase = Omit<TouchStartInput, "startVariance" | "sigmaPerSqrtMs">;

/**
 * The quote of one cell from the inputs of one index tick (SPEC §4 "Robust to the real market",
 * issue 12). The server's engine calls exactly this function, and the inputs travel with each tick,
 * so a browser computes the same multiplier the server will quote (issue 15). Pure: no clock.
 *
 * Model and its derivation. Log-price relative to the tick's price S at time t:
 *   observed index = efficient price + tick noise ε (variance η²);
 *   the efficient price diffuses with a variance rate σ²(s) that is itself random: a regime (calm
 *   spell, burst, a block with a jump) holds for a while and is then replaced by a fresh draw from the
 *   market's regime distribution. For a two-state (or any finite) Markov chain that is exactly the law
 *   "the current regime is still on at lag s with probability e^{−s/θ}, otherwise the regime is a draw
 *   from the stationary distribution", θ = 1/(sum of the switching rates). Its mean is the term structure
 *     V(h) = σ²_slow·h + (σ²_fast − σ²_slow)·θ·(1 − e^{−h/θ})
 *   (σ²_fast: the current (6 s half-life) level, σ²_slow: the long-run (5 min) level; the same form as a
 *   GARCH(1,1)/Heston variance forecast). The regime distribution is measured, not assumed: horizons.ts
 *   keeps the realised variance of the last 120 blocks of 5 s, removes the scatter that sampling
 *   alone explains, and publishes it as four equally likely rates q₁ ≤ … ≤ q₄ (mean σ²_slow).
 * For a window [t0, t0 + T), τ = t0 − t, P(touch) is a mixture:
 *   • with weight w = e^{−τ/θ} the current regime persists: start variance σ²_fast·(τ + Δ/2) + η²,
 *     in-window rate σ²_fast (a burst continues; a quiet spell stays quiet);
 *   • with weight 1 − w the window's regime is a fresh draw: in-window rate q_k (k = 1…4, equally
 *     likely), and the start variance is V(τ + Δ/2) ± its own spread: only the part of the way not
 *     spent in the current regime, τ_f = τ − θ·(1 − e^{−τ/θ}), is made of fresh draws, and the mean of
 *     n = τ_f/T of them has standard deviation sd(q)/√n, so the start is priced at the two equally
 *     likely points V ∓ sd(q)·τ_f/√max(1, τ_f/T) (spread capped at 0.9·V so the mean is kept; one
 *     point when the spread is negligible).
 *   Why a mixture and not one Gaussian at the mean variance: the band is reached when the window's
 *   RANGE covers it, and the range grows like σ, not σ² — E[σ] < √E[σ²] — so one Gaussian with the mean
 *   variance overstated every far column's P by 20–35 % in a bursty market (the all-offered return was
 *   0.76); and the start distribution of a variance mixture is peaked with fat tails, which one
 *   Gaussian misses at both ends.
 * Each component is touch.ts's first-passage probability (steps as before):
 *   1. the first in-window tick's log-price has the start variance (the diffusion up to it and the
 *      noise of the spot tick itself: the spot is not the efficient price, a bounce reverts);
 *   2. inside the window the efficient price moves with the component's rate;
 *   3. the observed ticks carry noise, so they reach a band edge when the efficient price is within
 *      about η of it: the band is widened by κ·η on each side, κ = 1 (the expected max of the noise
 *      draws on the ~4 ticks near the path's extreme is 1.03 σ);
 *   4. discrete monitoring with the mean tick interval Δ.
 * Jumps (a sweep of one exchange's book: one print of 5–20 σ) are priced apart from the diffusion:
 * horizons.ts files an isolated big return as a jump (rate λ, squared size σ²_J) and keeps it out of
 * the diffusion sums; every component above is then a Poisson mixture over the number of jumps before
 * the window ends (0, 1, 2+), each adding σ²_J to the start variance (see quoteTouchProbability).
 * The fast level is an estimate from ~20 returns: the current regime is priced at fast ∓ its sampling
 * sd (and the term structure's start spread carries it), since far cells' P is convex in the variance.
 * Refunds (a window void for a silence over PRICE_STALE_MS) are paid for in the multiplier (quoteCell).
 * Extra edge where the model is least sure: near the price in the next minute (tick noise that reverts
 * over a second or two, feed pauses, the peak of the start distribution all matter most there), P gets
 * up to NEAR_BASE more in proportion to the tick noise it sees (none on a noise-free random walk), plus
 * NEAR_EXTRA scaled by how much the horizons disagree (a burst starting or ending); the loading fades linearly to zero NEAR_ROWS bands from the price and NEAR_COLUMNS columns
 * ahead, so a quote never jumps when the price crosses into the next band. The multiplier is
 * (1 − edge)/P, so that is extra house edge there only.
 */

export interface QuoteInputs {
  /** Time of the index tick (ms) and its price (cents). */
  t: number;
  priceCents: number;
  /** Variance rate of the log-price per ms at the fast (seconds) and slow (minutes) horizon. */
  fastVarPerMs: number;
  slowVarPerMs: number;
  /** The sampling standard deviation of `fastVarPerMs` (per ms; horizons.ts). */
  fastVarSdPerMs: number;
  /** Variance of the tick noise, log-price units². */
  noiseVar: number;
  /** Mean time between index ticks (ms). */
  tickIntervalMs: number;
  /**
   * The regime distribution (horizons.ts `regimeVarsPerMs`): four equally likely variance rates per ms of a
   * 5 s block, lowest first. Flat numeric fields so that the WebSocket quote stays a map of numbers.
   */
  regimeQ1VarPerMs: number;
  regimeQ2VarPerMs: number;
  regimeQ3VarPerMs: number;
  regimeQ4VarPerMs: number;
  /** Jumps per ms and the variance of one jump's log size (horizons.ts; 0 when none were seen). */
  jumpRatePerMs: number;
  jumpVar: number;
  /** Feed silences longer than PRICE_STALE_MS per ms (horizons.ts): each makes the windows it meets void. */
  staleGapRatePerMs: number;
  /**
   * How unsure the estimated variances still are (issue 21; horizons.ts levelPosterior): the variance
   * rates above are the UPPER ends of their credible ranges, and their lower ends are e^(−rateSpreadLog)
   * times them. 0 once the estimate is warm (absent: 0).
   */
  rateSpreadLog: number;
  /**
   * The part of `jumpRatePerMs` that is the prior a young server assumes before it has seen jumps
   * (issue 21; horizons.ts rareRate), not jumps seen: the jump rate's range runs from
   * `jumpRatePerMs − jumpPriorPerMs` (the count alone) to `jumpRatePerMs`. 0 once warm (absent: 0).
   */
  jumpPriorPerMs: number;
}

type RegimeFields = Pick<QuoteInputs, "regimeQ1VarPerMs" | "regimeQ2VarPerMs" | "regimeQ3VarPerMs" | "regimeQ4VarPerMs">;

/** The quote fields of a regime distribution of four groups (fewer: the last value repeats; more: the rest is ignored). */
export function regimeFields(vars: readonly number[]): RegimeFields {
  const at = (k: number) => vars[k] ?? vars[vars.length - 1] ?? 0;
  return { regimeQ1VarPerMs: at(0), regimeQ2VarPerMs: at(1), regimeQ3VarPerMs: at(2), regimeQ4VarPerMs: at(3) };
}

export interface QuoteTerms {
  columnMs: number;
  rowCents: number;
  houseEdgeBp: number;
  minMultiplierHundredths: number;
  maxMultiplierHundredths: number;
}

/**
 * θ: how long a volatility regime persists (ms). For a two-state chain (calm ⇄ burst) the regime
 * correlation decays at rate λ_on + λ_off: bursts of ~8 s arriving about twice a minute (the bursty
 * market) give 1/(1/8 s + 1/30 s) ≈ 6.3 s; liquidation cascades and news spells on BTC last seconds to
 * tens of seconds. 6 s: a longer θ made the current regime persist too long (a calm spell priced as if
 * no burst could start in the first column: far cells there returned 1.04 in the bursty market).
 */
export const REGIME_PERSISTENCE_MS = 6_000;
/** Mixture components with less weight than this are skipped (their P changes the total by < 0.1 %). */
export const MIXTURE_WEIGHT_MIN = 1e-3;
/**
 * The jump counts' floor is lower: a jump component's P is many times the jump-free one on a far cell,
 * so skipping a weight under 1e-3 (jumps seen long ago, the rate decayed) took ~1 % off the P of a cell
 * 10 bands away in the first column (weight 8e-4, jumps of 6 bp), more further out. Under 1e-5 the
 * loss is at most 1e-5 of P(touch) in absolute terms.
 */
const JUMP_WEIGHT_MIN = 1e-5;
/** κ: band widening per noise σ (step 3). */
export const NOISE_WIDENING = 1;
/** Extra P near the price (relative): the base part (scaled by the tick noise, `noiseLoading`), and the part scaled by how much the horizons disagree. */
export const NEAR_BASE = 0.1;
/**
 * 5 %: at 3 % the price's own cell in the first column returned 0.970 per $1 in the bursty market (seeds
 * 11–13, expected payout) once the fast level stopped sitting below the slow one (horizons.ts); at 5 %
 * 0.960, with all offered cells unchanged (0.918).
 */
export const NEAR_EXTRA = 0.05;
/** The near loading fades to zero this many bands from the price and this many columns ahead. */
export const NEAR_ROWS = 2;
export const NEAR_COLUMNS = 6;
/** Start-variance spread below this fraction of the mean is priced as one point (saves 4 of 9 evaluations). */
const START_SPREAD_MIN = 0.05;
/** Regime rates within this relative spread are priced as one (their P differ by well under 1 %). */
const STEADY_RATIO_MAX = 0.02;
/**
 * The sweep of an in-window jump, as a share of the jump variance rate added inside the window. A jump
 * of size J in the window pays every band between its ends (the cross rule); spreading its variance
 * as diffusion over the window (share 1) overstates a window's range (a Brownian range is ~1.6σ, a
 * jump's ~0.8σ, and most windows hold none), share 0 ignores the sweep. Checked against the true
 * conditional law of the simulated jumpy market (expected return per cell priced, seeds 1–4): share 0
 * priced the own cell of the first column at ≈ 1.0 (no edge), 0.45 overcharged far cells there by 28 %;
 * 0.4 prices near cells at 0.96 and leaves far cells overcharged rather than under.
 */
export const JUMP_SWEEP = 0.4;
/** Jump counts priced: 0, 1 and "2 or more" (priced as 2). */
const JUMPS_MAX = 2;
const FACTORIAL = [1, 1, 2];

/**
 * The near-cell loading: NEAR_EXTRA scaled by how much the horizons disagree (|ln(σ²_fast/σ²_slow)|,
 * capped at 1): none when the model is sure (a steady market: fast = slow), the full 5 % when the
 * current variance is a factor e away from its level (a burst starting or ending).
 */
export function nearLoading(fastVarPerMs: number, slowVarPerMs: number): number {
  if (!(fastVarPerMs > 0) || !(slowVarPerMs > 0)) return NEAR_EXTRA;
  return NEAR_EXTRA * Math.min(1, Math.abs(Math.log(fastVarPerMs / slowVarPerMs)));
}

/**
 * The base part of the near loading: NEAR_BASE scaled by the tick noise relative to one tick's move,
 * η/(σ_slow·√Δ), capped at 1. Near the price the model is only as good as its treatment of the noise
 * (one noise σ of band widening; noise that reverts over a second or two is not estimated at all), so
 * the loading grows with the noise it can see; a noise-free random walk gets none and keeps exactly
 * the promised 0.95 (tests/pricing.montecarlo.test.ts).
 */
export function noiseLoading(inputs: Pick<QuoteInputs, "noiseVar" | "slowVarPerMs" | "tickIntervalMs">): number {
  const tickMove = Math.sqrt(Math.max(inputs.slowVarPerMs, 0) * Math.max(inputs.tickIntervalMs, 0));
  if (!(inputs.noiseVar > 0) || !(tickMove > 0)) return 0;
  return NEAR_BASE * Math.min(1, Math.sqrt(inputs.noiseVar) / tickMove);
}

/** V(h): expected integrated variance over h ms (the term structure). */
export function termVariance(fastVarPerMs: number, slowVarPerMs: number, h: number): number {
  if (!(h > 0)) return 0;
  const theta = REGIME_PERSISTENCE_MS;
  return slowVarPerMs * h + (fastVarPerMs - slowVarPerMs) * theta * -Math.expm1(-h / theta);
}

/** Ranges narrower than this (relative) are priced at their upper end alone (P within ~0.1 % of the max): one evaluation. */
const RATE_SPREAD_MIN = 0.01;
/**
 * The model P(touch) of a cell from one tick's inputs. While the estimate is young (issue 21), the rates
 * are known only within ranges (the variances within a factor e^rateSpreadLog, the jump rate within
 * `jumpPriorPerMs` of `jumpRatePerMs`), and the cell is priced at the largest P over three corners of
 * that box: every rate at its upper end, and the variances at the lower end and at the middle (in log)
 * of their range with the jump rate at its lower end. A cell's P grows with the rates far from the
 * price (the first corner) and falls with them, slightly, at the price (the second: a jump or a wider
 * diffusion takes the price away from its own cell); cells between the two kinds (a few bands out,
 * later columns) are likeliest to be touched at an intermediate variance and no jump (the third).
 * Whatever the true rates within the box, no cell is sold cheap. Measured on the known random walk
 * (tests/pricing.warmup.test.ts): priced at the upper ends only, the price's own cell and its
 * neighbours in later columns returned up to 1.02 per $1; without the middle, cells a few bands out
 * up to 1.005; with the middle at half the prior's jumps, 1.04.
 */
export function quoteTouchProbability(inputs: QuoteInputs, terms: QuoteTerms, col: number, row: number): number {
  const upper = touchAtRates(inputs, terms, col, row);
  const spread = inputs.rateSpreadLog > RATE_SPREAD_MIN ? inputs.rateSpreadLog : 0;
  const jumpLow = Math.max(inputs.jumpRatePerMs - Math.max(inputs.jumpPriorPerMs ?? 0, 0), 0);
  const jumpUnsure = jumpLow < inputs.jumpRatePerMs * (1 - RATE_SPREAD_MIN);
  if (spread === 0 && !jumpUnsure) return upper;
  const lower = touchAtRates(lowerRates(inputs, Math.exp(-spread), jumpLow), terms, col, row);
  if (spread === 0) return Math.max(upper, lower);
  const middle = touchAtRates(lowerRates(inputs, Math.exp(-spread / 2), jumpLow), terms, col, row);
  return Math.max(upper, middle, lower);
}

/** The inputs with the variances `factor` times the published upper ends, and the jump rate `jumpRatePerMs`. */
function lowerRates(inputs: QuoteInputs, factor: number, jumpRatePerMs: number): QuoteInputs {
  return {
    ...inputs,
    fastVarPerMs: inputs.fastVarPerMs * factor,
    slowVarPerMs: inputs.slowVarPerMs * factor,
    fastVarSdPerMs: inputs.fastVarSdPerMs * factor,
    ...regimeFields(regimeRates(inputs).map((v) => v * factor)),
    jumpRatePerMs,
  };
}

/** P(touch) at the given rates: the regime mixture, with the near loading. */
function touchAtRates(inputs: QuoteInputs, terms: QuoteTerms, col: number, row: number): number {
  const { priceCents: spot, fastVarPerMs: fast, slowVarPerMs: slow } = inputs;
  const windowMs = terms.columnMs;
  const tickMs = Math.min(Math.max(inputs.tickIntervalMs, 0), windowMs);
  const tau = Math.max(col * terms.columnMs - inputs.t, 0);
  const noiseVar = Math.max(inputs.noiseVar, 0);
  const widenCents = NOISE_WIDENING * Math.sqrt(noiseVar) * spot;
  const base = { spotCents: spot, bandLowCents: row * terms.rowCents - widenCents, bandHighCents: (row + 1) * terms.rowCents + widenCents, windowMs, tickIntervalMs: tickMs };
  const startH = tau + tickMs / 2;
  // Jumps (horizons.ts fileJumps: rate λ, squared size σ²_J): N ~ Poisson(λ·(τ + Δ/2 + T)) of them before
  // the window ends, each adding σ²_J to the start variance (a jump in the window moves the price as one
  // before it does: a far band it lands on or passes over pays, by the touch or the cross rule), and
  // the in-window rate gains JUMP_SWEEP·λ·σ²_J for the range a jump in the window sweeps on its way.
  const jumpMean = Math.max(inputs.jumpRatePerMs, 0) * (startH + windowMs);
  const jumpRateVar = JUMP_SWEEP * Math.max(inputs.jumpRatePerMs, 0) * Math.max(inputs.jumpVar, 0);
  const jumpVar = Math.max(inputs.jumpVar, 0);
  let p = 0;
  let left = 1;
  for (let k = 0; k <= JUMPS_MAX && left >= JUMP_WEIGHT_MIN; k++) {
    const w = k === JUMPS_MAX || !(jumpVar > 0) ? left : Math.exp(-jumpMean) * jumpMean ** k / FACTORIAL[k]!;
    if (w >= JUMP_WEIGHT_MIN) p += w * diffusionTouch(inputs, base, tau, startH, windowMs, k * jumpVar, jumpRateVar);
    left -= w;
  }
  const edgeGapCents = Math.max(row * terms.rowCents - spot, spot - (row + 1) * terms.rowCents, 0);
  const nearness = Math.max(0, 1 - edgeGapCents / (NEAR_ROWS * terms.rowCents)) * Math.max(0, 1 - tau / (NEAR_COLUMNS * terms.columnMs));
  p *= 1 + nearness * (noiseLoading(inputs) + nearLoading(fast, slow));
  return Math.min(p, 1);
}

/** The regime mixture's P(touch) (see the module comment) with `extraVar` more start variance (jumps). */
function diffusionTouch(inputs: QuoteInputs, base: TouchBase, tau: number, startH: number, windowMs: number, extraVar: number, extraRate: number): number {
  const { fastVarPerMs: fast, slowVarPerMs: slow } = inputs;
  const noiseVar = Math.max(inputs.noiseVar, 0);
  // The current regime's weight; a weight under MIXTURE_WEIGHT_MIN is dropped (and its P not computed).
  const decay = Math.exp(-tau / REGIME_PERSISTENCE_MS);
  const persist = decay < MIXTURE_WEIGHT_MIN ? 0 : decay > 1 - MIXTURE_WEIGHT_MIN ? 1 : decay;
  let p = 0;
  // The fast level is an estimate (±fastVarSdPerMs): priced at the two points fast ∓ sd. Far cells'
  // P is convex in the variance, so one point at the estimate would quote them at E[1/P] too cheap
  // on average: a player who always bets far cells of the first column kept 1.03 per $1 in a market
  // with feed pauses (a pause makes one long return, which the fast level swings with).
  const fastSd = Math.min(Math.max(inputs.fastVarSdPerMs, 0), 0.9 * Math.max(fast, 0));
  if (persist > 0) {
    const rates = fastSd > START_SPREAD_MIN * fast ? [fast - fastSd, fast + fastSd] : [Math.max(fast, 0)];
    for (const rate of rates) {
      p += (persist / rates.length) * touchProbabilityWithStart({ ...base, startVariance: rate * startH + noiseVar + extraVar, sigmaPerSqrtMs: Math.sqrt(rate + extraRate) }, rates.length > 1 ? 16 : 32);
    }
  }
  if (persist < 1) {
    const regimes = regimeRates(inputs);
    const meanStart = termVariance(fast, slow, startH);
    // Only the part of the way to the window not spent in the current regime is a fresh draw:
    // τ_fresh = τ − θ·(1 − e^{−τ/θ}) (the term structure's own split); its n = τ_fresh/T blocks
    // average out as 1/√n. The two points keep the mean (the spread is capped below the mean).
    const freshH = Math.max(startH - REGIME_PERSISTENCE_MS * -Math.expm1(-startH / REGIME_PERSISTENCE_MS), 0);
    // The current regime's part of the way, θ·(1 − e^{−h/θ}), carries the fast level's uncertainty.
    const regimePart = (regimeSd(regimes) * freshH) / Math.sqrt(Math.max(1, freshH / windowMs));
    const fastPart = fastSd * (startH - freshH);
    const startSd = Math.min(Math.hypot(regimePart, fastPart), 0.9 * meanStart);
    const starts = startSd > START_SPREAD_MIN * meanStart ? [meanStart - startSd, meanStart + startSd] : [meanStart];
    // A steady market has (after de-noising) four equal rates: one evaluation instead of four.
    const steady = regimes[3]! <= regimes[0]! * (1 + STEADY_RATIO_MAX);
    const rates = steady ? [(regimes[0]! + regimes[3]!) / 2] : regimes;
    // Mixture components are integrated with 16 Gauss–Legendre points instead of 32: each is off by at most
    // ~1e-4 of P (0.1 % relative), far inside the model's own uncertainty, for half the cost.
    const points = starts.length * rates.length > 1 ? 16 : 32;
    let fresh = 0;
    for (const start of starts) {
      for (const rate of rates) fresh += touchProbabilityWithStart({ ...base, startVariance: start + noiseVar + extraVar, sigmaPerSqrtMs: Math.sqrt(rate + extraRate) }, points);
    }
    p += ((1 - persist) * fresh) / (starts.length * rates.length);
  }
  return p;
}

/** The four regime rates (non-negative), lowest first. */
function regimeRates(inputs: QuoteInputs): number[] {
  return [inputs.regimeQ1VarPerMs, inputs.regimeQ2VarPerMs, inputs.regimeQ3VarPerMs, inputs.regimeQ4VarPerMs].map((v) => (v > 0 ? v : 0));
}

/** Standard deviation of equally likely rates. */
function regimeSd(rates: readonly number[]): number {
  const mean = rates.reduce((a, b) => a + b, 0) / rates.length;
  return Math.sqrt(rates.reduce((a, v) => a + (v - mean) ** 2, 0) / rates.length);
}

/** P(touch) and the multiplier of one cell, from one tick's inputs: what the engine caches. */
export function quoteCell(inputs: QuoteInputs, terms: QuoteTerms, col: number, row: number): { pTouch: number; multiplierHundredths: number | null } {
  if (!Number.isSafeInteger(col) || !Number.isSafeInteger(row) || !(inputs.priceCents > 0)) return { pTouch: 0, multiplierHundredths: null };
  if (row < 0 || !Number.isSafeInteger((col + 1) * terms.columnMs) || !Number.isSafeInteger((row + 1) * terms.rowCents)) {
    return { pTouch: 0, multiplierHundredths: null };
  }
  const pTouch = quoteTouchProbability(inputs, terms, col, row);
  const hundredths = multiplierHundredths(refundAdjusted(pTouch, refundProbability(inputs, terms), terms.houseEdgeBp), terms.houseEdgeBp);
  return { pTouch, multiplierHundredths: isOffered(hundredths, terms.minMultiplierHundredths, terms.maxMultiplierHundredths) ? hundredths : null };
}

/**
 * P(void): a window the feed falls silent in for longer than PRICE_STALE_MS is void and the stake
 * refunded (SPEC §5) unless it already won. With silences at rate λ (horizons.ts), one meets a window
 * of T with probability 1 − e^{−λT} (a silence of G > stale covers the times from stale to G after its
 * start, so it meets the window when it starts within T + G − stale of it; G − stale is a fraction of
 * a second).
 */
export function refundProbability(inputs: Pick<QuoteInputs, "staleGapRatePerMs">, terms: Pick<QuoteTerms, "columnMs">): number {
  return -Math.expm1(-Math.max(inputs.staleGapRatePerMs, 0) * terms.columnMs);
}

/**
 * The probability to price the multiplier with so that the refund is paid for too: a bet returns
 * m·P + P_void·(1 − P) per $1 (a refund only without a win), and that must be (1 − edge), so
 * m = ((1 − edge) − P_void·(1 − P))/P = (1 − edge)/P' with P' = P·(1 − edge)/((1 − edge) − P_void·(1 − P)).
 * Far cells feel it most (a 2 % refund chance is half of a 4 % touch). Infinity (nothing offered) when
 * the refund alone is worth the whole (1 − edge).
 */
export function refundAdjusted(pTouch: number, pVoid: number, houseEdgeBp: number): number {
  if (!(pVoid > 0)) return pTouch;
  const keep = 1 - houseEdgeBp / 10_000;
  const left = keep - pVoid * (1 - Math.min(Math.max(pTouch, 0), 1));
  return left > 0 ? (pTouch * keep) / left : Number.POSITIVE_INFINITY;
}

/**
 * The multiplier (integer hundredths) the server quotes for (col,row) given the inputs of one index
 * tick, or null when not offered. Pure, no clock: depends only on its arguments.
 */
export function quoteMultiplierHundredths(inputs: QuoteInputs, terms: QuoteTerms, col: number, row: number): number | null {
  return quoteCell(inputs, terms, col, row).multiplierHundredths;
}
