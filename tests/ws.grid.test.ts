import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "./helpers/server.ts";
import { TestWsClient, wsUrl } from "./fakes/ws-client.ts";

/** The grid stream with the real pricing module, to a socket that subscribed: cells in API.md's shape, about once a second. */
describe("ws: grid from the pricing module", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ PRICE_SOURCES: "synthetic", SYNTHETIC_TICK_MS: 100 });
  });
  afterAll(async () => {
    await server.stop();
  });

  it("streams offerable cells with the geometry of SPEC §2", async () => {
    const client = new TestWsClient(wsUrl(server.url));
    await client.opened;
    client.send(JSON.stringify({ type: "subscribe", channels: ["grid"] }));
    const first = await client.next((m) => m.type === "grid", 5000);
    const second = await client.next((m) => m.type === "grid" && m !== first, 5000);
    expect(Number(second.at)).toBeGreaterThanOrEqual(Number(first.at));
    const cells = first.cells as Record<string, unknown>[];
    expect(cells.length).toBeGreaterThan(0);
    const { COLUMN_MS, ROW_CENTS, LOCK_MS } = server.ctx.config;
    for (const cell of cells) {
      expect(Object.keys(cell).sort()).toEqual(["bandHighCents", "bandLowCents", "col", "multiplier", "row", "windowEnd", "windowStart"]);
      expect(cell.windowStart).toBe(Number(cell.col) * COLUMN_MS);
      expect(cell.windowEnd).toBe((Number(cell.col) + 1) * COLUMN_MS);
      expect(cell.bandLowCents).toBe(Number(cell.row) * ROW_CENTS);
      expect(cell.bandHighCents).toBe((Number(cell.row) + 1) * ROW_CENTS);
      // Only unlocked columns are offered: each window starts at least LOCK_MS after the grid's time.
      expect(Number(cell.windowStart) - Number(first.at)).toBeGreaterThanOrEqual(LOCK_MS);
      if (cell.multiplier !== null) {
        const hundredths = Number(cell.multiplier) * 100;
        expect(Math.abs(hundredths - Math.round(hundredths))).toBeLessThan(1e-9); // two decimals
      }
    }
    expect(cells.some((c) => typeof c.multiplier === "number" && c.multiplier >= 1.1)).toBe(true);
    await client.close();
  });
});
