import { resolveBet, type Tick } from "../../domain/resolution.ts";
import { PricingEngine } from "./engine.ts";
import { simulateMarket, type MarketPath, type MarketRegime } from "../../domain/pricing/market-sim.ts";
import { trueTouchGrid, type TruthGrid } from "../../domain/pricing/market-truth.ts";
import { DEFAULT_VOLATILITY_OPTIONS } from "../../domain/pricing/volatility.ts";
import type { HorizonOptions } from "../../domain/pricing/horizons.ts";

/**
 * The adversary suite of issue 12: players who use only public information (the index ticks, the
 * server's own published quote inputs, feed silences) bet $1 on the cells their rule picks; quotes
 * come from the REAL pricing engine (services/pricing/engine.ts → domain/pricing/quote.ts) fed the
 * simulated index tick by tick, and every bet is settled by the exact SPEC §5 rule
 * (domain/resolution.ts `resolveBet`) on the simulated ticks. Each strategy's return per $1 staked is
 * reported with a 95 % confidence interval.
 *
 * The interval: bets of one strategy are correlated (several cells of one window, overlapping
 * windows), so the standard error of the ratio R = Σpayout / Σstake is computed from BLOCKS of one
 * minute:
 *   SE² = n/(n−1) · Σ_b (P_b − R·S_b)² / (Σ S)²,   CI = R ± z·SE (z = 1.96 unless asked).
 * A settled bet is filed by the minute of its WINDOW (bets on one cell share one outcome, and the
 * grid strategies bet the same cell from up to two minutes ahead: filed by the minute of the
 * decision, one outcome spread over several blocks and the interval came out too narrow); an
 * expected payout has no outcome, only the market state at its decision, and is filed by the minute
 * of the decision.
 */

export const GEOMETRY = { columnMs: 10_000, rowCents: 1_000, lockMs: 5_000, horizonColumns: 60 };
const STALE_MS = 2_000;
const START_CENTS = 9_500_000;
const BLOCK_MS = 60_000;

/**
 * The server's life at the decisions (issue 21): warm (it has watched the market for `warmUpMs`), a
 * fresh start (its first tick is the first decision's), a restart (it watched for `warmUpMs`, was down
 * for `downMs`, and the new process warms up from the ticks it stored, as services/pricing/index.ts
 * does), or a feed outage (it watched for `warmUpMs`, then no tick for `outageMs`). Decisions start
 * when the server is back: at once after a start, restart or outage.
 */
export type ServerLife = { kind: "warm" } | { kind: "fresh" } | { kind: "restart"; downMs: number } | { kind: "outage"; outageMs: number };

export interface AdversarySpec {
  regime: MarketRegime;
  seed: number;
  /** Simulated time before the first decision (the estimators warm up; before a restart or outage: up to it), and decisions after it. */
  warmUpMs: number;
  evalMs: number;
  /** The server's life (default warm). */
  life?: ServerLife;
  /** Estimator options other than the server's defaults (to measure what a model change does). */
  horizons?: Partial<HorizonOptions>;
  /** A decision on the first tick after every `decisionEveryMs`, and on every tick after a silence ≥ 400 ms. */
  decisionEveryMs: number;
  /** The all-offered player bets the whole default grid (12 × 21) every this often. */
  allOfferedEveryMs: number;
  houseEdgeBp?: number;
  quoteMaxAgeMs?: number;
  /** The player's bet reaches the server this long after the tick it reacts to. */
  latencyMs?: number;
  /**
   * Also score bets by their EXPECTED payout under the true conditional law (market-truth.ts), into
   * `expected` tallies: at a decision every `everyMs` and at every decision after a silence, each
   * strategy's picks and the whole offered grid, each bet worth multiplier × P_true(win) + P_true(void).
   * No outcome noise: only the market states sampled remain (the intervals come from the same blocks).
   */
  truth?: { everyMs: number; paths: number; expected: Map<string, Tally> };
}

/** What a strategy may look at: public information only. */
export interface Market {
  now: number;
  /** Index i of the latest tick in `path` (ticks after it are the future). */
  i: number;
  path: MarketPath;
  priceRow: number;
  firstCol: number;
  /** The server's published volatility inputs (per ms). */
  serverFastVar: number;
  serverSlowVar: number;
  /** Silence before the latest tick, ms. */
  gapMs: number;
  /** log(price now / price `ms` ago) from the ticks. */
  move(ms: number): number;
  /** The player's own variance per ms from returns over `stepMs` across the last `spanMs`. */
  ownVar(spanMs: number, stepMs: number): number;
  /** The row of the index `ms` ago. */
  rowAgo(ms: number): number;
}

