import { createStepper, STEP_END, STEP_PAUSED, tickSpacingMs, type MarketRegime, type MarketState } from "./market-sim.ts";
import { SeededRandom, touchedByRange } from "./simulation.ts";

/**
 * The TRUE conditional law of the simulated market (market-sim.ts): given the simulator's hidden state
 * at a tick (efficient price, mean-reverting noise, burst on or off and for how long), the probability
 * that each cell of a grid pays, by Monte Carlo over the simulator's own step law. The adversary suite
 * uses it to score a bet by its expected payout (multiplier × P_true) instead of its one realised
 * outcome: a 20–100× payout on a rare touch makes realised returns so noisy that 8 seeds × 30 minutes
 * cannot tell 0.95 from 1.10 on far cells, while the expected payout of the same bets can.
 *
 * A cell (window [t0, t1), band [lo, hi)) pays under SPEC §5 when an in-window tick is in the band or two
 * consecutive in-window ticks lie on opposite sides of it — that is, exactly when the highest in-window
 * tick is ≥ lo and the lowest < hi (if no tick is in the band but some are below and some above, the
 * walk from one side to the other has a consecutive straddling pair). Without a win it is void
 * (refunded) when the feed was stale (a gap over `staleMs`) at some time in the window.
 */

export interface TruthSpec {
  regime: MarketRegime;
  startCents: number;
  tickMs?: number;
  /** The hidden state at the decision's tick (log-prices relative to `startCents`); not mutated. */
  state: Omit<MarketState, "pauseLeftMs">;
  /** Time of the latest tick (the simulation continues from it). */
  lastTickMs: number;
  /** The grid: `windows` windows of `windowMs` from `firstWindowStartMs`, rows `rowFrom`…`rowTo` of `rowCents`. */
  firstWindowStartMs: number;
  windowMs: number;
  windows: number;
  rowCents: number;
  rowFrom: number;
  rowTo: number;
  staleMs: number;
  paths: number;
  seed: number;
}

export interface TruthGrid {
  /** P(win) and P(void) per cell, index (window · rows + (row − rowFrom)). */
  win: Float64Array;
  void: Float64Array;
  rows: number;
}

/** Bounds: paths and cells per call (a call costs paths × (window span / tick) steps). */
const PATHS_MAX = 100_000;
const CELLS_MAX = 10_000;

export function trueTouchGrid(spec: TruthSpec): TruthGrid {
  const rows = spec.rowTo - spec.rowFrom + 1;
  const windows = spec.windows;
  if (!(rows > 0) || !(windows > 0) || rows * windows > CELLS_MAX) throw new RangeError("truth grid out of bounds");
  const paths = Math.min(Math.max(1, Math.floor(spec.paths)), PATHS_MAX);
  const stepper = createStepper(spec.regime, spec.startCents, tickSpacingMs(spec.tickMs), new SeededRandom(spec.seed));
  const win = new Float64Array(windows * rows);
  const voids = new Float64Array(windows * rows);
  const lo = new Float64Array(windows);
  const hi = new Float64Array(windows);
  const stale = new Uint8Array(windows);
  const firstStart = spec.firstWindowStartMs;
  const endMs = firstStart + windows * spec.windowMs;
  const st: MarketState = { ...spec.state, pauseLeftMs: 0 };
  for (let p = 0; p < paths; p++) {
    Object.assign(st, spec.state, { pauseLeftMs: 0 });
    lo.fill(Number.POSITIVE_INFINITY);
    hi.fill(Number.NEGATIVE_INFINITY);
    stale.fill(0);
    let lastT = spec.lastTickMs;
    for (;;) {
      const kind = stepper.step(st, endMs);
      if (kind === STEP_PAUSED) continue;
      const t = kind === STEP_END ? endMs : Math.max(Math.round(st.now), lastT + 1);
      // Stale for τ in (lastT + staleMs, t): mark the windows that interval meets.
      if (t - lastT > spec.staleMs) markStale(stale, lastT + spec.staleMs, t, firstStart, spec.windowMs);
      if (kind === STEP_END) break;
      lastT = t;
      const w = Math.floor((t - firstStart) / spec.windowMs);
      if (w < 0 || w >= windows) continue;
      const price = Math.round(spec.startCents * Math.exp(stepper.observed()));
      if (price < lo[w]!) lo[w] = price;
      if (price > hi[w]!) hi[w] = price;
    }
    for (let w = 0; w < windows; w++) {
      for (let r = 0; r < rows; r++) {
        const lowCents = (spec.rowFrom + r) * spec.rowCents;
        if (touchedByRange(lo[w]!, hi[w]!, { lowCents, highCents: lowCents + spec.rowCents })) win[w * rows + r]! += 1;
        else if (stale[w]) voids[w * rows + r]! += 1;
      }
    }
  }
  for (let k = 0; k < win.length; k++) {
    win[k]! /= paths;
    voids[k]! /= paths;
  }
  return { win, void: voids, rows };
}

function markStale(stale: Uint8Array, fromMs: number, toMs: number, firstStart: number, windowMs: number): void {
  const first = Math.max(0, Math.floor((fromMs - firstStart) / windowMs));
  const last = Math.min(stale.length - 1, Math.floor((toMs - 1 - firstStart) / windowMs));
  for (let w = first; w <= last; w++) stale[w] = 1;
}
