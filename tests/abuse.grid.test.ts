import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "./helpers/server.ts";
import { TestWsClient, wsUrl } from "./fakes/ws-client.ts";
import { nextCircuit } from "./fakes/wait.ts";
import { GridJsonCache, gridSnapshot, gridSourceOf, type GridSource } from "../services/pricing/grid-json.ts";
import type { CellQuote } from "../services/pricing/types.ts";

/**
 * Issue 13 items 3 and 6: the grid offers nothing while the circuit is open (HTTP and WebSocket),
 * and `GET /api/grid` is served from a cache, not priced and serialised per request.
 */
describe("abuse: the grid while the circuit is open", () => {
  let server: TestServer;
  let feeding: NodeJS.Timeout | undefined;
  const feed = () => {
    let price = 9_500_000;
    feeding = setInterval(() => server.ctx.services.price.ingest("manual", (price += 100), Date.now()), 40);
  };
  const stopFeeding = () => clearInterval(feeding);

  beforeAll(async () => {
    server = await startTestServer({ PRICE_SOURCES: "manual", PRICE_STALE_MS: 300, PRICE_CHECK_INTERVAL_MS: 50, PRICE_RECOVERY_MS: 100, GRID_REFRESH_MS: 0 });
    const closed = nextCircuit(server.ctx.services.price, "closed");
    feed();
    if (server.ctx.services.price.circuit() === "open") await closed;
  });
  afterAll(async () => {
    stopFeeding();
    await server?.stop();
  });

  const grid = async () => {
    const res = await server.request("/api/grid?cols=6&rows=11");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    return (await res.json()) as { circuit: string; quotes: string; cells: unknown[]; priceCents: number };
  };

  it("offers cells while the circuit is closed, empties them while it is open, offers them again after", async () => {
    const live = await grid();
    expect(live).toMatchObject({ circuit: "closed", quotes: "live" });
    expect(live.cells.length).toBeGreaterThan(0);

    const client = new TestWsClient(wsUrl(server.url));
    await client.opened;
    const liveFrame = await client.next((m) => m.type === "grid", 5000);
    expect(liveFrame).toMatchObject({ circuit: "closed", quotes: "live" });
    expect((liveFrame.cells as unknown[]).length).toBeGreaterThan(0);

    const since = client.messages.length;
    stopFeeding();
    await nextCircuit(server.ctx.services.price, "open");
    const paused = await grid();
    expect(paused).toMatchObject({ circuit: "open", quotes: "paused", cells: [] });
    expect(paused.priceCents).toBeGreaterThan(0); // the last index price is still shown
    // The socket hears it at once, not only at the next 1 s grid.
    const pausedFrame = await client.next((m) => m.type === "grid" && m.circuit === "open", 2000, since);
    expect(pausedFrame).toMatchObject({ circuit: "open", quotes: "paused", cells: [] });

    const closedAgain = nextCircuit(server.ctx.services.price, "closed");
    feed();
    await closedAgain;
    const again = await grid();
    expect(again).toMatchObject({ circuit: "closed", quotes: "live" });
    expect(again.cells.length).toBeGreaterThan(0);
    await client.close();
  });
});

