import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "./helpers/server.ts";
import { requireService, startRedis, type RedisInstance } from "./helpers/services.ts";
import { createPlayer } from "./helpers/players.ts";
import { TestWsClient, wsUrl } from "./fakes/ws-client.ts";
import { until } from "./fakes/wait.ts";

/**
 * SPEC §11 in one process pair: a core (ROLE=core) and an edge (ROLE=edge) meeting in Redis. The
 * edge serves the audience from the core's stream: the same frames, the same multipliers, the
 * player's own events, and nothing that needs the database. (tests/scale.edges.test.ts runs the
 * real thing: separate processes behind nginx.)
 */
describe.runIf(requireService("redis-server"))("ws: an edge serves the core's stream over Redis", () => {
  let redis: RedisInstance;
  let core: TestServer;
  let edge: TestServer;
  let clock = Date.now();
  const now = () => clock;

  beforeAll(async () => {
    redis = await startRedis();
    core = await startTestServer({ ROLE: "core", REDIS_URL: redis.url, REDIS_PREFIX: "ws-test:" }, { now });
    edge = await startTestServer({ ROLE: "edge", REDIS_URL: redis.url, REDIS_PREFIX: "ws-test:" }, { now });
    await until("the edge heard from the core", () => edge.ctx.services.stream.terms() !== undefined);
  });
  afterAll(async () => {
    await edge?.stop();
    await core?.stop();
    await redis?.stop();
  });

  const tick = (priceCents: number) => {
    clock += 100;
    core.ctx.services.price.ingest("manual", priceCents, clock);
    return clock;
  };

  it("every tick the core makes reaches the edge's clients once, in order, numbered without gaps, with the core's quote inputs", async () => {
    const client = new TestWsClient(wsUrl(edge.url));
    const hello = await client.next((m) => m.type === "hello");
    expect(hello.epoch).toBe(core.ctx.services.stream.terms()!.epoch);
    const times = [9_400_000, 9_400_100, 9_400_050].map(tick);
    await client.next((m) => m.type === "price" && m.at === times[2]);
    const prices = client.messages.filter((m) => m.type === "price" && times.includes(m.at as number));
    expect(prices.map((p) => p.priceCents)).toEqual([9_400_000, 9_400_100, 9_400_050]);
    expect(prices.map((p) => Number(p.seq) - Number(prices[0]!.seq))).toEqual([0, 1, 2]);
    expect(prices.every((p) => typeof p.quote === "string")).toBe(true);
    await client.close();
  });

  it("the edge's GET /api/grid and /api/price are the core's: the same multipliers from the same inputs", async () => {
    for (let i = 0; i < 30; i++) tick(9_400_000 + ((i * 37) % 300));
    await until("the edge has the core's latest tick", () => edge.ctx.services.price.latest()?.t === clock);
    const [fromCore, fromEdge] = await Promise.all([core, edge].map(async (s) => (await s.request("/api/grid?cols=6&rows=11")).json()));
    expect(fromEdge.cells.length).toBeGreaterThan(30);
    expect(fromEdge).toEqual(fromCore);
    const [priceCore, priceEdge] = await Promise.all([core, edge].map(async (s) => (await s.request("/api/price")).json()));
    // The sources' health comes with the core's state, once a second: the same sources, up to a second old.
    expect({ ...priceEdge, sources: priceEdge.sources.map((s: { name: string }) => s.name) }).toEqual({ ...priceCore, sources: priceCore.sources.map((s: { name: string }) => s.name) });
  });

  it("a player's events published by the core reach that player's socket on the edge (the session is checked in Redis)", async () => {
    const player = await createPlayer(core.ctx);
    const client = new TestWsClient(wsUrl(edge.url, `?token=${player.token}`));
    expect(await client.next((m) => m.type === "hello")).toMatchObject({ authenticated: true });
    await core.ctx.bus.publish("user", JSON.stringify({ address: player.address, event: { type: "balance", balanceMicroUsd: 42 } }));
    expect(await client.next((m) => m.type === "balance")).toEqual({ type: "balance", balanceMicroUsd: 42 });
    await client.close();
  });

  it("the edge serves only the audience's routes and holds no database; the core serves no socket", async () => {
    expect((await edge.request("/api/bets", { method: "POST", json: {} })).status).toBe(404);
    expect((await edge.request("/api/me")).status).toBe(404);
    expect((await edge.request("/")).status).toBe(200);
    expect(readdirSync(edge.dataDir).filter((f) => f.endsWith(".db"))).toEqual([]);
    expect(existsSync(join(core.dataDir, "current.db"))).toBe(true);
    expect(() => edge.ctx.db.prepare("SELECT 1")).toThrow(/ROLE=edge has no database/);
    const ready = await (await edge.request("/readyz")).json();
    expect(ready.checks).toMatchObject({ redis: "ok", core: "ok" });
    expect(ready.checks.db).toBeUndefined();
    expect((await core.request("/ws")).status).toBe(404);
  });
});
