import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { firstWin } from "../domain/resolution.ts";
import { SeededRandom, simulateWins, touchedByRange, touchesInWindow, type SimulationSpec, type Tick } from "../domain/pricing/simulation.ts";
import { sigmaFromAnnual } from "../domain/pricing/volatility.ts";

/**
 * The Monte Carlo verification is only as good as its simulator: these tests tie the simulator's
 * fast min/max resolution to the production resolution rule (domain/resolution.ts) and check the
 * simulator end to end against a slow, independent tick-by-tick simulation.
 */

const tickList = fc
  .array(fc.tuple(fc.integer({ min: 1, max: 400 }), fc.integer({ min: 9_000, max: 11_000 })), { maxLength: 40 })
  .map((steps) => {
    let t = 0;
    return steps.map(([gap, priceCents]) => ({ t: (t += gap), priceCents }));
  });

describe("simulator: resolution rule", () => {
  it("decides like the production rule, and the window's [min, max] decides the same", () => {
    fc.assert(
      fc.property(
        tickList,
        fc.integer({ min: 0, max: 4_000 }),
        fc.integer({ min: 1, max: 4_000 }),
        fc.integer({ min: 9_000, max: 11_000 }),
        fc.integer({ min: 1, max: 1_000 }),
        (ticks, windowStart, windowMs, bandLowCents, bandCents) => {
          const band = { lowCents: bandLowCents, highCents: bandLowCents + bandCents };
          const window = { startMs: windowStart, endMs: windowStart + windowMs };
          const mine = touchesInWindow(ticks, band, window);
          const production = firstWin(
            { windowStart: window.startMs, windowEnd: window.endMs, bandLowCents: band.lowCents, bandHighCents: band.highCents },
            ticks,
          );
          expect(mine?.at).toBe(production?.at);
          const inWindow = ticks.filter((tick) => tick.t >= window.startMs && tick.t < window.endMs).map((tick) => tick.priceCents);
          const byRange = inWindow.length > 0 && touchedByRange(Math.min(...inWindow), Math.max(...inWindow), band);
          expect(byRange).toBe(mine !== undefined);
        },
      ),
      { numRuns: 3_000 },
    );
  });
});

/** A slow simulation of the same process, ticks materialised, each cell resolved by the production rule. */
function slowWinRates(spec: SimulationSpec, seed: number): number[] {
  const rng = new SeededRandom(seed);
  const z = new Float64Array(1);
  const normal = () => {
    rng.fillNormals(z);
    return z[0]!;
  };
  const wins = new Array<number>(spec.cols * spec.rows).fill(0);
  const endMs = (spec.firstCol + spec.cols) * spec.columnMs;
  for (let path = 0; path < spec.paths; path++) {
    const ticks: Tick[] = [];
    let t = spec.spotAtMs + spec.tickIntervalMs * rng.next();
    let x = spec.sigmaPerSqrtMs * Math.sqrt(t - spec.spotAtMs) * normal();
    while (t < endMs) {
      ticks.push({ t, priceCents: Math.round(spec.spotCents * Math.exp(x)) });
      t += spec.tickIntervalMs;
      x += spec.sigmaPerSqrtMs * Math.sqrt(spec.tickIntervalMs) * normal();
    }
    for (let c = 0; c < spec.cols; c++) {
      for (let r = 0; r < spec.rows; r++) {
        const windowStart = (spec.firstCol + c) * spec.columnMs;
        const bandLowCents = (spec.firstRow + r) * spec.rowCents;
        const bet = { windowStart, windowEnd: windowStart + spec.columnMs, bandLowCents, bandHighCents: bandLowCents + spec.rowCents };
        if (firstWin(bet, ticks)) wins[c * spec.rows + r]! += 1;
      }
    }
  }
  return wins.map((w) => w / spec.paths);
}

describe("simulator: end to end", () => {
  const spec: SimulationSpec = {
    spotCents: 9_500_437,
    spotAtMs: 1_764_000_002_963,
    sigmaPerSqrtMs: sigmaFromAnnual(0.6),
    tickIntervalMs: 250,
    columnMs: 10_000,
    rowCents: 1_000,
    firstCol: 176_400_001,
    cols: 3,
    firstRow: 9_497,
    rows: 7,
    paths: 12_000,
    seed: 11,
  };

  it("is deterministic for a seed", () => {
    const small = { ...spec, paths: 500 };
    expect(simulateWins(small).wins).toEqual(simulateWins(small).wins);
    expect(simulateWins(small).wins).not.toEqual(simulateWins({ ...small, seed: 12 }).wins);
  });

  it("agrees with a slow tick-by-tick simulation resolved by domain/resolution.ts", () => {
    const fast = simulateWins(spec).wins;
    const slow = slowWinRates(spec, 99);
    slow.forEach((pSlow, i) => {
      const pFast = fast[i]! / spec.paths;
      // Two independent estimates: the difference has variance 2·p(1−p)/n.
      const se = Math.sqrt((2 * Math.max(pSlow * (1 - pSlow), 1e-4)) / spec.paths);
      expect(Math.abs(pFast - pSlow), `cell ${i}`).toBeLessThan(4.5 * se);
    });
  });
});