export interface Strategy {
  name: string;
  /** Cells (col, row) to bet $1 on; cells not offered are skipped. */
  pick(m: Market): Array<readonly [number, number]>;
}

const rowsAround = (m: Market, col: number, from: number, to: number) => {
  const cells: Array<readonly [number, number]> = [];
  for (let d = from; d <= to; d++) cells.push([col, m.priceRow + d]);
  return cells;
};
const BAND = 1_000 / 9_500_000; // one $10 band in log units near $95k

export const STRATEGIES: readonly Strategy[] = [
  { name: "own cell, first column", pick: (m) => [[m.firstCol, m.priceRow]] },
  {
    name: "first column, all rows, when own 5 s vol > 4× server slow (burst)",
    pick: (m) => (m.ownVar(5_000, 500) > 4 * m.serverSlowVar ? rowsAround(m, m.firstCol, -8, 8) : []),
  },
  {
    name: "cells ≥ 4 bands away after a 2-band move in 2 s",
    pick: (m) => (Math.abs(m.move(2_000)) >= 2 * BAND ? [...rowsAround(m, m.firstCol, -8, -4), ...rowsAround(m, m.firstCol, 4, 8)] : []),
  },
  {
    name: "own cell or next, first 2 columns, own 10 s vol < 0.7× server slow (quiet)",
    pick: (m) => (m.ownVar(10_000, 1_000) < 0.7 * m.serverSlowVar ? [...rowsAround(m, m.firstCol, -1, 1), ...rowsAround(m, m.firstCol + 1, -1, 1)] : []),
  },
  { name: "near cells (±1) first column, own 30 s vol < 0.5× server slow", pick: (m) => (m.ownVar(30_000, 1_000) < 0.5 * m.serverSlowVar ? rowsAround(m, m.firstCol, -1, 1) : []) },
  { name: "rows −4…4, first column, right after ≥ 0.5 s of silence", pick: (m) => (m.gapMs >= 500 ? rowsAround(m, m.firstCol, -4, 4) : []) },
  {
    name: "far cells (±6…±10) of the first 2 columns, right after ≥ 0.5 s of silence",
    pick: (m) => (m.gapMs >= 500 ? [0, 1].flatMap((dc) => [...rowsAround(m, m.firstCol + dc, -10, -6), ...rowsAround(m, m.firstCol + dc, 6, 10)]) : []),
  },
  {
    name: "fade the last 1 s move (1–2 bands back)",
    pick: (m) => {
      const move = m.move(1_000);
      if (Math.abs(move) < 0.5 * BAND) return [];
      const s = move > 0 ? -1 : 1;
      return [[m.firstCol, m.priceRow + s], [m.firstCol, m.priceRow + 2 * s]];
    },
  },
  {
    name: "follow the last 1 s move (2–3 bands on)",
    pick: (m) => {
      const move = m.move(1_000);
      if (Math.abs(move) < 0.5 * BAND) return [];
      const s = move > 0 ? 1 : -1;
      return [[m.firstCol, m.priceRow + 2 * s], [m.firstCol, m.priceRow + 3 * s]];
    },
  },
  {
    name: "the cell the price just left (1 s ago)",
    pick: (m) => {
      const left = m.rowAgo(1_000);
      return left !== m.priceRow ? [[m.firstCol, left]] : [];
    },
  },
  {
    name: "rows ±2…±5 when own 5 s vol > 1.5× server fast",
    pick: (m) => (m.ownVar(5_000, 500) > 1.5 * m.serverFastVar ? [...rowsAround(m, m.firstCol, -5, -2), ...rowsAround(m, m.firstCol, 2, 5)] : []),
  },
  {
    name: "own cell or next, columns 3–5, always",
    pick: (m) => [2, 3, 4].flatMap((dc) => rowsAround(m, m.firstCol + dc, -1, 1)),
  },
  { name: "far cells (±6…±10) of column 2, always", pick: (m) => [...rowsAround(m, m.firstCol + 1, -10, -6), ...rowsAround(m, m.firstCol + 1, 6, 10)] },
  { name: "far cells (±7…±10) of the first column, always", pick: (m) => [...rowsAround(m, m.firstCol, -10, -7), ...rowsAround(m, m.firstCol, 7, 10)] },
];

export const ALL_OFFERED = "all offered cells (12 × 21 grid)";
/** All offered cells in the first minute and the first two minutes of the decisions (filled after a start, restart or outage only). */
export const ALL_OFFERED_FIRST_MINUTE = "all offered cells, first minute";
export const ALL_OFFERED_FIRST_2_MINUTES = "all offered cells, first 2 minutes";
/**
 * The cheap cherry-picker: of the offered grid, the cells whose multiplier is higher now than at every
 * grid it was offered in over the last minute (at least MIN_SEEN of them, spanning half a minute).
 */
