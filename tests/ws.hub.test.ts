import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { startTestServer, type TestServer } from "./helpers/server.ts";
import { createPlayer } from "./helpers/players.ts";
import { TestWsClient, wsUrl } from "./fakes/ws-client.ts";
import type { CellQuote, PricingService } from "../services/pricing/types.ts";

/** The WebSocket contract of API.md § WebSocket, against the real server. */
describe("ws: messages and protection", () => {
  let server: TestServer;
  const clients: TestWsClient[] = [];
  const connect = async (query = "") => {
    const client = new TestWsClient(wsUrl(server.url, query));
    clients.push(client);
    await client.opened;
    return client;
  };

  beforeAll(async () => {
    server = await startTestServer({ WS_MAX_MESSAGES_PER_SEC: 10, COLUMN_MS: 10_000, ROW_CENTS: 1000, LOCK_MS: 5000 });
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => (c.ws.readyState === WebSocket.OPEN ? c.close() : undefined)));
  });
  afterAll(async () => {
    await server.stop();
  });

  it("greets with hello, then streams every index tick", async () => {
    const client = await connect();
    const hello = await client.next((m) => m.type === "hello");
    expect(hello).toEqual({
      type: "hello",
      serverTime: expect.any(Number),
      columnMs: 10_000,
      rowCents: 1000,
      lockMs: 5000,
      authenticated: false,
      quoteTerms: { columnMs: 10_000, rowCents: 1000, houseEdgeBp: 500, minMultiplierHundredths: 110, maxMultiplierHundredths: 10_000 },
    });
    const at = Date.now();
    server.ctx.services.price.ingest("manual", 9_512_345, at);
    server.ctx.services.price.ingest("manual", 9_512_400, at + 1);
    expect(await client.next((m) => m.type === "price" && m.priceCents === 9_512_345)).toEqual({
      type: "price",
      priceCents: 9_512_345,
      at,
      quote: { t: at, priceCents: 9_512_345, fastVarPerMs: expect.any(Number), slowVarPerMs: expect.any(Number), noiseVar: expect.any(Number), tickIntervalMs: expect.any(Number),
        regimeQ1VarPerMs: expect.any(Number), regimeQ2VarPerMs: expect.any(Number), regimeQ3VarPerMs: expect.any(Number), regimeQ4VarPerMs: expect.any(Number),
        fastVarSdPerMs: expect.any(Number), jumpRatePerMs: expect.any(Number), jumpVar: expect.any(Number), staleGapRatePerMs: expect.any(Number),
        rateSpreadLog: expect.any(Number), jumpPriorPerMs: expect.any(Number) },
    });
    await client.next((m) => m.type === "price" && m.at === at + 1);
  });

  it("sends a new client the current price right after hello", async () => {
    server.ctx.services.price.ingest("manual", 9_600_000, Date.now());
    const client = await connect();
    await client.next((m) => m.type === "price" && m.priceCents === 9_600_000);
    expect(client.messages[0]!.type).toBe("hello");
  });

  it("answers ping with pong and ignores (but counts) bad frames without disconnecting", async () => {
    const client = await connect();
    client.send("{not json");
    client.send(JSON.stringify({ type: "subscribe" }));
    client.send(JSON.stringify([1, 2]));
    client.send(JSON.stringify({ type: "ping" }));
    const pong = await client.next((m) => m.type === "pong");
    expect(pong).toEqual({ type: "pong", serverTime: expect.any(Number) });
    expect(client.ws.readyState).toBe(WebSocket.OPEN);
    const metrics = await (await server.request("/metrics")).text();
    expect(Number(/^ws_bad_frames_total (\d+)$/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(3);
  });

  it("disconnects a client that floods", async () => {
    const client = await connect();
    for (let i = 0; i < 50; i++) client.send(JSON.stringify({ type: "ping" }));
    const closed = await client.closed;
    expect(closed.code).toBe(1008);
    // Within the limit a client is fine.
    const calm = await connect();
    for (let i = 0; i < 5; i++) calm.send(JSON.stringify({ type: "ping" }));
    await calm.next((m) => m.type === "pong");
    expect(calm.ws.readyState).toBe(WebSocket.OPEN);
  });

  it("closes a connection with an invalid token with 4401", async () => {
    const client = new TestWsClient(wsUrl(server.url, "?token=" + "x".repeat(43)));
    expect((await client.closed).code).toBe(4401);
    const malformed = new TestWsClient(wsUrl(server.url, "?token=nope"));
    expect((await malformed.closed).code).toBe(4401);
  });

  it("delivers a player's private events to that player's connections only", async () => {
    const alice = await createPlayer(server.ctx);
    const bob = await createPlayer(server.ctx);
    const aliceWs = await connect(`?token=${alice.token}`);
    const aliceWs2 = await connect(`?token=${alice.token}`);
    const bobWs = await connect(`?token=${bob.token}`);
    const anon = await connect();
    expect(await aliceWs.next((m) => m.type === "hello")).toMatchObject({ authenticated: true });
    await Promise.all([aliceWs2, bobWs, anon].map((c) => c.next((m) => m.type === "hello")));

    const event = { type: "balance", balanceMicroUsd: 123_000_000 };
    await server.ctx.bus.publish("user", JSON.stringify({ address: alice.address, event }));
    await server.ctx.bus.publish("user", JSON.stringify({ address: bob.address.toLowerCase(), event: { type: "balance", balanceMicroUsd: 7 } }));
    expect(await aliceWs.next((m) => m.type === "balance")).toEqual(event);
    expect(await aliceWs2.next((m) => m.type === "balance")).toEqual(event);
    expect(await bobWs.next((m) => m.type === "balance")).toEqual({ type: "balance", balanceMicroUsd: 7 });
    // A ping round trip proves anything sent before it has arrived.
    anon.send(JSON.stringify({ type: "ping" }));
    await anon.next((m) => m.type === "pong");
    expect(anon.messages.some((m) => m.type === "balance")).toBe(false);
    expect(bobWs.messages.filter((m) => m.type === "balance")).toHaveLength(1);
  });

  it("closes a player's connections with 4401 when the session is revoked (logout), and only those", async () => {
    const carol = await createPlayer(server.ctx);
    const dave = await createPlayer(server.ctx);
    const carolWs = await connect(`?token=${carol.token}`);
    const daveWs = await connect(`?token=${dave.token}`);
    await Promise.all([carolWs, daveWs].map((c) => c.next((m) => m.type === "hello")));
    await server.ctx.services.auth.sessions.revoke(carol.token);
    expect((await carolWs.closed).code).toBe(4401);
    daveWs.send(JSON.stringify({ type: "ping" }));
    await daveWs.next((m) => m.type === "pong");
    expect(daveWs.ws.readyState).toBe(WebSocket.OPEN);
  });

  it("streams the offerable cells about once a second, multipliers as hundredths / 100, unoffered cells left out", async () => {
    const cell = (row: number, multiplierHundredths: number | null): CellQuote => ({
      col: 180_000_001, row, windowStart: 1_800_000_010_000, windowEnd: 1_800_000_020_000,
      bandLowCents: row * 1000, bandHighCents: (row + 1) * 1000, multiplierHundredths, pTouch: 0.3,
    });
    const calls: [number, number][] = [];
    const fakePricing: Partial<PricingService> = {
      grid: (cols, rows) => {
        calls.push([cols, rows]);
        return { priceCents: 9_500_000, at: 1_800_000_000_000, cells: [cell(9500, 347), cell(9501, null)] };
      },
    };
    const saved = server.ctx.services.pricing;
    server.ctx.services.pricing = fakePricing as PricingService;
    // Cells are offered only while the circuit is closed (an open one empties the grid; tests/abuse.grid.test.ts).
    const price = server.ctx.services.price;
    const savedCircuit = price.circuit;
    price.circuit = () => "closed";
    try {
      const client = await connect();
      const started = Date.now();
      const grid = await client.next((m) => m.type === "grid", 3000);
      expect(Date.now() - started).toBeLessThan(2500);
      expect(grid).toEqual({
        type: "grid",
        at: 1_800_000_000_000,
        circuit: "closed",
        quotes: "live",
        cells: [
          { col: 180_000_001, row: 9500, windowStart: 1_800_000_010_000, windowEnd: 1_800_000_020_000, bandLowCents: 9_500_000, bandHighCents: 9_501_000, multiplier: 3.47 },
        ],
      });
      expect(calls[0]).toEqual([12, 21]);
    } finally {
      server.ctx.services.pricing = saved;
      price.circuit = savedCircuit;
    }
  });

  it("survives a missing pricing module (no grid, nothing else breaks)", async () => {
    const saved = server.ctx.services.pricing;
    (server.ctx.services as { pricing?: PricingService }).pricing = undefined;
    try {
      const client = await connect();
      await new Promise((r) => setTimeout(r, 1200)); // one grid period: nothing must be sent, nothing must throw
      client.send(JSON.stringify({ type: "ping" }));
      await client.next((m) => m.type === "pong");
      expect(client.messages.some((m) => m.type === "grid")).toBe(false);
    } finally {
      server.ctx.services.pricing = saved;
    }
  });
});

describe("ws: bounds", () => {
  it("refuses connections beyond WS_MAX_CLIENTS", async () => {
    const server = await startTestServer({ WS_MAX_CLIENTS: 2 });
    try {
      const a = new TestWsClient(wsUrl(server.url));
      const b = new TestWsClient(wsUrl(server.url));
      await Promise.all([a.opened, b.opened]);
      const c = new TestWsClient(wsUrl(server.url));
      await expect(c.opened).rejects.toThrow(/503/);
      await a.close();
      const d = new TestWsClient(wsUrl(server.url));
      await d.opened;
      await Promise.all([b.close(), d.close()]);
    } finally {
      await server.stop();
    }
  });
});
