import { describe, expect, it } from "vitest";
import { regimeByName, simulateMarket } from "../domain/pricing/market-sim.ts";
import { trueTouchGrid } from "../domain/pricing/market-truth.ts";
import { touchProbability } from "../domain/pricing/touch.ts";
import { resolveBet, type Tick } from "../domain/resolution.ts";
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

  it("agrees with settling simulated paths by the SPEC §5 rule itself, in a market with bursts, jumps, noise and silences that void windows", () => {
    // The truth reads a cell as won from the range of in-window ticks and void from silences; here the
    // same law is sampled the long way: independent simulated paths, each bet settled by resolveBet.
    const regime = { ...regimeByName("mixed"), mrNoiseCents: 0, burstsPerMinute: 2, jumpsPerMinute: 2, pausesPerMinute: 6, pauseMinMs: 500, pauseMaxMs: 3_000 };
    const windows = 2;
    const rows = [9_492, 9_495, 9_498, 9_500, 9_502, 9_505, 9_508];
    const truth = trueTouchGrid({ ...base, regime, state: calm, firstWindowStartMs: T + 10_000, windows, rowFrom: 9_492, rowTo: 9_508, paths: 20_000 });
    const paths = 3_000;
    const won = new Float64Array(windows * rows.length);
    const voided = new Float64Array(windows * rows.length);
    for (let seed = 1; seed <= paths; seed++) {
      const path = simulateMarket({ regime, seed: 10_000 + seed, startMs: T, durationMs: 10_000 + windows * 10_000, startCents: START_CENTS });
      const ticks: Tick[] = [];
      for (let i = 0; i < path.length; i++) ticks.push({ t: path.t[i]!, priceCents: path.priceCents[i]! });
      for (let w = 0; w < windows; w++) {
        const windowStart = T + 10_000 + w * 10_000;
        rows.forEach((row, k) => {
          const bet = { windowStart, windowEnd: windowStart + 10_000, bandLowCents: row * 1_000, bandHighCents: (row + 1) * 1_000 };
          // Nothing is known after the path ends: a silence running into the end counts up to it.
          const verdict = resolveBet(bet, { ticks, staleGaps: [], staleMs: 2_000, knownUntil: bet.windowEnd });
          if (verdict.status === "won") won[w * rows.length + k]! += 1 / paths;
          if (verdict.status === "void") voided[w * rows.length + k]! += 1 / paths;
        });
      }
    }
    let voidsSeen = 0;
    for (let w = 0; w < windows; w++) {
      rows.forEach((row, k) => {
        const at = w * truth.rows + (row - 9_492);
        for (const [what, sampled, law] of [["win", won[w * rows.length + k]!, truth.win[at]!], ["void", voided[w * rows.length + k]!, truth.void[at]!]] as const) {
          const se = Math.sqrt(Math.max(law * (1 - law), 1e-4) / paths);
          expect(Math.abs(sampled - law), `${what}, window ${w}, row ${row}: settled ${sampled.toFixed(4)} vs truth ${law.toFixed(4)}`).toBeLessThan(4.5 * se + 0.002);
        }
        voidsSeen += voided[w * rows.length + k]!;
      });
    }
    expect(voidsSeen).toBeGreaterThan(0.1);
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
