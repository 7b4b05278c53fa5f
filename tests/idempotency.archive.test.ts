import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPlayer, type TestPlayer } from "./helpers/players.ts";
import { feedPrice, newKey, pickCell, postBet, START_PRICE_CENTS, startBetServer, type BetServer } from "./helpers/bets-fixture.ts";
import { WEEK_MS, weekStartOf } from "../services/archive/weeks.ts";
import { writeDirect } from "./helpers/write.ts";

/**
 * Issue 13 item 5: idempotency spans the weekly archive. A bet placed late on a Sunday is settled and
 * archived by the Monday run; the player's retry with the same key then gets the original (archived)
 * bet with 200, another body gets 409 idempotency_conflict — never a second bet and a second debit.
 * Keys are remembered for IDEMPOTENCY_KEY_RETENTION_MS after placement (the documented horizon).
 */
const USD = 1_000_000;
const DAY_MS = 86_400_000;
const RETENTION_MS = 2 * DAY_MS;

let server: BetServer;
let player: TestPlayer;

beforeAll(async () => {
  server = await startBetServer({ ARCHIVE_MODE: "inline", IDEMPOTENCY_KEY_RETENTION_MS: RETENTION_MS, SESSION_TTL_MS: 30 * DAY_MS });
  // Sunday 23:50: the bets of this suite are placed before the week ends.
  server.clock.nowMs = weekStartOf(server.clock.nowMs) + WEEK_MS - 10 * 60_000;
  feedPrice(server, START_PRICE_CENTS);
  player = await createPlayer(server.ctx, 100 * USD);
});
afterAll(async () => {
  await server.stop();
});

const balance = () => (server.ctx.db.prepare("SELECT balance_micro_usd AS b FROM accounts WHERE id = ?").get(player.accountId) as { b: number }).b;
const count = (db: BetServer["ctx"]["db"], sql: string) => (db.prepare(sql).get(player.accountId) as { n: number }).n;
const betsOfPlayer = () => count(server.ctx.db, "SELECT count(*) AS n FROM bets WHERE account_id = ?") + count(server.ctx.history, "SELECT count(*) AS n FROM bets WHERE account_id = ?");
const entriesOfPlayer = () =>
  count(server.ctx.db, "SELECT count(*) AS n FROM ledger_entries WHERE account_id = ?") + count(server.ctx.history, "SELECT count(*) AS n FROM ledger_entries WHERE account_id = ?");

/** Ticks every 500 ms up to `untilMs` (the feed stays fresh), then the resolver decides what ended. */
async function runClockTo(untilMs: number) {
  while (server.clock.nowMs < untilMs) {
    server.clock.nowMs = Math.min(untilMs, server.clock.nowMs + 500);
    feedPrice(server, START_PRICE_CENTS);
  }
  await server.ctx.services.resolver.sweep();
}

