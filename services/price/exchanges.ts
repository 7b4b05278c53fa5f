import type { Config } from "../../runtime/config.ts";
import { binanceSubscribe, parseBinance } from "../../domain/price/binance.ts";
import { coinbaseSubscribe, parseCoinbase } from "../../domain/price/coinbase.ts";
import { krakenPing, krakenSubscribe, parseKraken } from "../../domain/price/kraken.ts";
import type { ExchangeProtocol } from "./adapter.ts";

export type ExchangeName = "binance" | "coinbase" | "kraken";
export const EXCHANGES: readonly ExchangeName[] = ["binance", "coinbase", "kraken"];

/** The three real feeds of SPEC §7; URLs come from config so tests can point at local fakes. */
export function exchangeProtocol(name: ExchangeName, config: Pick<Config, "BINANCE_WS_URL" | "COINBASE_WS_URL" | "KRAKEN_WS_URL">): ExchangeProtocol {
  switch (name) {
    case "binance":
      return { name, url: config.BINANCE_WS_URL, subscribeMessages: binanceSubscribe, parse: parseBinance };
    case "coinbase":
      return { name, url: config.COINBASE_WS_URL, subscribeMessages: coinbaseSubscribe, parse: parseCoinbase };
    case "kraken":
      return { name, url: config.KRAKEN_WS_URL, subscribeMessages: krakenSubscribe, parse: parseKraken, appPing: krakenPing };
  }
}
