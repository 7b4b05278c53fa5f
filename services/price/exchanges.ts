import type { Config } from "../../runtime/config.ts";
import { binanceSubscribe, parseBinance } from "../../domain/price/binance.ts";
import { coinbaseSubscribe, parseCoinbase } from "../../domain/price/coinbase.ts";
import { krakenPing, krakenSubscribe, parseKraken } from "../../domain/price/kraken.ts";
import type { AdapterTiming, ExchangeProtocol } from "./adapter.ts";

export type ExchangeName = "binance" | "coinbase" | "kraken";
export const EXCHANGES: readonly ExchangeName[] = ["binance", "coinbase", "kraken"];

/** The three real feeds of SPEC §7; URLs come from config so tests can point at local fakes. */
export function exchangeProtocol(
  name: ExchangeName,
  config: Pick<Config, "BINANCE_WS_URL" | "COINBASE_WS_URL" | "KRAKEN_WS_URL" | "BINANCE_MAX_CONNECTION_MS">,
): ExchangeProtocol {
  switch (name) {
    case "binance":
      // "A single connection to stream.binance.com is only valid for 24 hours".
      return { name, url: config.BINANCE_WS_URL, subscribeMessages: binanceSubscribe, parse: parseBinance, maxConnectionMs: config.BINANCE_MAX_CONNECTION_MS };
    case "coinbase":
      return { name, url: config.COINBASE_WS_URL, subscribeMessages: coinbaseSubscribe, parse: parseCoinbase };
    case "kraken":
      return { name, url: config.KRAKEN_WS_URL, subscribeMessages: krakenSubscribe, parse: parseKraken, appPing: krakenPing };
  }
}

/** The adapters' timing from config (backoff, keep-alive, subscription timeout). */
export function adapterTiming(config: Config): AdapterTiming {
  return {
    backoff: { baseMs: config.PRICE_BACKOFF_BASE_MS, capMs: Math.max(config.PRICE_BACKOFF_BASE_MS, config.PRICE_BACKOFF_CAP_MS) },
    pingIntervalMs: config.PRICE_PING_INTERVAL_MS,
    idleTimeoutMs: config.PRICE_IDLE_TIMEOUT_MS,
    connectTimeoutMs: 10_000,
    subscribeTimeoutMs: config.PRICE_SUBSCRIBE_TIMEOUT_MS,
  };
}
