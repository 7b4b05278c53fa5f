import type { IndexTick, PriceService, SourceHealth } from "../../services/price/types.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { fakeBinance } from "./binance.ts";
import { fakeCoinbase } from "./coinbase.ts";
import type { FakeExchange, FakeExchangeOptions } from "./fake-exchange.ts";
import { fakeKraken } from "./kraken.ts";
import { until } from "./wait.ts";
import { exchangeFrame, restamp, type Exchange } from "../fixtures/exchanges/frames.ts";

/**
 * Scripted exchange scenarios (issue 14): a server with real adapters pointed at fake exchanges
 * that replay recorded frames, short timings so a test runs in seconds, and helpers to read the
 * source's state, the index and the breaker at each step.
 */
export const STALE_MS = 1000;
export const BACKOFF_BASE_MS = 200;
export const BACKOFF_CAP_MS = 400;
export const SUBSCRIBE_TIMEOUT_MS = 400;
/** Timers on a shared 2-core machine fire late; the slack allowed on top of a bound. */
export const SLACK_MS = 600;

export const TIMINGS = {
  PRICE_STALE_MS: STALE_MS,
  PRICE_CHECK_INTERVAL_MS: 50,
  PRICE_RECOVERY_MS: 0,
  PRICE_BACKOFF_BASE_MS: BACKOFF_BASE_MS,
  PRICE_BACKOFF_CAP_MS: BACKOFF_CAP_MS,
  PRICE_SUBSCRIBE_TIMEOUT_MS: SUBSCRIBE_TIMEOUT_MS,
  PRICE_IDLE_TIMEOUT_MS: 5000,
  PRICE_PING_INTERVAL_MS: 500,
};

/** Per exchange: where its adapter is pointed, and the recorded frames a scenario replays. */
export const EXCHANGE_CASES = {
  binance: { env: "BINANCE_WS_URL", path: "/ws", refusal: "error-nested-unknown-variant", priceFrame: "trade-btcusdt", make: (o?: FakeExchangeOptions) => fakeBinance(o ?? { pingMs: 500 }) },
  coinbase: { env: "COINBASE_WS_URL", path: "/", refusal: "error-failed-to-subscribe", priceFrame: "ticker-btc-usd", make: (o?: FakeExchangeOptions) => fakeCoinbase(o ?? { heartbeatMs: 200 }) },
  kraken: { env: "KRAKEN_WS_URL", path: "/v2", refusal: "subscribe-refused-pair", priceFrame: "ticker-update-btc-usd-timestamp", make: (o?: FakeExchangeOptions) => fakeKraken(o ?? { heartbeatMs: 200 }) },
} as const satisfies Record<Exchange, unknown>;

export interface Scenario {
  server: TestServer;
  price: PriceService;
  fakes: Partial<Record<Exchange, FakeExchange>>;
  ticks: IndexTick[];
  circuits: string[];
  source(name: Exchange): SourceHealth;
  /** A recorded price frame of `exchange` re-stamped at `atMs` (default now) and `price`. */
  priceFrame(exchange: Exchange, price: string, change?: { atMs?: number; sequence?: number }): string;
  metric(line: RegExp): Promise<number | undefined>;
  stop(): Promise<void>;
}

let coinbaseSequence = 40_000_000_000;

export async function startScenario(
  exchanges: Exchange[],
  options: { env?: Record<string, string | number>; fakeOptions?: Partial<Record<Exchange, FakeExchangeOptions>>; paths?: Partial<Record<Exchange, string>> } = {},
): Promise<Scenario> {
  const fakes: Partial<Record<Exchange, FakeExchange>> = {};
  const env: Record<string, string | number> = { ...TIMINGS, PRICE_SOURCES: exchanges.join(",") };
  for (const name of exchanges) {
    const c = EXCHANGE_CASES[name];
    const fake = c.make(options.fakeOptions?.[name]);
    await fake.start();
    fakes[name] = fake;
    env[c.env] = fake.url(options.paths?.[name] ?? c.path);
  }
  const server = await startTestServer({ ...env, ...options.env });
  const price = server.ctx.services.price;
  const ticks: IndexTick[] = [];
  const circuits: string[] = [];
  price.onTick((t) => ticks.push(t));
  price.onCircuit((state) => circuits.push(state));
  return {
    server,
    price,
    fakes,
    ticks,
    circuits,
    source: (name) => price.sources().find((s) => s.name === name)!,
    priceFrame(exchange, p, change = {}) {
      const sequence = exchange === "coinbase" ? (change.sequence ?? ++coinbaseSequence) : undefined;
      return restamp(exchange, EXCHANGE_CASES[exchange].priceFrame, { atMs: change.atMs ?? Date.now(), price: p, sequence });
    },
    async metric(line) {
      const text = await (await server.request("/metrics")).text();
      const m = text.split("\n").find((l) => line.test(l));
      return m === undefined ? undefined : Number(m.split(" ").at(-1));
    },
    async stop() {
      await server.stop();
      for (const fake of Object.values(fakes)) await fake.kill();
    },
  };
}

/** Waits for the source to reach `state` and returns when (Date.now()). */
export async function untilState(s: Scenario, name: Exchange, state: string, timeoutMs = 10_000): Promise<number> {
  await until(`${name} ${state}`, () => s.source(name).state === state, timeoutMs);
  return Date.now();
}

export { exchangeFrame };
