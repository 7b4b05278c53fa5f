import { statementCache, type Db } from "../../storage/db.ts";

/**
 * The PRICE_STALE_MS in force over time (migration 090): the settlement rule's "the index was stale"
 * depends on it, so the resolver, the proof and the integrity check all take the threshold recorded
 * for a window's start instead of today's setting. Changing the setting later changes new windows
 * only; every stored outcome recomputes as it was decided.
 */

function prepare(db: Db) {
  return {
    newest: db.prepare("SELECT from_t, stale_ms FROM stale_thresholds ORDER BY from_t DESC LIMIT 1"),
    inForce: db.prepare("SELECT from_t, stale_ms FROM stale_thresholds WHERE from_t <= ? ORDER BY from_t DESC LIMIT 1"),
    insert: db.prepare("INSERT INTO stale_thresholds (from_t, stale_ms) VALUES (?, ?)"),
  };
}

const stmts = statementCache(prepare);

interface ThresholdRow {
  from_t: number;
  stale_ms: number;
}

/**
 * Write command (services/commands.ts): `staleMs` is in force from `atMs` on, unless it already is.
 * The first row ever covers all earlier time (from 0): data older than the record was decided under
 * the only setting known. A clock behind the newest row cannot rewrite the past: the change then
 * starts just after it. Returns the start of the range now in force.
 */
export function recordStaleThreshold(db: Db, atMs: number, staleMs: number): number {
  if (!Number.isSafeInteger(staleMs) || staleMs <= 0) throw new Error(`stale threshold must be a positive integer, got ${staleMs}`);
  const s = stmts(db);
  const newest = s.newest.get() as ThresholdRow | undefined;
  if (newest?.stale_ms === staleMs) return newest.from_t;
  const fromT = newest ? Math.max(atMs, newest.from_t + 1) : 0;
  s.insert.run(fromT, staleMs);
  return fromT;
}

/** The threshold in force at `atMs` across the databases given (current and history), or `fallbackMs` when none is recorded. */
export function staleMsAt(dbs: readonly Db[], atMs: number, fallbackMs: number): number {
  let best: ThresholdRow | undefined;
  for (const db of dbs) {
    const row = stmts(db).inForce.get(atMs) as ThresholdRow | undefined;
    if (row && (!best || row.from_t > best.from_t)) best = row;
  }
  return best?.stale_ms ?? fallbackMs;
}
