import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "./helpers/server.ts";
import { fakeBinance } from "./fakes/binance.ts";
import { fakeCoinbase } from "./fakes/coinbase.ts";
import { fakeKraken } from "./fakes/kraken.ts";
import type { FakeExchange } from "./fakes/fake-exchange.ts";
import { nextTick, until } from "./fakes/wait.ts";

/**
 * Three real adapters against three fake exchanges; one reports a price 10% off. The index is the
 * median of the two that agree, the odd one is reported unhealthy ("outlier") on /api/price and
 * /metrics, and it rejoins once it agrees again.
 */
describe("price: outlier exclusion across three exchanges", () => {
  let binance: FakeExchange;
  let coinbase: FakeExchange;
  let kraken: FakeExchange;
  let server: TestServer;
  let coinbasePrice = "106700.00";

  beforeAll(async () => {
    binance = fakeBinance();
    coinbase = fakeCoinbase();
    kraken = fakeKraken();
    await Promise.all([binance.start(), coinbase.start(), kraken.start()]);
    server = await startTestServer({
      PRICE_SOURCES: "binance,coinbase,kraken",
      BINANCE_WS_URL: binance.url("/ws/btcusdt@trade"),
      COINBASE_WS_URL: coinbase.url("/"),
      KRAKEN_WS_URL: kraken.url("/v2"),
      PRICE_OUTLIER_BP: 200,
    });
    await Promise.all([binance.waitForSubscriber(), coinbase.waitForSubscriber(), kraken.waitForSubscriber()]);
    binance.stream(() => "97000.00", 30);
    kraken.stream(() => "97010.0", 30);
    coinbase.stream(() => coinbasePrice, 30);
  });

  afterAll(async () => {
    await server?.stop();
    await Promise.all([binance?.kill(), coinbase?.kill(), kraken?.kill()]);
  });

  it("leaves the 10%-off source out of the index and reports it unhealthy", async () => {
    const { price } = server.ctx.services;
    // Median of the two that agree: (9 700 000 + 9 701 000) / 2.
    await nextTick(price, (t) => t.priceCents === 9_700_500);
    await until("all three sources priced", () => price.sources().every((s) => s.priceCents !== null));
    const byName = Object.fromEntries(price.sources().map((s) => [s.name, s]));
    expect(byName.coinbase).toMatchObject({ healthy: false, reason: "outlier", priceCents: 10_670_000 });
    expect(byName.binance).toMatchObject({ healthy: true, priceCents: 9_700_000 });
    expect(byName.kraken).toMatchObject({ healthy: true, priceCents: 9_701_000 });
    expect(price.circuit()).toBe("closed");

    const api = await (await server.request("/api/price")).json();
    expect(api.priceCents).toBe(9_700_500);
    expect(api.sources).toContainEqual(expect.objectContaining({ name: "coinbase", healthy: false }));
    const metrics = await (await server.request("/metrics")).text();
    expect(metrics).toMatch(/^price_source_healthy\{source="coinbase"\} 0$/m);
    expect(metrics).toMatch(/^price_source_healthy\{source="binance"\} 1$/m);
  });

  it("never lets the outlier move the index", async () => {
    const { price } = server.ctx.services;
    const seen: number[] = [];
    const off = price.onTick((t) => seen.push(t.priceCents));
    await until("ten ticks", () => seen.length >= 10);
    off();
    expect(new Set(seen)).toEqual(new Set([9_700_500]));
  });

  it("takes the source back once it agrees again", async () => {
    const { price } = server.ctx.services;
    coinbasePrice = "97020.00";
    await nextTick(price, (t) => t.priceCents === 9_701_000); // median of 97000, 97010, 97020
    expect(price.sources().every((s) => s.healthy)).toBe(true);
  });
});
