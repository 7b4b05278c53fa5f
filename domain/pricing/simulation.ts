import { inBand, type Band, type Window } from "../grid.ts";

/**
 * Seeded simulation of the price process the pricing model assumes, and the exact resolution rule of
 * SPEC §5 for it. Used by the Monte Carlo verification of the model (tests/pricing.montecarlo.test.ts)
 * and the pricing benchmark. Pure: same seed, same numbers, on every machine.
 */

export interface Tick {
  t: number;
  priceCents: number;
}

/**
 * The touch rule of SPEC §5 applied to a tick sequence (strictly increasing t): the first tick with
 * t0 ≤ t < t1 inside [lo, hi), or the first pair of consecutive ticks, both in the window, on opposite
 * sides of the band. Written to read like the spec (the simulator uses the equivalent min/max form).
 */
export function touchesInWindow(ticks: readonly Tick[], band: Band, window: Window): { at: number; priceCents: number } | undefined {
  let previous: Tick | undefined;
  for (const tick of ticks) {
    if (tick.t < window.startMs) continue;
    if (tick.t >= window.endMs) break;
    if (inBand(tick.priceCents, band)) return { at: tick.t, priceCents: tick.priceCents };
    if (previous !== undefined) {
      const crossedUp = previous.priceCents < band.lowCents && tick.priceCents >= band.highCents;
      const crossedDown = previous.priceCents >= band.highCents && tick.priceCents < band.lowCents;
      if (crossedUp || crossedDown) return { at: tick.t, priceCents: tick.priceCents };
    }
    previous = tick;
  }
  return undefined;
}

/**
 * The same decision in O(1) from the window's extremes: consecutive in-window ticks form a chain, so
 * the union of the ranges [min(p_i, p_i+1), max(p_i, p_i+1)] is [min, max] of the window's ticks, and
 * a pair range meets the band exactly when one tick is inside or the pair straddles it. Hence the
 * band is touched iff minCents < hi and maxCents ≥ lo (a single in-window tick included).
 */
export function touchedByRange(minCents: number, maxCents: number, band: Band): boolean {
  return maxCents >= band.lowCents && minCents < band.highCents;
}

/**
 * sfc32 (a small, fast, well-tested 32-bit generator) with a batched normal sampler: the simulation
 * draws ~10^8 normals, so they are made in blocks by Marsaglia's polar method, inline (≈ 12 ns each).
 */
export class SeededRandom {
  private readonly state = new Uint32Array(4);

  constructor(seed: number) {
    this.state.set([0x9e3779b9, 0x243f6a88, 0xb7e15162, seed >>> 0]);
    for (let i = 0; i < 15; i++) this.next();
  }

  /** Uniform in (0, 1). */
  next(): number {
    const st = this.state;
    let t = (st[0]! + st[1]!) | 0;
    st[0] = st[1]! ^ (st[1]! >>> 9);
    st[1] = (st[2]! + (st[2]! << 3)) | 0;
    const c = (st[2]! << 21) | (st[2]! >>> 11);
    st[3] = (st[3]! + 1) | 0;
    t = (t + st[3]!) | 0;
    st[2] = (c + t) | 0;
    return ((t >>> 0) + 0.5) / 4294967296;
  }

  /** Fills `out` with independent standard normals. */
  fillNormals(out: Float64Array): void {
    const st = this.state;
    let a = st[0]!;
    let b = st[1]!;
    let c = st[2]!;
    let d = st[3]!;
    const n = out.length;
    let i = 0;
    while (i < n) {
      let t = (a + b) | 0;
      a = b ^ (b >>> 9);
      b = (c + (c << 3)) | 0;
      c = (c << 21) | (c >>> 11);
      d = (d + 1) | 0;
      t = (t + d) | 0;
      c = (c + t) | 0;
      const u = ((t >>> 0) + 0.5) * (2 / 4294967296) - 1;
      t = (a + b) | 0;
      a = b ^ (b >>> 9);
      b = (c + (c << 3)) | 0;
      c = (c << 21) | (c >>> 11);
      d = (d + 1) | 0;
      t = (t + d) | 0;
      c = (c + t) | 0;
      const v = ((t >>> 0) + 0.5) * (2 / 4294967296) - 1;
      const q = u * u + v * v;
      if (q >= 1) continue;
      const f = Math.sqrt((-2 * Math.log(q)) / q);
      out[i++] = u * f;
      if (i < n) out[i++] = v * f;
    }
    st[0] = a;
    st[1] = b;
    st[2] = c;
    st[3] = d;
  }
}

export interface SimulationSpec {
  spotCents: number;
  /** Time of the spot tick (log-price 0 there). */
  spotAtMs: number;
  sigmaPerSqrtMs: number;
  /** Mean time between ticks. */
  tickIntervalMs: number;
  /**
   * "regular": ticks exactly `tickIntervalMs` apart, the first a uniformly random time in
   * (0, tickIntervalMs] after the spot (a fresh phase per path). "exponential": a Poisson feed with
   * that mean spacing (a robustness check: real feeds are irregular).
   */
  spacing?: "regular" | "exponential";
  columnMs: number;
  rowCents: number;
  firstCol: number;
  cols: number;
  firstRow: number;
  rows: number;
  paths: number;
  seed: number;
}