export const CHERRY_PICKER = "cells at the highest multiplier of their last minute (cherry-picker)";
const CHERRY_WINDOW_MS = 60_000;
const CHERRY_MIN_SEEN = 6;

/** Per strategy: stake and payout per one-minute block. */
export interface Tally {
  stake: Map<number, number>;
  payout: Map<number, number>;
  bets: number;
}

export interface StrategyReturn {
  name: string;
  bets: number;
  ret: number;
  ciLow: number;
  ciHigh: number;
}

function add(tally: Tally, block: number, stake: number, payout: number): void {
  tally.stake.set(block, (tally.stake.get(block) ?? 0) + stake);
  tally.payout.set(block, (tally.payout.get(block) ?? 0) + payout);
  tally.bets += 1;
}

export function summarize(name: string, tally: Tally, z = 1.96): StrategyReturn {
  let S = 0;
  let P = 0;
  for (const [b, s] of tally.stake) {
    S += s;
    P += tally.payout.get(b)!;
  }
  if (S === 0) return { name, bets: 0, ret: Number.NaN, ciLow: Number.NaN, ciHigh: Number.NaN };
  const R = P / S;
  const n = tally.stake.size;
  let q = 0;
  for (const [b, s] of tally.stake) q += (tally.payout.get(b)! - R * s) ** 2;
  const se = n > 1 ? Math.sqrt((n / (n - 1)) * q) / S : Number.POSITIVE_INFINITY;
  return { name, bets: tally.bets, ret: R, ciLow: R - z * se, ciHigh: R + z * se };
}

export function newTallies(): Map<string, Tally> {
  const tallies = new Map<string, Tally>();
  for (const name of [...STRATEGIES.map((s) => s.name), CHERRY_PICKER, ALL_OFFERED, ALL_OFFERED_FIRST_MINUTE, ALL_OFFERED_FIRST_2_MINUTES]) {
    tallies.set(name, { stake: new Map(), payout: new Map(), bets: 0 });
  }
  return tallies;
}

/** Largest i with path.t[i] ≤ t (or −1). */
function indexAt(path: MarketPath, t: number, hi: number): number {
  let lo = 0;
  let h = hi;
  if (path.t[0]! > t) return -1;
  while (lo < h) {
    const mid = (lo + h + 1) >> 1;
    if (path.t[mid]! <= t) lo = mid;
    else h = mid - 1;
  }
  return lo;
}

/**
 * Runs every strategy on one simulated market and adds its bets to `tallies` (block ids are made
 * unique per seed so that several runs pool). Returns the path (for diagnostics).
 */
