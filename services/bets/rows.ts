import type { BetRow } from "./bet-json.ts";

/**
 * libsql rows carry an extra `_metadata` property; these map them to plain objects with exactly the
 * documented fields, so nothing internal leaks into JSON.
 */
export function toBetRow(raw: unknown): BetRow {
  const r = raw as BetRow;
  return {
    id: r.id,
    account_id: r.account_id,
    address: r.address,
    col: r.col,
    row: r.row,
    window_start: r.window_start,
    window_end: r.window_end,
    band_low_cents: r.band_low_cents,
    band_high_cents: r.band_high_cents,
    stake_micro_usd: r.stake_micro_usd,
    multiplier_hundredths: r.multiplier_hundredths,
    payout_micro_usd: r.payout_micro_usd,
    status: r.status,
    placed_at: r.placed_at,
    resolved_at: r.resolved_at,
    resolution_at: r.resolution_at,
    resolution_price_cents: r.resolution_price_cents,
    resolution_reason: r.resolution_reason,
    idempotency_key: r.idempotency_key,
    request_hash: r.request_hash,
  };
}

/** A ledger_entries row (current and history share the shape). */
export interface LedgerRow {
  id: number;
  transfer_id: number;
  account_id: number;
  kind: "deposit" | "stake" | "payout" | "refund" | "adjustment";
  amount_micro_usd: number;
  balance_after_micro_usd: number;
  bet_id: number | null;
  reference: string | null;
  at: number;
}

export const LEDGER_COLUMNS = "id, transfer_id, account_id, kind, amount_micro_usd, balance_after_micro_usd, bet_id, reference, at";

export function toLedgerRow(raw: unknown): LedgerRow {
  const r = raw as LedgerRow;
  return {
    id: r.id,
    transfer_id: r.transfer_id,
    account_id: r.account_id,
    kind: r.kind,
    amount_micro_usd: r.amount_micro_usd,
    balance_after_micro_usd: r.balance_after_micro_usd,
    bet_id: r.bet_id,
    reference: r.reference,
    at: r.at,
  };
}

/** The ledger entry object of API.md § Bets (`GET /api/ledger`). Ids are strings like `Bet.id`. */
export interface LedgerEntryJson {
  id: string;
  kind: LedgerRow["kind"];
  amountMicroUsd: number;
  balanceAfterMicroUsd: number;
  betId?: string;
  at: number;
}

export function toLedgerEntryJson(row: LedgerRow): LedgerEntryJson {
  const entry: LedgerEntryJson = {
    id: String(row.id),
    kind: row.kind,
    amountMicroUsd: row.amount_micro_usd,
    balanceAfterMicroUsd: row.balance_after_micro_usd,
    at: row.at,
  };
  if (row.bet_id !== null) entry.betId = String(row.bet_id);
  return entry;
}
