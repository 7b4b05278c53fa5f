import { statementCache, type Db } from "../../storage/db.ts";
import { HOUSE_ACCOUNT_ID, transfer } from "../../storage/ledger.ts";
import { BET_COLUMNS, type BetRow } from "../bets/bet-json.ts";
import { toBetRow } from "../bets/rows.ts";
import type { Tick, Verdict } from "../../domain/resolution.ts";
import type { OpenBet } from "./types.ts";

export type FinalVerdict = Exclude<Verdict, { status: "open" }>;

/** One decided bet on its way to the database. */
export interface Settlement {
  bet: OpenBet;
  verdict: FinalVerdict;
  /** When the decision became possible (tick arrival, or window end): the start of the resolver lag. */
  decidedAt: number;
  /** For a win: the tick(s) it was decided on (the touching tick, or the crossing pair). */
  ticks?: readonly Tick[];
}

export interface Settled {
  settlement: Settlement;
  row: BetRow;
  /** The player's balance after a payout or refund; null for a loss (the balance did not change). */
  balanceAfterMicroUsd: number | null;
}


function prepare(db: Db) {
  return {
    // The status guard makes every settlement exactly-once: a second attempt (retry, another
    // process, a replay after restart) changes no row and moves no money.
    // One statement for every bet of a chunk that shares a verdict (a band's bets all do): about half
    // the writer time of one UPDATE per bet (scripts/bench-resolver.ts).
    settle: db.prepare(
      `UPDATE bets SET status = ?, resolved_at = ?, resolution_at = ?, resolution_price_cents = ?, resolution_reason = ?
        WHERE id IN (SELECT value FROM json_each(?)) AND status = 'open' RETURNING ${BET_COLUMNS}`,
    ),
    // The price module persists every tick too (also INSERT OR IGNORE), but after its listeners ran
    // and possibly in a later batch: storing a win's ticks with the settlement means a crash in
    // between can never leave a paid win whose proof lacks its tick.
    tick: db.prepare("INSERT OR IGNORE INTO price_ticks (t, price_cents) VALUES (?, ?)"),
  };
}

const stmts = statementCache(prepare);

/**
 * Settles bets inside one batch-queue operation: per bet the guarded status update and, for a win
 * or a void, the payout or refund transfer from the house (two ledger entries), all in the
 * operation's savepoint. Bets no longer open are skipped. Throws (failing the whole operation, so
 * nothing of it happens) when a bet's stored terms differ from the ones it was decided on.
 */
export function settleBets(db: Db, settlements: readonly Settlement[], nowMs: number): Settled[] {
  const s = stmts(db);
  const rows = new Map<number, BetRow>();
  for (const group of byVerdict(settlements)) {
    const { verdict } = group[0]!;
    const ids = JSON.stringify(group.map((x) => x.bet.id));
    for (const raw of s.settle.all(verdict.status, nowMs, verdict.at, verdict.priceCents, verdict.reason, ids)) {
      const row = toBetRow(raw);
      rows.set(row.id, row);
    }
  }
  const settled: Settled[] = [];
  const ticksStored = new Set<number>();
  for (const settlement of settlements) {
    const { bet, verdict } = settlement;
    const row = rows.get(bet.id);
    if (!row) continue;
    rows.delete(bet.id); // a bet listed twice is settled (and paid) once
    assertSameTerms(bet, row);
    let balanceAfterMicroUsd: number | null = null;
    for (const tick of settlement.ticks ?? []) {
      if (ticksStored.has(tick.t)) continue;
      ticksStored.add(tick.t);
      s.tick.run(tick.t, tick.priceCents);
    }
    if (verdict.status !== "lost") {
      const amount = verdict.status === "won" ? row.payout_micro_usd : row.stake_micro_usd;
      const kind = verdict.status === "won" ? "payout" : "refund";
      const result = transfer(db, { debitAccountId: HOUSE_ACCOUNT_ID, creditAccountId: row.account_id, amountMicroUsd: amount, kind, betId: row.id, at: nowMs });
      balanceAfterMicroUsd = result.creditBalanceAfterMicroUsd;
    }
    settled.push({ settlement, row, balanceAfterMicroUsd });
  }
  return settled;
}

/** Settlements grouped by identical verdict (status, time, price, reason), in first-seen order. */
function byVerdict(settlements: readonly Settlement[]): Settlement[][] {
  const groups = new Map<string, Settlement[]>();
  for (const x of settlements) {
    const v = x.verdict;
    const key = `${v.status}|${v.at}|${v.priceCents}|${v.reason}`;
    const group = groups.get(key);
    if (group) group.push(x);
    else groups.set(key, [x]);
  }
  return [...groups.values()];
}

/** The decision was made on the in-memory copy of the bet; it must be the stored bet. */
function assertSameTerms(bet: OpenBet, row: BetRow): void {
  const same =
    row.account_id === bet.accountId &&
    row.window_start === bet.windowStart &&
    row.window_end === bet.windowEnd &&
    row.band_low_cents === bet.bandLowCents &&
    row.band_high_cents === bet.bandHighCents;
  if (!same) throw new Error(`bet ${bet.id}: stored terms differ from the tracked ones; not settling`);
}

/** The resolver's view of a stored open bet. */
export function openBetFromRow(row: BetRow): OpenBet {
  return {
    id: row.id,
    accountId: row.account_id,
    address: row.address,
    col: row.col,
    row: row.row,
    windowStart: row.window_start,
    windowEnd: row.window_end,
    bandLowCents: row.band_low_cents,
    bandHighCents: row.band_high_cents,
    stakeMicroUsd: row.stake_micro_usd,
    payoutMicroUsd: row.payout_micro_usd,
  };
}
