import { discreteHitProbability, negligibleHitDistance } from "./discrete-barrier.ts";
import { gaussLegendre, normCdf, normPdf } from "./normal.ts";

export { BGK_BETA } from "./discrete-barrier.ts";

/**
 * P(touch): the probability that the index touches the band [lo, hi) inside the window [t0, t1),
 * in the sense of the resolution rule of SPEC §5 (a tick inside the band, or two consecutive
 * in-window ticks on opposite sides of it).
 *
 * Model. The log-price is a driftless Brownian motion with volatility σ (per √ms): over h ms it moves
 * by N(0, σ²h). Prices are observed only at ticks, about every Δ ms. Work in log-price relative to
 * the spot S (the last tick, at time `at`): a = ln(lo/S), b = ln(hi/S), and let τ = t0 − at, T = t1 − t0.
 *
 * 1. The first in-window tick lands at t0 + u with u ∈ [0, Δ), on average Δ/2; its log-price is
 *    y ~ N(0, v²) with v² = σ²(τ + Δ/2). Ticks before t0 do not count (the window start).
 * 2. If a ≤ y < b that tick is a touch: this contributes N(b/v) − N(a/v) in closed form.
 * 3. Otherwise the remaining in-window ticks are m = T/Δ − 1 more observations, Δ apart (a window
 *    holds T/Δ ticks on average). With y below the band, the rule wins exactly when a later tick
 *    reaches lo (it is then inside the band, or above it while its predecessor was below: a
 *    crossing), i.e. a discretely monitored barrier at distance a − y; from above, symmetrically,
 *    at y − b. In units of one tick's standard deviation σ√Δ this is hit_m(δ), the first-passage
 *    probability of an m-step Gaussian random walk (domain/pricing/discrete-barrier.ts): computed
 *    exactly from a table for m ≤ 64 and, for more ticks, by the reflection principle with the
 *    Broadie–Glasserman–Kou continuity correction 2·N(−(δ + β)/√m), β = −ζ(½)/√(2π) ≈ 0.5826
 *    (ticks miss touches between them: the barrier acts as if moved away by β·σ·√Δ).
 *    With continuous monitoring (Δ = 0): 2·N(−dist/(σ√T)).
 * 4. P = N(b/v) − N(a/v) + ∫_{y<a} φ_v(y)·hit(a − y) dy + ∫_{y≥b} φ_v(y)·hit(y − b) dy.
 *    Each tail integral is smooth on its half-line and is done with fixed Gauss–Legendre nodes on
 *    the interval outside which both factors are negligible (so the discontinuity of the integrand
 *    at the band edges, where 1 drops to hit(0) < 1, never lies inside a quadrature panel).
 *
 * The Monte Carlo test (tests/pricing.montecarlo.test.ts) simulates exactly this price process with
 * the exact rule of SPEC §5 and checks the resulting player return; it is what justifies steps 1–3.
 * Neglected: drift (σ²/2 per unit time: < 0.01 cents over a column) and the half-cent rounding of
 * prices to integer cents (shifts the band by 0.5 cent out of ROW_CENTS).
 */

export interface TouchInput {
  spotCents: number;
  bandLowCents: number;
  bandHighCents: number;
  /** t0 − at: from the spot's tick to the window start, ms (a negative value counts as 0). */
  startInMs: number;
  /** t1 − t0, ms. */
  windowMs: number;
  /** σ of the log-price per √ms. */
  sigmaPerSqrtMs: number;
  /** Typical time between index ticks, ms (0 = continuous monitoring). Clamped to the window. */
  tickIntervalMs: number;
}

const RULE = gaussLegendre(32);
const RULE16 = gaussLegendre(16);
/** |z| beyond which φ(z) and N(−z) are below ~1e-17: nothing outside can change P at 1e-12. */
const Z_CUTOFF = 8.5;

/** The model probability that the band is touched inside the window; in [0, 1]. */
export function touchProbability(input: TouchInput): number {
  const windowMs = input.windowMs;
  const tickMs = Math.min(Math.max(input.tickIntervalMs, 0), Math.max(windowMs, 0));
  const vol = Math.max(input.sigmaPerSqrtMs, 0);
  const startVariance = vol * vol * (Math.max(input.startInMs, 0) + tickMs / 2);
  return touchProbabilityWithStart({ ...input, startVariance });
}

