/** A bets row as stored (current and history databases share the shape). */
export interface BetRow {
  id: number;
  account_id: number;
  address: string;
  col: number;
  row: number;
  window_start: number;
  window_end: number;
  band_low_cents: number;
  band_high_cents: number;
  stake_micro_usd: number;
  multiplier_hundredths: number;
  payout_micro_usd: number;
  status: "open" | "won" | "lost" | "void";
  placed_at: number;
  resolved_at: number | null;
  resolution_at: number | null;
  resolution_price_cents: number | null;
  resolution_reason: string | null;
  idempotency_key: string;
  request_hash: string;
}

/** The `Bet` object of API.md. */
export interface BetJson {
  id: string;
  address: string;
  col: number;
  row: number;
  windowStart: number;
  windowEnd: number;
  bandLowCents: number;
  bandHighCents: number;
  stakeMicroUsd: number;
  multiplier: number;
  payoutMicroUsd: number;
  status: BetRow["status"];
  placedAt: number;
  resolvedAt?: number;
  resolution?: { at: number | null; priceCents: number | null; reason: string };
}

export const BET_COLUMNS =
  "id, account_id, address, col, row, window_start, window_end, band_low_cents, band_high_cents, stake_micro_usd, " +
  "multiplier_hundredths, payout_micro_usd, status, placed_at, resolved_at, resolution_at, resolution_price_cents, " +
  "resolution_reason, idempotency_key, request_hash";

/** The bet of API.md from its row; the idempotency fields are never sent. */
export function toBetJson(row: Omit<BetRow, "idempotency_key" | "request_hash">): BetJson {
  const bet: BetJson = {
    id: String(row.id),
    address: row.address,
    col: row.col,
    row: row.row,
    windowStart: row.window_start,
    windowEnd: row.window_end,
    bandLowCents: row.band_low_cents,
    bandHighCents: row.band_high_cents,
    stakeMicroUsd: row.stake_micro_usd,
    multiplier: row.multiplier_hundredths / 100,
    payoutMicroUsd: row.payout_micro_usd,
    status: row.status,
    placedAt: row.placed_at,
  };
  if (row.resolved_at !== null) bet.resolvedAt = row.resolved_at;
  if (row.resolution_reason !== null) {
    bet.resolution = { at: row.resolution_at, priceCents: row.resolution_price_cents, reason: row.resolution_reason };
  }
  return bet;
}

/** Payout of a win (SPEC §2): floor(stake × multiplier / 100), a safe integer. */
export function payoutMicroUsd(stakeMicroUsd: number, multiplierHundredths: number): number {
  const payout = Math.floor((stakeMicroUsd * multiplierHundredths) / 100);
  if (!Number.isSafeInteger(payout)) throw new Error(`payout ${payout} is not a safe integer`);
  return payout;
}
