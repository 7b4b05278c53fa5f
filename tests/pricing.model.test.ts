import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isOffered, multiplierHundredths } from "../domain/pricing/multiplier.ts";
import { gaussLegendre, normCdf } from "../domain/pricing/normal.ts";
import { BGK_BETA, discreteHitProbability } from "../domain/pricing/discrete-barrier.ts";
import { SeededRandom } from "../domain/pricing/simulation.ts";
import { touchProbability, type TouchInput } from "../domain/pricing/touch.ts";
import { sigmaFromAnnual } from "../domain/pricing/volatility.ts";

const SIGMA = sigmaFromAnnual(0.6);
const SPOT = 9_500_437;

/** A $10 band `k` rows away from the spot's row, window 10 s starting `startInMs` after the spot. */
function cell(k: number, startInMs = 10_000, overrides: Partial<TouchInput> = {}): TouchInput {
  const low = (Math.floor(SPOT / 1_000) + k) * 1_000;
  return {
    spotCents: SPOT,
    bandLowCents: low,
    bandHighCents: low + 1_000,
    startInMs,
    windowMs: 10_000,
    sigmaPerSqrtMs: SIGMA,
    tickIntervalMs: 100,
    ...overrides,
  };
}

/**
 * The model's integral (domain/pricing/touch.ts, step 4) done the slow way: composite Simpson on 3 × 60 000 panels of the start's
 * standard-normal variable z, split at the band edges where the integrand jumps.
 */
function bruteForce(input: TouchInput): number {
  const a = Math.log(input.bandLowCents / input.spotCents);
  const b = Math.log(input.bandHighCents / input.spotCents);
  const dt = input.tickIntervalMs;
  const v = input.sigmaPerSqrtMs * Math.sqrt(input.startInMs + dt / 2);
  const hit = (distance: number) =>
    dt === 0
      ? 2 * normCdf(-distance / (input.sigmaPerSqrtMs * Math.sqrt(input.windowMs)))
      : discreteHitProbability(input.windowMs / dt - 1, distance / (input.sigmaPerSqrtMs * Math.sqrt(dt)));
  const density = (z: number) => Math.exp(-0.5 * z * z) / Math.sqrt(2 * Math.PI);
  const below = (z: number) => density(z) * hit(a - v * z);
  const above = (z: number) => density(z) * hit(v * z - b);
  const simpson = (f: (z: number) => number, from: number, to: number) => {
    if (!(to > from)) return 0;
    const n = 60_000;
    const h = (to - from) / n;
    let sum = f(from) + f(to);
    for (let i = 1; i < n; i++) sum += (i % 2 === 1 ? 4 : 2) * f(from + i * h);
    return (sum * h) / 3;
  };
  const za = Math.min(Math.max(a / v, -14), 14);
  const zb = Math.min(Math.max(b / v, -14), 14);
  return simpson(below, -14, za) + simpson(density, za, zb) + simpson(above, zb, 14);
}

describe("normal CDF and quadrature", () => {
  it("matches reference values of N(x) far into the tails", () => {
    expect(normCdf(0)).toBe(0.5);
    expect(normCdf(-1)).toBeCloseTo(0.15865525393145707, 14);
    expect(normCdf(1.96)).toBeCloseTo(0.9750021048517795, 14);
    expect(normCdf(-3)).toBeCloseTo(0.0013498980316301035, 15);
    expect(normCdf(-8) / 6.22096057427178e-16).toBeCloseTo(1, 7);
    expect(normCdf(-40)).toBe(0);
    expect(normCdf(40)).toBe(1);
  });

  it("integrates polynomials of degree 2n−1 exactly with n Gauss–Legendre nodes", () => {
    const { nodes, weights } = gaussLegendre(8);
    const integral = (f: (x: number) => number) => nodes.reduce((sum, x, i) => sum + weights[i]! * f(x), 0);
    expect(integral(() => 1)).toBeCloseTo(2, 14);
    expect(integral((x) => x ** 14)).toBeCloseTo(2 / 15, 14);
    expect(integral((x) => x ** 15 + x ** 3)).toBeCloseTo(0, 14);
  });
});

