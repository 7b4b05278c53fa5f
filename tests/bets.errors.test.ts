import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPlayer } from "./helpers/players.ts";
import { feedPrice, gridCells, newKey, pickCell, postBet, startBetServer, START_PRICE_CENTS, type BetServer } from "./helpers/bets-fixture.ts";

/** Every error code of API.md § Bets, each produced by a request a client could send. */
const USD = 1_000_000;

describe("POST /api/bets: refusals", () => {
  let server: BetServer;
  beforeAll(async () => {
    server = await startBetServer({
      OPEN_BETS_MAX: 3,
      CELL_STAKE_MAX_MICRO_USD: 10 * USD,
      CELL_EXPOSURE_MAX_MICRO_USD: 100 * USD,
      COLUMN_EXPOSURE_MAX_MICRO_USD: 160 * USD,
      BET_RATE_BURST: 5,
      BET_RATE_PER_SEC: 1,
    });
  });
  afterAll(async () => {
    await server.stop();
  });

  const bet = async (token: string, over: Record<string, unknown>, cellIndex = 0) => {
    const cell = await pickCell(server, cellIndex);
    return postBet(server, token, { col: cell.col, row: cell.row, stakeMicroUsd: USD, idempotencyKey: newKey(), ...over });
  };

  it("401 unauthorized without a token or with an unknown one", async () => {
    const cell = await pickCell(server);
    const body = { col: cell.col, row: cell.row, stakeMicroUsd: USD, idempotencyKey: newKey() };
    const none = await server.request("/api/bets", { method: "POST", json: body });
    expect(none.status).toBe(401);
    expect((await postBet(server, "x".repeat(43), body)).body.error.code).toBe("unauthorized");
  });

  it("400 invalid_request for malformed JSON, schema failures, unknown fields and stakes out of range", async () => {
    const p = await createPlayer(server.ctx);
    const bad = await server.request("/api/bets", { method: "POST", token: p.token, body: "{nope", headers: { "content-type": "application/json" } });
    expect(bad.status).toBe(400);
    expect((await bad.json()).error.code).toBe("invalid_request");
    for (const over of [
      { col: 1.5 },
      { stakeMicroUsd: "1000000" },
      { idempotencyKey: "short" },
      { idempotencyKey: "x".repeat(65) },
      { minMultiplier: -1 },
      { extra: true },
    ]) {
      const res = await bet(p.token, over);
      expect(res.status, JSON.stringify(over)).toBe(400);
      expect(res.body.error.code).toBe("invalid_request");
      expect(res.body.error.details.fields).toBeTypeOf("object");
    }
    for (const stakeMicroUsd of [99_999, 100 * USD + 1]) {
      const res = await bet(p.token, { stakeMicroUsd });
      expect(res.status).toBe(400);
      expect(res.body.error.details.fields.stakeMicroUsd).toMatch(/between 100000 and 100000000/);
    }
  });

  it("402 insufficient_balance when the balance is below the stake", async () => {
    const p = await createPlayer(server.ctx, USD - 1);
    const res = await bet(p.token, {});
    expect(res.status).toBe(402);
    expect(res.body.error).toMatchObject({ code: "insufficient_balance", details: { balanceMicroUsd: USD - 1, stakeMicroUsd: USD } });
  });

  it("409 cell_locked for the current column, a past one, and one beyond the horizon", async () => {
    const p = await createPlayer(server.ctx);
    const cell = await pickCell(server);
    const nowCol = Math.floor(server.clock.nowMs / 10_000);
    for (const col of [nowCol, nowCol - 5, cell.col + 60]) {
      const res = await postBet(server, p.token, { col, row: cell.row, stakeMicroUsd: USD, idempotencyKey: newKey() });
      expect(res.status, `col ${col}`).toBe(409);
      expect(res.body.error.code).toBe("cell_locked");
    }
  });

  it("409 cell_not_offered for a band whose multiplier would be outside the offered range", async () => {
    const p = await createPlayer(server.ctx);
    const cell = await pickCell(server);
    const farRow = Math.floor(START_PRICE_CENTS / 1000) + 400; // $4000 away: P(touch) ≈ 0
    const res = await postBet(server, p.token, { col: cell.col, row: farRow, stakeMicroUsd: USD, idempotencyKey: newKey() });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe("cell_not_offered");
  });

  it("409 multiplier_changed with the current multiplier when it is below minMultiplier", async () => {
    const p = await createPlayer(server.ctx);
    const cell = await pickCell(server);
    const res = await postBet(server, p.token, { col: cell.col, row: cell.row, stakeMicroUsd: USD, idempotencyKey: newKey(), minMultiplier: cell.multiplier + 0.01 });
    expect(res.status).toBe(409);
    expect(res.body.error).toMatchObject({ code: "multiplier_changed", details: { multiplier: cell.multiplier } });
    // At exactly the current multiplier the bet goes through.
    const ok = await postBet(server, p.token, { col: cell.col, row: cell.row, stakeMicroUsd: USD, idempotencyKey: newKey(), minMultiplier: cell.multiplier });
    expect(ok.status).toBe(201);
  });

  it("409 exposure_limit when a player's stake in one cell would pass the per-cell cap", async () => {
    const p = await createPlayer(server.ctx);
    expect((await bet(p.token, { stakeMicroUsd: 6 * USD }, 1)).status).toBe(201);
    const res = await bet(p.token, { stakeMicroUsd: 5 * USD }, 1);
    expect(res.status).toBe(409);
    expect(res.body.error).toMatchObject({ code: "exposure_limit", details: { scope: "player_cell" } });
    expect((await bet(p.token, { stakeMicroUsd: 4 * USD }, 1)).status).toBe(201); // exactly at the cap
  });

  it("409 exposure_limit when the house's potential payout in a cell or a column would pass its cap", async () => {
    const cells = (await gridCells(server)).filter((c) => c.multiplier >= 2 && c.multiplier <= 8);
    const col = [...new Set(cells.map((c) => c.col))].sort((a, b) => a - b)[3]!;
    const inCol = cells.filter((c) => c.col === col);
    const [c1, c2, c3] = inCol;
    expect(c3, "three cells with multipliers 2..8 in one column").toBeDefined();
    // Cell cap $100 of potential payout: $10 stakes from different players until it would pass.
    let cellPayout = 0;
    let refusal: any;
    for (let i = 0; i < 20 && !refusal; i++) {
      const p = await createPlayer(server.ctx);
      const res = await postBet(server, p.token, { col, row: c1!.row, stakeMicroUsd: 10 * USD, idempotencyKey: newKey() });
      if (res.status === 201) cellPayout += res.body.bet.payoutMicroUsd;
      else refusal = res.body.error;
    }
    expect(refusal).toMatchObject({ code: "exposure_limit", details: { scope: "house_cell" } });
    expect(cellPayout).toBeLessThanOrEqual(100 * USD);
    expect(cellPayout + Math.floor(10 * USD * c1!.multiplier)).toBeGreaterThan(100 * USD);
    // Column cap $160: the other cells of the column fill it.
    refusal = undefined;
    let columnPayout = cellPayout;
    for (let i = 0; i < 40 && !refusal; i++) {
      const p = await createPlayer(server.ctx);
      const cell = i % 2 === 0 ? c2! : c3!;
      const res = await postBet(server, p.token, { col, row: cell.row, stakeMicroUsd: 10 * USD, idempotencyKey: newKey() });
      if (res.status === 201) columnPayout += res.body.bet.payoutMicroUsd;
      else refusal = res.body.error;
    }
    expect(refusal).toMatchObject({ code: "exposure_limit", details: { scope: "house_column" } });
    expect(columnPayout).toBeLessThanOrEqual(160 * USD);
  });

  it("429 too_many_open_bets beyond the open-bet limit", async () => {
    const p = await createPlayer(server.ctx);
    const cell = await pickCell(server, 2);
    const bodies = [0, 1, 2].map(() => ({ col: cell.col, row: cell.row, stakeMicroUsd: USD, idempotencyKey: newKey() }));
    for (const body of bodies) expect((await postBet(server, p.token, body)).status).toBe(201);
    const res = await bet(p.token, {}, 2);
    expect(res.status).toBe(429);
    expect(res.body.error).toMatchObject({ code: "too_many_open_bets", details: { openBets: 3, openBetsMax: 3 } });
    // A retry of a committed bet is still answered with its bet, although a new one would be refused.
    const retry = await postBet(server, p.token, bodies[0]);
    expect(retry.status).toBe(200);
  });

  it("429 rate_limited past the burst, with Retry-After; tokens come back with time", async () => {
    const p = await createPlayer(server.ctx, 1000 * USD);
    const cell = await pickCell(server, 4);
    const send = () => postBet(server, p.token, { col: cell.col, row: cell.row, stakeMicroUsd: USD, idempotencyKey: newKey() });
    // Burst 5: five pass the rate check (three become bets, then too_many_open_bets), the sixth is limited.
    const statuses = [];
    for (let i = 0; i < 6; i++) statuses.push((await send()).status);
    expect(statuses.slice(0, 3)).toEqual([201, 201, 201]);
    const limited = await send();
    expect(limited.status).toBe(429);
    expect(limited.body.error.code).toBe("rate_limited");
    expect(limited.headers.get("retry-after")).toBe("1");
    server.clock.nowMs += 1000; // 1 token/s
    feedPrice(server, START_PRICE_CENTS);
    expect((await send()).body.error.code).toBe("too_many_open_bets"); // passed the rate check again
  });

  it("503 price_stale with Retry-After while the circuit is open", async () => {
    const p = await createPlayer(server.ctx);
    const cell = await pickCell(server);
    const committed = { col: cell.col, row: cell.row, stakeMicroUsd: USD, idempotencyKey: newKey() };
    expect((await postBet(server, p.token, committed)).status).toBe(201);
    const opened = new Promise<void>((resolve) => {
      const off = server.ctx.services.price.onCircuit((state) => {
        if (state === "open") {
          off();
          resolve();
        }
      });
    });
    server.clock.nowMs += 3000; // beyond PRICE_STALE_MS with no tick
    await opened;
    const res = await postBet(server, p.token, { col: cell.col + 1, row: cell.row, stakeMicroUsd: USD, idempotencyKey: newKey() });
    expect(res.status).toBe(503);
    expect(res.body.error.code).toBe("price_stale");
    expect(Number(res.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    // While paused, a retry of a bet committed before still gets that bet.
    expect((await postBet(server, p.token, committed)).status).toBe(200);
  });
});

describe("POST /api/bets: 503 overloaded when the batch queue is full", () => {
  let server: BetServer;
  beforeAll(async () => {
    server = await startBetServer({ BATCH_QUEUE_MAX: 2, BATCH_FLUSH_INTERVAL_MS: 200 });
  });
  afterAll(async () => {
    await server.stop();
  });

  it("refuses what does not fit in the queue, and the rest is committed", async () => {
    const p = await createPlayer(server.ctx);
    const cell = await pickCell(server);
    const answers = await Promise.all(
      Array.from({ length: 6 }, () => postBet(server, p.token, { col: cell.col, row: cell.row, stakeMicroUsd: USD, idempotencyKey: newKey() })),
    );
    const statuses = answers.map((a) => a.status).sort();
    expect(statuses).toEqual([201, 201, 503, 503, 503, 503]);
    const refused = answers.find((a) => a.status === 503)!;
    expect(refused.body.error.code).toBe("overloaded");
    expect(refused.headers.get("retry-after")).toBe("1");
  });
});
