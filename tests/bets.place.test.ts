import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeDirect } from "./helpers/write.ts";
import { createPlayer } from "./helpers/players.ts";
import { integrity, newKey, pickCell, postBet, getJson, startBetServer, type BetServer } from "./helpers/bets-fixture.ts";

const STAKE = 2_000_000; // $2

describe("POST /api/bets: placement, ledger entries, player events", () => {
  let server: BetServer;
  const userEvents: { address: string; event: any }[] = [];
  beforeAll(async () => {
    server = await startBetServer();
    server.ctx.bus.subscribe("user", (message) => userEvents.push(JSON.parse(message)));
  });
  afterAll(async () => {
    await server.stop();
  });

  it("accepts a bet with 201, debits the stake and answers the documented Bet", async () => {
    const player = await createPlayer(server.ctx, 10_000_000);
    const cell = await pickCell(server);
    const res = await postBet(server, player.token, { col: cell.col, row: cell.row, stakeMicroUsd: STAKE, idempotencyKey: newKey() });
    expect(res.status).toBe(201);
    const { bet, balanceMicroUsd } = res.body;
    expect(balanceMicroUsd).toBe(8_000_000);
    expect(bet).toEqual({
      id: expect.stringMatching(/^\d+$/),
      address: player.address,
      col: cell.col,
      row: cell.row,
      windowStart: cell.col * 10_000,
      windowEnd: (cell.col + 1) * 10_000,
      bandLowCents: cell.row * 1000,
      bandHighCents: (cell.row + 1) * 1000,
      stakeMicroUsd: STAKE,
      multiplier: cell.multiplier,
      payoutMicroUsd: Math.floor((STAKE * Math.round(cell.multiplier * 100)) / 100),
      status: "open",
      placedAt: server.clock.nowMs,
    });
    const me = await getJson(server, "/api/ledger", player.token);
    expect(me.body.entries[0]).toEqual({ id: expect.any(String), kind: "stake", amountMicroUsd: -STAKE, balanceAfterMicroUsd: 8_000_000, betId: bet.id, at: server.clock.nowMs });
    expect((await integrity(server)).ok).toBe(true);
  });

  it("publishes the bet and the new balance on the user channel after the commit", async () => {
    const player = await createPlayer(server.ctx, 10_000_000);
    const cell = await pickCell(server);
    const res = await postBet(server, player.token, { col: cell.col, row: cell.row, stakeMicroUsd: STAKE, idempotencyKey: newKey() });
    expect(res.status).toBe(201);
    await new Promise((r) => setImmediate(r));
    const mine = userEvents.filter((e) => e.address === player.address).map((e) => e.event);
    expect(mine).toEqual([
      { type: "bet", bet: res.body.bet },
      { type: "balance", balanceMicroUsd: 8_000_000 },
    ]);
  });

  it("answers a retry with the same key and body with 200 and the same bet, without a second debit", async () => {
    const player = await createPlayer(server.ctx, 10_000_000);
    const cell = await pickCell(server);
    const body = { col: cell.col, row: cell.row, stakeMicroUsd: STAKE, idempotencyKey: newKey(), minMultiplier: 1.01 };
    const first = await postBet(server, player.token, body);
    // Field order does not matter for "the same body".
    const second = await postBet(server, player.token, { minMultiplier: 1.01, idempotencyKey: body.idempotencyKey, stakeMicroUsd: STAKE, row: cell.row, col: cell.col });
    expect(first.status).toBe(201);
    expect(second.status).toBe(200);
    expect(second.body).toEqual({ bet: first.body.bet, balanceMicroUsd: 8_000_000 });
    const ledger = await getJson(server, "/api/ledger", player.token);
    expect(ledger.body.entries.filter((e: any) => e.kind === "stake")).toHaveLength(1);
  });

  it("refuses the same key with a different body: 409 idempotency_conflict, nothing debited", async () => {
    const player = await createPlayer(server.ctx, 10_000_000);
    const cell = await pickCell(server);
    const key = newKey();
    expect((await postBet(server, player.token, { col: cell.col, row: cell.row, stakeMicroUsd: STAKE, idempotencyKey: key })).status).toBe(201);
    const res = await postBet(server, player.token, { col: cell.col, row: cell.row, stakeMicroUsd: STAKE + 1, idempotencyKey: key });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe("idempotency_conflict");
    expect((await getJson(server, "/api/me", player.token)).body.balanceMicroUsd).toBe(8_000_000);
  });

  it("the open-bet book forgets bets settled without onSettled once their column is long over", async () => {
    const player = await createPlayer(server.ctx, 10_000_000);
    const cell = await pickCell(server);
    const res = await postBet(server, player.token, { col: cell.col, row: cell.row, stakeMicroUsd: STAKE, idempotencyKey: newKey() });
    const id = Number(res.body.bet.id);
    const openBefore = server.ctx.services.bets.exposure().openBets;
    writeDirect(server.ctx, (db) => db.prepare("UPDATE bets SET status = 'lost', resolved_at = ? WHERE id = ?").run(server.ctx.now(), id));
    const saved = server.clock.nowMs;
    try {
      server.clock.nowMs = (cell.col + 1) * 10_000 + 30_000; // ended, but within the grace period
      expect(await server.ctx.services.bets.sweepSettled()).toBe(0);
      server.clock.nowMs = (cell.col + 1) * 10_000 + 61_000;
      expect(await server.ctx.services.bets.sweepSettled()).toBeGreaterThanOrEqual(1);
      expect(server.ctx.services.bets.exposure().openBets).toBeLessThan(openBefore);
    } finally {
      server.clock.nowMs = saved;
    }
  });

  it("keys are per player: two players may use the same key", async () => {
    const a = await createPlayer(server.ctx, 10_000_000);
    const b = await createPlayer(server.ctx, 10_000_000);
    const cell = await pickCell(server);
    const body = { col: cell.col, row: cell.row, stakeMicroUsd: STAKE, idempotencyKey: newKey() };
    const ra = await postBet(server, a.token, body);
    const rb = await postBet(server, b.token, body);
    expect([ra.status, rb.status]).toEqual([201, 201]);
    expect(ra.body.bet.id).not.toBe(rb.body.bet.id);
  });
});