export interface TouchStartInput {
  spotCents: number;
  bandLowCents: number;
  bandHighCents: number;
  /** Variance of the first in-window tick's log-price around ln(spot) (step 1 of the model). */
  startVariance: number;
  windowMs: number;
  /** σ per √ms of the log-price INSIDE the window (steps 3–4). */
  sigmaPerSqrtMs: number;
  tickIntervalMs: number;
}

/**
 * The same model with the start of the window described by its variance alone: step 1's v² is given
 * (so a caller can add to it the variance of a noisy spot, or use a variance term structure instead
 * of σ²·τ) and σ applies inside the window only. `points`: Gauss–Legendre nodes per tail integral
 * (16 is within ~1e-4 of 32; quote.ts's mixtures of many components use it).
 */
export function touchProbabilityWithStart(input: TouchStartInput, points: 16 | 32 = 32): number {
  const rule = points === 16 ? RULE16 : RULE;
  const { spotCents, bandLowCents: lo, bandHighCents: hi, sigmaPerSqrtMs: sigma } = input;
  if (!(spotCents > 0) || !(hi > lo) || hi <= 0 || !(input.windowMs > 0)) return 0;
  const a = lo > 0 ? Math.log(lo / spotCents) : Number.NEGATIVE_INFINITY;
  const b = Math.log(hi / spotCents);
  const windowMs = input.windowMs;
  const tickMs = Math.min(Math.max(input.tickIntervalMs, 0), windowMs);
  const vol = Math.max(sigma, 0);
  const v = Math.sqrt(Math.max(input.startVariance, 0));
  let hit: (distance: number) => number;
  let negligibleDistance: number;
  if (tickMs > 0) {
    const steps = windowMs / tickMs - 1;
    const stepSigma = vol * Math.sqrt(tickMs);
    hit = (distance) => discreteHitProbability(steps, distance / stepSigma);
    negligibleDistance = negligibleHitDistance(steps) * stepSigma;
  } else {
    const w = vol * Math.sqrt(windowMs);
    hit = (distance) => 2 * normCdf(-distance / w);
    negligibleDistance = Z_CUTOFF * w;
  }

  let inside: number;
  if (v > 0) inside = normCdf(b / v) - normCdf(a / v);
  else inside = a <= 0 && 0 < b ? 1 : 0;
  const below = tailTouch(a, v, hit, negligibleDistance, rule);
  const above = tailTouch(-b, v, hit, negligibleDistance, rule);
  const p = inside + below + above;
  return p < 0 ? 0 : p > 1 ? 1 : p;
}

/**
 * ∫_{y<e} φ_v(y)·hit(e − y) dy: the first in-window tick y is below the edge e and a later tick must
 * reach it. With y = v·(ze − r), ze = e/v, r ≥ 0 this is ∫_0^∞ φ(ze − r)·hit(v·r) dr, integrated where
 * φ(ze − r) > 1e-17 and v·r < negligibleDistance.
 */
function tailTouch(e: number, v: number, hit: (distance: number) => number, negligibleDistance: number, rule: typeof RULE): number {
  if (e === Number.NEGATIVE_INFINITY || !(negligibleDistance > 0)) return 0;
  if (!(v > 0)) return e > 0 ? hit(e) : 0;
  const ze = e / v;
  const rLow = Math.max(0, ze - Z_CUTOFF);
  const rHigh = Math.min(ze + Z_CUTOFF, negligibleDistance / v);
  if (!(rHigh > rLow)) return 0;
  const half = (rHigh - rLow) / 2;
  const mid = (rHigh + rLow) / 2;
  const { nodes, weights } = rule;
  let sum = 0;
  for (let i = 0; i < nodes.length; i++) {
    const r = mid + half * nodes[i]!;
    sum += weights[i]! * normPdf(ze - r) * hit(v * r);
  }
  return half * sum;
}
