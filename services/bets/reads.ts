import type { AppContext } from "../types.ts";
import { statementCache, type Db } from "../../storage/db.ts";
import { BET_COLUMNS, toBetJson, type BetJson, type BetRow } from "./bet-json.ts";
import { LEDGER_COLUMNS, toBetRow, toLedgerEntryJson, toLedgerRow, type LedgerEntryJson } from "./rows.ts";

/**
 * Player reads across the current and the historical database (ADR-006). Both hold the same row
 * shapes and ids (AUTOINCREMENT, never reused), so "newest first" is "highest id first" and a
 * cursor is the last id of the previous page. While the archiver runs, a row can briefly be in both
 * files: pages merge by id and drop duplicates.
 */

const BEFORE_ALL = Number.MAX_SAFE_INTEGER;
const BET_COLUMNS_OF_B = BET_COLUMNS.split(",").map((c) => `b.${c.trim()}`).join(", ");

function prepare(db: Db) {
  return {
    // Through the player's stake entries (ledger_by_account, migration 070): one per bet, and in bet
    // order, because a bet and its entries take their ids in the same operation of the one writer.
    // The cursor (a bet id) becomes an entry-id bound when its stake entry is in this file.
    bets: db.prepare(
      `SELECT ${BET_COLUMNS_OF_B} FROM ledger_entries e JOIN bets b ON b.id = e.bet_id
        WHERE e.account_id = ?1 AND e.kind = 'stake' AND e.bet_id < ?2
          AND e.id < COALESCE((SELECT c.id FROM ledger_entries c WHERE c.bet_id = ?2 AND c.account_id = ?1 AND c.kind = 'stake'), ${BEFORE_ALL})
          AND (?3 IS NULL OR b.status = ?3)
        ORDER BY e.id DESC LIMIT ?4`,
    ),
    bet: db.prepare(`SELECT ${BET_COLUMNS} FROM bets WHERE id = ? AND account_id = ?`),
    ledger: db.prepare(`SELECT ${LEDGER_COLUMNS} FROM ledger_entries WHERE account_id = ? AND id < ? ORDER BY id DESC LIMIT ?`),
  };
}

const stmts = statementCache(prepare);

export interface PageRequest {
  limit: number;
  /** Id of the last item of the previous page; absent for the first page. */
  cursor?: number;
}

export type BetStatus = BetRow["status"];

/** Newest first, at most `limit`, and a cursor when more exist. */
function mergePages<T extends { id: number }>(current: T[], history: T[], limit: number): { items: T[]; nextCursor: string | null } {
  const seen = new Set<number>();
  const merged: T[] = [];
  for (const item of [...current, ...history].sort((a, b) => b.id - a.id)) {
    if (seen.has(item.id)) continue;
    seen.add(item.id);
    merged.push(item);
  }
  const items = merged.slice(0, limit);
  const nextCursor = merged.length > limit && items.length > 0 ? String(items[items.length - 1]!.id) : null;
  return { items, nextCursor };
}


export function listBets(
  ctx: AppContext,
  accountId: number,
  page: PageRequest & { status?: BetStatus },
): { bets: BetJson[]; nextCursor: string | null } {
  const status = page.status ?? null;
  const read = (db: Db) =>
    stmts(db)
      .bets.all(accountId, page.cursor ?? BEFORE_ALL, status, page.limit + 1)
      .map(toBetRow);
  const { items, nextCursor } = mergePages(read(ctx.db), read(ctx.history), page.limit);
  return { bets: items.map(toBetJson), nextCursor };
}

/** A player's own bet from either database; undefined for someone else's or an unknown id. */
export function findBet(ctx: AppContext, accountId: number, betId: number): BetJson | undefined {
  for (const db of [ctx.db, ctx.history]) {
    const raw = stmts(db).bet.get(betId, accountId);
    if (raw) return toBetJson(toBetRow(raw));
  }
  return undefined;
}

export function listLedger(ctx: AppContext, accountId: number, page: PageRequest): { entries: LedgerEntryJson[]; nextCursor: string | null } {
  const read = (db: Db) =>
    stmts(db)
      .ledger.all(accountId, page.cursor ?? BEFORE_ALL, page.limit + 1)
      .map(toLedgerRow);
  const { items, nextCursor } = mergePages(read(ctx.db), read(ctx.history), page.limit);
  return { entries: items.map(toLedgerEntryJson), nextCursor };
}
