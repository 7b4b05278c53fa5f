import { firstUnlockedColumn } from "../../domain/grid.ts";
import { SeededRandom, touchedByRange } from "../../domain/pricing/simulation.ts";
import { PricingEngine, type PricingEngineOptions } from "../../services/pricing/engine.ts";
import type { CellQuote } from "../../services/pricing/types.ts";

/**
 * A market whose law is known exactly (issue 21): the index is a random walk of uniform steps of at
 * most `stepCents` either way, one every `tickMs`, with no regimes, noise or jumps (±$10 every 100 ms
 * is about 105 %/year at $95k). A fresh pricing engine (the server's own options, an injected clock)
 * is fed the walk tick by tick from its first tick; at the given moments after the start the offered
 * grid is taken and every offered cell is priced against the walk's own law by Monte Carlo from the
 * latest tick (SPEC §5: a cell pays when an in-window tick is in the band or two consecutive
 * in-window ticks straddle it, i.e. when the window's tick range meets the band).
 */

export interface KnownWalkSpec {
  seed: number;
  options: PricingEngineOptions;
  startCents: number;
  stepCents: number;
  tickMs: number;
  /** Moments after the first tick (ms) at which the grid is taken. */
  momentsMs: readonly number[];
  cols: number;
  rows: number;
  /** Monte Carlo paths per grid. */
  paths: number;
  /** The player's request reaches the server this long after the latest tick. */
  latencyMs?: number;
}

export interface PricedCell {
  cell: CellQuote;
  /** Column index within the grid (0 = the first open column). */
  column: number;
  pWin: number;
  /** Expected return per $1 (multiplier × P(win)) and its Monte Carlo standard error. */
  ret: number;
  se: number;
}

export interface MomentGrid {
  momentMs: number;
  cells: PricedCell[];
  /** Per column of the grid (0 = the first open one): the mean expected return of its offered cells and the Monte Carlo standard error of that mean. */
  columns: Array<{ column: number; cells: number; mean: number; se: number }>;
}

const START_T = 1_764_000_000_000;

/** Drives a fresh engine along one seeded walk and prices its offered grids at each moment. */
export function knownWalkGrids(spec: KnownWalkSpec): MomentGrid[] {
  const rng = new SeededRandom(spec.seed);
  const step = () => Math.round((2 * rng.next() - 1) * spec.stepCents);
  let current = { t: START_T, priceCents: spec.startCents };
  const engine = new PricingEngine(spec.options, () => current);
  engine.observe(current);
  const grids: MomentGrid[] = [];
  for (const momentMs of [...spec.momentsMs].sort((a, b) => a - b)) {
    while (current.t + spec.tickMs <= START_T + momentMs) {
      current = { t: current.t + spec.tickMs, priceCents: current.priceCents + step() };
      engine.observe(current);
    }
    const now = current.t + (spec.latencyMs ?? 20);
    const offered = (engine.grid(spec.cols, spec.rows, now)?.cells ?? []).filter((c) => c.multiplierHundredths !== null);
    const firstCol = firstUnlockedColumn(now, spec.options);
    grids.push({ momentMs, ...priceByWalk(offered, firstCol, current, spec, new SeededRandom(spec.seed * 7_919 + momentMs)) });
  }
  return grids;
}

/** P(win) of each cell under the walk's law from `from`, by `spec.paths` simulated continuations. */
function priceByWalk(cells: readonly CellQuote[], firstCol: number, from: { t: number; priceCents: number }, spec: KnownWalkSpec, rng: SeededRandom): Omit<MomentGrid, "momentMs"> {
  if (cells.length === 0) return { cells: [], columns: [] };
  const { columnMs } = spec.options;
  const windows = spec.cols;
  const lastCol = firstCol + windows - 1;
  const steps = Math.ceil(((lastCol + 1) * columnMs - from.t) / spec.tickMs);
  // The window each future tick falls in (−1: before the first window).
  const windowOfStep = new Int32Array(steps);
  for (let k = 0; k < steps; k++) {
    const t = from.t + (k + 1) * spec.tickMs;
    windowOfStep[k] = t >= firstCol * columnMs ? Math.floor(t / columnMs) - firstCol : -1;
  }
  const lo = new Float64Array(windows);
  const hi = new Float64Array(windows);
  const wins = new Float64Array(cells.length);
  // Per column: Σ and Σ² over paths of the column's payout (Σ multiplier over its cells that won).
  const columnSum = new Float64Array(windows);
  const columnSquares = new Float64Array(windows);
  const columnPayout = new Float64Array(windows);
  for (let p = 0; p < spec.paths; p++) {
    lo.fill(Number.POSITIVE_INFINITY);
    hi.fill(Number.NEGATIVE_INFINITY);
    let price = from.priceCents;
    for (let k = 0; k < steps; k++) {
      price += Math.round((2 * rng.next() - 1) * spec.stepCents);
      const w = windowOfStep[k]!;
      if (w < 0 || w >= windows) continue;
      if (price < lo[w]!) lo[w] = price;
      if (price > hi[w]!) hi[w] = price;
    }
    columnPayout.fill(0);
    for (let i = 0; i < cells.length; i++) {
      const c = cells[i]!;
      const w = c.col - firstCol;
      if (touchedByRange(lo[w]!, hi[w]!, { lowCents: c.bandLowCents, highCents: c.bandHighCents })) {
        wins[i]! += 1;
        columnPayout[w]! += c.multiplierHundredths! / 100;
      }
    }
    for (let w = 0; w < windows; w++) {
      columnSum[w]! += columnPayout[w]!;
      columnSquares[w]! += columnPayout[w]! ** 2;
    }
  }
  const priced = cells.map((cell, i) => {
    const pWin = wins[i]! / spec.paths;
    const m = cell.multiplierHundredths! / 100;
    return { cell, column: cell.col - firstCol, pWin, ret: m * pWin, se: m * Math.sqrt(Math.max(pWin * (1 - pWin), 1 / spec.paths) / spec.paths) };
  });
  const columns: MomentGrid["columns"] = [];
  for (let w = 0; w < windows; w++) {
    const n = priced.filter((c) => c.column === w).length;
    if (n === 0) continue;
    const mean = columnSum[w]! / spec.paths;
    const variance = Math.max(columnSquares[w]! / spec.paths - mean * mean, 0);
    columns.push({ column: w, cells: n, mean: mean / n, se: Math.sqrt(variance / spec.paths) / n });
  }
  return { cells: priced, columns };
}