export function runAdversaries(spec: AdversarySpec, tallies: Map<string, Tally>): MarketPath {
  const T0 = 1_764_000_000_000;
  const tailMs = 13 * GEOMETRY.columnMs + GEOMETRY.lockMs;
  const life = spec.life ?? { kind: "warm" };
  const watchedMs = life.kind === "fresh" ? 0 : spec.warmUpMs;
  const awayMs = life.kind === "restart" ? life.downMs : life.kind === "outage" ? life.outageMs : 0;
  const path = simulateMarket({ regime: spec.regime, seed: spec.seed, startMs: T0, durationMs: watchedMs + awayMs + spec.evalMs + tailMs, startCents: START_CENTS });
  let current: { t: number; priceCents: number } | undefined;
  const newEngine = () =>
    new PricingEngine(
      {
        ...GEOMETRY,
        houseEdgeBp: spec.houseEdgeBp ?? 500,
        minMultiplierHundredths: 110,
        maxMultiplierHundredths: 10_000,
        volatility: DEFAULT_VOLATILITY_OPTIONS,
        quoteMaxAgeMs: spec.quoteMaxAgeMs ?? 500,
        horizons: spec.horizons,
      },
      () => current,
    );
  let engine = newEngine();
  const latency = spec.latencyMs ?? 20;
  // Ticks in [awayFrom, evalStart) are not seen: the server is down, or its feed is silent.
  const awayFrom = T0 + watchedMs;
  const evalStart = awayFrom + awayMs;
  const evalEnd = evalStart + spec.evalMs;
  const outcomes = new Map<string, "won" | "lost" | "void">();
  const settle = (col: number, row: number): "won" | "lost" | "void" => {
    const key = `${col}:${row}`;
    const known = outcomes.get(key);
    if (known) return known;
    const bet = { windowStart: col * GEOMETRY.columnMs, windowEnd: (col + 1) * GEOMETRY.columnMs, bandLowCents: row * GEOMETRY.rowCents, bandHighCents: (row + 1) * GEOMETRY.rowCents };
    const from = Math.max(0, indexAt(path, bet.windowStart - STALE_MS, path.length - 1));
    const to = indexAt(path, bet.windowEnd, path.length - 1);
    const ticks: Tick[] = [];
    for (let k = from; k <= to; k++) ticks.push({ t: path.t[k]!, priceCents: path.priceCents[k]! });
    const verdict = resolveBet(bet, { ticks, staleGaps: [], staleMs: STALE_MS, knownUntil: bet.windowEnd });
    if (verdict.status === "open") throw new Error("simulated path too short for a bet");
    outcomes.set(key, verdict.status);
    return verdict.status;
  };
  const pending: Array<{ tally: Tally; col: number; row: number; multiplier: number }> = [];
  const strategyTallies = STRATEGIES.map((s) => tallies.get(s.name)!);
  const allTally = tallies.get(ALL_OFFERED)!;
  const earlyTallies = life.kind === "warm" ? [] : ([[ALL_OFFERED_FIRST_MINUTE, 60_000], [ALL_OFFERED_FIRST_2_MINUTES, 120_000]] as const);
  const cherryTally = tallies.get(CHERRY_PICKER)!;
  const cherrySeen = new Map<string, Array<{ t: number; multiplier: number }>>();
  const blockBase = spec.seed * 1_000_000;
  let nextDecision = evalStart;
  let nextAll = evalStart;
  let nextTruth = evalStart;
  let restarted = false;
  for (let i = 0; i < path.length; i++) {
    const t = path.t[i]!;
    if (t >= awayFrom && t < evalStart) continue;
    if (life.kind === "restart" && !restarted && t >= evalStart) {
      // The new process: a fresh engine warmed up from the ticks the old one stored.
      restarted = true;
      engine = newEngine();
      const stored: Array<{ t: number; priceCents: number }> = [];
      for (let k = 0; k < i && path.t[k]! < awayFrom; k++) stored.push({ t: path.t[k]!, priceCents: path.priceCents[k]! });
      engine.warmUp(stored, t);
    }
    const gapMs = current !== undefined ? t - current.t : 0;
    current = { t, priceCents: path.priceCents[i]! };
    engine.observe(current);
    if (t < evalStart) continue;
    if (t >= evalEnd) break;
    if (t < nextDecision && gapMs < 400) continue;
    if (t >= nextDecision) nextDecision = t + spec.decisionEveryMs;
    const now = t + latency;
    const inputs = engine.quoteInputs()!;
    const block = blockBase + Math.floor((t - evalStart) / BLOCK_MS);
    const logNow = Math.log(current.priceCents);
    const m: Market = {
      now,
      i,
      path,
      priceRow: Math.floor(current.priceCents / GEOMETRY.rowCents),
      firstCol: Math.ceil((now + GEOMETRY.lockMs) / GEOMETRY.columnMs),
      serverFastVar: inputs.fastVarPerMs,
      serverSlowVar: inputs.slowVarPerMs,
      gapMs,
      move: (ms) => logNow - Math.log(path.priceCents[Math.max(0, indexAt(path, t - ms, i))]!),
      ownVar(spanMs, stepMs) {
        let sum = 0;
        let prev = logNow;
        for (let back = stepMs; back <= spanMs; back += stepMs) {
          const p = Math.log(path.priceCents[Math.max(0, indexAt(path, t - back, i))]!);
          sum += (prev - p) ** 2;
          prev = p;
        }
        return sum / spanMs;
      },
      rowAgo: (ms) => Math.floor(path.priceCents[Math.max(0, indexAt(path, t - ms, i))]! / GEOMETRY.rowCents),
    };
    const truth = spec.truth && (t >= nextTruth || gapMs >= 400) ? truthAt(spec, path, i, m) : undefined;
    if (truth && t >= nextTruth) nextTruth = t + spec.truth!.everyMs;
    const bet = (tally: Tally, col: number, row: number, multiplier: number) => {
      pending.push({ tally, col, row, multiplier });
      if (truth) addExpected(spec.truth!.expected.get(nameOf(tallies, tally))!, block, truth, col, row, multiplier);
    };
    for (let s = 0; s < STRATEGIES.length; s++) {
      for (const [col, row] of STRATEGIES[s]!.pick(m)) {
        const q = engine.quote(col, row, now);
        if (q.ok) bet(strategyTallies[s]!, col, row, q.quote.multiplierHundredths!);
      }
    }
    const allDue = t >= nextAll;
    if (allDue) nextAll = t + spec.allOfferedEveryMs;
    if (!truth && !allDue) continue;
    // One offered grid per decision serves every grid strategy and both scorings.
    const offered = (engine.grid(12, 21, now)?.cells ?? []).filter((cell) => cell.multiplierHundredths !== null);
    const early = earlyTallies.filter(([, withinMs]) => t - evalStart < withinMs).map(([name]) => tallies.get(name)!);
    for (const cell of offered) {
      const multiplier = cell.multiplierHundredths!;
      if (cherryPicks(cherrySeen, cell.col, cell.row, t, multiplier, m.firstCol)) bet(cherryTally, cell.col, cell.row, multiplier);
      for (const tally of allDue ? [allTally, ...early] : []) pending.push({ tally, col: cell.col, row: cell.row, multiplier });
      if (truth) for (const tally of [allTally, ...early]) addExpected(spec.truth!.expected.get(nameOf(tallies, tally))!, block, truth, cell.col, cell.row, multiplier);
    }
  }
  for (const bet of pending) {
    const outcome = settle(bet.col, bet.row);
    add(bet.tally, blockBase + Math.floor((bet.col * GEOMETRY.columnMs - evalStart) / BLOCK_MS), 1, outcome === "won" ? bet.multiplier / 100 : outcome === "void" ? 1 : 0);
  }
  return path;
}

