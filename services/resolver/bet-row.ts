import type { BetRow } from "../bets/bet-json.ts";

/** Maps a libsql row (which carries an extra `_metadata`) to a plain BetRow with exactly its fields. */
export function mapBetRow(raw: unknown): BetRow {
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
