import { statementCache, type Db } from "../../storage/db.ts";
import { HOUSE_ACCOUNT_ID, InsufficientBalanceError, balanceOf, transfer } from "../../storage/ledger.ts";
import { BET_COLUMNS, type BetRow } from "./bet-json.ts";
import { BetRefusal } from "./refusals.ts";
import { toBetRow } from "./rows.ts";

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

/** The limits re-checked inside the transaction (they must hold across requests and processes). */
export interface OpLimits {
  openBetsMax: number;
  cellStakeMaxMicroUsd: number;
  cellExposureMaxMicroUsd: number;
  columnExposureMaxMicroUsd: number;
}

export interface PlacedBet {
  bet: BetRow;
  balanceMicroUsd: number;
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
    // The counter kept by the triggers of migration 060 (the row the debit writes anyway).
    openBets: db.prepare("SELECT open_bets AS n FROM accounts WHERE id = ?"),
    // From the covering partial index bets_open_by_cell: this player's open bets in this cell.
    cellStake: db.prepare(
      `SELECT COALESCE(SUM(stake_micro_usd), 0) AS stake FROM bets WHERE col = ? AND row = ? AND account_id = ? AND status = 'open'`,
    ),
    // Conditional increments, the exposure analogue of ADR-009: no row changed = the cap would be exceeded.
    addCell: db.prepare(
      `INSERT INTO cell_exposure (col, row, payout_micro_usd) SELECT ?, ?, ? WHERE ? <= ?
       ON CONFLICT (col, row) DO UPDATE SET payout_micro_usd = payout_micro_usd + excluded.payout_micro_usd
        WHERE payout_micro_usd + excluded.payout_micro_usd <= ?`,
    ),
    addColumn: db.prepare(
      `INSERT INTO column_exposure (col, payout_micro_usd) SELECT ?, ? WHERE ? <= ?
       ON CONFLICT (col) DO UPDATE SET payout_micro_usd = payout_micro_usd + excluded.payout_micro_usd
        WHERE payout_micro_usd + excluded.payout_micro_usd <= ?`,
    ),
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
 * One bet's batch-queue operation (ADR-005/009/010). Checks in a fixed order, each with its own
 * refusal; any throw rolls back this bet's savepoint only:
 * 1. player limits: open bets from the account's counter, stake in this cell from the open bets of the cell;
 * 2. house exposure caps per cell and per column (conditional increments);
 * 3. the bet row, unless the player already used the idempotency key (UNIQUE; also for a retry
 *    queued in the same batch, or committed by another process, whose transaction finished before
 *    ours began) → ExistingBet;
 *    A key whose bet was archived (kept in archived_bet_keys by the purge) makes the insert itself
 *    fail (trigger of migration 080, no extra statement per bet) → ArchivedBet;
 * 4. the conditional deduction and two ledger entries via `transfer`.
 * A refused request whose key was used before is also answered with ExistingBet (or ArchivedBet): a
 * retry of a committed bet gets its bet back even if a limit would refuse it now.
 */
export function placeBetOp(db: Db, p: PlaceParams, limits: OpLimits): PlacedBet {
  const s = placeStatements(db);
  try {
    checkLimits(s, p, limits);
  } catch (error) {
    const existing = s.byKey.get(p.accountId, p.idempotencyKey);
    if (existing) throw new ExistingBet(toBetRow(existing));
    throw archivedBetOf(s, p) ?? error;
  }
  let inserted: { changes: number; lastInsertRowid: number | bigint };
  try {
    inserted = s.insertBet.run(
      p.accountId, p.address, p.col, p.row, p.windowStart, p.windowEnd, p.bandLowCents, p.bandHighCents,
      p.stakeMicroUsd, p.multiplierHundredths, p.payoutMicroUsd, p.placedAt, p.idempotencyKey, p.requestHash,
    );
  } catch (error) {
    // Trigger bets_key_not_archived (migration 080): the key belongs to a bet the archiver moved.
    if (!String((error as Error)?.message).includes("archived_idempotency_key")) throw error;
    // A key reused before migration 080 may name a current bet too: the current one is the answer.
    const existing = s.byKey.get(p.accountId, p.idempotencyKey);
    if (existing) throw new ExistingBet(toBetRow(existing));
    throw archivedBetOf(s, p) ?? error;
  }
  if (inserted.changes === 0) throw new ExistingBet(toBetRow(s.byKey.get(p.accountId, p.idempotencyKey)));
  const bet = newBetRow(Number(inserted.lastInsertRowid), p);
  try {
    const moved = transfer(db, {
      debitAccountId: p.accountId,
      creditAccountId: HOUSE_ACCOUNT_ID,
      amountMicroUsd: p.stakeMicroUsd,
      kind: "stake",
      betId: bet.id,
      at: p.placedAt,
    });
    if (moved.debitBalanceAfterMicroUsd < 0) throw new Error(`player ${p.accountId} balance went negative`);
    return { bet, balanceMicroUsd: moved.debitBalanceAfterMicroUsd };
  } catch (error) {
    if (error instanceof InsufficientBalanceError) {
      throw new BetRefusal("insufficient_balance", { stakeMicroUsd: p.stakeMicroUsd, balanceMicroUsd: balanceOf(db, p.accountId) });
    }
    throw error;
  }
}

/** The ArchivedBet answer when the player's key belongs to an archived bet (only read on refusal paths). */
function archivedBetOf(s: ReturnType<typeof prepare>, p: PlaceParams): ArchivedBet | undefined {
  const archived = s.archivedKey.get(p.accountId, p.idempotencyKey) as ArchivedKey | undefined;
  return archived ? new ArchivedBet(archived.bet_id, archived.request_hash) : undefined;
}

function checkLimits(s: ReturnType<typeof prepare>, p: PlaceParams, limits: OpLimits): void {
  const openBets = (s.openBets.get(p.accountId) as { n: number }).n;
  if (openBets >= limits.openBetsMax) throw new BetRefusal("too_many_open_bets", { openBets, openBetsMax: limits.openBetsMax });
  const cellStake = (s.cellStake.get(p.col, p.row, p.accountId) as { stake: number }).stake;
  if (cellStake + p.stakeMicroUsd > limits.cellStakeMaxMicroUsd) {
    throw new BetRefusal("exposure_limit", { scope: "player_cell", limitMicroUsd: limits.cellStakeMaxMicroUsd, currentMicroUsd: cellStake });
  }
  const cellCap = limits.cellExposureMaxMicroUsd;
  if (s.addCell.run(p.col, p.row, p.payoutMicroUsd, p.payoutMicroUsd, cellCap, cellCap).changes !== 1) {
    throw new BetRefusal("exposure_limit", { scope: "house_cell", limitMicroUsd: cellCap });
  }
  const columnCap = limits.columnExposureMaxMicroUsd;
  if (s.addColumn.run(p.col, p.payoutMicroUsd, p.payoutMicroUsd, columnCap, columnCap).changes !== 1) {
    throw new BetRefusal("exposure_limit", { scope: "house_column", limitMicroUsd: columnCap });
  }
}

/** The row just inserted, built from what was written (no read back). */
function newBetRow(id: number, p: PlaceParams): BetRow {
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
