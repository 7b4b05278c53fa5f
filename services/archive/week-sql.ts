import type { Db } from "../../storage/db.ts";

/**
 * The SQL of the archiver, for its own connection to the current database (`main`) with the
 * historical one attached as `hist`. Everything works on small chunks — an explicit list of bet ids
 * (JSON array parameter) or a short time slice of ticks — so no statement blocks the event loop or
 * holds a lock for long.
 *
 * Week membership is chosen so a closed week never gains rows: a settled bet belongs to the week of
 * `resolved_at` (set at settlement, i.e. "now"), its ledger entries go with it whatever their `at`,
 * a tick to the week of its t, a stale gap to the week it ended in (open gaps stay in current).
 */
export type Schema = "main" | "hist";

export const BET_COLS =
  "id, account_id, address, col, row, window_start, window_end, band_low_cents, band_high_cents, stake_micro_usd, " +
  "multiplier_hundredths, payout_micro_usd, status, placed_at, resolved_at, resolution_at, resolution_price_cents, " +
  "resolution_reason, idempotency_key, request_hash";
export const ENTRY_COLS = "id, transfer_id, account_id, kind, amount_micro_usd, balance_after_micro_usd, bet_id, reference, at";

/** Settled bets among the ids of a chunk (?1 = JSON array of ids). */
const chunkBets = (s: Schema) => `${s}.bets WHERE id IN (SELECT value FROM json_each(?1)) AND status <> 'open'`;
const chunkEntries = (s: Schema) => `${s}.ledger_entries WHERE bet_id IN (SELECT value FROM json_each(?1))`;

export interface WeekTotals {
  bets: number;
  stakeMicroUsd: number;
  payoutMicroUsd: number;
  ledgerEntries: number;
  ledgerSumMicroUsd: number;
  ledgerCreditMicroUsd: number;
  priceTicks: number;
  priceSumCents: number;
  staleGaps: number;
}

export const zeroTotals = (): WeekTotals => ({
  bets: 0,
  stakeMicroUsd: 0,
  payoutMicroUsd: 0,
  ledgerEntries: 0,
  ledgerSumMicroUsd: 0,
  ledgerCreditMicroUsd: 0,
  priceTicks: 0,
  priceSumCents: 0,
  staleGaps: 0,
});

