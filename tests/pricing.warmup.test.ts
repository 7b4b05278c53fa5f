import { describe, expect, it } from "vitest";
import { testConfig } from "../runtime/config.ts";
import { pricingEngineOptions } from "../services/pricing/index.ts";
import type { HorizonOptions } from "../domain/pricing/horizons.ts";
import { knownWalkGrids, type MomentGrid } from "./helpers/known-walk.ts";

/**
 * Issue 21: the house edge from a server's first second. A fresh engine with the server's own options
 * is fed a random walk whose law is known exactly (uniform steps of at most $10 every 100 ms, about
 * 105 %/year at $95k; no regimes, noise or jumps) from its first tick, with an injected clock; 20 s,
 * 40 s, 60 s, 2 min and 5 min after the start the offered 12 × 21 grid is taken and every offered cell
 * is priced against the walk's own law by Monte Carlo (20 000 continuations, the SPEC §5 touch rule;
 * tests/helpers/known-walk.ts). Bars:
 * - no offered cell returns more than 1.0 per $1 beyond its Monte Carlo error (3 standard errors);
 * - each column's mean return over its offered cells is at most 0.97 beyond its own error (the
 *   columns' cells share the simulated paths, so that error comes from the per-path column payouts).
 * For scale: with the walk's true volatility given to the model as known, the column means are
 * 0.956–0.959 on average (uniform steps cross a band a little more readily than the Gaussian steps the
 * discrete-monitoring correction assumes) and single grids scatter ±0.01 around that.
 *
 * Before issue 21 the slow level was a fixed 60 %/year until 30 returns and then the raw estimate; on
 * these seeds 12 of the 20 grids broke a bar (cells up to 1.27 per $1 at 20 s and at 2 min, column
 * means up to 1.05). Now: cells up to 1.00 (within their error), columns up to 0.96. The last test
 * shows the bars still bite without the uncertainty term (the estimate's centre priced as if known).
 */

const SEEDS = [21, 22, 23, 24];
const MOMENTS_MS = [20_000, 40_000, 60_000, 120_000, 300_000];
const PATHS = 20_000;
const CELL_MAX = 1.0;
const COLUMN_MAX = 0.97;
const Z = 3;

function grids(seed: number, horizons: Partial<HorizonOptions> = {}, momentsMs: readonly number[] = MOMENTS_MS): MomentGrid[] {
  const base = pricingEngineOptions(testConfig());
  return knownWalkGrids({
    seed,
    options: { ...base, horizons: { ...base.horizons, ...horizons } },
    startCents: 9_500_000,
    stepCents: 1_000,
    tickMs: 100,
    momentsMs,
    cols: 12,
    rows: 21,
    paths: PATHS,
  });
}

/** The bars' breaches of one grid, as sentences (empty: it holds). */
function breaches(seed: number, grid: MomentGrid): string[] {
  const at = `seed ${seed}, ${grid.momentMs / 1_000} s`;
  const cells = grid.cells
    .filter((c) => c.ret - CELL_MAX > Z * c.se)
    .map((c) => `${at}: cell column ${c.column}, row ${c.cell.row} at ${(c.cell.multiplierHundredths! / 100).toFixed(2)}x returns ${c.ret.toFixed(3)} ± ${c.se.toFixed(3)}`);
  const columns = grid.columns
    .filter((c) => c.mean - COLUMN_MAX > Z * c.se)
    .map((c) => `${at}: column ${c.column} (${c.cells} cells) returns ${c.mean.toFixed(3)} ± ${c.se.toFixed(3)} on average`);
  return [...cells, ...columns];
}

function summary(seed: number, grid: MomentGrid): string {
  const worst = grid.cells.reduce((a, c) => (c.ret > a ? c.ret : a), 0);
  const mean = grid.cells.reduce((a, c) => a + c.ret, 0) / Math.max(grid.cells.length, 1);
  return `seed ${seed} ${String(grid.momentMs / 1_000).padStart(3)} s: ${String(grid.cells.length).padStart(3)} cells offered, worst cell ${worst.toFixed(3)}, mean ${mean.toFixed(3)}, columns ${grid.columns.map((c) => c.mean.toFixed(2)).join(" ")}`;
}

describe("pricing from a server's first second: the known random walk (issue 21)", () => {
  it.each(SEEDS)("seed %i: from 20 s to 5 min after a fresh start, no offered cell above 1.0 per $1 and no column above 0.97", (seed) => {
    const priced = grids(seed);
    console.log(priced.map((g) => summary(seed, g)).join("\n"));
    // The grid is offered from the start (the uncertainty is priced, not waited out).
    for (const grid of priced) expect(grid.cells.length, `${grid.momentMs} ms`).toBeGreaterThan(200);
    expect(priced.flatMap((g) => breaches(seed, g))).toEqual([]);
  }, 120_000);

  it("has teeth: priced at the estimate alone (no credible range, no priors), the same walks break the bars", () => {
    const naive = { credibleZ: 0, jumpPriorPerMinute: 0, stalePriorPerMinute: 0 };
    const found = SEEDS.flatMap((seed) => grids(seed, naive, [40_000, 120_000, 300_000]).flatMap((g) => breaches(seed, g)));
    console.log(`without the uncertainty term:\n${found.join("\n")}`);
    expect(found.length).toBeGreaterThan(0);
  }, 180_000);
});
