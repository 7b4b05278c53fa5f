import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "./helpers/server.ts";
import { TestWsClient, wsUrl } from "./fakes/ws-client.ts";
import { nextCircuit } from "./fakes/wait.ts";
import { GridJsonCache, gridSnapshot, gridSourceOf, type GridSource } from "../services/pricing/grid-json.ts";
import type { CellQuote } from "../services/pricing/types.ts";
import { PricingEngine } from "../services/pricing/engine.ts";
import { DEFAULT_VOLATILITY_OPTIONS } from "../domain/pricing/volatility.ts";

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
    client.send(JSON.stringify({ type: "subscribe", channels: ["grid"] }));
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
  const geometry = { symbol: "BTC-USD", columnMs: 10_000, rowCents: 1000, lockMs: 5000, entriesMax: 4, buildsMax: 2, cellsPerSlice: 400 };
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
    const state = {
      tick: { t: 1_000_000, priceCents: 9_500_000 },
      circuit: "closed" as "open" | "closed",
      quotes: "live" as "live" | "paused",
      now: 1_000_050,
      /** Full answers taken (the last, complete grid() call of a build). */
      pricings: 0,
      calls: [] as number[],
    };
    const src: GridSource = {
      grid(cols, rows, now) {
        state.calls.push(cols);
        const first = Math.ceil((now + 5000) / 10_000);
        const cells = [];
        for (let c = first; c < first + cols; c++) for (let r = 0; r < rows; r++) cells.push(cell(c, 9500 + r));
        return { priceCents: state.tick.priceCents, at: state.tick.t, cells };
      },
      latest: () => state.tick,
      circuit: () => state.circuit,
      quoteState: () => state.quotes,
    };
    const cache = (refreshMs: number, more: Partial<typeof geometry> = {}) => new GridJsonCache(src, { ...geometry, ...more, refreshMs, now: () => state.now });
    return { state, src, cache };
  }
  type Answer = Awaited<ReturnType<GridJsonCache["answer"]>>;
  const parse = (answer: Answer) => {
    if (answer.status !== "ok") throw new Error(`no body: ${answer.status}`);
    return JSON.parse(new TextDecoder().decode(answer.body)) as { at: number; circuit: string; quotes: string; cells: { col: number }[] };
  };

  it("prices and serialises a size once per refresh, however many ask for it at once or later", async () => {
    const { state, cache } = source();
    const grids = cache(500);
    const answers = await Promise.all(Array.from({ length: 100 }, () => grids.answer(60, 61)));
    expect(grids.builds).toBe(1);
    const first = answers[0]!;
    const bodyOf = (answer: Answer) => (answer.status === "ok" ? answer.body : undefined);
    // The very same bytes, not an equal copy: nothing was priced or serialised again.
    for (const answer of answers) expect(bodyOf(answer)).toBe(bodyOf(first));
    for (let i = 0; i < 1000; i++) {
      state.now = 1_000_050 + (i % 400);
      expect(bodyOf(await grids.answer(60, 61))).toBe(bodyOf(first));
    }
    expect(grids.builds).toBe(1);
    expect(parse(first).cells).toHaveLength(60 * 61);
    // A new tick inside the refresh period is served from the cache; after it, the answer is rebuilt.
    state.tick = { t: 1_000_300, priceCents: 9_501_000 };
    state.now = 1_000_350;
    expect(parse(await grids.answer(60, 61)).at).toBe(1_000_000);
    state.now = 1_000_550;
    expect(parse(await grids.answer(60, 61)).at).toBe(1_000_300);
    expect(grids.builds).toBe(2);
  });

  it("builds a large grid a few columns per turn of the event loop, letting other work run between", async () => {
    const { state, cache } = source();
    let otherWorkRan = 0;
    const other = setInterval(() => otherWorkRan++, 0);
    const building = cache(500).answer(60, 61);
    const callsBeforeAwait = state.calls.length;
    const answer = await building;
    clearInterval(other);
    expect(callsBeforeAwait).toBe(1); // only the first slice ran before the caller got its promise
    expect(state.calls).toEqual([6, 12, 18, 24, 30, 36, 42, 48, 54, 60]); // 400 cells / 61 rows = 6 columns a slice
    expect(otherWorkRan).toBeGreaterThan(0);
    expect(parse(answer).cells).toHaveLength(60 * 61);
  });

  it("tells a request to come back when too many sizes are being built at once", async () => {
    const { cache } = source();
    const grids = cache(500, { buildsMax: 2 });
    const a = grids.answer(60, 61);
    const b = grids.answer(60, 60);
    expect(await grids.answer(60, 59)).toEqual({ status: "busy" });
    await Promise.all([a, b]);
    expect((await grids.answer(60, 59)).status).toBe("ok");
  });

  it("never offers a column that locked since the answer was built", async () => {
    const { state, cache } = source();
    const grids = cache(60_000);
    // First unlocked column at 1_004_999 is ceil(1_009_999 / 10_000) = 101; at 1_005_001 it is 102.
    state.now = 1_004_999;
    expect(parse(await grids.answer(3, 1)).cells[0]!.col).toBe(101);
    state.now = 1_005_001;
    expect(parse(await grids.answer(3, 1)).cells[0]!.col).toBe(102);
  });

  it("empties the grid as soon as the circuit opens or quotes pause, even inside the refresh period", async () => {
    const { state, cache } = source();
    const grids = cache(60_000);
    expect(parse(await grids.answer(12, 21)).cells.length).toBe(12 * 21);
    state.circuit = "open";
    expect(parse(await grids.answer(12, 21))).toMatchObject({ circuit: "open", quotes: "paused", cells: [] });
    state.circuit = "closed";
    expect(parse(await grids.answer(12, 21)).cells.length).toBe(12 * 21);
    state.quotes = "paused";
    expect(parse(await grids.answer(12, 21))).toMatchObject({ circuit: "closed", quotes: "paused", cells: [] });
  });

  it("keeps at most entriesMax sizes", async () => {
    const { cache } = source();
    const grids = cache(60_000);
    for (let rows = 1; rows <= 5; rows++) await grids.answer(1, rows); // 5 sizes, bound 4: rows=1 evicted
    const before = grids.builds;
    await grids.answer(1, 5); // still cached
    expect(grids.builds).toBe(before);
    await grids.answer(1, 1); // evicted, built again
    expect(grids.builds).toBe(before + 1);
  });

  it("with refreshMs 0, rebuilds when the index ticks", async () => {
    const { state, cache } = source();
    const grids = cache(0);
    await grids.answer(2, 2);
    state.now += 10;
    await grids.answer(2, 2);
    expect(grids.builds).toBe(1);
    state.tick = { t: 1_000_100, priceCents: 9_500_100 };
    expect(parse(await grids.answer(2, 2)).at).toBe(1_000_100);
    expect(grids.builds).toBe(2);
  });

  it("pauses the grid when pricing says quotes are paused (an index too old to quote), circuit still closed", () => {
    const { state, src } = source();
    let quotes: "live" | "paused" = "live";
    const pricing = { grid: src.grid, quoteState: () => quotes };
    const price = { latest: () => state.tick, circuit: () => state.circuit };
    expect(gridSnapshot(gridSourceOf(pricing, price), 2, 2, 1_000_050)!.cells).toHaveLength(4);
    quotes = "paused";
    expect(gridSnapshot(gridSourceOf(pricing, price), 2, 2, 1_000_050)).toMatchObject({ circuit: "closed", quotes: "paused", cells: [] });
  });

  it("builds a large grid from the real engine as ONE tick's grid, even when ticks arrive between its parts", async () => {
    let latest = { t: 1_000_000, priceCents: 9_500_000 };
    let now = 1_000_010;
    const engine = new PricingEngine(
      { columnMs: 10_000, rowCents: 1_000, lockMs: 5_000, horizonColumns: 60, houseEdgeBp: 500, minMultiplierHundredths: 110, maxMultiplierHundredths: 10_000, volatility: DEFAULT_VOLATILITY_OPTIONS, quoteMaxAgeMs: 500 },
      () => latest,
    );
    for (let i = 0; i < 600; i++) engine.observe({ t: 1_000_000 - 60_000 + i * 100, priceCents: 9_500_000 + ((i * 7919) % 400) - 200 });
    engine.observe(latest);
    const expected = engine.grid(60, 61, now)!;
    const pricing = { grid: engine.grid.bind(engine), quoteInputs: () => engine.quoteInputs() };
    const src = gridSourceOf(pricing, { latest: () => latest, circuit: () => "closed" as const });
    const ticker = setInterval(() => {
      // A new tick (and price) on every turn of the event loop while the grid is built.
      latest = { t: latest.t + 1, priceCents: latest.priceCents + 300 };
      now = latest.t + 5;
      engine.observe(latest);
    }, 0);
    const grids = new GridJsonCache(src, { ...geometry, refreshMs: 500, now: () => now, cellsPerSlice: 61 });
    const answer = parse(await grids.answer(60, 61));
    clearInterval(ticker);
    expect(latest.t).toBeGreaterThan(1_000_000); // ticks did arrive during the build
    expect(answer.at).toBe(1_000_000);
    const byCell = new Map(expected.cells.map((c) => [`${c.col}:${c.row}`, c.multiplierHundredths]));
    const cells = answer.cells as unknown as Array<{ col: number; row: number; multiplier: number }>;
    expect(cells.length).toBeGreaterThan(300);
    for (const cell of cells) expect(Math.round(cell.multiplier * 100), `${cell.col}:${cell.row}`).toBe(byCell.get(`${cell.col}:${cell.row}`));
  });
});
