import { describe, expect, it } from "vitest";
import { regimeByName, simulateMarket } from "../domain/pricing/market-sim.ts";
import { trueTouchGrid } from "../domain/pricing/market-truth.ts";
import { touchProbability } from "../domain/pricing/touch.ts";
import { sigmaFromAnnual } from "../domain/pricing/volatility.ts";

/**
 * The true conditional law of the market simulator (domain/pricing/market-truth.ts), which the
 * adversary suite scores expected payouts with: checked where the answer is known independently.
 */

const START_CENTS = 9_500_000;
const T = 1_764_000_000_000;
const base = { startCents: START_CENTS, lastTickMs: T, windowMs: 10_000, rowCents: 1_000, staleMs: 2_000, seed: 5 };
const calm = { now: T, x: 0, u: 0, multiple: 1, burstLeftMs: 0 };

describe("the true law of the simulated market", () => {
  it("in a calm market without noise, agrees with the constant-volatility first-passage formula", () => {
    const regime = { ...regimeByName("calm"), iidNoiseCents: 0 };
    const grid = trueTouchGrid({ ...base, regime, state: calm, firstWindowStartMs: T + 10_000, windows: 2, rowFrom: 9_494, rowTo: 9_506, paths: 20_000 });
    const sigma = sigmaFromAnnual(regime.calmVolAnnual);
    for (const w of [0, 1]) {
      for (const row of [9_494, 9_497, 9_500, 9_503, 9_506]) {
        const model = touchProbability({ spotCents: START_CENTS, bandLowCents: row * 1_000, bandHighCents: (row + 1) * 1_000, startInMs: 10_000 + w * 10_000, windowMs: 10_000, sigmaPerSqrtMs: sigma, tickIntervalMs: 100 });
        const truth = grid.win[w * grid.rows + (row - 9_494)]!;
        // 20 000 paths: standard error ≤ 0.0035; the formula's own discretisation is within ~0.01.
        expect(Math.abs(truth - model), `window ${w}, row ${row}: truth ${truth.toFixed(4)} vs formula ${model.toFixed(4)}`).toBeLessThan(0.02);
      }
    }
    expect(grid.void.every((v) => v === 0)).toBe(true);
  });

  it("continues from the hidden state: a burst in progress and the mean-reverting deviation change the law", () => {
    const spec = { ...base, firstWindowStartMs: T + 10_000, windows: 1, rowFrom: 9_490, rowTo: 9_510, paths: 4_000 };
    const far = (grid: { win: Float64Array }) => grid.win[0]! + grid.win[20]!;
    const quiet = trueTouchGrid({ ...spec, regime: regimeByName("bursty"), state: calm });
    const burst = trueTouchGrid({ ...spec, regime: regimeByName("bursty"), state: { ...calm, multiple: 5, burstLeftMs: 20_000 } });
    expect(far(burst)).toBeGreaterThan(2 * far(quiet));
    // The index sits $5 above the efficient price: it reverts, so the band below is likelier than the one above.
    const above = trueTouchGrid({ ...spec, regime: regimeByName("mr-noise"), state: { ...calm, u: 500 / START_CENTS } });
    expect(above.win[7]!).toBeGreaterThan(above.win[13]! + 0.03);
  });

  it("counts a window void (refund) only when the feed falls silent for longer than the stale threshold", () => {
    const spec = { ...base, state: calm, firstWindowStartMs: T + 10_000, windows: 3, rowFrom: 9_480, rowTo: 9_480, paths: 2_000 };
    const short = trueTouchGrid({ ...spec, regime: { ...regimeByName("pausing"), pausesPerMinute: 6, pauseMaxMs: 1_200 } });
    // (Two pauses back to back can still add up to more than 2 s, rarely.)
    expect(Math.max(...short.void)).toBeLessThan(0.02);
    const long = trueTouchGrid({ ...spec, regime: { ...regimeByName("pausing"), pausesPerMinute: 30, pauseMinMs: 2_500, pauseMaxMs: 3_000 } });
    expect(Math.min(...long.void)).toBeGreaterThan(0.5);
  });

  it("the simulator records the hidden state it continues from", () => {
    const path = simulateMarket({ regime: regimeByName("mixed"), seed: 3, startMs: T, durationMs: 120_000, startCents: START_CENTS });
    for (let i = 0; i < path.length; i += 97) {
      const observed = Math.log(path.priceCents[i]! / START_CENTS);
      // Observed = efficient + mean-reverting + iid ($2 ≈ 2.1e-6 of log price; 6σ).
      expect(Math.abs(observed - path.hidden.x[i]! - path.hidden.u[i]!)).toBeLessThan(6 * (200 / START_CENTS) + 1e-6);
      expect(path.burst[i] === 1).toBe(path.hidden.multiple[i]! > 1);
    }
  });
});
