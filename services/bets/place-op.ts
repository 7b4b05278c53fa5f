import { statementCache, type Db } from "../../storage/db.ts";
import { FUNDING_ACCOUNT_ID, HOUSE_ACCOUNT_ID, balanceOf, debit, undoDebit } from "../../storage/ledger.ts";
import { withoutSavepoint } from "../../storage/writer.ts";
import { BET_COLUMNS, type BetRow } from "./bet-json.ts";
import { BetRefusal } from "./refusals.ts";
import { toBetRow } from "./rows.ts";
import { holdStake } from "./stake-journal.ts";
import { betWriterState, type BetWriterState } from "./writer-state.ts";

/** Everything a bet needs once it was priced and pre-checked; all integers. */
export interface PlaceParams {
  accountId: number;
  address: string;
  col: number;
  row: number;
  windowStart: number;
  windowEnd: number;
  bandLowCents: number;
  bandHighCents: number;
  stakeMicroUsd: number;
  multiplierHundredths: number;
  payoutMicroUsd: number;
  placedAt: number;
  idempotencyKey: string;
  requestHash: string;
}

/** The limits checked in the writer (they must hold across requests and processes). */
export interface OpLimits {
  openBetsMax: number;
  cellStakeMaxMicroUsd: number;
  cellExposureMaxMicroUsd: number;
  columnExposureMaxMicroUsd: number;
}

/**
 * A bet as it crosses to the writer: one flat array (a structured clone costs about four times as
 * much for an object with these fields), the limits at the end.
 */
export type PlaceArgs = [
  accountId: number,
  address: string,
  col: number,
  row: number,
  windowStart: number,
  windowEnd: number,
  bandLowCents: number,
  bandHighCents: number,
  stakeMicroUsd: number,
  multiplierHundredths: number,
  payoutMicroUsd: number,
  placedAt: number,
  idempotencyKey: string,
  requestHash: string,
  openBetsMax: number,
  cellStakeMaxMicroUsd: number,
  cellExposureMaxMicroUsd: number,
  columnExposureMaxMicroUsd: number,
];

/** What the writer answers for a placed bet: its id and the player's balance after the stake. */
export type Placed = [betId: number, balanceMicroUsd: number];

export function placeArgs(p: PlaceParams, l: OpLimits): PlaceArgs {
  return [
    p.accountId, p.address, p.col, p.row, p.windowStart, p.windowEnd, p.bandLowCents, p.bandHighCents, p.stakeMicroUsd,
    p.multiplierHundredths, p.payoutMicroUsd, p.placedAt, p.idempotencyKey, p.requestHash,
    l.openBetsMax, l.cellStakeMaxMicroUsd, l.cellExposureMaxMicroUsd, l.columnExposureMaxMicroUsd,
  ];
}

/** The idempotency key was already used by this player: nothing was written; here is that bet. */
export class ExistingBet extends Error {
  constructor(readonly bet: BetRow) {
    super("idempotency key already used");
  }
}

/**
 * The idempotency key belongs to a bet the archiver moved to the historical database (migration
 * 080): nothing was written; the caller answers from that bet (same request) or with a conflict.
 */
export class ArchivedBet extends Error {
  constructor(
    readonly betId: number,
    readonly requestHash: string,
  ) {
    super("idempotency key already used by an archived bet");
  }
}

export interface ArchivedKey {
  bet_id: number;
  request_hash: string;
}

function prepare(db: Db) {
  return {
    byKey: db.prepare(`SELECT ${BET_COLUMNS} FROM bets WHERE account_id = ? AND idempotency_key = ?`),
    archivedKey: db.prepare("SELECT bet_id, request_hash FROM archived_bet_keys WHERE account_id = ? AND idempotency_key = ?"),
    // The trigger of migration 060 counts the open bet on the account; the one of 080 refuses an
    // archived key (the whole statement fails and writes nothing).
    insertBet: db.prepare(
      `INSERT INTO bets (account_id, address, col, row, window_start, window_end, band_low_cents, band_high_cents,
         stake_micro_usd, multiplier_hundredths, payout_micro_usd, status, placed_at, idempotency_key, request_hash)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'open', ?, ?, ?)
       ON CONFLICT (account_id, idempotency_key) DO NOTHING`,
    ),
  };
}

