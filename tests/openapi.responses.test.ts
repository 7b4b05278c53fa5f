import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { API_ROUTES, openApiDocument, routeKey } from "../services/api-docs/index.ts";
import { startTestServer, type TestServer } from "./helpers/server.ts";
import { signIn, type SignedIn } from "./helpers/siwe.ts";
import { createPlayer } from "./helpers/players.ts";
import { ADMIN_TOKEN, newKey, pickCell } from "./helpers/bets-fixture.ts";
import { TestWsClient, wsUrl } from "./fakes/ws-client.ts";
import { DocumentChecker, realAnswer } from "./helpers/openapi-check.ts";

/**
 * Real answers of every route, successes and refusals, validate against the OpenAPI document the
 * server serves (Ajv, JSON Schema 2020-12): the status must be one the document lists for that
 * operation and the body must match its schema. WebSocket frames validate against the Ws* components.
 * One server, one scripted session: sign in with a wallet, bet, settle, admin, stale feed.
 */
const START_CENTS = 9_500_000;
const COLUMN_MS = 10_000;

describe("OpenAPI: real answers validate against the served document", () => {
  const clock = { nowMs: Date.UTC(2030, 0, 7, 12, 0, 0) };
  let server: TestServer;
  let checker: DocumentChecker;
  let player: SignedIn;
  let anon: TestWsClient;
  let privateWs: TestWsClient;
  let betId = "";

  /** One request: fetches, checks the answer against the document, returns it. */
  const call = async (method: string, route: string, path: string, init: RequestInit & { json?: unknown; token?: string } = {}) => {
    const answer = await realAnswer(await server.request(path, { ...init, method }));
    checker.check(method, route, answer);
    return answer as { status: number; body: any; contentType: string | null };
  };
  const tick = (priceCents: number, at: number) => {
    clock.nowMs = at;
    server.ctx.services.price.ingest("manual", priceCents, at);
  };
  /** Ticks every 500 ms (the feed stays fresh) up to `until`. */
  const feedUntil = (until: number, priceCents: number) => {
    for (let t = clock.nowMs + 500; t <= until; t += 500) tick(priceCents, t);
  };

  beforeAll(async () => {
    server = await startTestServer({ ADMIN_TOKEN, ARCHIVE_MODE: "inline", COLUMN_MS }, { now: () => clock.nowMs });
    const res = await server.request("/openapi.json");
    expect(res.status).toBe(200);
    const served = await res.json();
    // The server serves the document the module builds (and the checker uses what was served).
    expect(served).toEqual(JSON.parse(JSON.stringify(openApiDocument())));
    checker = new DocumentChecker(served);
  });
  afterAll(async () => {
    anon?.ws.terminate();
    privateWs?.ws.terminate();
    await server?.stop();
  });

  it("before the first tick: /api/price and /api/grid 503 price_unavailable, /readyz 503 degraded; a socket hears hello and the open circuit", async () => {
    expect((await call("GET", "/api/price", "/api/price")).body.error.code).toBe("price_unavailable");
    expect((await call("GET", "/api/grid", "/api/grid")).status).toBe(503);
    const ready = await call("GET", "/readyz", "/readyz");
    expect([ready.status, ready.body.status]).toEqual([503, "degraded"]);
    anon = new TestWsClient(wsUrl(server.url));
    await anon.opened;
    anon.send(JSON.stringify({ type: "subscribe", channels: ["grid"] }));
    checker.check("GET", "/ws", { status: 101, contentType: null, body: "" });
    expect(await anon.next((m) => m.type === "hello")).toMatchObject({ authenticated: false });
    expect(await anon.next((m) => m.type === "circuit")).toMatchObject({ state: "open" });
  });

  it("health, metrics, the document itself, price and grid once the feed ticks", async () => {
    feedUntil(clock.nowMs + 2000, START_CENTS);
    expect((await call("GET", "/healthz", "/healthz")).body).toEqual({ status: "ok" });
    expect((await call("GET", "/readyz", "/readyz")).status).toBe(200);
    const metrics = await call("GET", "/metrics", "/metrics");
    expect(metrics.status).toBe(200);
    expect(metrics.body).toMatch(/^# HELP /m);
    expect((await call("GET", "/openapi.json", "/openapi.json")).body.openapi).toBe("3.1.0");
    expect((await call("GET", "/asyncapi.json", "/asyncapi.json")).body.asyncapi).toBe("3.0.0");
    expect((await call("GET", "/api/price", "/api/price")).body.priceCents).toBe(START_CENTS);
    const grid = await call("GET", "/api/grid", "/api/grid?cols=4&rows=9");
    expect(grid.status).toBe(200);
    expect(grid.body.cells.length).toBeGreaterThan(0);
    expect((await call("GET", "/api/grid", "/api/grid?cols=999")).body.error.code).toBe("invalid_request");
  });

  it("the demo page and its files: 200, 304 on revalidation, 404 for a name not in the list", async () => {
    const page = await call("GET", "/", "/");
    expect([page.status, page.contentType]).toEqual([200, "text/html; charset=utf-8"]);
    const style = await server.request("/assets/style.css");
    const etag = style.headers.get("etag");
    expect([style.status, etag]).toEqual([200, expect.any(String)]);
    checker.check("GET", "/assets/:file", await realAnswer(style));
    expect((await call("GET", "/assets/:file", "/assets/style.css", { headers: { "if-none-match": etag! } })).status).toBe(304);
    expect((await call("GET", "/assets/:file", "/assets/nope.js")).body.error.code).toBe("not_found");
    // The bundle exists once `npm run build:web` ran (503 unavailable with Retry-After before): documented either way.
    expect([200, 503]).toContain((await call("GET", "/assets/:file", "/assets/app.js")).status);
  });

  it("sign-in: nonce and verify with a wallet, and their refusals (bad address 400, replayed nonce 401, bad signature 400)", async () => {
    const account = privateKeyToAccount(generatePrivateKey());
    const challenge = await call("POST", "/api/auth/nonce", "/api/auth/nonce", { json: { address: account.address } });
    expect(challenge.status).toBe(200);
    const signature = await account.signMessage({ message: challenge.body.message });
    const verified = await call("POST", "/api/auth/verify", "/api/auth/verify", { json: { message: challenge.body.message, signature } });
    expect(verified.status).toBe(200);
    const replay = await call("POST", "/api/auth/verify", "/api/auth/verify", { json: { message: challenge.body.message, signature } });
    expect([replay.status, replay.body.error.code]).toEqual([401, "nonce_unknown"]);
    expect((await call("POST", "/api/auth/verify", "/api/auth/verify", { json: { message: "x", signature: "0x12" } })).status).toBe(400);
    expect((await call("POST", "/api/auth/nonce", "/api/auth/nonce", { json: { address: "0xnot" } })).status).toBe(400);
    const malformed = await call("POST", "/api/auth/nonce", "/api/auth/nonce", { body: "{", headers: { "content-type": "application/json" } });
    expect(malformed.body.error.code).toBe("invalid_request");
    player = await signIn(server);
  });

  it("player reads: /api/me, and 401 without a token", async () => {
    expect((await call("GET", "/api/me", "/api/me", { token: player.token })).body.address).toBe(player.address);
    expect((await call("GET", "/api/me", "/api/me")).status).toBe(401);
    expect((await call("GET", "/api/bets", "/api/bets", { token: "nope" })).status).toBe(401);
  });

  it("a private socket: hello authenticated, ping → pong", async () => {
    privateWs = new TestWsClient(wsUrl(server.url, `?token=${player.token}`));
    await privateWs.opened;
    expect(await privateWs.next((m) => m.type === "hello")).toMatchObject({ authenticated: true });
    privateWs.send(JSON.stringify({ type: "ping" }));
    await privateWs.next((m) => m.type === "pong");
  });

  it("placing bets: 201, the retry 200, and every refusal the server gives here", async () => {
    const cell = await pickCell(server);
    const key = newKey();
    const body = { col: cell.col, row: cell.row, stakeMicroUsd: 1_000_000, idempotencyKey: key };
    const placed = await call("POST", "/api/bets", "/api/bets", { token: player.token, json: body });
    expect(placed.status).toBe(201);
    betId = placed.body.bet.id;
    expect((await call("POST", "/api/bets", "/api/bets", { token: player.token, json: body })).status).toBe(200);
    const conflict = await call("POST", "/api/bets", "/api/bets", { token: player.token, json: { ...body, stakeMicroUsd: 2_000_000 } });
    expect(conflict.body.error.code).toBe("idempotency_conflict");
    const locked = await call("POST", "/api/bets", "/api/bets", { token: player.token, json: { ...body, col: Math.floor(clock.nowMs / COLUMN_MS), idempotencyKey: newKey() } });
    expect(locked.body.error.code).toBe("cell_locked");
    const changed = await call("POST", "/api/bets", "/api/bets", { token: player.token, json: { ...body, minMultiplier: 999, idempotencyKey: newKey() } });
    expect(changed.body.error.code).toBe("multiplier_changed");
    const stake = await call("POST", "/api/bets", "/api/bets", { token: player.token, json: { ...body, stakeMicroUsd: 1, idempotencyKey: newKey() } });
    expect(stake.body.error.details.fields).toHaveProperty("stakeMicroUsd");
    expect((await call("POST", "/api/bets", "/api/bets", { token: player.token, json: { ...body, extra: 1 } })).status).toBe(400);
    const poor = await createPlayer(server.ctx, 0);
    expect((await call("POST", "/api/bets", "/api/bets", { token: poor.token, json: { ...body, idempotencyKey: newKey() } })).body.error.code).toBe("insufficient_balance");
    const huge = await call("POST", "/api/bets", "/api/bets", { token: player.token, json: { ...body, idempotencyKey: "k".repeat(20_000) } });
    expect([huge.status, huge.body.error.code]).toEqual([413, "payload_too_large"]);
    expect((await call("POST", "/api/bets", "/api/bets", { json: body })).status).toBe(401);
    // Another content type: 415 unsupported_media_type (API.md § Conventions).
    const text = await call("POST", "/api/bets", "/api/bets", {
      token: player.token,
      body: JSON.stringify({ ...body, idempotencyKey: newKey() }),
      headers: { "content-type": "text/plain" },
    });
    expect([text.status, text.body.error.code]).toEqual([415, "unsupported_media_type"]);
    // A second bet in the same cell, so that the bet list below has more than one page of one.
    expect((await call("POST", "/api/bets", "/api/bets", { token: player.token, json: { ...body, idempotencyKey: newKey() } })).status).toBe(201);
    const frame = await privateWs.next((m) => m.type === "bet");
    expect(frame).toMatchObject({ bet: { id: betId, status: "open" } });
    await privateWs.next((m) => m.type === "balance");
  });

  it("bet reads: list, one bet, its proof, 404 for an unknown bet, 400 for a bad query; the ledger", async () => {
    const list = await call("GET", "/api/bets", "/api/bets?limit=1", { token: player.token });
    expect(list.body.bets).toHaveLength(1);
    expect(list.body.nextCursor).not.toBeNull();
    await call("GET", "/api/bets", `/api/bets?status=open&cursor=${list.body.nextCursor}`, { token: player.token });
    expect((await call("GET", "/api/bets", "/api/bets?limit=0", { token: player.token })).status).toBe(400);
    expect((await call("GET", "/api/bets/:id", `/api/bets/${betId}`, { token: player.token })).body.id).toBe(betId);
    expect((await call("GET", "/api/bets/:id", "/api/bets/999999", { token: player.token })).body.error.code).toBe("not_found");
    expect((await call("GET", "/api/bets/:id", "/api/bets/abc", { token: player.token })).status).toBe(404);
    expect((await call("GET", "/api/bets/:id/proof", `/api/bets/${betId}/proof`, { token: player.token })).body.recomputed).toBe("open");
    expect((await call("GET", "/api/bets/:id/proof", "/api/bets/999999/proof", { token: player.token })).status).toBe(404);
    expect((await call("GET", "/api/ledger", "/api/ledger", { token: player.token })).body.entries.length).toBeGreaterThanOrEqual(2);
    expect((await call("GET", "/api/ledger", "/api/ledger?cursor=x", { token: player.token })).status).toBe(400);
  });

  it("a settled bet (won: its resolution) validates in the bet event, GET /api/bets/:id and the proof", async () => {
    const bet = (await call("GET", "/api/bets/:id", `/api/bets/${betId}`, { token: player.token })).body;
    const since = privateWs.messages.length;
    feedUntil(bet.windowStart + 500, START_CENTS);
    tick(Math.floor((bet.bandLowCents + bet.bandHighCents) / 2), bet.windowStart + 1000);
    await server.ctx.services.resolver.idle();
    expect(await privateWs.next((m) => m.type === "bet" && (m.bet as { status: string }).status === "won", 10_000, since)).toBeDefined();
    const won = (await call("GET", "/api/bets/:id", `/api/bets/${betId}`, { token: player.token })).body;
    expect(won.resolution).toMatchObject({ reason: expect.any(String) });
    expect((await call("GET", "/api/bets/:id/proof", `/api/bets/${betId}/proof`, { token: player.token })).body.recomputed).toBe("won");
    await anon.next((m) => m.type === "grid");
    await anon.next((m) => m.type === "price");
  });

  it("admin: credit (and its conflict, bad body, wrong token), exposure, integrity, archive", async () => {
    const admin = { token: ADMIN_TOKEN };
    const credit = { address: player.address, amountMicroUsd: 5_000_000, reference: "openapi-credit-1" };
    expect((await call("POST", "/api/admin/credit", "/api/admin/credit", { ...admin, json: credit })).status).toBe(200);
    expect((await call("POST", "/api/admin/credit", "/api/admin/credit", { ...admin, json: { ...credit, amountMicroUsd: 1 } })).body.error.code).toBe("idempotency_conflict");
    expect((await call("POST", "/api/admin/credit", "/api/admin/credit", { ...admin, json: { ...credit, amountMicroUsd: 0 } })).status).toBe(400);
    expect((await call("POST", "/api/admin/credit", "/api/admin/credit", { token: "wrong-token", json: credit })).status).toBe(401);
    expect((await call("GET", "/api/admin/exposure", "/api/admin/exposure", admin)).status).toBe(200);
    expect((await call("GET", "/api/admin/integrity", "/api/admin/integrity", admin)).body.ok).toBe(true);
    expect((await call("POST", "/api/admin/archive", "/api/admin/archive", admin)).body.ok).toBe(true);
    expect((await call("GET", "/api/admin/exposure", "/api/admin/exposure")).status).toBe(401);
  });

  it("a stale feed: 503 price_stale with Retry-After on a bet, readiness degraded, the circuit frame", async () => {
    const since = anon.messages.length;
    clock.nowMs += 5_000;
    (server.ctx.services.price as unknown as { check?: () => void }).check?.();
    const cell = await pickCell(server).catch(() => ({ col: Math.floor(clock.nowMs / COLUMN_MS) + 2, row: Math.floor(START_CENTS / 1000) + 3 }));
    const stale = await call("POST", "/api/bets", "/api/bets", { token: player.token, json: { col: cell.col, row: cell.row, stakeMicroUsd: 1_000_000, idempotencyKey: newKey() } });
    expect([stale.status, stale.body.error.code]).toEqual([503, "price_stale"]);
    expect((await call("GET", "/readyz", "/readyz")).status).toBe(503);
    expect(await anon.next((m) => m.type === "circuit" && m.state === "open", 10_000, since)).toBeDefined();
  });

  it("logout: 204, then the token is refused", async () => {
    expect((await call("POST", "/api/auth/logout", "/api/auth/logout", { token: player.token })).status).toBe(204);
    expect((await call("GET", "/api/me", "/api/me", { token: player.token })).status).toBe(401);
  });

  it("every frame the sockets received validates as a WsServerMessage, and every type was seen", () => {
    const frames = [...anon.messages, ...privateWs.messages];
    for (const frame of frames) checker.checkComponent("WsServerMessage", frame);
    expect(new Set(frames.map((f) => f.type))).toEqual(new Set(["hello", "circuit", "price", "grid", "bet", "balance", "pong"]));
    // The optional parts were there to be checked: the quote terms in hello, a tick's pricing inputs in price.
    expect(frames.some((f) => f.type === "hello" && f.quoteTerms !== undefined)).toBe(true);
    expect(frames.some((f) => f.type === "price" && f.quote !== undefined)).toBe(true);
    expect(frames.some((f) => f.type === "hello" && Array.isArray(f.quoteKeys))).toBe(true);
    // Only an edge that loses the core sends this one (tests/scale.edges.test.ts sees it happen).
    checker.checkComponent("WsServerMessage", { type: "stream", state: "interrupted", at: 1 });
    checker.checkComponent("WsClientMessage", { type: "ping" });
    checker.checkComponent("WsClientMessage", { type: "subscribe", channels: ["grid"] });
    checker.checkComponent("WsClientMessage", { type: "unsubscribe", channels: ["grid"] });
    expect(() => checker.checkComponent("WsServerMessage", { type: "price", priceCents: 1 })).toThrow(/does not match/);
  });

  it("every documented route answered at least once with a success, and the checks are real", () => {
    const success = (statuses: Set<number> | undefined) => [...(statuses ?? [])].some((s) => s < 300 || s === 101);
    const missing = API_ROUTES.map(routeKey).filter((key) => !success(checker.seen.get(key)));
    expect(missing).toEqual([]);
    // An undocumented status or a body that does not match is refused.
    expect(() => checker.check("GET", "/api/me", { status: 418, contentType: "application/json", body: {} })).toThrow(/does not list/);
    expect(() => checker.check("GET", "/api/me", { status: 200, contentType: "application/json", body: { address: "x" } })).toThrow(/does not match/);
    expect(() => checker.check("GET", "/api/bets/:id", { status: 404, contentType: "application/json", body: { error: { code: "gone", message: "" } } })).toThrow(/does not match/);
  });
});

describe("OpenAPI: admin routes while ADMIN_TOKEN is unset", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("answer the documented 404 not_found", async () => {
    const checker = new DocumentChecker(openApiDocument());
    for (const [method, route] of [["GET", "/api/admin/integrity"], ["POST", "/api/admin/archive"]] as const) {
      const answer = await realAnswer(await server.request(route, { method, token: "anything-at-all-0123456789" }));
      expect(answer.status).toBe(404);
      checker.check(method, route, answer);
    }
  });
});
