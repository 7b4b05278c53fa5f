import { z } from "zod";
import { decimalToCents } from "./decimal.ts";
import { invalid, isoToMs, parseJsonFrame, type ExchangeMessage } from "./exchange-message.ts";

/**
 * Coinbase Exchange websocket feed: `subscribe` to the `ticker` channel (one message per trade,
 * with the last trade price) and the `heartbeat` channel (one per second, so a quiet market is not
 * mistaken for a dead connection). https://docs.cdp.coinbase.com/exchange/websocket-feed/channels
 *
 * The rules this adapter follows, from the overview and channel pages:
 * - Event time: `time` (RFC 3339, µs) of the ticker is the trade's time; `sequence` increases per
 *   product, so a ticker whose sequence is not above the last accepted one on this connection is a
 *   duplicate or out of order and is dropped ("messages can be dropped or delivered out of order").
 *   https://docs.cdp.coinbase.com/exchange/websocket-feed/overview
 * - The server confirms with a `subscriptions` message; any `{"type":"error",…}` answers our
 *   subscribe (a bad product, channel or message) and refuses it: resubscribe, then reconnect.
 * - `heartbeat` proves the link alive; it never makes an old price fresh.
 * - `status` channel (when subscribed): a product whose `status` is not `online`, or that is
 *   `cancel_only`, `post_only` or `trading_disabled`, takes the source out of the index.
 *   `limit_only` still trades at real prices and stays in.
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
const statusSchema = z.object({
  type: z.literal("status"),
  products: z.array(
    z.object({
      id: z.string(),
      status: z.string(),
      trading_disabled: z.boolean().optional(),
      cancel_only: z.boolean().optional(),
      post_only: z.boolean().optional(),
      limit_only: z.boolean().optional(),
    }),
  ),
});
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
    case "ticker":
      return parseTicker(json.value);
    case "heartbeat":
      return heartbeatSchema.safeParse(json.value).success ? { kind: "alive" } : invalid("heartbeat");
    case "subscriptions":
      return subscriptionsSchema.safeParse(json.value).success ? { kind: "subscribed" } : invalid("subscriptions");
    case "error": {
      const error = errorSchema.safeParse(json.value);
      return error.success ? { kind: "refused", message: `${error.data.message}: ${error.data.reason ?? ""}`.slice(0, 200) } : invalid("error");
    }
    case "status":
      return parseStatus(json.value);
    case "match":
    case "last_match":
      return { kind: "alive" };
    default:
      return invalid(`unexpected type "${head.data.type.slice(0, 40)}"`);
  }
}

function parseTicker(value: unknown): ExchangeMessage {
  const ticker = coinbaseTickerSchema.safeParse(value);
  if (!ticker.success) return invalid(`ticker: ${ticker.error.issues[0]?.path.join(".")} ${ticker.error.issues[0]?.message}`);
  if (ticker.data.product_id !== COINBASE_PRODUCT) return { kind: "alive" };
  const priceCents = decimalToCents(ticker.data.price);
  if (priceCents === undefined) return invalid(`ticker price "${ticker.data.price}"`);
  const eventAtMs = isoToMs(ticker.data.time);
  if (eventAtMs === undefined) return invalid(`ticker time "${ticker.data.time.slice(0, 40)}"`);
  return { kind: "price", priceCents, eventAtMs, sequence: ticker.data.sequence };
}

function parseStatus(value: unknown): ExchangeMessage {
  const status = statusSchema.safeParse(value);
  if (!status.success) return invalid("status");
  const product = status.data.products.find((p) => p.id === COINBASE_PRODUCT);
  if (!product) return { kind: "alive" };
  if (product.status !== "online") return { kind: "status", healthy: false, reason: `exchange_${product.status}`.slice(0, 60) };
  if (product.trading_disabled) return { kind: "status", healthy: false, reason: "exchange_trading_disabled" };
  if (product.cancel_only) return { kind: "status", healthy: false, reason: "exchange_cancel_only" };
  if (product.post_only) return { kind: "status", healthy: false, reason: "exchange_post_only" };
  return { kind: "status", healthy: true, reason: "exchange_online" };
}
