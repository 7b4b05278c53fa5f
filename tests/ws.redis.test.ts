import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "./helpers/server.ts";
import { requireService, startRedis, type RedisInstance } from "./helpers/services.ts";
import { createPlayer } from "./helpers/players.ts";
import { TestWsClient, wsUrl } from "./fakes/ws-client.ts";

/**
 * ADR-004: with REDIS_URL set, index ticks and player events fan out over Redis pub/sub, so a
 * WebSocket client connected to one API process sees what another process produced.
 */
describe.runIf(requireService("redis-server"))("ws: fan-out across processes over Redis", () => {
  let redis: RedisInstance;
  let a: TestServer;
  let b: TestServer;

  beforeAll(async () => {
    redis = await startRedis();
    a = await startTestServer({ REDIS_URL: redis.url, REDIS_PREFIX: "ws-test:" });
    b = await startTestServer({ REDIS_URL: redis.url, REDIS_PREFIX: "ws-test:" });
  });
  afterAll(async () => {
    await a?.stop();
    await b?.stop();
    await redis?.stop();
  });

  it("a tick ingested by one process reaches clients of the other, once and in order", async () => {
    const client = new TestWsClient(wsUrl(b.url));
    await client.next((m) => m.type === "hello");
    const at = Date.now();
    a.ctx.services.price.ingest("manual", 9_400_000, at);
    a.ctx.services.price.ingest("manual", 9_400_100, at + 1);
    await client.next((m) => m.type === "price" && m.at === at + 1);
    const prices = client.messages.filter((m) => m.type === "price");
    expect(prices).toEqual([
      { type: "price", priceCents: 9_400_000, at },
      { type: "price", priceCents: 9_400_100, at: at + 1 },
    ]);
    await client.close();
  });

  it("a player's event published by one process reaches that player's connection on the other", async () => {
    const player = await createPlayer(a.ctx); // the session lives in the shared Redis store
    const client = new TestWsClient(wsUrl(b.url, `?token=${player.token}`));
    expect(await client.next((m) => m.type === "hello")).toMatchObject({ authenticated: true });
    await a.ctx.bus.publish("user", JSON.stringify({ address: player.address, event: { type: "balance", balanceMicroUsd: 42 } }));
    expect(await client.next((m) => m.type === "balance")).toEqual({ type: "balance", balanceMicroUsd: 42 });
    await client.close();
  });
});
