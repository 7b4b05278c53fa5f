import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { startTestServer, type TestServer } from "./helpers/server.ts";
import { requireService } from "./helpers/services.ts";
import { signIn } from "./helpers/siwe.ts";
import { startControlledRedis, timed, waitFor, type ControlledRedis } from "./helpers/faults.ts";

// Issue 13 item 2 with a real redis-server: hung (SIGSTOP, sockets open) and killed. Every request
// answers — 503 `unavailable` with Retry-After where Redis is needed, never a 500, never a hang —
// /readyz answers within 2 s, and everything recovers without a restart of the API.
describe.runIf(requireService("redis-server"))("faults: Redis hung or down", () => {
  let redis: ControlledRedis;
  let server: TestServer;

  beforeAll(async () => {
    redis = await startControlledRedis();
    server = await startTestServer({ REDIS_URL: redis.url, REDIS_PREFIX: "faults:", REDIS_COMMAND_TIMEOUT_MS: 500 });
    server.ctx.services.price.ingest("manual", 9_500_000, Date.now());
  });
  afterAll(async () => {
    await server?.stop();
    await redis?.stop();
  });

  const post = (path: string, json: unknown, token?: string) => () => server.request(path, { method: "POST", json, token });
  const get = (path: string, token?: string) => () => server.request(path, { token });
  /** The checks of /readyz (the manual price source is stale here, so the status itself is not asserted). */
  const readyChecks = async () => ((await (await server.request("/readyz")).json()) as { checks: Record<string, string> }).checks;

  it("a hung Redis: every route that needs it answers 503 unavailable within the timeout, /readyz within 2 s; then it recovers", async () => {
    const player = await signIn(server);
    const other = privateKeyToAccount(generatePrivateKey());
    const pending = await (await server.request("/api/auth/nonce", { method: "POST", json: { address: other.address } })).json();
    const signature = await other.signMessage({ message: pending.message });
    redis.pause();
    try {
      const answers = await Promise.all([
        timed(post("/api/auth/nonce", { address: other.address })),
        timed(post("/api/auth/verify", { message: pending.message, signature })),
        timed(get("/api/me", player.token)),
        timed(post("/api/auth/logout", {}, player.token)),
        timed(post("/api/bets", { col: 1, row: 1, stakeMicroUsd: 1_000_000, idempotencyKey: "hung-redis-1" }, player.token)),
      ]);
      for (const a of answers) {
        expect(a.status).toBe(503);
        expect(a.body.error.code).toBe("unavailable");
        expect(Number(a.retryAfter)).toBeGreaterThan(0);
        expect(a.ms).toBeLessThan(5000);
      }
      const ready = await timed(get("/readyz"));
      expect(ready.ms).toBeLessThan(2000);
      expect(ready.status).toBe(503);
      expect(ready.body.status).toBe("degraded");
      expect(ready.body.checks.redis).not.toBe("ok");
      expect(ready.body.checks.db).toBe("ok");
      // What does not need Redis keeps working.
      expect((await timed(get("/healthz"))).status).toBe(200);
      expect((await timed(get("/api/price"))).status).toBe(200);
    } finally {
      redis.resume();
    }
    await waitFor("the API to use Redis again", async () => (await server.request("/api/me", { token: player.token })).status === 200, 10_000);
    expect(await readyChecks()).toMatchObject({ redis: "ok", db: "ok" });
    // The nonce issued before the hang is still good: the verify that timed out consumed nothing... or
    // consumed it (Redis ran the GETDEL after SIGCONT). Either way a fresh sign-in works.
    await signIn(server, generatePrivateKey());
  });

  it("a killed Redis: 503 unavailable at once, and sign-in works again once it is back", async () => {
    await signIn(server);
    await redis.kill();
    const address = privateKeyToAccount(generatePrivateKey()).address;
    const nonce = await timed(post("/api/auth/nonce", { address }));
    expect(nonce.status).toBe(503);
    expect(nonce.body.error.code).toBe("unavailable");
    expect(nonce.ms).toBeLessThan(5000);
    const ready = await timed(get("/readyz"));
    expect(ready.status).toBe(503);
    expect(ready.ms).toBeLessThan(2000);

    await redis.start();
    const tookMs = await waitFor(
      "sign-in after the restart",
      async () => {
        try {
          await signIn(server, generatePrivateKey());
          return true;
        } catch {
          return false;
        }
      },
      10_000,
    );
    expect(tookMs).toBeLessThan(10_000);
    expect(await readyChecks()).toMatchObject({ redis: "ok", db: "ok" });
  });
});
