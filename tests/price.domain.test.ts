import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { computeIndex, medianCents } from "../domain/price/index-price.ts";
import { decimalToCents, numberToCents } from "../domain/price/decimal.ts";
import { backoffDelayMs } from "../domain/price/backoff.ts";
import { Gbm, seededRandom } from "../domain/price/gbm.ts";
import { initialBreaker, stepBreaker, retryAfterSeconds, type BreakerState } from "../domain/price/breaker.ts";
import { parseBinance, binanceSubscribe } from "../domain/price/binance.ts";
import { parseCoinbase } from "../domain/price/coinbase.ts";
import { parseKraken } from "../domain/price/kraken.ts";

describe("index price: median with outlier exclusion", () => {
  const obs = (name: string, priceCents: number, atMs = 1000) => ({ name, priceCents, atMs });

  it("takes the median, the mean of the middle two for an even count", () => {
    expect(medianCents([3, 1, 2])).toBe(2);
    expect(medianCents([10, 1, 3, 4])).toBe(3); // floor((3+4)/2)
  });

  it("excludes a source 10% off when the other two agree, and reports it", () => {
    const r = computeIndex([obs("a", 9_700_000), obs("b", 10_670_000), obs("c", 9_701_000)], 1000, 2000, 200);
    expect(r.priceCents).toBe(9_700_500);
    expect(r.verdicts.get("b")).toBe("outlier");
    expect(r.verdicts.get("a")).toBe("ok");
    expect(r.included).toBe(2);
  });

  it("drops stale sources (older than staleMs) before taking the median", () => {
    const r = computeIndex([obs("a", 100_00, 0), obs("b", 100_50, 900)], 2001, 2000, 200);
    expect(r.verdicts.get("a")).toBe("stale");
    expect(r.priceCents).toBe(100_50);
    expect(computeIndex([obs("a", 100_00, 0)], 2000, 2000, 200).priceCents).toBe(100_00); // exactly staleMs: still fresh
  });

  it("trusts neither of two sources that disagree beyond the bound", () => {
    const r = computeIndex([obs("a", 9_000_000), obs("b", 10_000_000)], 1000, 2000, 200);
    expect(r.priceCents).toBeUndefined();
    expect([...r.verdicts.values()]).toEqual(["outlier", "outlier"]);
  });

  it("never excludes the median source itself and the index lies within the fresh prices (property)", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 1e9 }), { minLength: 1, maxLength: 7 }), fc.integer({ min: 1, max: 2000 }), (prices, bp) => {
        const r = computeIndex(prices.map((p, i) => obs(`s${i}`, p)), 1000, 2000, bp);
        if (prices.length % 2 === 1) expect(r.priceCents).toBeDefined();
        if (r.priceCents !== undefined) {
          expect(r.priceCents).toBeGreaterThanOrEqual(Math.min(...prices));
          expect(r.priceCents).toBeLessThanOrEqual(Math.max(...prices));
        }
      }),
    );
  });
});

describe("exchange decimals to cents", () => {
  it("converts exactly and rounds half up at the third decimal", () => {
    expect(decimalToCents("97123.45000000")).toBe(9_712_345);
    expect(decimalToCents("97123.455")).toBe(9_712_346);
    expect(decimalToCents("97123.4549")).toBe(9_712_345);
    expect(decimalToCents("97123")).toBe(9_712_300);
    expect(numberToCents(26418.4)).toBe(2_641_840);
    expect(numberToCents(0.1 + 0.2)).toBe(30);
  });

  it("refuses anything that is not a plain positive decimal", () => {
    for (const bad of ["", "-1", "1e5", "abc", "1.", ".5", "0", "0.001", "１２"]) expect(decimalToCents(bad)).toBeUndefined();
    expect(numberToCents(Number.NaN)).toBeUndefined();
    expect(numberToCents(-5)).toBeUndefined();
  });
});

describe("reconnect backoff", () => {
  it("grows exponentially, is capped, and jitters within the upper half", () => {
    const policy = { baseMs: 250, capMs: 30_000 };
    expect(backoffDelayMs(0, policy, () => 0)).toBe(125);
    expect(backoffDelayMs(0, policy, () => 1)).toBe(250);
    expect(backoffDelayMs(3, policy, () => 1)).toBe(2000);
    expect(backoffDelayMs(50, policy, () => 1)).toBe(30_000);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 100 }), fc.double({ min: 0, max: 1, noNaN: true }), (attempt, r) => {
        const ceiling = Math.min(30_000, 250 * 2 ** Math.min(attempt, 30));
        const d = backoffDelayMs(attempt, policy, () => r);
        expect(d).toBeGreaterThanOrEqual(Math.floor(ceiling / 2));
        expect(d).toBeLessThanOrEqual(ceiling);
      }),
    );
  });
});