/**
 * Simulates `paths` independent price paths (log-price Brownian motion with σ, observed at ticks,
 * each observation rounded to integer cents) and resolves every cell of the rectangle
 * [firstCol, firstCol+cols) × [firstRow, firstRow+rows) with the SPEC §5 rule. Returns the win
 * counts per cell and, for each payout table given, the per-path payout sums.
 *
 * Ticks before the first window never matter to the rule, so the log-price at the last tick before
 * it is drawn in one step (the sum of those increments is exactly normal).
 */
export function simulateWins(spec: SimulationSpec, payoutTables: readonly Float64Array[] = []): SimulationResult {
  const { spotAtMs, tickIntervalMs: dt, columnMs, firstCol, cols, rows, sigmaPerSqrtMs: sigma } = spec;
  if (!(dt > 0) || cols < 1 || rows < 1 || spec.paths < 1) throw new RangeError("simulateWins: bad spec");
  const regular = (spec.spacing ?? "regular") === "regular";
  const rng = new SeededRandom(spec.seed);
  const normals = new Float64Array(4096);
  let used = normals.length;
  const wins = new Uint32Array(cols * rows);
  const pathPayouts = new Float64Array(payoutTables.length);
  const payouts = payoutTables.map(() => ({ sum: 0, sumSquares: 0 }));
  const tally: Tally = { wins, tables: payoutTables, pathPayouts };
  const stepSigma = sigma * Math.sqrt(dt);
  const firstStart = firstCol * columnMs;
  const lastEnd = (firstCol + cols) * columnMs;
  if (firstStart <= spotAtMs) throw new RangeError("simulateWins: the first window must start after the spot");
  for (let path = 0; path < spec.paths; path++) {
    let t = spotAtMs; // the last tick so far
    let next = spotAtMs + (regular ? dt * (1 - rng.next()) : -dt * Math.log(rng.next()));
    while (next < firstStart) {
      t = next;
      next += regular ? dt : -dt * Math.log(rng.next());
    }
    if (used === normals.length) {
      rng.fillNormals(normals);
      used = 0;
    }
    let x = sigma * Math.sqrt(t - spotAtMs) * normals[used++]!;
    let col = firstCol;
    let windowEnd = (col + 1) * columnMs;
    let minX = Number.POSITIVE_INFINITY;
    let maxX = Number.NEGATIVE_INFINITY;
    while (next < lastEnd) {
      while (next >= windowEnd) {
        countWindow(tally, (col - firstCol) * rows, minX, maxX, spec);
        col++;
        windowEnd += columnMs;
        minX = Number.POSITIVE_INFINITY;
        maxX = Number.NEGATIVE_INFINITY;
      }
      if (used === normals.length) {
        rng.fillNormals(normals);
        used = 0;
      }
      x += (regular ? stepSigma : sigma * Math.sqrt(next - t)) * normals[used++]!;
      if (x < minX) minX = x;
      if (x > maxX) maxX = x;
      t = next;
      next += regular ? dt : -dt * Math.log(rng.next());
    }
    countWindow(tally, (col - firstCol) * rows, minX, maxX, spec);
    for (let i = 0; i < payouts.length; i++) {
      const paid = pathPayouts[i]!;
      payouts[i]!.sum += paid;
      payouts[i]!.sumSquares += paid * paid;
      pathPayouts[i] = 0;
    }
  }
  return { wins, payouts };
}

export interface SimulationResult {
  /** Paths on which each cell was touched, `wins[(col − firstCol)·rows + (row − firstRow)]`. */
  wins: Uint32Array;
  /**
   * Per payout table (the amount a touch of each cell pays, same indexing): the sum over paths of a
   * path's total payout and of its square — the mean and the standard error of "stake 1 on every
   * cell" without assuming the cells independent (they share paths).
   */
  payouts: Array<{ sum: number; sumSquares: number }>;
}

interface Tally {
  wins: Uint32Array;
  tables: readonly Float64Array[];
  pathPayouts: Float64Array;
}

/** Adds a win to every row of one column whose band meets [round(S·e^minX), round(S·e^maxX)]. */
function countWindow(tally: Tally, offset: number, minX: number, maxX: number, spec: SimulationSpec): void {
  if (minX === Number.POSITIVE_INFINITY) return; // no tick in this window
  // Rounding is monotone, so the rounded extremes are the extremes of the rounded ticks.
  const minCents = Math.round(spec.spotCents * Math.exp(minX));
  const maxCents = Math.round(spec.spotCents * Math.exp(maxX));
  const lowRow = Math.max(Math.floor(minCents / spec.rowCents), spec.firstRow);
  const highRow = Math.min(Math.floor(maxCents / spec.rowCents), spec.firstRow + spec.rows - 1);
  const { wins, tables, pathPayouts } = tally;
  for (let row = lowRow; row <= highRow; row++) {
    const cell = offset + row - spec.firstRow;
    wins[cell] = wins[cell]! + 1;
    for (let i = 0; i < tables.length; i++) pathPayouts[i] = pathPayouts[i]! + tables[i]![cell]!;
  }
}