export const placeStatements = statementCache(prepare);

/**
 * One bet's batch-queue command (ADR-005/009/010). It runs without a savepoint of its own: every
 * refusal comes before its first write or after that write was undone exactly, and an error after
 * that fails the whole transaction (storage/writer.ts `withoutSavepoint`). In a fixed order:
 * 1. the limits, against the writer's figures of the open bets (writer-state.ts): open bets of the
 *    player, the player's stake in this cell, the house's payout in this cell and in this column;
 * 2. the conditional deduction (ADR-009) → insufficient_balance;
 * 3. the bet row, unless the player already used the idempotency key (UNIQUE: also a retry queued in
 *    the same batch or committed by another process) → ExistingBet, or the key belongs to an archived
 *    bet (the insert's trigger of migration 080) → ArchivedBet; the deduction is undone first;
 * 4. the stake held for the house (stake-journal.ts: its credit and the two ledger entries of ADR-010
 *    are written with the transaction's other bets, before any other operation and before COMMIT);
 *    then the bet counts in the figures.
 * A refused request whose key was used before is answered with ExistingBet (or ArchivedBet): a
 * retry of a committed bet gets its bet back even if a limit would refuse it now.
 */
function placeBet(db: Db, a: PlaceArgs): Placed {
  const [accountId, address, col, row, windowStart, windowEnd, bandLowCents, bandHighCents, stake, multiplier, payout, placedAt, key, hash] = a;
  assertBetTerms(a);
  const s = placeStatements(db);
  const state = betWriterState(db);
  const refusal = limitRefusal(state, a);
  if (refusal) throw earlierBet(s, accountId, key) ?? refusal;

  const balance = debit(db, accountId, stake);
  if (balance === undefined) {
    throw earlierBet(s, accountId, key) ?? new BetRefusal("insufficient_balance", { stakeMicroUsd: stake, balanceMicroUsd: balanceOf(db, accountId) });
  }
  let inserted: { changes: number; lastInsertRowid: number | bigint };
  try {
    inserted = s.insertBet.run(accountId, address, col, row, windowStart, windowEnd, bandLowCents, bandHighCents, stake, multiplier, payout, placedAt, key, hash);
  } catch (error) {
    // Trigger bets_key_not_archived (migration 080): the key belongs to a bet the archiver moved.
    if (!String((error as Error)?.message).includes("archived_idempotency_key")) throw error;
    undoDebit(db, accountId, stake);
    // A key reused before migration 080 may name a current bet too: the current one is the answer.
    throw earlierBet(s, accountId, key) ?? error;
  }
  if (inserted.changes === 0) {
    undoDebit(db, accountId, stake);
    throw earlierBet(s, accountId, key) ?? new Error(`bet insert with key ${key} changed nothing, yet no bet has it`);
  }

  // From here on nothing is refused: an error fails the batch.
  const betId = Number(inserted.lastInsertRowid);
  // Postconditions: a new bet id, and the player's balance what the stake left (never below zero).
  if (!(Number.isSafeInteger(betId) && betId > 0 && Number.isSafeInteger(balance) && balance >= 0)) {
    throw new Error(`bet ${betId} of account ${accountId}: balance ${balance} out of range after the stake`);
  }
  holdStake(db, { accountId, betId, stakeMicroUsd: stake, playerBalanceAfterMicroUsd: balance, at: placedAt });
  state.open({ accountId, col, row, stakeMicroUsd: stake, payoutMicroUsd: payout });
  assertWithinLimits(state, a);
  return [betId, balance];
}

