import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { quoteMultiplierHundredths, type QuoteInputs, type QuoteTerms } from "../domain/pricing/quote.ts";
import { startTestServer, type TestServer } from "./helpers/server.ts";
import { createPlayer } from "./helpers/players.ts";
import { TestWsClient, wsUrl } from "./fakes/ws-client.ts";

/**
 * The page shows what the server will quote: the WebSocket pushes each tick's pricing inputs and
 * the quote terms, and domain/pricing/quote.ts (the module the page bundles) turns them into
 * exactly the multipliers GET /api/grid offers and POST /api/bets locks, until the next tick.
 */
describe("web: quotes computed from the pushed inputs", () => {
  let server: TestServer;
  let clock = 1_796_000_000_123;
  beforeAll(async () => {
    server = await startTestServer({}, { now: () => clock });
  });
  afterAll(async () => {
    await server.stop();
  });

  it("reproduces every multiplier of the server's grid, and a bet at the computed multiplier is accepted at exactly it", async () => {
    const client = new TestWsClient(wsUrl(server.url));
    const hello = await client.next((m) => m.type === "hello");
    const terms = hello.quoteTerms as QuoteTerms;
    // A moving path, so the volatility estimate is not the fallback and inputs change every tick.
    let price = 9_500_000;
    for (let i = 0; i < 60; i++) {
      clock += 100;
      price += (i % 7) * 37 - 100;
      server.ctx.services.price.ingest("manual", price, clock);
    }
    const last = await client.next((m) => m.type === "price" && m.at === clock);
    const inputs = last.quote as QuoteInputs;
    expect(inputs).toMatchObject({ t: clock, priceCents: price });

    const grid = (await (await server.request("/api/grid?cols=12&rows=21")).json()) as { at: number; cells: { col: number; row: number; multiplier: number }[] };
    expect(grid.at).toBe(clock);
    expect(grid.cells.length).toBeGreaterThan(200);
    for (const cell of grid.cells) {
      expect(quoteMultiplierHundredths(inputs, terms, cell.col, cell.row), `cell ${cell.col}:${cell.row}`).toBe(Math.round(cell.multiplier * 100));
    }

    const player = await createPlayer(server.ctx);
    const target = grid.cells[37]!;
    const computed = quoteMultiplierHundredths(inputs, terms, target.col, target.row)!;
    const res = await server.request("/api/bets", {
      method: "POST",
      token: player.token,
      json: { col: target.col, row: target.row, stakeMicroUsd: 1_000_000, minMultiplier: computed / 100, idempotencyKey: "web-quote-0001" },
    });
    expect(res.status).toBe(201);
    expect(((await res.json()) as { bet: { multiplier: number } }).bet.multiplier).toBe(computed / 100);
    await client.close();
  });

  it("a burst of ticks delivered together still carries each tick's own inputs", async () => {
    const client = new TestWsClient(wsUrl(server.url));
    await client.next((m) => m.type === "hello");
    const first = clock + 100;
    for (let i = 1; i <= 5; i++) server.ctx.services.price.ingest("manual", 9_500_000 + i * 250, clock + i * 100);
    clock += 500;
    await client.next((m) => m.type === "price" && m.at === clock);
    const prices = client.messages.filter((m) => m.type === "price" && (m.at as number) >= first);
    expect(prices).toHaveLength(5);
    for (const p of prices) expect(p.quote).toMatchObject({ t: p.at, priceCents: p.priceCents });
    await client.close();
  });
});