describe("synthetic GBM", () => {
  it("is deterministic for a seed and differs across seeds", () => {
    const path = (seed: number) => {
      const g = new Gbm({ seed, startCents: 9_500_000, volAnnualBp: 6000 });
      return Array.from({ length: 20 }, () => g.step(100));
    };
    expect(path(7)).toEqual(path(7));
    expect(path(7)).not.toEqual(path(8));
    const r = seededRandom(1);
    for (let i = 0; i < 1000; i++) {
      const x = r();
      expect(x).toBeGreaterThanOrEqual(0);
      expect(x).toBeLessThan(1);
    }
  });

  it("has the configured volatility: realised annualised σ of 100 ms returns ≈ 60%", () => {
    const g = new Gbm({ seed: 42, startCents: 9_500_000, volAnnualBp: 6000 });
    const steps = 200_000;
    let prev = Math.log(9_500_000);
    let sumSq = 0;
    for (let i = 0; i < steps; i++) {
      const x = Math.log(g.step(100));
      sumSq += (x - prev) ** 2;
      prev = x;
    }
    const perStepVar = sumSq / steps;
    const annual = Math.sqrt(perStepVar * ((365.25 * 24 * 3600 * 1000) / 100));
    // Cent rounding adds a little variance at $95k; 200k samples put the estimate within a few %.
    expect(annual).toBeGreaterThan(0.57);
    expect(annual).toBeLessThan(0.63);
  });
});

describe("circuit breaker state machine", () => {
  const cfg = { staleMs: 2000, recoveryMs: 1000 };
  const step = (state: BreakerState, nowMs: number, lastTickAt: number | undefined, healthySources = 1) =>
    stepBreaker(state, { nowMs, lastTickAt, healthySources, ...cfg });

  it("starts open and closes on the first fresh tick without a recovery wait", () => {
    const r = step(initialBreaker(), 10_000, 10_000);
    expect(r.state.circuit).toBe("closed");
    expect(r.transition).toEqual({ kind: "closed", at: 10_000, gapStartAt: undefined });
  });

  it("opens when the index is older than staleMs; the gap starts when the data ran out", () => {
    const closed = step(initialBreaker(), 0, 0).state;
    expect(step(closed, 2000, 0).transition).toBeUndefined(); // exactly staleMs old: fresh
    const r = step(closed, 2250, 0);
    expect(r.state.circuit).toBe("open");
    expect(r.transition).toEqual({ kind: "opened", at: 2250, gapStartAt: 2000, reason: "stale" });
  });

  it("opens at once when no source is healthy, even with a young index", () => {
    const closed = step(initialBreaker(), 0, 0).state;
    expect(step(closed, 100, 0, 0).transition).toEqual({ kind: "opened", at: 100, gapStartAt: 100, reason: "no_healthy_source" });
  });

  it("closes only after fresh ticks lasted recoveryMs; a relapse restarts the count", () => {
    let s = step(step(initialBreaker(), 0, 0).state, 3000, 0).state;
    s = step(s, 5000, 5000).state; // fresh again from 5000
    expect(s.circuit).toBe("open");
    s = step(s, 5600, 5600).state;
    s = step(s, 8000, 5600).state; // stale again: the fresh run is lost
    s = step(s, 8100, 8100).state;
    expect(step(s, 9000, 9000).state.circuit).toBe("open");
    const r = step(s, 9100, 9100);
    expect(r.transition).toEqual({ kind: "closed", at: 9100, gapStartAt: 2000 });
  });

  it("asks refused clients to retry after at least a second, and after the remaining recovery", () => {
    let s = step(step(initialBreaker(), 0, 0).state, 3000, 0).state;
    expect(retryAfterSeconds(s, 3000, 250)).toBe(2); // 1000 recovery + 250 check → 2 s
    s = step(s, 5000, 5000).state;
    expect(retryAfterSeconds(s, 5900, 250)).toBe(1);
  });
});