/** Postcondition: with the new bet counted, every figure is within its limit (the checks above let it in). */
function assertWithinLimits(state: BetWriterState, a: PlaceArgs): void {
  const [accountId, , col, row, , , , , , , , , , , openBetsMax, cellStakeMax, cellCap, columnCap] = a;
  if (
    state.openBetsOf(accountId) > openBetsMax ||
    state.playerCellStake(accountId, col, row) > cellStakeMax ||
    state.cellPayout(col, row) > cellCap ||
    state.columnPayout(col) > columnCap
  ) {
    throw new Error(`bet of account ${accountId} in cell ${col}:${row} left a limit exceeded`);
  }
}

export const placeBetOp = withoutSavepoint(placeBet, [BetRefusal, ExistingBet, ArchivedBet], { journaled: true });

/** The first limit the bet would exceed, in the fixed order; undefined when it fits them all. */
function limitRefusal(state: BetWriterState, a: PlaceArgs): BetRefusal | undefined {
  const [accountId, , col, row, , , , , stake, , payout, , , , openBetsMax, cellStakeMax, cellCap, columnCap] = a;
  const openBets = state.openBetsOf(accountId);
  if (openBets >= openBetsMax) return new BetRefusal("too_many_open_bets", { openBets, openBetsMax });
  const cellStake = state.playerCellStake(accountId, col, row);
  if (cellStake + stake > cellStakeMax) {
    return new BetRefusal("exposure_limit", { scope: "player_cell", limitMicroUsd: cellStakeMax, currentMicroUsd: cellStake });
  }
  if (state.cellPayout(col, row) + payout > cellCap) return new BetRefusal("exposure_limit", { scope: "house_cell", limitMicroUsd: cellCap });
  if (state.columnPayout(col) + payout > columnCap) return new BetRefusal("exposure_limit", { scope: "house_column", limitMicroUsd: columnCap });
  return undefined;
}

/** Preconditions: the terms are integers in range (the writer trusts nothing it is sent). */
function assertBetTerms(a: PlaceArgs): void {
  const [accountId, , , , windowStart, windowEnd, bandLow, bandHigh, stake, multiplier, payout, , key, hash] = a;
  const ok =
    Number.isSafeInteger(accountId) && accountId !== FUNDING_ACCOUNT_ID && accountId !== HOUSE_ACCOUNT_ID && accountId > 0 && Number.isSafeInteger(stake) && stake > 0 && Number.isSafeInteger(multiplier) &&
    multiplier > 100 && payout === Math.floor((stake * multiplier) / 100) && Number.isSafeInteger(payout) && windowEnd > windowStart &&
    bandHigh > bandLow && typeof key === "string" && typeof hash === "string";
  if (!ok) throw new Error(`bet terms out of range: ${JSON.stringify(a)}`);
}

/** The answer for a key this player already used: its current bet, or its archived one. Read on refusal paths only. */
function earlierBet(s: ReturnType<typeof prepare>, accountId: number, key: string): ExistingBet | ArchivedBet | undefined {
  const existing = s.byKey.get(accountId, key);
  if (existing) return new ExistingBet(toBetRow(existing));
  const archived = s.archivedKey.get(accountId, key) as ArchivedKey | undefined;
  return archived ? new ArchivedBet(archived.bet_id, archived.request_hash) : undefined;
}

/** The row of a bet placed with `p`, built from what was written (no read back). */
export function newBetRow(id: number, p: PlaceParams): BetRow {
  return {
    id,
    account_id: p.accountId,
    address: p.address,
    col: p.col,
    row: p.row,
    window_start: p.windowStart,
    window_end: p.windowEnd,
    band_low_cents: p.bandLowCents,
    band_high_cents: p.bandHighCents,
    stake_micro_usd: p.stakeMicroUsd,
    multiplier_hundredths: p.multiplierHundredths,
    payout_micro_usd: p.payoutMicroUsd,
    status: "open",
    placed_at: p.placedAt,
    resolved_at: null,
    resolution_at: null,
    resolution_price_cents: null,
    resolution_reason: null,
    idempotency_key: p.idempotencyKey,
    request_hash: p.requestHash,
  };
}
