import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { quoteMultiplierHundredths, type QuoteInputs } from "../domain/pricing/quote.ts";
import { decodeQuote, encodeQuote, quoteKeysOf, roundQuoteInputs } from "../domain/pricing/quote-wire.ts";
import { Market } from "../web/src/market.ts";
import { startTestServer, type TestServer } from "./helpers/server.ts";
import { createPlayer } from "./helpers/players.ts";
import { TestWsClient, wsUrl } from "./fakes/ws-client.ts";

/**
 * The page shows what the server will quote: each WebSocket `price` frame carries its tick's pricing
 * inputs (float32, base64, in the order of hello's `quoteKeys`), the engine quotes from exactly those
 * rounded numbers, and domain/pricing/quote.ts (the module the page bundles) turns them into exactly
 * the multipliers GET /api/grid offers and POST /api/bets locks, until the next tick. The page's own
 * Market class does the decoding here.
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
    await client.next((m) => m.type === "hello");
    // A moving path, so the volatility estimate is not the fallback and inputs change every tick.
    let price = 9_500_000;
    for (let i = 0; i < 60; i++) {
      clock += 100;
      price += (i % 7) * 37 - 100;
      server.ctx.services.price.ingest("manual", price, clock);
    }
    const last = await client.next((m) => m.type === "price" && m.at === clock);
    const market = new Market();
    for (const message of client.messages) {
      if (message.type === "hello") market.onHello(message);
      if (message.type === "price") expect(market.onPrice(message)).not.toBe("gap");
    }
    const hello = client.messages.findLast((m) => m.type === "hello")!;
    // The decoded inputs are the engine's own, bit for bit: one source of truth.
    const decoded = decodeQuote(last.quote as string, hello.quoteKeys as string[], clock, price);
    expect(decoded).toEqual(server.ctx.services.pricing.quoteInputs());

    const grid = (await (await server.request("/api/grid?cols=12&rows=21")).json()) as { at: number; cells: { col: number; row: number; multiplier: number }[] };
    expect(grid.at).toBe(clock);
    expect(grid.cells.length).toBeGreaterThan(200);
    for (const cell of grid.cells) {
      expect(market.multiplierOf(cell.col, cell.row), `cell ${cell.col}:${cell.row}`).toBe(Math.round(cell.multiplier * 100));
    }

    const frameBytes = Buffer.byteLength(JSON.stringify(last));
    const keys = (hello.quoteKeys as string[]).length;
    console.log(
      `price frame: ${frameBytes} bytes (+2 of WebSocket header), ${keys} quote inputs in ${String(last.quote).length} characters; ` +
        `10 ticks/s = ${((10 * (frameBytes + 2)) / 1024).toFixed(2)} KiB/s per watcher`,
    );
    expect(10 * (frameBytes + 2)).toBeLessThanOrEqual(2048);

    const player = await createPlayer(server.ctx);
    const target = grid.cells[37]!;
    const computed = market.multiplierOf(target.col, target.row)!;
    const res = await server.request("/api/bets", {
      method: "POST",
      token: player.token,
      json: { col: target.col, row: target.row, stakeMicroUsd: 1_000_000, minMultiplier: computed / 100, idempotencyKey: "web-quote-0001" },
    });
    expect(res.status).toBe(201);
    expect(((await res.json()) as { bet: { multiplier: number } }).bet.multiplier).toBe(computed / 100);
    await client.close();
  });

  it("a burst of ticks delivered together still carries each tick's own inputs, numbered without gaps", async () => {
    const client = new TestWsClient(wsUrl(server.url));
    const hello = await client.next((m) => m.type === "hello");
    const first = clock + 100;
    for (let i = 1; i <= 5; i++) server.ctx.services.price.ingest("manual", 9_500_000 + i * 250, clock + i * 100);
    clock += 500;
    await client.next((m) => m.type === "price" && m.at === clock);
    const prices = client.messages.filter((m) => m.type === "price" && (m.at as number) >= first);
    expect(prices).toHaveLength(5);
    prices.forEach((p, i) => {
      expect(p.seq).toBe(Number(prices[0]!.seq) + i);
      expect(decodeQuote(p.quote as string, hello.quoteKeys as string[], p.at as number, p.priceCents as number)).toMatchObject({ t: p.at, priceCents: p.priceCents });
    });
    await client.close();
  });

  it("encodes whatever fields the inputs have: a field added to the model travels, and both sides quote the same", () => {
    const inputs = server.ctx.services.pricing.quoteInputs()!;
    const extended = { ...inputs, futureFieldPerMs: 1.234_567_891e-9 } as QuoteInputs;
    const keys = quoteKeysOf(extended);
    expect(keys).toContain("futureFieldPerMs");
    expect(keys).not.toContain("t");
    const decoded = decodeQuote(encodeQuote(extended, keys), keys, extended.t, extended.priceCents)!;
    expect(decoded).toEqual(roundQuoteInputs(extended));
    expect((decoded as unknown as Record<string, number>).futureFieldPerMs).toBe(Math.fround(1.234_567_891e-9));
    const terms = server.ctx.services.pricing.quoteTerms();
    expect(quoteMultiplierHundredths(decoded, terms, Math.ceil((inputs.t + 8000) / 10_000), Math.floor(inputs.priceCents / 1000))).toBe(
      quoteMultiplierHundredths(roundQuoteInputs(extended), terms, Math.ceil((inputs.t + 8000) / 10_000), Math.floor(inputs.priceCents / 1000)),
    );
    // A frame that does not hold one float per key is refused, not misread.
    expect(decodeQuote(encodeQuote(extended, keys), keys.slice(1), extended.t, extended.priceCents)).toBeUndefined();
    expect(decodeQuote("not base64!", keys, extended.t, extended.priceCents)).toBeUndefined();
  });
});
