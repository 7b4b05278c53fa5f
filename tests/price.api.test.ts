import { afterEach, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "./helpers/server.ts";
import { nextTick } from "./fakes/wait.ts";

/** GET /api/price, the manual source other suites rely on, tick persistence, restarts, synthetic. */
describe("price: API and index ticks", () => {
  let server: TestServer | undefined;
  afterEach(async () => {
    await server?.stop();
    server = undefined;
  });

  it("answers 503 price_unavailable before the first tick", async () => {
    server = await startTestServer();
    const res = await server.request("/api/price");
    expect(res.status).toBe(503);
    expect((await res.json()).error.code).toBe("price_unavailable");
  });

  it("with PRICE_SOURCES=manual, ingest() ticks at `at` at once, and GET /api/price reports it exactly", async () => {
    const T = 1_800_000_000_000;
    let now = T;
    server = await startTestServer({}, { now: () => now });
    const { price } = server.ctx.services;
    expect(price.circuit()).toBe("open"); // nothing priced yet
    price.ingest("manual", 9_512_345, T);
    expect(price.latest()).toEqual({ t: T, priceCents: 9_512_345 });
    expect(price.circuit()).toBe("closed"); // the first tick closes the start-up circuit at once
    now = T + 250;
    const body = await (await server.request("/api/price")).json();
    expect(body).toEqual({
      symbol: "BTC-USD",
      priceCents: 9_512_345,
      at: T,
      ageMs: 250,
      circuit: "closed",
      // One tick: the pricing module is still warming up (issue 21), with a wide credible range.
      warmUp: { state: "warming", rateSpreadLog: expect.any(Number) },
      sources: [{ name: "manual", priceCents: 9_512_345, ageMs: 250, healthy: true, state: "live", eventLagMs: null }],
    });
    expect(body.warmUp.rateSpreadLog).toBeGreaterThan(1);
  });

  it("keeps tick times strictly increasing (same-millisecond ticks are bumped by 1 ms) and persists every tick", async () => {
    const T = 1_800_000_000_000;
    server = await startTestServer({}, { now: () => T });
    const { price } = server.ctx.services;
    const ticks: { t: number; priceCents: number }[] = [];
    price.onTick((tick) => ticks.push(tick));
    const published: string[] = [];
    server.ctx.bus.subscribe("price", (m) => published.push(m));
    price.ingest("manual", 9_500_000, T);
    price.ingest("manual", 9_500_100, T);
    price.ingest("manual", 9_500_200, T);
    expect(ticks).toEqual([
      { t: T, priceCents: 9_500_000 },
      { t: T + 1, priceCents: 9_500_100 },
      { t: T + 2, priceCents: 9_500_200 },
    ]);
    await server.ctx.queue.barrier();
    const rows = server.ctx.db.prepare("SELECT t, price_cents FROM price_ticks ORDER BY t").all() as { t: number; price_cents: number }[];
    expect(rows.map((r) => [r.t, r.price_cents])).toEqual(ticks.map((t) => [t.t, t.priceCents]));
    expect(published.map((m) => JSON.parse(m))).toEqual(ticks);
  });

  it("after a restart continues tick times past the stored ones and records the downtime as a stale gap", async () => {
    const T = 1_800_000_000_000;
    let now = T;
    const first = await startTestServer({ PRICE_STALE_MS: 2000 }, { now: () => now, keepData: true });
    first.ctx.services.price.ingest("manual", 9_500_000, T);
    first.ctx.services.price.ingest("manual", 9_500_050, T + 1000);
    await first.stop();

    now = T + 60_000; // down for a minute
    server = await startTestServer({ PRICE_STALE_MS: 2000 }, { now: () => now, dataDir: first.dataDir });
    const { price } = server.ctx.services;
    expect(price.circuit()).toBe("open");
    expect(price.staleGaps(T, T + 60_001)).toEqual([{ startAt: T + 1000 + 2000, endAt: null }]);
    // A replayed observation older than the stored ticks still ticks, with a later t, but an old
    // price does not make the feed fresh.
    price.ingest("manual", 9_400_000, T + 500);
    expect(price.latest()!.t).toBe(T + 1001);
    expect(price.circuit()).toBe("open");
    price.ingest("manual", 9_400_100, now);
    expect(price.circuit()).toBe("closed");
    expect(price.staleGaps(T, now + 1)).toEqual([{ startAt: T + 3000, endAt: now }]);
    await server.ctx.queue.barrier();
    const gaps = server.ctx.db.prepare("SELECT start_at, end_at FROM stale_gaps").all() as { start_at: number; end_at: number }[];
    expect(gaps.map((g) => [g.start_at, g.end_at])).toEqual([[T + 3000, now]]);
  });

  it("a restart quicker than PRICE_STALE_MS leaves no stale gap", async () => {
    const T = 1_800_000_000_000;
    let now = T;
    const first = await startTestServer({ PRICE_STALE_MS: 2000 }, { now: () => now, keepData: true });
    first.ctx.services.price.ingest("manual", 9_500_000, T);
    await first.stop();
    now = T + 1500;
    server = await startTestServer({ PRICE_STALE_MS: 2000 }, { now: () => now, dataDir: first.dataDir });
    const { price } = server.ctx.services;
    expect(price.circuit()).toBe("open"); // until this process has a price of its own
    price.ingest("manual", 9_500_100, now);
    expect(price.circuit()).toBe("closed");
    expect(price.staleGaps(0, Number.MAX_SAFE_INTEGER)).toEqual([]);
  });

  it("the synthetic source (the default) ticks on its own at a realistic BTC price", async () => {
    server = await startTestServer({ PRICE_SOURCES: "synthetic", SYNTHETIC_TICK_MS: 20, SYNTHETIC_START_CENTS: 9_500_000 });
    const { price } = server.ctx.services;
    const ticks = [await nextTick(price), await nextTick(price), await nextTick(price)];
    for (let i = 1; i < ticks.length; i++) expect(ticks[i]!.t).toBeGreaterThan(ticks[i - 1]!.t);
    for (const tick of ticks) expect(Math.abs(tick.priceCents - 9_500_000)).toBeLessThan(95_000); // within 1%
    expect(price.sources()).toEqual([expect.objectContaining({ name: "synthetic", healthy: true })]);
  });
});
