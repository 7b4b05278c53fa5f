import { statementCache, type Db } from "../../storage/db.ts";
import type { StaleGap } from "./types.ts";

/** SQL of the price module: index ticks and stale gaps (tables of migration 001). */

function prepare(db: Db) {
  return {
    // OR IGNORE: with several API processes feeding one database the first writer of a t wins.
    insertTick: db.prepare("INSERT OR IGNORE INTO price_ticks (t, price_cents) VALUES (?, ?)"),
    openGap: db.prepare("INSERT INTO stale_gaps (start_at, end_at) VALUES (?, NULL)"),
    // Closes every open row: at most one is open, but a crash while open may have left one behind.
    closeGaps: db.prepare("UPDATE stale_gaps SET end_at = ? WHERE end_at IS NULL"),
  };
}

const stmts = statementCache(prepare);

/** Write commands (services/commands.ts): synchronous, run inside the writer's transaction. */
export function insertTick(db: Db, t: number, priceCents: number): void {
  stmts(db).insertTick.run(t, priceCents);
}
export function openGap(db: Db, startAt: number): void {
  stmts(db).openGap.run(startAt);
}
export function closeGaps(db: Db, endAt: number): void {
  stmts(db).closeGaps.run(endAt);
}

/** The newest stored tick (reads may use the db directly). */
export function loadLastTick(db: Db): { t: number; priceCents: number } | undefined {
  const row = db.prepare("SELECT t, price_cents FROM price_ticks ORDER BY t DESC LIMIT 1").get() as
    | { t: number; price_cents: number }
    | undefined;
  return row ? { t: Number(row.t), priceCents: Number(row.price_cents) } : undefined;
}

/** Recent gaps (ended after `sinceMs`, or still open), oldest first, at most `limit`. */
export function loadRecentGaps(db: Db, sinceMs: number, limit: number): StaleGap[] {
  const rows = db
    .prepare(
      `SELECT start_at, end_at FROM (
         SELECT id, start_at, end_at FROM stale_gaps WHERE end_at IS NULL OR end_at > ? ORDER BY id DESC LIMIT ?
       ) ORDER BY id`,
    )
    .all(sinceMs, limit) as { start_at: number; end_at: number | null }[];
  return rows.map((r) => ({ startAt: Number(r.start_at), endAt: r.end_at === null ? null : Number(r.end_at) }));
}
