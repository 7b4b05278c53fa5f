import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPlayer, randomAddress } from "./helpers/players.ts";
import { ADMIN_TOKEN, getJson, gridCells, integrity, newKey, postBet, startBetServer, type BetServer } from "./helpers/bets-fixture.ts";
import { startTestServer } from "./helpers/server.ts";

const USD = 1_000_000;

describe("POST /api/admin/credit", () => {
  let server: BetServer;
  const userEvents: any[] = [];
  beforeAll(async () => {
    server = await startBetServer();
    server.ctx.bus.subscribe("user", (m) => userEvents.push(JSON.parse(m)));
  });
  afterAll(async () => {
    await server.stop();
  });
  const credit = async (json: unknown, token = ADMIN_TOKEN) => {
    const res = await server.request("/api/admin/credit", { method: "POST", token, json });
    return { status: res.status, body: (await res.json()) as any };
  };

  it("credits a player once per reference: the same request again answers the same balance", async () => {
    const p = await createPlayer(server.ctx, 5 * USD);
    const body = { address: p.address, amountMicroUsd: 7 * USD, reference: `ref-${newKey()}` };
    expect(await credit(body)).toEqual({ status: 200, body: { balanceMicroUsd: 12 * USD } });
    expect(await credit(body)).toEqual({ status: 200, body: { balanceMicroUsd: 12 * USD } });
    const entries = (await getJson(server, "/api/ledger", p.token)).body.entries;
    expect(entries.filter((e: any) => e.kind === "deposit")).toHaveLength(2); // sign-up + this credit
    expect(entries[0]).toMatchObject({ kind: "deposit", amountMicroUsd: 7 * USD, balanceAfterMicroUsd: 12 * USD });
    await new Promise((r) => setImmediate(r));
    expect(userEvents.filter((e) => e.address === p.address)).toEqual([{ address: p.address, event: { type: "balance", balanceMicroUsd: 12 * USD } }]);
  });

  it("refuses a reused reference with a different amount or address: 409 idempotency_conflict", async () => {
    const p = await createPlayer(server.ctx, 0);
    const other = await createPlayer(server.ctx, 0);
    const reference = `ref-${newKey()}`;
    expect((await credit({ address: p.address, amountMicroUsd: USD, reference })).status).toBe(200);
    for (const body of [
      { address: p.address, amountMicroUsd: 2 * USD, reference },
      { address: other.address, amountMicroUsd: USD, reference },
      { address: p.address, amountMicroUsd: USD, reference, kind: "adjustment" },
    ]) {
      const res = await credit(body);
      expect(res.status).toBe(409);
      expect(res.body.error.code).toBe("idempotency_conflict");
    }
    expect((await getJson(server, "/api/me", other.token)).body.balanceMicroUsd).toBe(0);
  });

  it("accepts lower-case addresses, creates unknown accounts, and takes money back with a negative adjustment", async () => {
    const address = randomAddress();
    const res = await credit({ address: address.toLowerCase(), amountMicroUsd: 3 * USD, reference: `ref-${newKey()}` });
    // A new account gets the sign-up deposit like any first sign-in, then the credit.
    expect(res).toEqual({ status: 200, body: { balanceMicroUsd: server.ctx.config.DEMO_BALANCE_MICRO_USD + 3 * USD } });
    const p = await createPlayer(server.ctx, 2 * USD);
    const back = await credit({ address: p.address, amountMicroUsd: -USD, reference: `ref-${newKey()}`, kind: "adjustment" });
    expect(back).toEqual({ status: 200, body: { balanceMicroUsd: USD } });
    const tooMuch = await credit({ address: p.address, amountMicroUsd: -5 * USD, reference: `ref-${newKey()}`, kind: "adjustment" });
    expect(tooMuch.status).toBe(402);
    expect(tooMuch.body.error.code).toBe("insufficient_balance");
    expect((await integrity(server)).ok).toBe(true);
  });

  it("validates the body and the admin token", async () => {
    const p = await createPlayer(server.ctx, 0);
    for (const body of [
      { address: "0x123", amountMicroUsd: USD, reference: "r-1" },
      { address: p.address, amountMicroUsd: 0, reference: "r-2" },
      { address: p.address, amountMicroUsd: 1.5, reference: "r-3" },
      { address: p.address, amountMicroUsd: -USD, reference: "r-4" }, // negative needs kind adjustment
      { address: p.address, amountMicroUsd: USD, reference: "" },
      { address: p.address, amountMicroUsd: USD },
    ]) {
      const res = await credit(body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error.code).toBe("invalid_request");
    }
    const wrong = await credit({ address: p.address, amountMicroUsd: USD, reference: "r-5" }, "not-the-admin-token-at-all");
    expect(wrong.status).toBe(401);
    const player = await credit({ address: p.address, amountMicroUsd: USD, reference: "r-6" }, p.token);
    expect(player.status).toBe(401);
  });
});

