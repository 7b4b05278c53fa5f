import { statementCache, type Db } from "../../storage/db.ts";
import { mergeTicks, type StaleGap, type Tick } from "../../domain/resolution.ts";

/**
 * Reads the stored evidence of a window — index ticks and stale gaps — from the current and the
 * historical database together, so a bet can be re-resolved after its week was archived (or while
 * the archiver is half-way through a week: rows then exist in both files, and are merged).
 */
export interface WindowEvidence {
  /** The newest tick before t0 (if any), then every tick in [t0, t1), strictly increasing. */
  ticks: Tick[];
  staleGaps: StaleGap[];
}

/** Most ticks read for one window: a guard against a runaway query, far above any real window. */
export const WINDOW_TICKS_MAX = 1_000_000;


function prepare(db: Db) {
  return {
    before: db.prepare("SELECT t, price_cents FROM price_ticks WHERE t < ? ORDER BY t DESC LIMIT 1"),
    within: db.prepare("SELECT t, price_cents FROM price_ticks WHERE t >= ? AND t < ? ORDER BY t LIMIT ?"),
    newest: db.prepare("SELECT t, price_cents FROM price_ticks ORDER BY t DESC LIMIT 1"),
    gaps: db.prepare("SELECT start_at, end_at FROM stale_gaps WHERE start_at < ? AND (end_at IS NULL OR end_at > ?) ORDER BY start_at LIMIT 10000"),
  };
}

const stmts = statementCache(prepare);

interface TickRow {
  t: number;
  price_cents: number;
}

const toTick = (r: unknown): Tick => ({ t: (r as TickRow).t, priceCents: (r as TickRow).price_cents });

/** Ticks with fromMs ≤ t < toMs from every database given, merged. */
export function ticksBetween(dbs: readonly Db[], fromMs: number, toMs: number): Tick[] {
  return mergeTicks(...dbs.map((db) => stmts(db).within.all(fromMs, toMs, WINDOW_TICKS_MAX).map(toTick)));
}

/** The newest tick with t < beforeMs across the databases. */
export function tickBefore(dbs: readonly Db[], beforeMs: number): Tick | undefined {
  let best: Tick | undefined;
  for (const db of dbs) {
    const row = stmts(db).before.get(beforeMs);
    if (row && (!best || (row as TickRow).t > best.t)) best = toTick(row);
  }
  return best;
}

export function newestTick(dbs: readonly Db[]): Tick | undefined {
  let best: Tick | undefined;
  for (const db of dbs) {
    const row = stmts(db).newest.get();
    if (row && (!best || (row as TickRow).t > best.t)) best = toTick(row);
  }
  return best;
}

/** Stale gaps overlapping [fromMs, toMs), deduplicated by start. */
export function gapsOverlapping(dbs: readonly Db[], fromMs: number, toMs: number): StaleGap[] {
  const byStart = new Map<number, StaleGap>();
  for (const db of dbs) {
    for (const raw of stmts(db).gaps.all(toMs, fromMs)) {
      const r = raw as { start_at: number; end_at: number | null };
      const known = byStart.get(r.start_at);
      // The same gap may be open in one file and closed in the other only mid-archive; the closed one is newer.
      if (!known || (known.endAt === null && r.end_at !== null)) byStart.set(r.start_at, { startAt: r.start_at, endAt: r.end_at });
    }
  }
  return [...byStart.values()].sort((a, b) => a.startAt - b.startAt);
}

/** Everything the rule needs to decide a window [t0, t1) from stored data. */
export function windowEvidence(dbs: readonly Db[], windowStart: number, windowEnd: number): WindowEvidence {
  const before = tickBefore(dbs, windowStart);
  const within = ticksBetween(dbs, windowStart, windowEnd);
  return { ticks: before ? [before, ...within] : within, staleGaps: gapsOverlapping(dbs, windowStart, windowEnd) };
}
