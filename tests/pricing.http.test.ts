import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "./helpers/server.ts";

/** GET /api/grid over HTTP with a manual price feed and an injected clock. */

const T0 = 1_764_000_002_963;
const SPOT = 9_500_437;

interface GridCell {
  col: number;
  row: number;
  windowStart: number;
  windowEnd: number;
  bandLowCents: number;
  bandHighCents: number;
  multiplier: number | null;
}

describe("GET /api/grid", () => {
  let server: TestServer;
  let clock = T0;
  beforeAll(async () => {
    server = await startTestServer({}, { now: () => clock });
  });
  afterAll(async () => {
    await server.stop();
  });

  it("answers 503 price_unavailable before the first tick", async () => {
    const res = await server.request("/api/grid");
    expect(res.status).toBe(503);
    expect((await res.json()).error.code).toBe("price_unavailable");
  });

  it("serves the default 12 × 21 grid from the first unlocked column, rows centred on the price", async () => {
    server.ctx.services.price.ingest("manual", SPOT, clock);
    const res = await server.request("/api/grid");
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(Object.keys(body).sort()).toEqual(["at", "cells", "circuit", "columnMs", "lockMs", "priceCents", "quotes", "rowCents", "symbol"]);
    expect(body).toMatchObject({ circuit: "closed", quotes: "live" });
    expect(body).toMatchObject({ symbol: "BTC-USD", columnMs: 10_000, rowCents: 1_000, lockMs: 5_000, priceCents: SPOT, at: T0 });

    const cells = body.cells as GridCell[];
    expect(cells).toHaveLength(12 * 21);
    // now + lock = …007 963 → the first window starting at or after it is …010 000.
    const firstCol = Math.ceil((T0 + 5_000) / 10_000);
    expect(firstCol * 10_000).toBe(1_764_000_010_000);
    expect(new Set(cells.map((c) => c.col))).toEqual(new Set(Array.from({ length: 12 }, (_, i) => firstCol + i)));
    expect(new Set(cells.map((c) => c.row))).toEqual(new Set(Array.from({ length: 21 }, (_, i) => 9_490 + i)));
    for (const c of cells) {
      expect(Object.keys(c).sort()).toEqual(["bandHighCents", "bandLowCents", "col", "multiplier", "row", "windowEnd", "windowStart"]);
      expect(c.windowStart).toBe(c.col * 10_000);
      expect(c.windowEnd).toBe(c.windowStart + 10_000);
      expect(c.bandLowCents).toBe(c.row * 1_000);
      expect(c.bandHighCents).toBe(c.bandLowCents + 1_000);
      expect(c.windowStart - clock).toBeGreaterThanOrEqual(5_000);
    }
  });

  it("carries real multipliers: 2 decimals, inside [1.10, 100], cheapest at the price, dearer away from it", async () => {
    const res = await server.request("/api/grid");
    const cells = (await res.json()).cells as GridCell[];
    expect(cells.every((c) => typeof c.multiplier === "number")).toBe(true); // only offerable cells are listed
    const offered = cells;
    expect(offered.length).toBeGreaterThan(200); // a fresh server offers the grid at once (issue 21), nearly every cell
    for (const c of offered) {
      expect(c.multiplier!).toBeGreaterThanOrEqual(1.1);
      expect(c.multiplier!).toBeLessThanOrEqual(100);
      expect(Math.round(c.multiplier! * 100) / 100).toBe(c.multiplier);
    }
    const firstCol = cells[0]!.col;
    const column = cells.filter((c) => c.col === firstCol).sort((a, b) => a.row - b.row);
    const at = (row: number) => column.find((c) => c.row === row)!.multiplier!;
    expect(at(9_500)).toBeLessThan(at(9_503));
    expect(at(9_503)).toBeLessThan(at(9_507));
    expect(at(9_500)).toBeLessThan(at(9_497));
    expect(at(9_497)).toBeLessThan(at(9_493));
    expect(at(9_500)).toBeLessThan(2);
    expect(at(9_510)).toBeGreaterThan(at(9_507));
    // After one tick the volatility is unknown (issue 21): far cells are priced at the upper end of a
    // wide credible range around the 60 %/year prior, far dearer than the 20×+ a market known to be at
    // 60 %/year would get, and /api/price says the quotes are warming up.
    expect(at(9_510)).toBeLessThan(5);
    expect((await (await server.request("/api/price")).json()).warmUp).toMatchObject({ state: "warming" });
  });

  it("quotes a bet on a grid cell at exactly the grid's multiplier", async () => {
    const cells = (await (await server.request("/api/grid?cols=3&rows=5")).json()).cells as GridCell[];
    expect(cells).toHaveLength(15);
    for (const c of cells) {
      const result = server.ctx.services.pricing.quote(c.col, c.row, clock);
      expect(result.ok).toBe(true);
      if (result.ok) expect(result.quote.multiplierHundredths! / 100).toBe(c.multiplier);
    }
  });

  it("accepts the maximum sizes and refuses bad ones with 400 invalid_request", async () => {
    const big = await server.request("/api/grid?cols=60&rows=61");
    expect(big.status).toBe(200);
    const bigCells = (await big.json()).cells as GridCell[];
    // 60 columns × 61 rows are priced; the far rows beyond 100x are not offerable and left out
    expect(new Set(bigCells.map((c) => c.col)).size).toBe(60);
    expect(new Set(bigCells.map((c) => c.row)).size).toBeLessThanOrEqual(61);
    expect(bigCells.length).toBeGreaterThan(60 * 21);
    expect(bigCells.length).toBeLessThanOrEqual(60 * 61);
    for (const query of ["cols=61", "rows=62", "cols=0", "rows=-1", "cols=abc", "cols=2.5", "rows=", "cols=1&cols=2"]) {
      const res = await server.request(`/api/grid?${query}`);
      expect(res.status, query).toBe(400);
      const body = await res.json();
      expect(body.error.code).toBe("invalid_request");
      expect(Object.keys(body.error.details.fields).length).toBeGreaterThan(0);
    }
  });

  it("moves with the clock and the price: new first column, rows recentred", async () => {
    clock = T0 + 4_000; // now + lock crosses …010 000: the first column moves on
    server.ctx.services.price.ingest("manual", SPOT + 5_000, clock); // +$50
    const body = await (await server.request("/api/grid?cols=2&rows=3")).json();
    expect(body.priceCents).toBe(SPOT + 5_000);
    expect(body.at).toBe(clock);
    const cells = body.cells as GridCell[];
    expect(cells.map((c) => [c.col, c.row])).toEqual([
      [176_400_002, 9_504],
      [176_400_002, 9_505],
      [176_400_002, 9_506],
      [176_400_003, 9_504],
      [176_400_003, 9_505],
      [176_400_003, 9_506],
    ]);
  });
});
