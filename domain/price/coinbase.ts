import { z } from "zod";
import { decimalToCents } from "./decimal.ts";
import { invalid, parseJsonFrame, type ExchangeMessage } from "./exchange-message.ts";

/**
 * Coinbase Exchange websocket feed: `subscribe` to the `ticker` channel (one message per trade,
 * with the last trade price) and the `heartbeat` channel (one per second, so a quiet market is not
 * mistaken for a dead connection). The server confirms with a `subscriptions` message.
 * https://docs.cdp.coinbase.com/exchange/websocket-feed/channels
 */
export const COINBASE_PRODUCT = "BTC-USD";

export const coinbaseTickerSchema = z.object({
  type: z.literal("ticker"),
  sequence: z.number().int(),
  product_id: z.string(),
  price: z.string(),
  best_bid: z.string().optional(),
  best_ask: z.string().optional(),
  side: z.enum(["buy", "sell"]).optional(),
  time: z.string(),
  trade_id: z.number().int().optional(),
  last_size: z.string().optional(),
});
export type CoinbaseTicker = z.infer<typeof coinbaseTickerSchema>;

const heartbeatSchema = z.object({
  type: z.literal("heartbeat"),
  sequence: z.number().int(),
  last_trade_id: z.number().int(),
  product_id: z.string(),
  time: z.string(),
});
const subscriptionsSchema = z.object({ type: z.literal("subscriptions"), channels: z.array(z.unknown()) });
const errorSchema = z.object({ type: z.literal("error"), message: z.string(), reason: z.string().optional() });
const typed = z.object({ type: z.string() });

export function coinbaseSubscribe(): string[] {
  return [JSON.stringify({ type: "subscribe", product_ids: [COINBASE_PRODUCT], channels: ["ticker", "heartbeat"] })];
}

export function parseCoinbase(text: string): ExchangeMessage {
  const json = parseJsonFrame(text);
  if (!json.ok) return invalid("not JSON");
  const head = typed.safeParse(json.value);
  if (!head.success) return invalid("no type");
  switch (head.data.type) {
    case "ticker": {
      const ticker = coinbaseTickerSchema.safeParse(json.value);
      if (!ticker.success) return invalid(`ticker: ${ticker.error.issues[0]?.path.join(".")} ${ticker.error.issues[0]?.message}`);
      if (ticker.data.product_id !== COINBASE_PRODUCT) return { kind: "alive" };
      const priceCents = decimalToCents(ticker.data.price);
      return priceCents === undefined ? invalid(`ticker price "${ticker.data.price}"`) : { kind: "price", priceCents };
    }
    case "heartbeat":
      return heartbeatSchema.safeParse(json.value).success ? { kind: "alive" } : invalid("heartbeat");
    case "subscriptions":
      return subscriptionsSchema.safeParse(json.value).success ? { kind: "subscribed" } : invalid("subscriptions");
    case "error": {
      const error = errorSchema.safeParse(json.value);
      return error.success ? { kind: "error", message: `${error.data.message}: ${error.data.reason ?? ""}` } : invalid("error");
    }
    default:
      return invalid(`unexpected type "${head.data.type.slice(0, 40)}"`);
  }
}