describe("exchange message parsers (documented formats)", () => {
  it("Binance trade, combined-stream wrapper, subscribe result and error", () => {
    const trade = { e: "trade", E: 1672515782136, s: "BTCUSDT", t: 12345, p: "97123.45000000", q: "0.00100000", T: 1672515782136, m: true, M: true };
    expect(parseBinance(JSON.stringify(trade))).toEqual({ kind: "price", priceCents: 9_712_345, eventAtMs: 1672515782136 });
    expect(parseBinance(JSON.stringify({ stream: "btcusdt@trade", data: trade }))).toEqual({ kind: "price", priceCents: 9_712_345, eventAtMs: 1672515782136 });
    expect(parseBinance(JSON.stringify({ result: null, id: 1 }))).toEqual({ kind: "subscribed" });
    expect(parseBinance(JSON.stringify({ code: 2, msg: "Invalid request" })).kind).toBe("error");
    expect(parseBinance(JSON.stringify({ ...trade, p: "1e5" })).kind).toBe("invalid");
    expect(parseBinance(JSON.stringify({ ...trade, s: "ETHUSDT" }))).toEqual({ kind: "alive" });
    expect(binanceSubscribe("wss://stream.binance.com:9443/ws/btcusdt@trade")).toEqual([]);
    expect(JSON.parse(binanceSubscribe("wss://stream.binance.com:9443/ws")[0]!)).toEqual({ method: "SUBSCRIBE", params: ["btcusdt@trade"], id: 1 });
  });

  it("Coinbase ticker, heartbeat, subscriptions, error", () => {
    const ticker = {
      type: "ticker", sequence: 37475248783, product_id: "BTC-USD", price: "97123.45", open_24h: "1310.79", volume_24h: "245532.79269678",
      low_24h: "1280.52", high_24h: "1313.8", volume_30d: "9788783.60117027", best_bid: "97123.44", best_bid_size: "0.46688654",
      best_ask: "97123.45", best_ask_size: "1.56637040", side: "buy", time: "2022-10-19T23:28:22.061769Z", trade_id: 370843401, last_size: "11.4396987",
    };
    expect(parseCoinbase(JSON.stringify(ticker))).toEqual({ kind: "price", priceCents: 9_712_345, eventAtMs: Date.UTC(2022, 9, 19, 23, 28, 22, 61), sequence: 37475248783 });
    expect(parseCoinbase(JSON.stringify({ ...ticker, product_id: "ETH-USD" }))).toEqual({ kind: "alive" });
    expect(parseCoinbase(JSON.stringify({ type: "heartbeat", sequence: 90, last_trade_id: 20, product_id: "BTC-USD", time: "2014-11-07T08:19:28.464459Z" }))).toEqual({ kind: "alive" });
    expect(parseCoinbase(JSON.stringify({ type: "subscriptions", channels: [{ name: "ticker", product_ids: ["BTC-USD"] }] }))).toEqual({ kind: "subscribed" });
    expect(parseCoinbase(JSON.stringify({ type: "error", message: "Failed to subscribe", reason: "x" })).kind).toBe("refused");
    expect(parseCoinbase(JSON.stringify({ ...ticker, price: 97123.45 })).kind).toBe("invalid");
    expect(parseCoinbase("{").kind).toBe("invalid");
  });

  it("Kraken v2 ticker, ack, status, heartbeat, pong", () => {
    const ticker = {
      channel: "ticker", type: "update",
      data: [{ symbol: "BTC/USD", bid: 97123.4, bid_qty: 0.5, ask: 97123.5, ask_qty: 1.2, last: 97123.5, volume: 1234.5, vwap: 96000.1, low: 95000, high: 98000, change: 100.5, change_pct: 0.1 }],
    };
    expect(parseKraken(JSON.stringify(ticker))).toEqual({ kind: "price", priceCents: 9_712_350, eventAtMs: undefined, snapshot: false });
    expect(parseKraken('{"channel":"status","type":"update","data":[{"api_version":"v2","connection_id":12393906104898154338,"system":"online","version":"2.0.0"}]}')).toEqual({ kind: "status", healthy: true, reason: "exchange_online" });
    expect(parseKraken(JSON.stringify({ channel: "heartbeat" }))).toEqual({ kind: "alive" });
    expect(parseKraken(JSON.stringify({ method: "subscribe", result: { channel: "ticker", snapshot: true, symbol: "BTC/USD" }, success: true, time_in: "t", time_out: "t", req_id: 1 }))).toEqual({ kind: "subscribed" });
    expect(parseKraken(JSON.stringify({ method: "subscribe", success: false, error: "Currency pair not supported", req_id: 1 }))).toEqual({ kind: "refused", message: "Currency pair not supported" });
    expect(parseKraken(JSON.stringify({ method: "pong", req_id: 3, time_in: "t", time_out: "t" }))).toEqual({ kind: "alive" });
    expect(parseKraken(JSON.stringify({ ...ticker, data: [{ symbol: "BTC/USD", last: "97123.5" }] })).kind).toBe("invalid");
    expect(parseKraken(JSON.stringify({ channel: "book" })).kind).toBe("invalid");
  });
});
