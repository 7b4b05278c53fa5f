import { writeDirect } from "./write.ts";
import { randomBytes } from "node:crypto";
import type { AppContext } from "../../runtime/context.ts";
import type { Db } from "../../storage/db.ts";
import { HOUSE_ACCOUNT_ID, transfer } from "../../storage/ledger.ts";
import type { OpenBet } from "../../services/resolver/types.ts";

export interface BetSpec {
  accountId: number;
  address: string;
  col: number;
  row: number;
  stakeMicroUsd: number;
  multiplierHundredths: number;
  placedAt: number;
}

/**
 * Inserts one open bet the way bet placement commits it (bet row + stake transfer from the player
 * to the house), inside a batch-queue operation. For suites about settlement that need exact cells
 * and multipliers without the pricing engine and lock-ahead rules in the way.
 */
export function insertOpenBet(db: Db, spec: BetSpec, columnMs: number, rowCents: number): OpenBet {
  const windowStart = spec.col * columnMs;
  const windowEnd = windowStart + columnMs;
  const bandLowCents = spec.row * rowCents;
  const bandHighCents = bandLowCents + rowCents;
  const payoutMicroUsd = Math.floor((spec.stakeMicroUsd * spec.multiplierHundredths) / 100);
  const { id } = db
    .prepare(
      `INSERT INTO bets (account_id, address, col, row, window_start, window_end, band_low_cents, band_high_cents,
         stake_micro_usd, multiplier_hundredths, payout_micro_usd, status, placed_at, idempotency_key, request_hash)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'open', ?, ?, 'fixture') RETURNING id`,
    )
    .get(
      spec.accountId, spec.address, spec.col, spec.row, windowStart, windowEnd, bandLowCents, bandHighCents,
      spec.stakeMicroUsd, spec.multiplierHundredths, payoutMicroUsd, spec.placedAt, randomBytes(8).toString("hex"),
    ) as { id: number };
  transfer(db, { debitAccountId: spec.accountId, creditAccountId: HOUSE_ACCOUNT_ID, amountMicroUsd: spec.stakeMicroUsd, kind: "stake", betId: id, at: spec.placedAt });
  return {
    id,
    accountId: spec.accountId,
    address: spec.address,
    col: spec.col,
    row: spec.row,
    windowStart,
    windowEnd,
    bandLowCents,
    bandHighCents,
    stakeMicroUsd: spec.stakeMicroUsd,
    payoutMicroUsd,
  };
}

/**
 * Writes an open bet (after everything already queued has committed, as if it had been queued too)
 * and hands it to the resolver, as the bets module does after commit.
 */
export async function placeBet(ctx: AppContext, spec: BetSpec): Promise<OpenBet> {
  await ctx.queue.barrier();
  const bet = writeDirect(ctx, (db) => insertOpenBet(db, spec, ctx.config.COLUMN_MS, ctx.config.ROW_CENTS));
  ctx.services.resolver.track(bet);
  return bet;
}

export function betStatus(ctx: AppContext, id: number) {
  const row = (ctx.db.prepare("SELECT status, resolution_at, resolution_price_cents, resolution_reason FROM bets WHERE id = ?").get(id) ??
    ctx.history.prepare("SELECT status, resolution_at, resolution_price_cents, resolution_reason FROM bets WHERE id = ?").get(id)) as
    | { status: string; resolution_at: number | null; resolution_price_cents: number | null; resolution_reason: string | null }
    | undefined;
  if (!row) throw new Error(`no bet ${id}`);
  return { status: row.status, at: row.resolution_at, priceCents: row.resolution_price_cents, reason: row.resolution_reason };
}

/** Ledger entries of one bet on the player's side, oldest first, as [kind, amount]. */
export function playerEntries(ctx: AppContext, betId: number, accountId: number): [string, number][] {
  const rows = ctx.db
    .prepare("SELECT kind, amount_micro_usd AS amount FROM ledger_entries WHERE bet_id = ? AND account_id = ? ORDER BY id")
    .all(betId, accountId) as { kind: string; amount: number }[];
  return rows.map((r) => [r.kind, r.amount]);
}

/** Collects the player events published on the bus channel "user". */
export function collectUserEvents(ctx: AppContext): { events: { address: string; event: { type: string; [k: string]: unknown } }[]; stop: () => void } {
  const events: { address: string; event: { type: string } }[] = [];
  const stop = ctx.bus.subscribe("user", (message) => events.push(JSON.parse(message)));
  return { events, stop };
}