describe("GET /api/admin/exposure", () => {
  let server: BetServer;
  beforeAll(async () => {
    server = await startBetServer();
  });
  afterAll(async () => {
    await server.stop();
  });

  it("sums the potential payouts of open bets per cell and per column", async () => {
    const cells = await gridCells(server);
    const cols = [...new Set(cells.map((c) => c.col))].sort((a, b) => a - b);
    const a = cells.find((c) => c.col === cols[0] && c.multiplier < 10)!;
    const b = cells.find((c) => c.col === cols[0] && c.row !== a.row && c.multiplier < 10)!;
    const c = cells.find((x) => x.col === cols[1] && x.multiplier < 10)!;
    const placed: any[] = [];
    for (const [cell, stake] of [[a, 2], [a, 3], [b, 4], [c, 5]] as const) {
      const p = await createPlayer(server.ctx);
      const res = await postBet(server, p.token, { col: cell.col, row: cell.row, stakeMicroUsd: stake * USD, idempotencyKey: newKey() });
      expect(res.status).toBe(201);
      placed.push(res.body.bet);
    }
    const res = await getJson(server, "/api/admin/exposure", ADMIN_TOKEN);
    expect(res.status).toBe(200);
    const payout = (bets: any[]) => bets.reduce((s, x) => s + x.payoutMicroUsd, 0);
    expect(res.body).toMatchObject({
      openBets: 4,
      stakeMicroUsd: 14 * USD,
      payoutMicroUsd: payout(placed),
      capsMicroUsd: { cell: server.ctx.config.CELL_EXPOSURE_MAX_MICRO_USD, column: server.ctx.config.COLUMN_EXPOSURE_MAX_MICRO_USD },
    });
    expect(res.body.columns).toEqual([
      { col: a.col, windowStart: a.col * 10_000, bets: 3, stakeMicroUsd: 9 * USD, payoutMicroUsd: payout(placed.slice(0, 3)) },
      { col: c.col, windowStart: c.col * 10_000, bets: 1, stakeMicroUsd: 5 * USD, payoutMicroUsd: payout(placed.slice(3)) },
    ]);
    const cellA = res.body.cells.find((x: any) => x.col === a.col && x.row === a.row);
    expect(cellA).toEqual({ col: a.col, row: a.row, bets: 2, stakeMicroUsd: 5 * USD, payoutMicroUsd: payout(placed.slice(0, 2)) });
    // The in-memory book agrees with the database.
    expect(server.ctx.services.bets.exposure()).toMatchObject({ openBets: 4, payoutMicroUsd: payout(placed) });
  });

  it("is 401 without the admin token", async () => {
    expect((await getJson(server, "/api/admin/exposure")).status).toBe(401);
    expect((await getJson(server, "/api/admin/exposure", "wrong-token-wrong-token")).status).toBe(401);
  });
});

describe("admin routes without ADMIN_TOKEN", () => {
  it("do not exist (404)", async () => {
    const server = await startTestServer();
    try {
      for (const [method, path] of [["POST", "/api/admin/credit"], ["GET", "/api/admin/exposure"], ["GET", "/api/admin/integrity"]] as const) {
        const res = await server.request(path, { method, token: ADMIN_TOKEN, json: method === "POST" ? {} : undefined });
        expect(res.status, path).toBe(404);
      }
    } finally {
      await server.stop();
    }
  });
});
