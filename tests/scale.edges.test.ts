import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEdgeStack, type EdgeStack } from "./helpers/edge-stack.ts";
import { requireService } from "./helpers/services.ts";
import { signIn } from "./helpers/siwe.ts";
import { TestWsClient, wsUrl } from "./fakes/ws-client.ts";
import { until } from "./fakes/wait.ts";
import type { IndexTick } from "../services/price/types.ts";

/**
 * SPEC §11 / issue 22 on one machine: a real Redis, a core and two edges in processes of their own,
 * the repository's nginx in front. Every watcher on both edges gets every tick in order; a player's
 * events reach their socket on either edge exactly once; bets placed through nginx land once; a
 * killed edge's sockets reconnect to the other; Redis stopped and restarted: the edges say so and
 * recover by themselves.
 */
const run = requireService("redis-server") && requireService("nginx");

type Frame = Record<string, unknown>;
const prices = (client: TestWsClient, since = 0) => client.messages.slice(since).filter((m) => m.type === "price");
const seqs = (frames: Frame[]) => frames.map((f) => Number(f.seq));
/** Whether each seq is the one before it plus one (within one epoch). */
const consecutive = (frames: Frame[]) => frames.every((f, i) => i === 0 || (f.epoch === frames[i - 1]!.epoch && Number(f.seq) === Number(frames[i - 1]!.seq) + 1));