describe("first passage of a discretely observed walk (few ticks)", () => {
  it("is N(−δ) for one tick and matches Sparre Andersen at the barrier", () => {
    for (const d of [0, 0.5, 2]) expect(discreteHitProbability(1, d)).toBeCloseTo(normCdf(-d), 4);
    // P(S_1..S_m all < 0) = C(2m, m)/4^m for a symmetric continuous walk.
    const binomial = (n: number, k: number) => Array.from({ length: k }, (_, i) => (n - i) / (k - i)).reduce((x, y) => x * y, 1);
    for (const m of [2, 9, 30, 64]) expect(discreteHitProbability(m, 0)).toBeCloseTo(1 - binomial(2 * m, m) / 4 ** m, 6);
  });

  it("matches a simulated 9-step walk where the BGK shortcut is off by 3 %", () => {
    const rng = new SeededRandom(9);
    const paths = 100_000;
    const steps = new Float64Array(9);
    const distances = [0.3, 3, 5];
    const hits = distances.map(() => 0);
    for (let p = 0; p < paths; p++) {
      rng.fillNormals(steps);
      let x = 0;
      let max = Number.NEGATIVE_INFINITY;
      for (const z of steps) max = Math.max(max, (x += z));
      distances.forEach((d, i) => (hits[i]! += max >= d ? 1 : 0));
    }
    distances.forEach((d, i) => {
      const simulated = hits[i]! / paths;
      const model = discreteHitProbability(9, d);
      const se = Math.sqrt((model * (1 - model)) / paths);
      expect(Math.abs(simulated - model)).toBeLessThan(4 * se);
    });
    // The continuity-corrected reflection formula alone would be visibly wrong here.
    const bgk = (d: number) => 2 * normCdf(-(d + BGK_BETA) / 3);
    expect(Math.abs(bgk(5) / discreteHitProbability(9, 5) - 1)).toBeGreaterThan(0.03);
  });

  it("is monotone, and joins the BGK formula smoothly past the table", () => {
    for (let d = 0; d < 20; d += 0.37) {
      expect(discreteHitProbability(9, d + 0.37)).toBeLessThanOrEqual(discreteHitProbability(9, d));
      expect(discreteHitProbability(20, d)).toBeGreaterThanOrEqual(discreteHitProbability(9, d));
    }
    for (const d of [0.5, 2, 5, 10]) {
      expect(discreteHitProbability(64.999, d) / discreteHitProbability(65.001, d)).toBeCloseTo(1, 3);
    }
    expect(discreteHitProbability(0, 1)).toBe(0);
    expect(discreteHitProbability(9, 1e6)).toBe(0);
  });
});

describe("P(touch) model", () => {
  it("is 1 for a spot inside the band when the window starts now (continuous monitoring)", () => {
    expect(touchProbability(cell(0, 0, { tickIntervalMs: 0 }))).toBe(1);
    // With 100 ms ticks the first in-window tick can still leave a $10 band, rarely.
    expect(touchProbability(cell(0, 0))).toBeGreaterThan(0.99);
  });

  it("equals the reflection principle 2·N(−d/(σ√T)) for a window starting now", () => {
    const input = cell(3, 0, { tickIntervalMs: 0 });
    const d = Math.log(input.bandLowCents / SPOT);
    expect(touchProbability(input)).toBeCloseTo(2 * normCdf(-d / (SIGMA * Math.sqrt(10_000))), 12);
  });

  it("decreases monotonically with the distance to the band, above and below, towards 0", () => {
    for (const startInMs of [5_000, 60_000, 600_000]) {
      let above = touchProbability(cell(0, startInMs));
      let below = above;
      for (let k = 1; k <= 120; k++) {
        const nextAbove = touchProbability(cell(k, startInMs));
        const nextBelow = touchProbability(cell(-k, startInMs));
        // Strictly while the numbers are representable, then 0.
        if (above > 1e-250) expect(nextAbove).toBeLessThan(above);
        else expect(nextAbove).toBeLessThanOrEqual(above);
        if (below > 1e-250) expect(nextBelow).toBeLessThan(below);
        else expect(nextBelow).toBeLessThanOrEqual(below);
        above = nextAbove;
        below = nextBelow;
      }
      expect(above).toBeLessThan(1e-5);
    }
    expect(touchProbability(cell(300, 5_000))).toBeLessThan(1e-12);
  });

  it("is nearly symmetric above and below the spot", () => {
    for (const k of [2, 5, 10]) {
      const up = touchProbability(cell(k));
      const down = touchProbability(cell(-k - 1));
      // Same distance (the spot is 437 cents into its band): equal up to the log-space asymmetry.
      const upEdge = (Math.floor(SPOT / 1_000) + k) * 1_000 - SPOT;
      const downEdge = SPOT - (Math.floor(SPOT / 1_000) - k) * 1_000;
      if (upEdge === downEdge) expect(up / down).toBeCloseTo(1, 2);
      expect(up).toBeGreaterThan(0);
    }
  });

  it("grows with volatility and with window length for a far band, and falls with the tick interval", () => {
    const far = cell(15, 10_000);
    expect(touchProbability({ ...far, sigmaPerSqrtMs: SIGMA * 1.5 })).toBeGreaterThan(touchProbability(far));
    expect(touchProbability({ ...far, windowMs: 20_000 })).toBeGreaterThan(touchProbability(far));
    expect(touchProbability({ ...far, tickIntervalMs: 1_000 })).toBeLessThan(touchProbability(far));
    expect(touchProbability({ ...far, tickIntervalMs: 0 })).toBeGreaterThan(touchProbability(far));
  });

  it("agrees with a brute-force integration of the same formula (1e-7; 1e-6 with few ticks per window)", () => {
    for (const startInMs of [5_000, 15_037, 60_000, 600_000]) {
      for (const k of [-30, -8, -1, 0, 1, 4, 12]) {
        for (const tickIntervalMs of [0, 100, 1_000, 2_500]) {
          const input = cell(k, startInMs, { tickIntervalMs });
          // The few-tick table is a cubic interpolant (C¹): 32 nodes integrate it to ~1e-6.
          const tolerance = tickIntervalMs >= 1_000 ? 1e-6 : 1e-7;
          expect(Math.abs(touchProbability(input) - bruteForce(input)), `${startInMs} ${k} ${tickIntervalMs}`).toBeLessThan(tolerance);
        }
      }
    }
  });

  it("handles degenerate inputs without throwing", () => {
    expect(touchProbability(cell(0, 10_000, { bandLowCents: 0, bandHighCents: 1_000 }))).toBe(0);
    expect(touchProbability(cell(0, 10_000, { bandLowCents: -2_000, bandHighCents: -1_000 }))).toBe(0);
    expect(touchProbability(cell(0, 10_000, { sigmaPerSqrtMs: 0 }))).toBe(1);
    expect(touchProbability(cell(1, 10_000, { sigmaPerSqrtMs: 0 }))).toBe(0);
    expect(touchProbability(cell(1, 10_000, { windowMs: 0 }))).toBe(0);
    expect(touchProbability(cell(1, -50_000))).toBeGreaterThan(0); // a started window counts from now
    expect(touchProbability(cell(1, 10_000, { spotCents: 0 }))).toBe(0);
  });
});

