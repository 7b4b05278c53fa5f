import { afterEach, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "./helpers/server.ts";
import type { FakeExchange } from "./fakes/fake-exchange.ts";
import { fakeBinance } from "./fakes/binance.ts";
import { fakeCoinbase } from "./fakes/coinbase.ts";
import { fakeKraken } from "./fakes/kraken.ts";
import { nextTick, until } from "./fakes/wait.ts";

/**
 * Each real adapter against a local fake exchange speaking that exchange's protocol: the prices
 * come through exactly, and after the exchange dies and comes back the adapter reconnects and
 * resumes on its own.
 */
const cases = [
  { name: "binance", env: "BINANCE_WS_URL", path: "/ws/btcusdt@trade", fake: () => fakeBinance() },
  { name: "binance (bare /ws + SUBSCRIBE)", source: "binance", env: "BINANCE_WS_URL", path: "/ws", fake: () => fakeBinance() },
  { name: "coinbase", env: "COINBASE_WS_URL", path: "/", fake: () => fakeCoinbase() },
  { name: "kraken", env: "KRAKEN_WS_URL", path: "/v2", fake: () => fakeKraken() },
] as const;

describe.each(cases)("price adapter: $name", (c) => {
  let fake: FakeExchange;
  let server: TestServer;
  const source = "source" in c ? c.source : c.name;

  afterEach(async () => {
    await server?.stop();
    await fake?.kill();
  });

  async function boot() {
    fake = c.fake();
    await fake.start();
    server = await startTestServer({ PRICE_SOURCES: source, [c.env]: fake.url(c.path), PRICE_STALE_MS: 5000 });
    return server.ctx.services.price;
  }

  it("turns the exchange's trade frames into index ticks at the exact price", async () => {
    const price = await boot();
    await fake.waitForSubscriber();
    const first = nextTick(price, (t) => t.priceCents === 9_712_345);
    fake.trade("97123.45");
    expect((await first).priceCents).toBe(9_712_345);
    // Trailing digits round half up to the cent; a coalesced later tick carries the newest price.
    const second = nextTick(price, (t) => t.priceCents === 9_712_401);
    fake.trade("97124.005");
    await second;
    const health = price.sources().find((s) => s.name === source)!;
    expect(health).toMatchObject({ priceCents: 9_712_401, healthy: true, parseErrors: 0, reconnects: 0 });
    expect(price.circuit()).toBe("closed");
  });

  it("counts malformed frames as parse errors and never prices them", async () => {
    const price = await boot();
    await fake.waitForSubscriber();
    const good = nextTick(price);
    fake.trade("97000.00");
    await good;
    fake.raw("not json at all");
    fake.raw(JSON.stringify({ type: "ticker", channel: "ticker", e: "trade", price: "-1", p: "abc" }));
    await until("two parse errors", () => price.sources()[0]!.parseErrors >= 2);
    expect(price.latest()!.priceCents).toBe(9_700_000);
  });

  it("reconnects with backoff after the exchange dies and resumes the feed", async () => {
    const price = await boot();
    await fake.waitForSubscriber();
    const before = nextTick(price, (t) => t.priceCents === 9_600_000);
    fake.trade("96000");
    await before;

    await fake.kill();
    await until("source marked disconnected", () => price.sources()[0]!.reason === "disconnected");
    expect(price.sources()[0]!.healthy).toBe(false);

    await fake.restart();
    await fake.waitForSubscriber();
    const after = nextTick(price, (t) => t.priceCents === 9_612_345);
    fake.trade("96123.45");
    await after;
    expect(fake.connectionsTotal).toBe(2);
    expect(price.sources()[0]).toMatchObject({ healthy: true, reconnects: 1 });
  });
});