describe.runIf(run)("scale: a core and two edges behind nginx, over Redis", () => {
  let stack: EdgeStack;
  const coreTicks: IndexTick[] = [];
  const clients: TestWsClient[] = [];
  const open = async (url: string) => {
    const client = new TestWsClient(url);
    clients.push(client);
    await client.next((m) => m.type === "hello");
    return client;
  };
  const viaNginx = () => wsUrl(stack.base);
  const onEdge = (i: number, query = "") => wsUrl(stack.edges[i]!.url, query);
  const request = (path: string, init: RequestInit & { json?: unknown; token?: string } = {}) => {
    const headers = new Headers(init.headers);
    if (init.json !== undefined) headers.set("content-type", "application/json");
    if (init.token) headers.set("authorization", `Bearer ${init.token}`);
    return fetch(stack.base + path, { ...init, headers, body: init.json !== undefined ? JSON.stringify(init.json) : init.body });
  };
  /** Sockets per edge, from each edge's own /metrics. */
  const socketsPerEdge = () =>
    Promise.all(stack.edges.map(async (e) => Number(/^ws_clients (\d+)$/m.exec(await (await fetch(`${e.url}/metrics`)).text())?.[1] ?? NaN)));

  beforeAll(async () => {
    stack = await startEdgeStack({ PRICE_SOURCES: "synthetic", SYNTHETIC_TICK_MS: 100, DEMO_BALANCE_MICRO_USD: 100_000_000 });
    stack.core.ctx.services.price.onTick((tick) => coreTicks.push(tick));
    await untilReady(stack, 20_000);
  }, 120_000);
  afterAll(async () => {
    for (const c of clients) c.ws.terminate();
    await stack?.stop();
  });

  it("nginx sends the audience's routes to the edges and the rest to the core", async () => {
    const servedBy = async (route: string) =>
      Promise.all(
        [stack.core.url, ...stack.edges.map((e) => e.url)].map(async (url) => {
          const text = await (await fetch(`${url}/metrics`)).text();
          return [...text.matchAll(new RegExp(`^http_request_duration_seconds_count\\{[^}]*route="${route.replace(/[/:]/g, "\\$&")}"[^}]*\\} (\\d+)$`, "gm"))].reduce((n, m) => n + Number(m[1]), 0);
        }),
      );
    for (const [path, route] of [["/api/grid", "/api/grid"], ["/api/price", "/api/price"], ["/", "/"], ["/assets/style.css", "/assets/:file"]] as const) {
      const before = await servedBy(route);
      for (let i = 0; i < 4; i++) expect((await request(path)).status, path).toBe(200);
      const after = await servedBy(route);
      expect(after[0], `${path} on the core`).toBe(before[0]);
      expect(after.slice(1).reduce((a, b) => a + b, 0) - before.slice(1).reduce((a, b) => a + b, 0), `${path} on the edges`).toBe(4);
    }
    expect((await request("/api/me")).status).toBe(401); // the core answers it (an edge would say 404)
  });

  it("every watcher, on either edge, receives every tick the core makes, in order, without gaps", async () => {
    const watchers = await Promise.all(Array.from({ length: 12 }, () => open(viaNginx())));
    const perEdge = await socketsPerEdge();
    expect(perEdge.every((n) => n >= 4), `sockets per edge ${perEdge}`).toBe(true);
    const from = coreTicks.length;
    await new Promise((r) => setTimeout(r, 3000));
    const made = coreTicks.slice(from);
    expect(made.length).toBeGreaterThan(15);
    const last = made[made.length - 1]!;
    await Promise.all(watchers.map((w) => w.next((m) => m.type === "price" && m.at === last.t, 5000)));
    for (const w of watchers) {
      const frames = prices(w);
      expect(consecutive(frames), `seqs ${seqs(frames)}`).toBe(true);
      const ats = frames.map((f) => f.at);
      for (const tick of made) expect(ats).toContain(tick.t);
      const byAt = new Map(frames.map((f) => [f.at, f.priceCents]));
      expect(made.map((t) => byAt.get(t.t))).toEqual(made.map((t) => t.priceCents));
    }
    for (const w of watchers) w.ws.terminate();
  });

  it("a player's bet and balance events reach their socket on either edge exactly once; bets placed through nginx all land once", async () => {
    const players = await Promise.all([0, 1].map(() => signIn({ request })));
    const sockets = await Promise.all(players.map((p, i) => open(onEdge(i, `?token=${p.token}`))));
    const grid = (await (await request("/api/grid?cols=12&rows=21")).json()) as { at: number; cells: { col: number; row: number; windowStart: number }[] };
    // Columns far enough ahead that nothing settles during the test: the events are placements only.
    const cells = grid.cells.filter((c) => c.windowStart - grid.at >= 40_000);
    expect(cells.length).toBeGreaterThan(20);
    const placed: string[][] = [[], []];
    await Promise.all(
      players.map(async (player, p) => {
        for (let i = 0; i < 8; i++) {
          const cell = cells[(p * 8 + i) % cells.length]!;
          const res = await request("/api/bets", { method: "POST", token: player.token, json: { col: cell.col, row: cell.row, stakeMicroUsd: 1_000_000, idempotencyKey: `edge-${p}-${i}-${player.address.slice(2, 12)}` } });
          expect(res.status).toBe(201);
          placed[p]!.push(((await res.json()) as { bet: { id: string } }).bet.id);
        }
      }),
    );
    for (const [p, socket] of sockets.entries()) {
      await until(`player ${p}'s bet events`, () => socket.messages.filter((m) => m.type === "bet").length >= 8);
      await until(`player ${p}'s balance events`, () => socket.messages.filter((m) => m.type === "balance").length >= 8);
    }
    // Whatever was sent twice would have arrived by now, right behind the first copy.
    await new Promise((r) => setTimeout(r, 500));
    for (const [p, socket] of sockets.entries()) {
      const betIds = socket.messages.filter((m) => m.type === "bet").map((m) => (m.bet as { id: string }).id);
      expect(betIds.sort()).toEqual([...placed[p]!].sort());
      const balances = socket.messages.filter((m) => m.type === "balance").map((m) => m.balanceMicroUsd);
      expect(balances).toEqual(Array.from({ length: 8 }, (_, i) => 100_000_000 - (i + 1) * 1_000_000));
    }
    const rows = stack.core.ctx.db
      .prepare("SELECT id FROM bets WHERE lower(address) IN (?, ?)")
      .all(...players.map((p) => p.address.toLowerCase())) as { id: string }[];
    expect(rows.map((r) => String(r.id)).sort()).toEqual(placed.flat().sort());
  });

  it("Redis stopped and restarted: the edges tell their sockets, and recover by themselves; the gap shows in seq", async () => {
    const watchers = await Promise.all([0, 1].map((i) => open(onEdge(i))));
    await Promise.all(watchers.map((w) => w.next((m) => m.type === "price")));
    const restarted = stack.redis.restart(4500);
    for (const w of watchers) expect(await w.next((m) => m.type === "stream" && m.state === "interrupted", 10_000)).toMatchObject({ at: expect.any(Number) });
    const degraded = await (await fetch(`${stack.edges[0]!.url}/readyz`)).json();
    expect(degraded.status).toBe("degraded");
    await restarted;
    for (const w of watchers) {
      const back = w.messages.length;
      await w.next((m) => m.type === "stream" && m.state === "live", 15_000);
      await w.next((m) => m.type === "price", 10_000, back);
      const frames = prices(w);
      const resumed = frames.findIndex((f, i) => i > 0 && Number(f.seq) > Number(frames[i - 1]!.seq) + 1);
      expect(resumed, `seqs ${seqs(frames)}`).toBeGreaterThan(0);
    }
    await untilReady(stack, 10_000);
    for (const w of watchers) w.ws.terminate();
  }, 60_000);

  it("a killed edge's sockets reconnect through nginx to the other edge within the page's first backoff", async () => {
    for (const c of clients) c.ws.terminate();
    await until("the sockets of earlier tests are gone", () => clients.every((c) => c.ws.readyState === c.ws.CLOSED));
    await expectSoon(async () => (await socketsPerEdge()).every((n) => n === 0));
    const watchers = await Promise.all(Array.from({ length: 8 }, () => open(viaNginx())));
    const [onFirst] = await socketsPerEdge();
    expect(onFirst).toBeGreaterThan(0);
    const killedAt = performance.now();
    await stack.killEdge(0);
    const isClosed = (w: TestWsClient) => w.ws.readyState === w.ws.CLOSED;
    await until("the killed edge's sockets are closed", () => watchers.filter(isClosed).length === onFirst!, 5000);
    const dropped = watchers.filter(isClosed);
    // The page waits 0.5 s (± jitter) before its first retry; nginx skips the dead edge at once.
    const reconnectMs = await Promise.all(
      dropped.map(async () => {
        await new Promise((r) => setTimeout(r, 500));
        const again = await open(viaNginx());
        await again.next((m) => m.type === "price");
        return performance.now() - killedAt;
      }),
    );
    expect(Math.max(...reconnectMs)).toBeLessThan(3000);
    const onSecond = Number(/^ws_clients (\d+)$/m.exec(await (await fetch(`${stack.edges[1]!.url}/metrics`)).text())?.[1]);
    expect(onSecond).toBe(watchers.length);
  }, 60_000);
});

/** Until every edge answers /readyz with 200 (it hears the core, the price is fresh). */
async function untilReady(stack: EdgeStack, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    // Ready, and holding a price of the core's (readiness needs only the core's terms; under load the
    // first tick can come later, and an edge answering 503 for it would be taken out by nginx).
    const statuses = await Promise.all(
      stack.edges.flatMap((e) => [`${e.url}/readyz`, `${e.url}/api/price`].map((url) => fetch(url).then((r) => r.status, () => 0))),
    );
    if (statuses.every((s) => s === 200)) return;
    if (Date.now() > deadline) throw new Error(`edges not ready within ${timeoutMs} ms: ${statuses}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Polls an async condition (metrics of another process) until it holds. */
async function expectSoon(condition: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error("condition did not hold in time");
    await new Promise((r) => setTimeout(r, 50));
  }
}
