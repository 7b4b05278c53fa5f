import { statementCache, type Db } from "../../storage/db.ts";
import { HOUSE_ACCOUNT_ID, transfer } from "../../storage/ledger.ts";
import type { BetRow } from "../bets/bet-json.ts";
import type { StaleGap, Tick, Verdict } from "../../domain/resolution.ts";
import type { OpenBet } from "./types.ts";
import { betWriterState, forgetBetWriterState } from "../bets/writer-state.ts";

export type SettledBetRow = Omit<BetRow, "idempotency_key" | "request_hash">;

export type FinalVerdict = Exclude<Verdict, { status: "open" }>;

/** One decided bet on its way to the database. */
export interface Settlement {
  bet: OpenBet;
  verdict: FinalVerdict;
  /** When the decision became possible (tick arrival, or window end): the start of the resolver lag. */
  decidedAt: number;
  /** For a win: the tick(s) it was decided on (the touching tick, or the crossing pair). */
  ticks?: readonly Tick[];
  /**
   * Stale gaps the verdict relied on that the price monitor reported but the database may not hold
   * (its write failed, e.g. on a full disk): stored with the settlement, so the proof recomputes it.
   */
  gaps?: readonly StaleGap[];
}

/**
 * What the writer tells about one settled bet, beyond what the resolver already holds: compact, since
 * it crosses from the writer thread for every settlement (a column's end settles tens of thousands).
 */
export interface Settled {
  /** Position in the list of settlements the command was given. */
  index: number;
  multiplierHundredths: number;
  placedAt: number;
  /** The player's balance after a payout or refund; null for a loss (the balance did not change). */
  balanceAfterMicroUsd: number | null;
}

/** The stored terms a settlement is checked against, as the update returns them (raw rows). */
const RETURNED = "id, account_id, window_start, window_end, band_low_cents, band_high_cents, stake_micro_usd, multiplier_hundredths, payout_micro_usd, placed_at";
type Returned = [id: number, accountId: number, windowStart: number, windowEnd: number, bandLowCents: number, bandHighCents: number, stakeMicroUsd: number, multiplierHundredths: number, payoutMicroUsd: number, placedAt: number];

function prepare(db: Db) {
  return {
    // The status guard makes every settlement exactly-once: a second attempt (retry, another
    // process, a replay after restart) changes no row and moves no money.
    // One statement for every bet of a chunk that shares a verdict (a band's bets all do): about half
    // the writer time of one UPDATE per bet (scripts/bench-resolver.ts).
    settle: db.prepare(
      `UPDATE bets SET status = ?, resolved_at = ?, resolution_at = ?, resolution_price_cents = ?, resolution_reason = ?
        WHERE id IN (SELECT value FROM json_each(?)) AND status = 'open' RETURNING ${RETURNED}`,
    ).raw(true),
    // The price module persists every tick too (also INSERT OR IGNORE), but after its listeners ran
    // and possibly in a later batch: storing a win's ticks with the settlement means a crash in
    // between can never leave a paid win whose proof lacks its tick.
    tick: db.prepare("INSERT OR IGNORE INTO price_ticks (t, price_cents) VALUES (?, ?)"),
    // A gap is known by its start (services/resolver/evidence.ts deduplicates by start_at).
    gap: db.prepare("INSERT INTO stale_gaps (start_at, end_at) SELECT ?1, ?2 WHERE NOT EXISTS (SELECT 1 FROM stale_gaps WHERE start_at = ?1)"),
  };
}

const stmts = statementCache(prepare);

/**
 * Settles bets inside one batch-queue operation: per bet the guarded status update and, for a win
 * or a void, the payout or refund transfer from the house (two ledger entries), all in the
 * operation's savepoint; then the settled bets leave the writer's open-bet figures
 * (services/bets/writer-state.ts). Bets no longer open are skipped. Throws (failing the whole operation, so
 * nothing of it happens) when a bet's stored terms differ from the ones it was decided on.
 */
export function settleBets(db: Db, settlements: readonly Settlement[], nowMs: number): Settled[] {
  const s = stmts(db);
  // Taken before the first write (a load now sees the bets still open); they leave it at the end.
  const state = betWriterState(db);
  const rows = new Map<number, Returned>();
  for (const group of byVerdict(settlements)) {
    const { verdict } = group[0]!;
    const ids = JSON.stringify(group.map((x) => x.bet.id));
    for (const row of s.settle.all(verdict.status, nowMs, verdict.at, verdict.priceCents, verdict.reason, ids) as Returned[]) rows.set(row[0], row);
  }
  const settled: Settled[] = [];
  const ticksStored = new Set<number>();
  const gapsStored = new Set<number>();
  for (let index = 0; index < settlements.length; index++) {
    const { bet, verdict, ticks, gaps } = settlements[index]!;
    const row = rows.get(bet.id);
    if (!row) continue;
    rows.delete(bet.id); // a bet listed twice is settled (and paid) once
    assertSameTerms(bet, row);
    let balanceAfterMicroUsd: number | null = null;
    for (const tick of ticks ?? []) {
      if (ticksStored.has(tick.t)) continue;
      ticksStored.add(tick.t);
      s.tick.run(tick.t, tick.priceCents);
    }
    for (const gap of gaps ?? []) {
      if (gapsStored.has(gap.startAt)) continue;
      gapsStored.add(gap.startAt);
      s.gap.run(gap.startAt, gap.endAt);
    }
    if (verdict.status !== "lost") {
      const amount = verdict.status === "won" ? bet.payoutMicroUsd : bet.stakeMicroUsd;
      const kind = verdict.status === "won" ? "payout" : "refund";
      const result = transfer(db, { debitAccountId: HOUSE_ACCOUNT_ID, creditAccountId: bet.accountId, amountMicroUsd: amount, kind, betId: bet.id, at: nowMs });
      balanceAfterMicroUsd = result.creditBalanceAfterMicroUsd;
    }
    settled.push({ index, multiplierHundredths: row[7], placedAt: row[9], balanceAfterMicroUsd });
  }
  for (const { index } of settled) {
    if (!state.close(settlements[index]!.bet)) {
      // The writer's figures did not count this bet (written by someone who did not tell them):
      // they are loaded again from the database at their next use.
      forgetBetWriterState(db);
      break;
    }
  }
  return settled;
}

/** The bet as stored once settled, for its event (without the idempotency fields nobody is sent). */
export function settledBetRow(settlement: Settlement, settled: Settled, resolvedAt: number): SettledBetRow {
  const { bet, verdict } = settlement;
  return {
    id: bet.id,
    account_id: bet.accountId,
    address: bet.address,
    col: bet.col,
    row: bet.row,
    window_start: bet.windowStart,
    window_end: bet.windowEnd,
    band_low_cents: bet.bandLowCents,
    band_high_cents: bet.bandHighCents,
    stake_micro_usd: bet.stakeMicroUsd,
    multiplier_hundredths: settled.multiplierHundredths,
    payout_micro_usd: bet.payoutMicroUsd,
    status: verdict.status,
    placed_at: settled.placedAt,
    resolved_at: resolvedAt,
    resolution_at: verdict.at,
    resolution_price_cents: verdict.priceCents,
    resolution_reason: verdict.reason,
  };
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
function assertSameTerms(bet: OpenBet, row: Returned): void {
  const same =
    row[1] === bet.accountId &&
    row[2] === bet.windowStart &&
    row[3] === bet.windowEnd &&
    row[4] === bet.bandLowCents &&
    row[5] === bet.bandHighCents &&
    row[6] === bet.stakeMicroUsd &&
    row[8] === bet.payoutMicroUsd;
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
