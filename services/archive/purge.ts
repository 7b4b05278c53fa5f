import { statementCache, type Db } from "../../storage/db.ts";

/**
 * Write commands (services/commands.ts) that delete archived rows from the current database, one small chunk per
 * operation, so the shared writer is never held long (SPEC §10: ≤ 50 ms). Each reports how long it
 * ran inside the transaction. Guards: never a row of an open bet, never an open stale gap.
 */
export interface PurgeResult {
  rows: number;
  heldMs: number;
}


function prepare(db: Db) {
  return {
    // Before the bets go: their idempotency keys stay answerable (migration 080). A key a player
    // used again after its first bet was archived maps to the newest bet that used it.
    keys: db.prepare(
      `INSERT INTO archived_bet_keys (account_id, idempotency_key, bet_id, request_hash, placed_at)
       SELECT account_id, idempotency_key, id, request_hash, placed_at FROM bets WHERE id IN (SELECT value FROM json_each(?)) AND status <> 'open'
       ON CONFLICT (account_id, idempotency_key) DO UPDATE SET bet_id = excluded.bet_id, request_hash = excluded.request_hash,
         placed_at = excluded.placed_at WHERE excluded.bet_id > archived_bet_keys.bet_id`,
    ),
    // ?1 = JSON array of [account_id, idempotency_key, bet_id, request_hash, placed_at] rows read from history.
    rememberKeys: db.prepare(
      `INSERT INTO archived_bet_keys (account_id, idempotency_key, bet_id, request_hash, placed_at)
       SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4 FROM json_each(?1) WHERE true
       ON CONFLICT (account_id, idempotency_key) DO UPDATE SET bet_id = excluded.bet_id, request_hash = excluded.request_hash,
         placed_at = excluded.placed_at WHERE excluded.bet_id > archived_bet_keys.bet_id`,
    ),
    markBackfilled: db.prepare("INSERT OR IGNORE INTO archived_bet_keys_backfill (id, done_at) VALUES (1, ?)"),
    pruneKeys: db.prepare(
      `DELETE FROM archived_bet_keys WHERE (account_id, idempotency_key) IN
         (SELECT account_id, idempotency_key FROM archived_bet_keys WHERE placed_at < ? ORDER BY placed_at LIMIT ?)`,
    ),
    entries: db.prepare(
      "DELETE FROM ledger_entries WHERE bet_id IN (SELECT id FROM bets WHERE id IN (SELECT value FROM json_each(?)) AND status <> 'open')",
    ),
    bets: db.prepare("DELETE FROM bets WHERE id IN (SELECT value FROM json_each(?)) AND status <> 'open'"),
    ticks: db.prepare("DELETE FROM price_ticks WHERE t >= ? AND t < ?"),
    gaps: db.prepare("DELETE FROM stale_gaps WHERE id IN (SELECT value FROM json_each(?)) AND end_at IS NOT NULL"),
  };
}

const stmts = statementCache(prepare);

/**
 * A bet and its ledger entries leave together, so a crash between chunks never orphans entries; its
 * idempotency key stays in archived_bet_keys in the same transaction, so a retry never sees it gone.
 */
export function purgeBets(db: Db, betIds: number[]): PurgeResult {
  const started = performance.now();
  const ids = JSON.stringify(betIds);
  const s = stmts(db);
  s.keys.run(ids);
  const entries = s.entries.run(ids).changes;
  const bets = s.bets.run(ids).changes;
  return { rows: entries + bets, heldMs: performance.now() - started };
}

export function purgeTicks(db: Db, fromMs: number, toMs: number): PurgeResult {
  const started = performance.now();
  const rows = stmts(db).ticks.run(fromMs, toMs).changes;
  return { rows, heldMs: performance.now() - started };
}

export function purgeGaps(db: Db, gapIds: number[]): PurgeResult {
  const started = performance.now();
  const rows = stmts(db).gaps.run(JSON.stringify(gapIds)).changes;
  return { rows, heldMs: performance.now() - started };
}

/** Forgets up to `limit` archived idempotency keys of bets placed before `beforeMs` (the retention horizon). */
export function pruneArchivedBetKeys(db: Db, beforeMs: number, limit: number): PurgeResult {
  const started = performance.now();
  const rows = stmts(db).pruneKeys.run(beforeMs, limit).changes;
  return { rows, heldMs: performance.now() - started };
}

/** The one-time backfill (migration 080): keys of bets archived before the key table existed. */
export function rememberArchivedBetKeys(db: Db, rowsJson: string): PurgeResult {
  const started = performance.now();
  const rows = stmts(db).rememberKeys.run(rowsJson).changes;
  return { rows, heldMs: performance.now() - started };
}

export function markBetKeysBackfilled(db: Db, at: number): void {
  stmts(db).markBackfilled.run(at);
}
