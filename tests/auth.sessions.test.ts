import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeDirect } from "./helpers/write.ts";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { startTestServer, type TestServer } from "./helpers/server.ts";
import { requestNonce, signIn } from "./helpers/siwe.ts";
import { requireService, startRedis, type RedisInstance } from "./helpers/services.ts";
import type { AppContext } from "../runtime/context.ts";

const SESSION_TTL_MS = 60_000;

async function status(server: TestServer, path: string, token?: string, method = "GET") {
  const res = await server.request(path, { method, ...(token ? { token } : {}) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

/** Inserts bets rows directly (the bet module is not this suite's subject; only the count is). */
async function insertBets(ctx: AppContext, accountId: number, address: string, statuses: string[]) {
  writeDirect(ctx, (db) => {
    const insert = db.prepare(
      `INSERT INTO bets (account_id, address, col, row, window_start, window_end, band_low_cents, band_high_cents,
         stake_micro_usd, multiplier_hundredths, payout_micro_usd, status, placed_at, idempotency_key, request_hash)
       VALUES (?, ?, 1, 1, 0, 1, 0, 1, 1, 200, 2, ?, 0, ?, 'h')`,
    );
    statuses.forEach((s, i) => insert.run(accountId, address, s, `key-${accountId}-${i}-${s}`));
  });
}

describe("sessions on the embedded store", () => {
  let server: TestServer;
  let clock = Date.UTC(2030, 0, 1);
  beforeAll(async () => {
    server = await startTestServer({ SESSION_TTL_MS }, { now: () => clock });
  });
  afterAll(async () => {
    await server.stop();
  });

  it("refuses missing, malformed and unknown tokens with 401 unauthorized", async () => {
    for (const token of [undefined, "nope", "A".repeat(43)]) {
      const r = await status(server, "/api/me", token);
      expect([r.status, r.body.error.code]).toEqual([401, "unauthorized"]);
    }
    expect((await status(server, "/api/auth/logout", undefined, "POST")).status).toBe(401);
  });

  it("keeps a token working until logout, then 401 everywhere it is used", async () => {
    const { token } = await signIn(server);
    const other = await signIn(server);
    expect((await status(server, "/api/me", token)).status).toBe(200);
    expect((await status(server, "/api/me", token)).status).toBe(200); // now served from the cache
    const out = await server.request("/api/auth/logout", { method: "POST", token });
    expect(out.status).toBe(204);
    expect(await out.text()).toBe("");
    expect((await status(server, "/api/me", token)).status).toBe(401);
    expect((await status(server, "/api/auth/logout", token, "POST")).status).toBe(401);
    expect((await status(server, "/api/me", other.token)).status).toBe(200); // another session is untouched
  });

  it("expires a session after SESSION_TTL_MS (injected clock), also when it sits in the cache", async () => {
    const { token, address } = await signIn(server);
    expect((await status(server, "/api/me", token)).body.address).toBe(address);
    clock += SESSION_TTL_MS - 1;
    expect((await status(server, "/api/me", token)).status).toBe(200);
    clock += 1;
    expect((await status(server, "/api/me", token)).status).toBe(401);
  });

  it("counts only this player's open bets in /api/me", async () => {
    const me = await signIn(server);
    const someone = await signIn(server);
    const session = (await server.ctx.services.auth.sessions.authenticate(me.token))!;
    const theirs = (await server.ctx.services.auth.sessions.authenticate(someone.token))!;
    await insertBets(server.ctx, session.accountId, me.address, ["open", "open", "won", "lost", "void", "open"]);
    await insertBets(server.ctx, theirs.accountId, someone.address, ["open"]);
    expect((await status(server, "/api/me", me.token)).body).toEqual({ address: me.address, balanceMicroUsd: 1_000_000_000, openBets: 3 });
  });

  it("authenticates WebSocket upgrade requests by ?token= or Authorization header", async () => {
    const { authenticateUpgrade } = await import("../services/auth/require-user.ts");
    const { token, address } = await signIn(server);
    const ctx = server.ctx;
    expect(await authenticateUpgrade(ctx, new Request(`http://x/ws?token=${token}`))).toMatchObject({ address });
    expect(await authenticateUpgrade(ctx, new Request("http://x/ws", { headers: { authorization: `Bearer ${token}` } }))).toMatchObject({ address });
    expect(await authenticateUpgrade(ctx, new Request("http://x/ws"))).toBeUndefined();
    expect(await authenticateUpgrade(ctx, new Request("http://x/ws?token=bogus"))).toBeNull();
    await ctx.services.auth.sessions.revoke(token);
    expect(await authenticateUpgrade(ctx, new Request(`http://x/ws?token=${token}`))).toBeNull();
  });

  it("stores only a hash of the token", async () => {
    const { token } = await signIn(server);
    expect(await server.ctx.kv.get(`session:${token}`)).toBeNull();
    const { hashToken } = await import("../services/auth/sessions.ts");
    expect(JSON.parse((await server.ctx.kv.get(`session:${hashToken(token)}`))!)).toMatchObject({ expiresAt: clock + SESSION_TTL_MS });
  });
});

describe.skipIf(!requireService("redis-server"))("sessions and nonces on Redis, shared by two processes", () => {
  let redis: RedisInstance;
  let a: TestServer;
  let b: TestServer;
  let dataDir: string;
  beforeAll(async () => {
    redis = await startRedis();
    dataDir = mkdtempSync(join(tmpdir(), "tap-auth-redis-"));
    // Two API processes of one deployment: one database (WAL), one Redis (ADR-003, ADR-004).
    a = await startTestServer({ REDIS_URL: redis.url }, { dataDir });
    b = await startTestServer({ REDIS_URL: redis.url }, { dataDir });
  });
  afterAll(async () => {
    await a?.stop();
    await b?.stop();
    await redis?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("lets exactly one of 20 concurrent identical verifies through, spread over both processes", async () => {
    const account = privateKeyToAccount(generatePrivateKey());
    const { message } = await requestNonce(a, account.address);
    const signature = await account.signMessage({ message });
    const results = await Promise.all(
      Array.from({ length: 20 }, async (_, i) => {
        const res = await (i % 2 === 0 ? a : b).request("/api/auth/verify", { method: "POST", json: { message, signature } });
        return { status: res.status, code: res.status === 200 ? "ok" : (await res.json()).error.code };
      }),
    );
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    expect(results.filter((r) => r.code === "nonce_unknown")).toHaveLength(19);
  });

  it("revokes in every process: logout on one, the other answers 401", async () => {
    const { token } = await signIn(a);
    expect((await status(b, "/api/me", token)).status).toBe(200); // b caches the session now
    expect((await status(b, "/api/me", token)).status).toBe(200);
    const delivered = new Promise<void>((resolve) => {
      const off = b.ctx.bus.subscribe("session:revoked", () => {
        off();
        resolve();
      });
    });
    expect((await a.request("/api/auth/logout", { method: "POST", token })).status).toBe(204);
    await delivered;
    expect((await status(b, "/api/me", token)).status).toBe(401);
    expect((await status(a, "/api/me", token)).status).toBe(401);
  });

  it("signs in through a nonce issued by the other process", async () => {
    const signedIn = await signIn({ request: (path, init) => (path.endsWith("/nonce") ? a : b).request(path, init) });
    expect((await status(a, "/api/me", signedIn.token)).body.address).toBe(signedIn.address);
  });
});
