import type { Db } from "../../storage/db.ts";
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

export type PlaceOutcome =
  | { kind: "created"; bet: BetRow; balanceMicroUsd: number }
  /** The idempotency key was already used by this player: nothing was written. */
  | { kind: "existing"; bet: BetRow };

const cache = new WeakMap<Db, ReturnType<typeof prepare>>();

function prepare(db: Db) {
  return {
    byKey: db.prepare(`SELECT ${BET_COLUMNS} FROM bets WHERE account_id = ? AND idempotency_key = ?`),
    openCount: db.prepare("SELECT count(*) AS n FROM bets WHERE account_id = ? AND status = 'open'"),
    cellStake: db.prepare(
      "SELECT total(stake_micro_usd) AS s FROM bets WHERE account_id = ? AND col = ? AND row = ? AND status = 'open'",
    ),
    // Conditional increments, the exposure analogue of ADR-009: no row back = the cap would be exceeded.
    addCell: db.prepare(
      `INSERT INTO cell_exposure (col, row, payout_micro_usd) SELECT ?, ?, ? WHERE ? <= ?
       ON CONFLICT (col, row) DO UPDATE SET payout_micro_usd = payout_micro_usd + excluded.payout_micro_usd
        WHERE payout_micro_usd + excluded.payout_micro_usd <= ?
       RETURNING payout_micro_usd AS total`,
    ),
    addColumn: db.prepare(
      `INSERT INTO column_exposure (col, payout_micro_usd) SELECT ?, ? WHERE ? <= ?
       ON CONFLICT (col) DO UPDATE SET payout_micro_usd = payout_micro_usd + excluded.payout_micro_usd
        WHERE payout_micro_usd + excluded.payout_micro_usd <= ?
       RETURNING payout_micro_usd AS total`,
    ),
    insertBet: db.prepare(
      `INSERT INTO bets (account_id, address, col, row, window_start, window_end, band_low_cents, band_high_cents,
         stake_micro_usd, multiplier_hundredths, payout_micro_usd, status, placed_at, idempotency_key, request_hash)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'open', ?, ?, ?)
       RETURNING ${BET_COLUMNS}`,
    ),
  };
}

export function placeStatements(db: Db) {
  let s = cache.get(db);
  if (!s) cache.set(db, (s = prepare(db)));
  return s;
}

/**
 * One bet's batch-queue operation (ADR-005/009/010). Checks in a fixed order, each with its own
 * refusal; any throw rolls back this bet's savepoint only:
 * 1. idempotency key already used → the stored bet, nothing written (also for a retry queued in
 *    the same batch, or committed by another process: its transaction finished before ours began);
 * 2. player limits (open bets, stake in this cell) from the partial index of open bets;
 * 3. house exposure caps per cell and per column (conditional increments);
 * 4. the bet row, then the conditional deduction and two ledger entries via `transfer`.
 */
export function placeBetOp(db: Db, p: PlaceParams, limits: OpLimits): PlaceOutcome {
  const s = placeStatements(db);
  const existing = s.byKey.get(p.accountId, p.idempotencyKey);
  if (existing) return { kind: "existing", bet: toBetRow(existing) };

  const { n: openBets } = s.openCount.get(p.accountId) as { n: number };
  if (openBets >= limits.openBetsMax) throw new BetRefusal("too_many_open_bets", { openBets, openBetsMax: limits.openBetsMax });
  const { s: cellStake } = s.cellStake.get(p.accountId, p.col, p.row) as { s: number };
  if (cellStake + p.stakeMicroUsd > limits.cellStakeMaxMicroUsd) {
    throw new BetRefusal("exposure_limit", { scope: "player_cell", limitMicroUsd: limits.cellStakeMaxMicroUsd, currentMicroUsd: cellStake });
  }
  const cellCap = limits.cellExposureMaxMicroUsd;
  if (!s.addCell.get(p.col, p.row, p.payoutMicroUsd, p.payoutMicroUsd, cellCap, cellCap)) {
    throw new BetRefusal("exposure_limit", { scope: "house_cell", limitMicroUsd: cellCap });
  }
  const columnCap = limits.columnExposureMaxMicroUsd;
  if (!s.addColumn.get(p.col, p.payoutMicroUsd, p.payoutMicroUsd, columnCap, columnCap)) {
    throw new BetRefusal("exposure_limit", { scope: "house_column", limitMicroUsd: columnCap });
  }

  const bet = toBetRow(
    s.insertBet.get(
      p.accountId, p.address, p.col, p.row, p.windowStart, p.windowEnd, p.bandLowCents, p.bandHighCents,
      p.stakeMicroUsd, p.multiplierHundredths, p.payoutMicroUsd, p.placedAt, p.idempotencyKey, p.requestHash,
    ),
  );
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
    return { kind: "created", bet, balanceMicroUsd: moved.debitBalanceAfterMicroUsd };
  } catch (error) {
    if (error instanceof InsufficientBalanceError) {
      throw new BetRefusal("insufficient_balance", { stakeMicroUsd: p.stakeMicroUsd, balanceMicroUsd: balanceOf(db, p.accountId) });
    }
    throw error;
  }
}