describe("POST /api/bets: a retry while the first request is still in the batch queue", () => {
  let server: BetServer;
  beforeAll(async () => {
    // A slow flush keeps the first request queued while the retry arrives.
    server = await startBetServer({ BATCH_FLUSH_INTERVAL_MS: 150 });
  });
  afterAll(async () => {
    await server.stop();
  });

  it("answers both from one bet: one 201, the others 200, one debit", async () => {
    const player = await createPlayer(server.ctx, 10_000_000);
    const cell = await pickCell(server);
    const body = { col: cell.col, row: cell.row, stakeMicroUsd: STAKE, idempotencyKey: newKey() };
    const answers = await Promise.all([0, 1, 2].map(() => postBet(server, player.token, body)));
    expect(answers.map((a) => a.status).sort()).toEqual([200, 200, 201]);
    expect(new Set(answers.map((a) => a.body.bet.id)).size).toBe(1);
    const me = await getJson(server, "/api/me", player.token);
    expect(me.body.balanceMicroUsd).toBe(8_000_000);
  });

  it("the database alone also keeps a duplicate out when two copies reach the same batch", async () => {
    // Both operations are queued directly (no in-process dedup): the op's key lookup sees the first.
    const player = await createPlayer(server.ctx, 10_000_000);
    const cell = await pickCell(server);
    const { placeArgs, ExistingBet } = await import("../services/bets/place-op.ts");
    const params = {
      accountId: player.accountId, address: player.address, col: cell.col, row: cell.row,
      windowStart: cell.col * 10_000, windowEnd: (cell.col + 1) * 10_000, bandLowCents: cell.row * 1000, bandHighCents: (cell.row + 1) * 1000,
      stakeMicroUsd: STAKE, multiplierHundredths: 200, payoutMicroUsd: 2 * STAKE, placedAt: server.clock.nowMs,
      idempotencyKey: newKey(), requestHash: "h",
    };
    const limits = { openBetsMax: 200, cellStakeMaxMicroUsd: 1e12, cellExposureMaxMicroUsd: 1e12, columnExposureMaxMicroUsd: 1e12 };
    const [a, b] = await Promise.allSettled([0, 1].map(() => server.ctx.queue.run("bets.place", placeArgs(params, limits))));
    expect(a!.status).toBe("fulfilled");
    expect(b!.status).toBe("rejected");
    const existing = (b as PromiseRejectedResult).reason;
    expect(existing).toBeInstanceOf(ExistingBet);
    expect(existing.bet.id).toBe((a as PromiseFulfilledResult<[number, number]>).value[0]);
    const stakes = server.ctx.db.prepare("SELECT COUNT(*) AS n FROM ledger_entries WHERE account_id = ? AND kind = 'stake'").get(player.accountId) as { n: number };
    expect(stakes.n).toBe(1);
    // The second copy's debit (made before its insert found the key) was taken back: one stake paid.
    expect((await getJson(server, "/api/me", player.token)).body.balanceMicroUsd).toBe(10_000_000 - STAKE);
  });
});
