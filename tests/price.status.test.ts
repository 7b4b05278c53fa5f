import { afterEach, describe, expect, it } from "vitest";
import { nextCircuit, nextTick, until } from "./fakes/wait.ts";
import { BACKOFF_CAP_MS, exchangeFrame, SLACK_MS, STALE_MS, startScenario, untilState, type Scenario } from "./fakes/scenario.ts";

/**
 * Issue 14: exchange status, shutdown notices, connection age, quiet markets and lag — each
 * scenario replays recorded frames through fake exchanges and checks the source's state, the index
 * and the breaker at each step.
 */
describe("price scenarios: status, shutdown, connection age, liveness vs. price age", () => {
  let s: Scenario | undefined;
  afterEach(async () => {
    await s?.stop();
    s = undefined;
  });

  it("maintenance and cancel-only take a source out of the index with a reason; online brings it back", async () => {
    s = await startScenario(["coinbase", "kraken"]);
    const kraken = s.fakes.kraken!;
    const coinbase = s.fakes.coinbase!;
    await coinbase.waitForSubscriber();
    await kraken.waitForSubscriber();
    await untilState(s, "kraken", "live");
    await untilState(s, "coinbase", "live");
    const both = nextTick(s.price, (t) => t.priceCents === 9_700_050);
    coinbase.raw(s.priceFrame("coinbase", "97000.00"));
    kraken.raw(s.priceFrame("kraken", "97001.00"));
    await both; // median of the two
    expect(s.price.circuit()).toBe("closed");

    kraken.raw(exchangeFrame("kraken", "status-maintenance"));
    await untilState(s, "kraken", "unhealthy");
    expect(s.source("kraken")).toMatchObject({ healthy: false, reason: "exchange_maintenance" });
    // A Kraken price during maintenance does not count; Coinbase alone makes the index.
    kraken.raw(s.priceFrame("kraken", "99999.00"));
    const alone = nextTick(s.price, (t) => t.priceCents === 9_700_200);
    coinbase.raw(s.priceFrame("coinbase", "97002.00"));
    await alone;
    expect(s.price.circuit()).toBe("closed");
    const api = await (await s.server.request("/api/price")).json();
    expect(api.sources).toContainEqual(expect.objectContaining({ name: "kraken", state: "unhealthy", healthy: false, reason: "exchange_maintenance" }));
    expect(api.sources).toContainEqual(expect.objectContaining({ name: "coinbase", state: "live", healthy: true }));

    // Coinbase goes cancel-only too: no healthy source, the breaker opens.
    const opened = nextCircuit(s.price, "open");
    coinbase.raw(exchangeFrame("coinbase", "status-cancel-only"));
    await opened;
    expect(s.source("coinbase")).toMatchObject({ state: "unhealthy", reason: "exchange_cancel_only" });

    kraken.raw(exchangeFrame("kraken", "status-online"));
    coinbase.raw(exchangeFrame("coinbase", "status-online"));
    const closed = nextCircuit(s.price, "closed");
    coinbase.raw(s.priceFrame("coinbase", "97004.00"));
    kraken.raw(s.priceFrame("kraken", "97005.00"));
    await closed;
    await untilState(s, "kraken", "live");
    expect(s.source("kraken")).toMatchObject({ healthy: true, priceCents: 9_700_500 });
    expect(s.ticks.map((t) => t.priceCents)).not.toContain(9_999_900);
    expect(s.ticks.map((t) => t.priceCents)).not.toContain(Math.floor((9_999_900 + 9_700_200) / 2));
  });

  it("serverShutdown: the adapter hangs up and reconnects at once, without waiting for a backoff", async () => {
    s = await startScenario(["binance"]);
    const fake = s.fakes.binance!;
    await fake.waitForSubscriber();
    const first = nextTick(s.price, (t) => t.priceCents === 9_700_000);
    fake.raw(s.priceFrame("binance", "97000.00"));
    await first;
    const noticeAt = Date.now();
    fake.raw(exchangeFrame("binance", "server-shutdown-wrapped"));
    await until("a second connection", () => fake.connectionsTotal === 2);
    expect(Date.now() - noticeAt).toBeLessThan(SLACK_MS);
    await until("the old connection closed by the adapter", () => fake.closedByClient === 1);
    await untilState(s, "binance", "live");
    expect(s.source("binance").reconnects).toBe(1);
    const after = nextTick(s.price, (t) => t.priceCents === 9_700_100);
    fake.raw(s.priceFrame("binance", "97001.00"));
    await after;
    expect(s.circuits).toEqual(["closed"]); // never opened
    expect(await s.metric(/^price_source_messages_total\{source="binance",kind="shutdown"\}/)).toBe(1);
  });

  it("24 h connection limit: the adapter reconnects before the exchange drops it, and the feed never goes stale", async () => {
    // The exchange drops connections at 2.5 s ("24 h"); the adapter renews them at 1 s.
    s = await startScenario(["binance"], { env: { BINANCE_MAX_CONNECTION_MS: 1000 }, fakeOptions: { binance: { pingMs: 500, maxConnectionMs: 2500 } } });
    const fake = s.fakes.binance!;
    await fake.waitForSubscriber();
    let n = 0;
    const timer = setInterval(() => fake.raw(s!.priceFrame("binance", (97_000 + (n++ % 10)).toFixed(2))), 50);
    try {
      await until("three connections", () => fake.connectionsTotal >= 3, 15_000);
    } finally {
      clearInterval(timer);
    }
    // The adapter hung up the old connections itself, after their replacements were subscribed.
    await until("two connections closed by the adapter", () => fake.closedByClient >= 2);
    expect(fake.droppedForAge).toBe(0);
    expect(s.circuits).toEqual(["closed"]);
    expect(s.price.staleGaps(0, Number.MAX_SAFE_INTEGER)).toEqual([]);
    expect(await s.metric(/^price_source_reconnects_total\{source="binance"\}/)).toBeGreaterThanOrEqual(2);
  });

  it("24 h connection limit reached anyway (the exchange drops first): the adapter redials after a backoff", async () => {
    s = await startScenario(["binance"], { fakeOptions: { binance: { pingMs: 500, maxConnectionMs: 1000 } } });
    const fake = s.fakes.binance!;
    await fake.waitForSubscriber();
    await until("the exchange dropped the connection", () => fake.droppedForAge === 1, 5000);
    const droppedAt = Date.now();
    await until("a second connection", () => fake.connectionsTotal === 2);
    expect(Date.now() - droppedAt).toBeLessThanOrEqual(BACKOFF_CAP_MS + SLACK_MS);
    await untilState(s, "binance", "live");
    const tick = nextTick(s.price, (t) => t.priceCents === 9_700_700);
    fake.raw(s.priceFrame("binance", "97007.00"));
    await tick;
  });

  it("a silent connection (no message, not even heartbeats) is closed and redialled; it recovers when the exchange speaks again", async () => {
    const IDLE_MS = 800;
    s = await startScenario(["coinbase"], { env: { PRICE_IDLE_TIMEOUT_MS: IDLE_MS, PRICE_PING_INTERVAL_MS: 100 }, fakeOptions: { coinbase: { heartbeatMs: 100 } } });
    const fake = s.fakes.coinbase!;
    await fake.waitForSubscriber();
    const first = nextTick(s.price, (t) => t.priceCents === 9_700_000);
    fake.raw(s.priceFrame("coinbase", "97000.00"));
    await first;
    const silentAt = Date.now();
    fake.silence(); // the socket stays open and answers pings, but no frame comes
    await until("a redial", () => fake.connectionsTotal === 2, 10_000);
    expect(Date.now() - silentAt).toBeGreaterThanOrEqual(IDLE_MS);
    expect(Date.now() - silentAt).toBeLessThanOrEqual(IDLE_MS + 100 + BACKOFF_CAP_MS + SLACK_MS);
    expect(await s.metric(/^price_source_transitions_total\{source="coinbase",from="(live|stale)",to="backoff"\}/)).toBe(1);
    expect(s.source("coinbase").healthy).toBe(false);
    fake.silence(false);
    // Subscribed again; the old price stays old (stale) until a trade comes.
    await until("subscribed again", () => ["live", "stale"].includes(s!.source("coinbase").state));
    expect(s.source("coinbase").priceCents).toBe(9_700_000);
    await untilState(s, "coinbase", "stale");
    const tick = nextTick(s.price, (t) => t.priceCents === 9_700_900);
    fake.raw(s.priceFrame("coinbase", "97009.00"));
    await tick;
    expect(s.price.circuit()).toBe("closed");
    expect(s.source("coinbase").state).toBe("live");
  });

  it("a quiet market: heartbeats keep the link up but never make the old price fresh", async () => {
    s = await startScenario(["coinbase"], { fakeOptions: { coinbase: { heartbeatMs: 100 } } });
    const fake = s.fakes.coinbase!;
    await fake.waitForSubscriber();
    const first = nextTick(s.price, (t) => t.priceCents === 9_700_000);
    fake.raw(s.priceFrame("coinbase", "97000.00"));
    await first;
    const opened = nextCircuit(s.price, "open");
    await untilState(s, "coinbase", "stale", STALE_MS + SLACK_MS * 3);
    await opened;
    expect(s.source("coinbase")).toMatchObject({ healthy: false, reason: "stale", priceCents: 9_700_000 });
    expect(s.source("coinbase").ageMs!).toBeGreaterThan(STALE_MS);
    // Heartbeats keep arriving; the link is not redialled and the source stays stale.
    const beats = await s.metric(/^price_source_messages_total\{source="coinbase",kind="alive"\}/);
    await new Promise((r) => setTimeout(r, 500));
    expect((await s.metric(/^price_source_messages_total\{source="coinbase",kind="alive"\}/))!).toBeGreaterThan(beats ?? 0);
    expect(s.source("coinbase").state).toBe("stale");
    expect(fake.connectionsTotal).toBe(1);
    expect(s.price.circuit()).toBe("open");

    const closed = nextCircuit(s.price, "closed");
    fake.raw(s.priceFrame("coinbase", "97010.00"));
    await closed;
    expect(s.source("coinbase")).toMatchObject({ state: "live", healthy: true });
  });

  it("large event→arrival lag marks the source degraded (unhealthy, lagging) until a timely price", async () => {
    s = await startScenario(["coinbase"], { env: { PRICE_LAG_MAX_MS: 300 } });
    const fake = s.fakes.coinbase!;
    await fake.waitForSubscriber();
    const first = nextTick(s.price, (t) => t.priceCents === 9_700_000);
    const t0 = Date.now();
    fake.raw(s.priceFrame("coinbase", "97000.00", { atMs: t0 }));
    await first;
    // 700 ms later a trade arrives that happened 600 ms ago: newer than the last, but late.
    await until("700 ms passed", () => Date.now() >= t0 + 700);
    const opened = nextCircuit(s.price, "open");
    fake.raw(s.priceFrame("coinbase", "97100.00", { atMs: Date.now() - 600 }));
    await untilState(s, "coinbase", "unhealthy");
    await opened;
    expect(s.source("coinbase")).toMatchObject({ healthy: false, reason: "lagging" });
    expect(s.source("coinbase").eventLagMs!).toBeGreaterThanOrEqual(600);
    const closed = nextCircuit(s.price, "closed");
    fake.raw(s.priceFrame("coinbase", "97200.00"));
    await closed;
    expect(s.source("coinbase")).toMatchObject({ state: "live", healthy: true, priceCents: 9_720_000 });
    expect(s.source("coinbase").eventLagMs!).toBeLessThan(300);
  });

  it("Kraken's ticker snapshot without a timestamp is replayed state of unknown age: not a price", async () => {
    s = await startScenario(["kraken"]);
    const fake = s.fakes.kraken!;
    await fake.waitForSubscriber();
    await untilState(s, "kraken", "live");
    fake.raw(exchangeFrame("kraken", "ticker-snapshot-btc-usd"));
    const line = /^price_source_prices_dropped_total\{source="kraken",why="no_event_time"\}/;
    for (let i = 0; i < 100 && (await s.metric(line)) !== 1; i++) await new Promise((r) => setTimeout(r, 20));
    expect(await s.metric(line)).toBe(1);
    expect(s.price.latest()).toBeUndefined();
    expect(s.source("kraken").priceCents).toBeNull();
    // An update (published on a trade) without timestamp is taken at its arrival.
    const tick = nextTick(s.price, (t) => t.priceCents === 9_712_350);
    fake.raw(exchangeFrame("kraken", "ticker-update-btc-usd"));
    await tick;
    expect(s.source("kraken").eventLagMs).toBe(0);
  });
});
