import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "./helpers/server.ts";
import { fakeCoinbase } from "./fakes/coinbase.ts";
import type { FakeExchange } from "./fakes/fake-exchange.ts";
import { TestWsClient, wsUrl } from "./fakes/ws-client.ts";
import { nextCircuit, nextTick } from "./fakes/wait.ts";

/**
 * ADR-008 end to end: a fake exchange stops sending → within PRICE_STALE_MS + one check interval
 * the circuit opens, the breaker-guarded route (a stand-in for POST /api/bets) answers 503
 * price_stale with Retry-After, WebSocket clients are told, a stale gap is recorded; the feed
 * resumes → after the recovery period the circuit closes and the gap ends.
 */
const STALE_MS = 300;
const CHECK_MS = 50;
const RECOVERY_MS = 250;
// Timers on a shared 2-core machine fire late; this is the slack allowed on top of the bar.
const TIMER_SLACK_MS = 150;
const fixtures = join(dirname(fileURLToPath(import.meta.url)), "fakes", "handlers");

describe("price: stale-feed circuit breaker", () => {
  let fake: FakeExchange;
  let server: TestServer;
  let client: TestWsClient;

  beforeAll(async () => {
    fake = fakeCoinbase({ heartbeatMs: 100 });
    await fake.start();
    fake.stream(() => "97000.00", 40);
    server = await startTestServer(
      {
        PRICE_SOURCES: "coinbase",
        COINBASE_WS_URL: fake.url("/"),
        PRICE_STALE_MS: STALE_MS,
        PRICE_CHECK_INTERVAL_MS: CHECK_MS,
        PRICE_RECOVERY_MS: RECOVERY_MS,
      },
      { handlersDir: fixtures },
    );
    if (server.ctx.services.price.circuit() === "open") await nextCircuit(server.ctx.services.price, "closed");
    client = new TestWsClient(wsUrl(server.url));
    await client.opened;
  });

  afterAll(async () => {
    await client?.close();
    await server?.stop();
    await fake?.kill();
  });

  const guarded = () => server.request("/api/guarded", { method: "POST", json: {} });

  it("lets guarded requests through while the feed is fresh", async () => {
    const res = await guarded();
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ accepted: true });
    expect(server.ctx.services.price.staleGaps(0, Number.MAX_SAFE_INTEGER)).toEqual([]);
  });

  it("opens when the exchange goes quiet, refuses with 503 price_stale, tells WebSocket clients, records the gap", async () => {
    const { price } = server.ctx.services;
    const since = client.messages.length;
    fake.silence();
    const openedAt = await nextCircuit(price, "open");
    const lastTick = price.latest()!;
    // Ages run from the exchange's event time of the last price (issue 14), which is at or before
    // the arrival-stamped last tick: the circuit opens once that data is older than STALE_MS, and
    // no later than STALE_MS (plus a check and timer slack) after the last tick.
    const dataAt = price.sources()[0]!.priceAtMs!;
    expect(dataAt).toBeLessThanOrEqual(lastTick.t);
    expect(openedAt - dataAt).toBeGreaterThan(STALE_MS);
    expect(openedAt - lastTick.t).toBeLessThanOrEqual(STALE_MS + CHECK_MS + TIMER_SLACK_MS);

    const res = await guarded();
    expect(res.status).toBe(503);
    expect(Number(res.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect((await res.json()).error.code).toBe("price_stale");

    expect(await client.next((m) => m.type === "circuit", 5000, since)).toEqual({ type: "circuit", state: "open", at: openedAt });

    const api = await (await server.request("/api/price")).json();
    expect(api.circuit).toBe("open");
    expect(api.sources).toEqual([expect.objectContaining({ name: "coinbase", healthy: false })]);
    const ready = await server.request("/readyz");
    expect(ready.status).toBe(503);
    expect((await ready.json()).checks.price).toMatch(/stale/);

    // The gap starts when the data ran out (the last price's event time + PRICE_STALE_MS, at or
    // before last tick + PRICE_STALE_MS), not when it was noticed.
    const startAt = dataAt + STALE_MS;
    expect(price.staleGaps(dataAt, openedAt + 1)).toEqual([{ startAt, endAt: null }]);
    await server.ctx.queue.barrier(); // everything enqueued before has committed
    const rows = server.ctx.db.prepare("SELECT start_at, end_at FROM stale_gaps").all() as { start_at: number; end_at: number | null }[];
    expect(rows.map((r) => ({ start: r.start_at, end: r.end_at }))).toEqual([{ start: startAt, end: null }]);
  });

  it("closes after fresh ticks resume for the recovery period, and ends the gap", async () => {
    const { price } = server.ctx.services;
    const since = client.messages.length;
    const firstFresh = nextTick(price);
    const closed = nextCircuit(price, "closed");
    fake.silence(false);
    const resumedAt = (await firstFresh).t;
    // Still open during the recovery period.
    expect((await guarded()).status).toBe(503);
    const closedAt = await closed;
    expect(closedAt - resumedAt).toBeGreaterThanOrEqual(RECOVERY_MS);

    expect((await guarded()).status).toBe(200);
    expect(await client.next((m) => m.type === "circuit", 5000, since)).toEqual({ type: "circuit", state: "closed", at: closedAt });
    const gaps = price.staleGaps(0, Number.MAX_SAFE_INTEGER);
    expect(gaps).toHaveLength(1);
    expect(gaps[0]!.endAt).toBe(closedAt);
    await server.ctx.queue.barrier();
    const row = server.ctx.db.prepare("SELECT end_at FROM stale_gaps").get() as { end_at: number };
    expect(row.end_at).toBe(closedAt);
    expect((await server.request("/readyz")).status).toBe(200);
  });

  it("exposes circuit state, index age and source health on /metrics", async () => {
    const text = await (await server.request("/metrics")).text();
    expect(text).toMatch(/^price_circuit_open 0$/m);
    expect(text).toMatch(/^price_index_age_seconds \d/m);
    expect(text).toMatch(/^price_source_healthy\{source="coinbase"\} 1$/m);
    expect(text).toMatch(/^price_circuit_transitions_total\{state="open"\} 1$/m);
    expect(text).toMatch(/^ws_clients 1$/m);
  });
});