describe("multiplier = floor((1 − edge) / P, 0.01)", () => {
  it("rounds down to the hundredth, and exactly where floats would not", () => {
    expect(multiplierHundredths(0.5, 500)).toBe(190);
    expect(multiplierHundredths(0.3, 500)).toBe(316); // 3.1666… → 3.16, never 3.17
    expect(multiplierHundredths(0.7, 500)).toBe(135); // 1.357… → 1.35
    // 0.95 / 0.1 = 9.5 exactly; the naive float expression Math.floor(0.95 / 0.1 * 100) gives 949.
    expect(Math.floor((0.95 / 0.1) * 100)).toBe(949);
    expect(multiplierHundredths(0.1, 500)).toBe(950);
    expect(multiplierHundredths(0.2, 500)).toBe(475);
    expect(multiplierHundredths(1, 500)).toBe(95);
    expect(multiplierHundredths(0.5, 0)).toBe(200);
  });

  it("never exceeds (1 − edge)/P and never drops a whole hundredth below it", () => {
    fc.assert(
      fc.property(fc.double({ min: 1e-3, max: 1, noNaN: true }), fc.integer({ min: 1, max: 5_000 }), (p, edgeBp) => {
        const h = multiplierHundredths(p, edgeBp)!;
        const exact = ((10_000 - edgeBp) / 10_000 / p) * 100;
        // P is rounded up to a multiple of 1e-12 first: at most 1e-9 relative for P ≥ 1e-3.
        return Number.isSafeInteger(h) && h <= exact * (1 + 1e-12) && h + 1 > exact * (1 - 2e-9);
      }),
      { numRuns: 5_000 },
    );
  });

  it("gives no multiplier for impossible touches and refuses a bad edge", () => {
    for (const p of [0, -0.1, Number.NaN, Number.POSITIVE_INFINITY]) expect(multiplierHundredths(p, 500)).toBeNull();
    expect(Number.isSafeInteger(multiplierHundredths(1e-300, 500))).toBe(true);
    expect(() => multiplierHundredths(0.5, 10_000)).toThrow(RangeError);
    expect(() => multiplierHundredths(0.5, 1.5)).toThrow(RangeError);
  });

  it("offers only multipliers inside [min, max], both ends included", () => {
    expect(isOffered(110, 110, 10_000)).toBe(true);
    expect(isOffered(10_000, 110, 10_000)).toBe(true);
    expect(isOffered(109, 110, 10_000)).toBe(false);
    expect(isOffered(10_001, 110, 10_000)).toBe(false);
    expect(isOffered(null, 110, 10_000)).toBe(false);
  });
});