describe("abuse: grid answers come from a cache", () => {
  const geometry = { symbol: "BTC-USD", columnMs: 10_000, rowCents: 1000, lockMs: 5000, entriesMax: 4 };
  const cell = (col: number, row: number): CellQuote => ({
    col,
    row,
    windowStart: col * 10_000,
    windowEnd: (col + 1) * 10_000,
    bandLowCents: row * 1000,
    bandHighCents: (row + 1) * 1000,
    multiplierHundredths: 250,
    pTouch: 0.38,
  });
  function source() {
    const state = { tick: { t: 1_000_000, priceCents: 9_500_000 }, circuit: "closed" as "open" | "closed", pricings: 0 };
    const src: GridSource = {
      grid(cols, rows, now) {
        state.pricings++;
        const first = Math.ceil((now + 5000) / 10_000);
        const cells = [];
        for (let c = first; c < first + cols; c++) for (let r = 0; r < rows; r++) cells.push(cell(c, 9500 + r));
        return { priceCents: state.tick.priceCents, at: state.tick.t, cells };
      },
      latest: () => state.tick,
      circuit: () => state.circuit,
    };
    return { state, src };
  }
  const parse = (body: Uint8Array | undefined) => JSON.parse(new TextDecoder().decode(body)) as { at: number; circuit: string; cells: { col: number }[] };

  it("prices and serialises a size once per refresh, however many ask for it", () => {
    const { state, src } = source();
    const cache = new GridJsonCache(src, { ...geometry, refreshMs: 500 });
    const now = 1_000_050;
    const first = cache.body(60, 61, now);
    for (let i = 0; i < 1000; i++) expect(cache.body(60, 61, now + (i % 400))).toBe(first);
    expect(state.pricings).toBe(1);
    expect(parse(first).cells).toHaveLength(60 * 61);
    // A new tick inside the refresh period is served from the cache; after it, the answer is rebuilt.
    state.tick = { t: 1_000_300, priceCents: 9_501_000 };
    expect(parse(cache.body(60, 61, now + 300)).at).toBe(1_000_000);
    expect(parse(cache.body(60, 61, now + 500)).at).toBe(1_000_300);
    expect(state.pricings).toBe(2);
  });

  it("never offers a column that locked since the answer was built", () => {
    const { src } = source();
    const cache = new GridJsonCache(src, { ...geometry, refreshMs: 60_000 });
    // First unlocked column at 1_004_999 is ceil(1_009_999 / 10_000) = 101; at 1_005_001 it is 102.
    expect(parse(cache.body(3, 1, 1_004_999)).cells[0]!.col).toBe(101);
    expect(parse(cache.body(3, 1, 1_005_001)).cells[0]!.col).toBe(102);
  });

  it("empties the grid as soon as the circuit opens, even inside the refresh period", () => {
    const { state, src } = source();
    const cache = new GridJsonCache(src, { ...geometry, refreshMs: 60_000 });
    expect(parse(cache.body(12, 21, 1_000_050)).cells.length).toBe(12 * 21);
    state.circuit = "open";
    expect(parse(cache.body(12, 21, 1_000_060))).toMatchObject({ circuit: "open", quotes: "paused", cells: [] });
    state.circuit = "closed";
    expect(parse(cache.body(12, 21, 1_000_070)).cells.length).toBe(12 * 21);
  });

  it("keeps at most entriesMax sizes", () => {
    const { state, src } = source();
    const cache = new GridJsonCache(src, { ...geometry, refreshMs: 60_000 });
    for (let rows = 1; rows <= 5; rows++) cache.body(1, rows, 1_000_050); // 5 sizes, bound 4: rows=1 evicted
    const before = state.pricings;
    cache.body(1, 5, 1_000_050); // still cached
    expect(state.pricings).toBe(before);
    cache.body(1, 1, 1_000_050); // evicted, priced again
    expect(state.pricings).toBe(before + 1);
  });

  it("with refreshMs 0, rebuilds when the index ticks", () => {
    const { state, src } = source();
    const cache = new GridJsonCache(src, { ...geometry, refreshMs: 0 });
    cache.body(2, 2, 1_000_050);
    cache.body(2, 2, 1_000_060);
    expect(state.pricings).toBe(1);
    state.tick = { t: 1_000_100, priceCents: 9_500_100 };
    expect(parse(cache.body(2, 2, 1_000_110)).at).toBe(1_000_100);
    expect(state.pricings).toBe(2);
  });

  it("pauses the grid when pricing says quotes are paused (an index too old to quote), circuit still closed", () => {
    const { state, src } = source();
    let quotes: "live" | "paused" = "live";
    const pricing = { grid: src.grid, quoteState: () => quotes };
    const price = { latest: () => state.tick, circuit: () => state.circuit };
    expect(gridSnapshot(gridSourceOf(pricing, price), 2, 2, 1_000_050)!.cells).toHaveLength(4);
    quotes = "paused";
    expect(gridSnapshot(gridSourceOf(pricing, price), 2, 2, 1_000_050)).toMatchObject({ circuit: "closed", quotes: "paused", cells: [] });
    const cache = new GridJsonCache(gridSourceOf(pricing, price), { ...geometry, refreshMs: 60_000 });
    expect(parse(cache.body(2, 2, 1_000_050)).cells).toEqual([]);
    quotes = "live";
    expect(parse(cache.body(2, 2, 1_000_060)).cells).toHaveLength(4);
  });
});