export function prepareWeekSql(conn: Db) {
  const perSchema = (s: Schema) => ({
    // Keyset pagination over (resolved_at, id) through the bets_by_resolved index: ?1,?2 week, ?3,?4 after, ?5 limit.
    nextBetIds: conn.prepare(
      `SELECT id, resolved_at FROM ${s}.bets WHERE resolved_at >= ?1 AND resolved_at < ?2 AND (resolved_at, id) > (?3, ?4)
         AND status <> 'open' ORDER BY resolved_at, id LIMIT ?5`,
    ),
    betTotals: conn.prepare(
      `SELECT count(*) AS n, COALESCE(SUM(stake_micro_usd), 0) AS stake,
              COALESCE(SUM(CASE WHEN status = 'won' THEN payout_micro_usd ELSE 0 END), 0) AS payout FROM ${chunkBets(s)}`,
    ),
    entryTotals: conn.prepare(
      `SELECT count(*) AS n, COALESCE(SUM(amount_micro_usd), 0) AS total,
              COALESCE(SUM(CASE WHEN amount_micro_usd > 0 THEN amount_micro_usd ELSE 0 END), 0) AS credit FROM ${chunkEntries(s)}`,
    ),
    tickTotals: conn.prepare(`SELECT count(*) AS n, COALESCE(SUM(price_cents), 0) AS total FROM ${s}.price_ticks WHERE t >= ?1 AND t < ?2`),
    gapTotals: conn.prepare(`SELECT count(*) AS n FROM ${s}.stale_gaps WHERE end_at >= ?1 AND end_at < ?2`),
  });
  return {
    main: perSchema("main"),
    hist: perSchema("hist"),
    /** The oldest time (settlement, tick, gap end) before ?1 still in current: the next week to archive. */
    firstLeft: conn.prepare(
      `SELECT MIN(m) AS t FROM (SELECT MIN(resolved_at) AS m FROM main.bets WHERE resolved_at < ?1 AND status <> 'open'
         UNION ALL SELECT MIN(t) FROM main.price_ticks WHERE t < ?1
         UNION ALL SELECT MIN(end_at) FROM main.stale_gaps WHERE end_at < ?1)`,
    ),
    copyBets: conn.prepare(`INSERT OR IGNORE INTO hist.bets (${BET_COLS}) SELECT ${BET_COLS} FROM ${chunkBets("main")}`),
    copyEntries: conn.prepare(`INSERT OR IGNORE INTO hist.ledger_entries (${ENTRY_COLS}) SELECT ${ENTRY_COLS} FROM ${chunkEntries("main")}`),
    // Rows of current that history lacks or holds differently (EXCEPT compares every column, NULLs equal).
    missingBets: conn.prepare(`SELECT count(*) AS n FROM (SELECT ${BET_COLS} FROM ${chunkBets("main")} EXCEPT SELECT ${BET_COLS} FROM ${chunkBets("hist")})`),
    missingEntries: conn.prepare(`SELECT count(*) AS n FROM (SELECT ${ENTRY_COLS} FROM ${chunkEntries("main")} EXCEPT SELECT ${ENTRY_COLS} FROM ${chunkEntries("hist")})`),
    copyTicks: conn.prepare("INSERT OR IGNORE INTO hist.price_ticks (t, price_cents) SELECT t, price_cents FROM main.price_ticks WHERE t >= ?1 AND t < ?2"),
    missingTicks: conn.prepare(
      `SELECT count(*) AS n FROM (SELECT t, price_cents FROM main.price_ticks WHERE t >= ?1 AND t < ?2
         EXCEPT SELECT t, price_cents FROM hist.price_ticks WHERE t >= ?1 AND t < ?2)`,
    ),
    copyGaps: conn.prepare("INSERT OR IGNORE INTO hist.stale_gaps (id, start_at, end_at) SELECT id, start_at, end_at FROM main.stale_gaps WHERE end_at >= ?1 AND end_at < ?2"),
    missingGaps: conn.prepare(
      `SELECT count(*) AS n FROM (SELECT id, start_at, end_at FROM main.stale_gaps WHERE end_at >= ?1 AND end_at < ?2
         EXCEPT SELECT id, start_at, end_at FROM hist.stale_gaps WHERE end_at >= ?1 AND end_at < ?2)`,
    ),
    // The stale thresholds in force up to the week's end (migration 090): copied, never purged (one row per change).
    copyThresholds: conn.prepare(
      "INSERT OR IGNORE INTO hist.stale_thresholds (from_t, stale_ms) SELECT from_t, stale_ms FROM main.stale_thresholds WHERE from_t < ?1",
    ),
    missingThresholds: conn.prepare(
      `SELECT count(*) AS n FROM (SELECT from_t, stale_ms FROM main.stale_thresholds WHERE from_t < ?1
         EXCEPT SELECT from_t, stale_ms FROM hist.stale_thresholds WHERE from_t < ?1)`,
    ),
    /** The t of the ?3-th tick (0-based) in [?1, ?2): the end of the next purge chunk. */
    tickBoundary: conn.prepare("SELECT t FROM main.price_ticks WHERE t >= ?1 AND t < ?2 ORDER BY t LIMIT 1 OFFSET ?3"),
    gapIds: conn.prepare("SELECT id FROM main.stale_gaps WHERE end_at >= ?1 AND end_at < ?2 ORDER BY id LIMIT ?3"),
    record: conn.prepare("SELECT * FROM hist.archived_weeks WHERE week_start = ?"),
    writeRecord: conn.prepare(
      `INSERT INTO hist.archived_weeks (week_start, bets, ledger_entries, price_ticks, stake_micro_usd, ledger_sum_micro_usd, archived_at,
         stale_gaps, payout_micro_usd, ledger_credit_micro_usd, price_sum_cents) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
  };
}

export type WeekSql = ReturnType<typeof prepareWeekSql>;
type SchemaSql = WeekSql["main"];

/** Adds the bets and ledger entries of a chunk of bet ids to `into`. */
export function addBetChunk(sql: SchemaSql, idsJson: string, into: WeekTotals): void {
  const b = sql.betTotals.get(idsJson) as { n: number; stake: number; payout: number };
  const e = sql.entryTotals.get(idsJson) as { n: number; total: number; credit: number };
  into.bets += b.n;
  into.stakeMicroUsd += b.stake;
  into.payoutMicroUsd += b.payout;
  into.ledgerEntries += e.n;
  into.ledgerSumMicroUsd += e.total;
  into.ledgerCreditMicroUsd += e.credit;
}

export function addTickSlice(sql: SchemaSql, fromMs: number, toMs: number, into: WeekTotals): void {
  const t = sql.tickTotals.get(fromMs, toMs) as { n: number; total: number };
  into.priceTicks += t.n;
  into.priceSumCents += t.total;
}

export function addGaps(sql: SchemaSql, fromMs: number, toMs: number, into: WeekTotals): void {
  into.staleGaps += (sql.gapTotals.get(fromMs, toMs) as { n: number }).n;
}

/** The totals recorded in hist.archived_weeks, or undefined before the week was first verified. */
export function recordedTotals(sql: WeekSql, weekStart: number): WeekTotals | undefined {
  const r = sql.record.get(weekStart) as Record<string, number> | undefined;
  if (!r) return undefined;
  return {
    bets: r.bets!,
    stakeMicroUsd: r.stake_micro_usd!,
    payoutMicroUsd: r.payout_micro_usd!,
    ledgerEntries: r.ledger_entries!,
    ledgerSumMicroUsd: r.ledger_sum_micro_usd!,
    ledgerCreditMicroUsd: r.ledger_credit_micro_usd!,
    priceTicks: r.price_ticks!,
    priceSumCents: r.price_sum_cents!,
    staleGaps: r.stale_gaps!,
  };
}

export function writeRecord(sql: WeekSql, weekStart: number, t: WeekTotals, at: number): void {
  sql.writeRecord.run(weekStart, t.bets, t.ledgerEntries, t.priceTicks, t.stakeMicroUsd, t.ledgerSumMicroUsd, at, t.staleGaps, t.payoutMicroUsd, t.ledgerCreditMicroUsd, t.priceSumCents);
}

export function sameTotals(a: WeekTotals, b: WeekTotals): boolean {
  return (Object.keys(a) as (keyof WeekTotals)[]).every((k) => a[k] === b[k]);
}

export function isEmpty(t: WeekTotals): boolean {
  return t.bets === 0 && t.ledgerEntries === 0 && t.priceTicks === 0 && t.staleGaps === 0;
}