describe("idempotency keys after the weekly archive", () => {
  let original: { id: string; status: string };
  let body: { col: number; row: number; stakeMicroUsd: number; idempotencyKey: string };
  let balanceAfterSettlement: number;

  it("a bet placed on Sunday night is settled, then archived by Monday's run", async () => {
    const nextMonday = weekStartOf(server.clock.nowMs) + WEEK_MS;
    const cell = await pickCell(server);
    body = { col: cell.col, row: cell.row, stakeMicroUsd: 2 * USD, idempotencyKey: newKey() };
    const placed = await postBet(server, player.token, body);
    expect(placed.status).toBe(201);
    await runClockTo(placed.body.bet.windowEnd + 2000);
    const settled = server.ctx.db.prepare("SELECT status FROM bets WHERE id = ?").get(Number(placed.body.bet.id)) as { status: string };
    expect(settled.status).not.toBe("open");
    balanceAfterSettlement = balance();

    server.clock.nowMs = nextMonday + 5 * 60_000; // Monday 00:05, like the cron job
    feedPrice(server, START_PRICE_CENTS);
    const report = await server.ctx.services.archive.run();
    expect(report.ok).toBe(true);
    expect(server.ctx.db.prepare("SELECT id FROM bets WHERE id = ?").get(Number(placed.body.bet.id))).toBeUndefined();
    const archived = server.ctx.history.prepare("SELECT id, status FROM bets WHERE id = ?").get(Number(placed.body.bet.id)) as { id: number; status: string };
    expect(archived.status).toBe(settled.status);
    original = { id: placed.body.bet.id, status: settled.status };
  });

  it("the same key and body again → 200 with the original (archived, settled) bet, no second debit", async () => {
    const before = { balance: balance(), bets: betsOfPlayer(), entries: entriesOfPlayer() };
    expect(before.balance).toBe(balanceAfterSettlement);
    for (let i = 0; i < 2; i++) {
      const retry = await postBet(server, player.token, body);
      expect(retry.status).toBe(200);
      expect(retry.body.bet).toMatchObject({ id: original.id, status: original.status, col: body.col, row: body.row, stakeMicroUsd: body.stakeMicroUsd });
      expect(retry.body.balanceMicroUsd).toBe(before.balance);
    }
    expect({ balance: balance(), bets: betsOfPlayer(), entries: entriesOfPlayer() }).toEqual(before);
  });

  it("the same key with another body → 409 idempotency_conflict, whether or not the new body could be placed", async () => {
    const before = { balance: balance(), bets: betsOfPlayer(), entries: entriesOfPlayer() };
    // The old cell with another stake: refused before the queue (the window is past), found by key.
    const stale = await postBet(server, player.token, { ...body, stakeMicroUsd: 3 * USD });
    expect([stale.status, stale.body.error.code]).toEqual([409, "idempotency_conflict"]);
    expect(stale.body.error.details).toEqual({ betId: original.id });
    // A cell offered now: the request passes every check up to the batch operation, which finds the key.
    const cell = await pickCell(server);
    const fresh = await postBet(server, player.token, { col: cell.col, row: cell.row, stakeMicroUsd: body.stakeMicroUsd, idempotencyKey: body.idempotencyKey });
    expect([fresh.status, fresh.body.error.code]).toEqual([409, "idempotency_conflict"]);
    expect({ balance: balance(), bets: betsOfPlayer(), entries: entriesOfPlayer() }).toEqual(before);
    // Another player's identical key is theirs: keys are per player.
    const other = await createPlayer(server.ctx, 100 * USD);
    const theirs = await postBet(server, other.token, { col: cell.col, row: cell.row, stakeMicroUsd: body.stakeMicroUsd, idempotencyKey: body.idempotencyKey });
    expect(theirs.status).toBe(201);
  });

  it("keys of bets archived before the key table existed are remembered by the next archive run, once", async () => {
    // The state right after upgrading a database whose bet was archived by the previous version.
    writeDirect(server.ctx, (db) => db.exec("DELETE FROM archived_bet_keys; DELETE FROM archived_bet_keys_backfill"));
    const first = await server.ctx.services.archive.run();
    expect([first.ok, first.betKeysBackfilled]).toEqual([true, 1]);
    expect((await server.ctx.services.archive.run()).betKeysBackfilled).toBe(0);
    const before = { balance: balance(), bets: betsOfPlayer() };
    const retry = await postBet(server, player.token, body);
    expect([retry.status, retry.body.bet?.id]).toEqual([200, original.id]);
    const cell = await pickCell(server);
    const other = await postBet(server, player.token, { col: cell.col, row: cell.row, stakeMicroUsd: body.stakeMicroUsd, idempotencyKey: body.idempotencyKey });
    expect([other.status, other.body.error?.code]).toEqual([409, "idempotency_conflict"]);
    expect({ balance: balance(), bets: betsOfPlayer() }).toEqual(before);
  });

  it("a key is remembered for IDEMPOTENCY_KEY_RETENTION_MS after placement, then the archive job forgets it", async () => {
    const kept = server.ctx.db.prepare("SELECT placed_at FROM archived_bet_keys WHERE account_id = ? AND idempotency_key = ?").get(player.accountId, body.idempotencyKey) as
      | { placed_at: number }
      | undefined;
    expect(kept).toBeDefined();
    server.clock.nowMs = kept!.placed_at + RETENTION_MS - 60_000;
    feedPrice(server, START_PRICE_CENTS);
    expect((await server.ctx.services.archive.run()).betKeysPruned).toBe(0);
    expect((await postBet(server, player.token, { ...body, stakeMicroUsd: 3 * USD })).body.error.code).toBe("idempotency_conflict");

    server.clock.nowMs = kept!.placed_at + RETENTION_MS + 60_000;
    feedPrice(server, START_PRICE_CENTS);
    expect((await server.ctx.services.archive.run()).betKeysPruned).toBeGreaterThanOrEqual(1);
    // Past the horizon the key is free again: a new bet, with its own debit.
    const cell = await pickCell(server);
    const before = balance();
    const reused = await postBet(server, player.token, { col: cell.col, row: cell.row, stakeMicroUsd: USD, idempotencyKey: body.idempotencyKey });
    expect(reused.status).toBe(201);
    expect(reused.body.bet.id).not.toBe(original.id);
    expect(balance()).toBe(before - USD);
  });
});