/** The name a tally is filed under (the realised and expected tallies share names). */
function nameOf(tallies: Map<string, Tally>, tally: Tally): string {
  for (const [name, t] of tallies) if (t === tally) return name;
  throw new Error("unknown tally");
}

/**
 * The cherry-picker's rule for one offered cell at a decision: bet when its multiplier is above every
 * one it was offered at in the last minute (seen at least CHERRY_MIN_SEEN times over half a minute).
 * Records the quote; forgets cells whose window is no longer open (bounded).
 */
function cherryPicks(seen: Map<string, Array<{ t: number; multiplier: number }>>, col: number, row: number, t: number, multiplier: number, firstCol: number): boolean {
  const key = `${col}:${row}`;
  const history = (seen.get(key) ?? []).filter((q) => q.t > t - CHERRY_WINDOW_MS);
  const picks = history.length >= CHERRY_MIN_SEEN && history[0]!.t <= t - CHERRY_WINDOW_MS / 2 && history.every((q) => multiplier > q.multiplier);
  history.push({ t, multiplier });
  seen.set(key, history);
  if (seen.size > 4 * 12 * 21) for (const k of seen.keys()) if (Number(k.split(":")[0]) < firstCol) seen.delete(k);
  return picks;
}

/** The true law's grid around a decision: 12 windows from the first open one, the price's row ± 12. */
interface TruthAt extends TruthGrid {
  firstCol: number;
  rowFrom: number;
}

const TRUTH_COLUMNS = 12;
const TRUTH_ROWS_EACH_SIDE = 12;

function truthAt(spec: AdversarySpec, path: MarketPath, i: number, m: Market): TruthAt {
  const h = path.hidden;
  const rowFrom = m.priceRow - TRUTH_ROWS_EACH_SIDE;
  const grid = trueTouchGrid({
    regime: spec.regime,
    startCents: START_CENTS,
    state: { now: path.t[i]!, x: h.x[i]!, u: h.u[i]!, multiple: h.multiple[i]!, burstLeftMs: h.burstLeftMs[i]! },
    lastTickMs: path.t[i]!,
    firstWindowStartMs: m.firstCol * GEOMETRY.columnMs,
    windowMs: GEOMETRY.columnMs,
    windows: TRUTH_COLUMNS,
    rowCents: GEOMETRY.rowCents,
    rowFrom,
    rowTo: m.priceRow + TRUTH_ROWS_EACH_SIDE,
    staleMs: STALE_MS,
    paths: spec.truth!.paths,
    seed: spec.seed * 1_000_003 + i,
  });
  return { ...grid, firstCol: m.firstCol, rowFrom };
}

/** Adds one $1 bet's expected payout (cells outside the truth grid are left out). */
function addExpected(tally: Tally, block: number, truth: TruthAt, col: number, row: number, multiplierHundredths: number): void {
  const w = col - truth.firstCol;
  const r = row - truth.rowFrom;
  if (w < 0 || w >= TRUTH_COLUMNS || r < 0 || r >= truth.rows) return;
  const k = w * truth.rows + r;
  add(tally, block, 1, (multiplierHundredths / 100) * truth.win[k]! + truth.void[k]!);
}
