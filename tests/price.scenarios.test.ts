import { afterEach, describe, expect, it } from "vitest";
import type { FakeClient } from "./fakes/fake-exchange.ts";
import { nextTick, until } from "./fakes/wait.ts";
import {
  BACKOFF_CAP_MS,
  EXCHANGE_CASES,
  exchangeFrame,
  SLACK_MS,
  STALE_MS,
  startScenario,
  SUBSCRIBE_TIMEOUT_MS,
  untilState,
  type Scenario,
} from "./fakes/scenario.ts";

/**
 * Issue 14, per exchange: fake exchanges replay recorded frames (tests/fixtures/exchanges) in
 * scripted scenarios, and at each step the test checks the adapter's state, the index and the
 * breaker. The index never takes an old or out-of-order price, and a refused or ignored
 * subscription recovers within two backoff periods without a restart.
 */
const isSubscribe = (text: string) => /"(method|type)":"(SUBSCRIBE|subscribe)"/.test(text);

describe.each(["binance", "coinbase", "kraken"] as const)("price scenarios: %s", (name) => {
  const c = EXCHANGE_CASES[name];
  let s: Scenario | undefined;
  afterEach(async () => {
    await s?.stop();
    s = undefined;
  });

  /** The first `count` subscribes are answered with the exchange's recorded refusal. */
  function refuse(sc: Scenario, count: number): { at: number[] } {
    const refused = { at: [] as number[] };
    sc.fakes[name]!.intercept = (client, text) => {
      if (!isSubscribe(text) || refused.at.length >= count) return false;
      refused.at.push(Date.now());
      client.send(exchangeFrame(name, c.refusal));
      return true;
    };
    return refused;
  }

  it("refusal then accept: resubscribes on the same connection within one backoff period, then prices flow", async () => {
    s = await startScenario([name]);
    const refused = refuse(s, 1);
    await until("the refusal", () => refused.at.length === 1);
    expect(s.source(name)).toMatchObject({ state: "subscribing", healthy: false });
    expect(s.price.latest()).toBeUndefined();
    expect(s.price.circuit()).toBe("open");

    const liveAt = await untilState(s, name, "live");
    expect(liveAt - refused.at[0]!).toBeLessThanOrEqual(BACKOFF_CAP_MS + SLACK_MS);
    expect(s.fakes[name]!.connectionsTotal).toBe(1);
    expect(await s.metric(new RegExp(`^price_source_refused_subscriptions_total\\{source="${name}"\\}`))).toBe(1);
    expect(await s.metric(new RegExp(`^price_source_messages_total\\{source="${name}",kind="refused"\\}`))).toBe(1);
    expect(await s.metric(new RegExp(`^price_source_transitions_total\\{source="${name}",from="subscribing",to="subscribing"\\}`))).toBe(1);

    const tick = nextTick(s.price, (t) => t.priceCents === 9_700_100);
    s.fakes[name]!.raw(s.priceFrame(name, "97001.00"));
    await tick;
    expect(s.price.circuit()).toBe("closed");
    expect(s.source(name)).toMatchObject({ state: "live", healthy: true, priceCents: 9_700_100 });
  });

  it("refused twice: reconnects and is live within two backoff periods of the first refusal", async () => {
    s = await startScenario([name]);
    const refused = refuse(s, 2);
    await until("two refusals", () => refused.at.length === 2);
    const liveAt = await untilState(s, name, "live");
    expect(liveAt - refused.at[0]!).toBeLessThanOrEqual(2 * BACKOFF_CAP_MS + SLACK_MS);
    expect(s.fakes[name]!.connectionsTotal).toBe(2);
    expect(s.source(name).reconnects).toBe(1);
    expect(await s.metric(new RegExp(`^price_source_transitions_total\\{source="${name}",from="subscribing",to="backoff"\\}`))).toBe(1);
    expect(await s.metric(new RegExp(`^price_source_transitions_total\\{source="${name}",from="backoff",to="reconnecting"\\}`))).toBe(1);

    const tick = nextTick(s.price, (t) => t.priceCents === 9_700_200);
    s.fakes[name]!.raw(s.priceFrame(name, "97002.00"));
    await tick;
    expect(s.price.circuit()).toBe("closed");
  });

  it("silent subscribe: never sits on the open socket; resubscribes, then reconnects, and recovers", async () => {
    s = await startScenario([name]);
    let silentClient: FakeClient | undefined;
    s.fakes[name]!.intercept = (client, text) => {
      silentClient ??= client;
      return client === silentClient && isSubscribe(text);
    };
    await until("the first subscribe", () => silentClient !== undefined);
    const start = Date.now();
    await until("a second subscribe on the silent connection", () => silentClient!.received.filter(isSubscribe).length === 2);
    expect(s.source(name).state).toBe("subscribing");
    expect(s.fakes[name]!.connectionsTotal).toBe(1);
    expect(s.price.circuit()).toBe("open");

    const liveAt = await untilState(s, name, "live");
    expect(s.fakes[name]!.connectionsTotal).toBe(2);
    expect(liveAt - start).toBeLessThanOrEqual(2 * SUBSCRIBE_TIMEOUT_MS + 2 * BACKOFF_CAP_MS + SLACK_MS);
    expect(await s.metric(new RegExp(`^price_source_refused_subscriptions_total\\{source="${name}"\\}`))).toBe(2);
    const tick = nextTick(s.price, (t) => t.priceCents === 9_700_300);
    s.fakes[name]!.raw(s.priceFrame(name, "97003.00"));
    await tick;
  });

  it("old replayed trade: the trade an exchange replays on subscribe (minutes old) is not a price; a fresh one is", async () => {
    s = await startScenario([name]);
    await s.fakes[name]!.waitForSubscriber();
    await untilState(s, name, "live");
    s.fakes[name]!.raw(s.priceFrame(name, "50000.00", { atMs: Date.now() - 5 * 60_000 }));
    expect(await waitMetric(s, new RegExp(`^price_source_prices_dropped_total\\{source="${name}",why="old"\\}`), 1)).toBe(1);
    expect(s.source(name)).toMatchObject({ priceCents: null, healthy: false, reason: "no_data" });
    expect(s.price.latest()).toBeUndefined();
    expect(s.price.circuit()).toBe("open");
    // Subscribed but nothing fresh for PRICE_STALE_MS: stale, the link still up.
    await untilState(s, name, "stale", STALE_MS + SLACK_MS * 3);
    expect(s.fakes[name]!.connectionsTotal).toBe(1);

    const tick = nextTick(s.price, (t) => t.priceCents === 9_700_400);
    const freshAt = Date.now();
    s.fakes[name]!.raw(s.priceFrame(name, "97004.00", { atMs: freshAt }));
    await tick;
    expect(s.source(name)).toMatchObject({ state: "live", healthy: true, priceCents: 9_700_400 });
    expect(s.price.circuit()).toBe("closed");
    // A network stall: nothing for longer than PRICE_STALE_MS, then a burst of trades made just
    // after the last one. They are newer than it, but too old to be a price now.
    await untilState(s, name, "stale", STALE_MS + SLACK_MS * 3);
    const burstAt = freshAt + 50;
    await until("the burst's trade time is past PRICE_STALE_MS", () => Date.now() > burstAt + STALE_MS + 200);
    s.fakes[name]!.raw(s.priceFrame(name, "51000.00", { atMs: burstAt }));
    expect(await waitMetric(s, new RegExp(`^price_source_prices_dropped_total\{source="${name}",why="old"\}`), 2)).toBe(2);
    expect(s.source(name)).toMatchObject({ state: "stale", healthy: false, priceCents: 9_700_400 });
    await until("circuit open", () => s!.price.circuit() === "open");
    expect(s.ticks.every((t) => t.priceCents >= 9_000_000)).toBe(true);
  });

  it("out of order: a price with an older event time (or, on Coinbase, a lower or repeated sequence) is dropped and counted", async () => {
    s = await startScenario([name]);
    await s.fakes[name]!.waitForSubscriber();
    await untilState(s, name, "live");
    const fake = s.fakes[name]!;
    const t0 = Date.now();
    const seq = 70_000_000_000 + Math.floor(Math.random() * 1e6);
    const first = nextTick(s.price, (t) => t.priceCents === 9_700_500);
    fake.raw(s.priceFrame(name, "97005.00", { atMs: t0, sequence: seq }));
    await first;
    // Older event time (and lower sequence).
    fake.raw(s.priceFrame(name, "96000.00", { atMs: t0 - 200, sequence: seq - 1 }));
    const dropped = new RegExp(`^price_source_prices_dropped_total\\{source="${name}",why="out_of_order"\\}`);
    expect(await waitMetric(s, dropped, 1)).toBe(1);
    expect(s.source(name).priceCents).toBe(9_700_500);
    if (name === "coinbase") {
      // A newer time but a repeated sequence: a duplicate, dropped.
      fake.raw(s.priceFrame(name, "96100.00", { atMs: t0 + 10, sequence: seq }));
      expect(await waitMetric(s, dropped, 2)).toBe(2);
      expect(s.source(name).priceCents).toBe(9_700_500);
    }
    const next = nextTick(s.price, (t) => t.priceCents === 9_700_600);
    fake.raw(s.priceFrame(name, "97006.00", { atMs: Math.max(Date.now(), t0 + 20), sequence: seq + 1 }));
    await next;
    expect(s.ticks.map((t) => t.priceCents)).not.toContain(9_600_000);
    expect(s.ticks.map((t) => t.priceCents)).not.toContain(9_610_000);
    expect(s.price.circuit()).toBe("closed");
  });
});

/** Polls /metrics until the line reaches `atLeast` (counters have no event to await). */
async function waitMetric(s: Scenario, line: RegExp, atLeast: number): Promise<number | undefined> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const value = await s.metric(line);
    if ((value ?? 0) >= atLeast || Date.now() > deadline) return value;
    await new Promise((r) => setTimeout(r, 20));
  }
}
