import { z } from "zod";
import { decimalToCents } from "./decimal.ts";
import { invalid, parseJsonFrame, type ExchangeMessage } from "./exchange-message.ts";

/**
 * Binance spot trade stream (`btcusdt@trade`), raw (`/ws/btcusdt@trade`) or combined
 * (`/stream?streams=btcusdt@trade` wraps each event as {stream, data}). Binance pings every 20 s
 * with a protocol ping frame; the `ws` client answers with a pong automatically.
 * https://developers.binance.com/docs/binance-spot-api-docs/web-socket-streams#trade-streams
 */
export const BINANCE_SYMBOL = "BTCUSDT";
export const BINANCE_STREAM = "btcusdt@trade";

export const binanceTradeSchema = z.object({
  e: z.literal("trade"),
  E: z.number().int(), // event time
  s: z.string(),
  t: z.number().int(), // trade id
  p: z.string(), // price
  q: z.string(), // quantity
  T: z.number().int(), // trade time
  m: z.boolean(), // buyer is the market maker
});
export type BinanceTrade = z.infer<typeof binanceTradeSchema>;

const combinedSchema = z.object({ stream: z.string(), data: z.unknown() });
const subscribeResultSchema = z.object({ result: z.null(), id: z.number() });
const errorSchema = z.object({ code: z.number(), msg: z.string() });

/** Sent after connecting when the URL names no stream (the bare `/ws` endpoint). */
export function binanceSubscribe(url: string): string[] {
  if (url.toLowerCase().includes(BINANCE_STREAM)) return [];
  return [JSON.stringify({ method: "SUBSCRIBE", params: [BINANCE_STREAM], id: 1 })];
}

export function parseBinance(text: string): ExchangeMessage {
  const json = parseJsonFrame(text);
  if (!json.ok) return invalid("not JSON");
  let value = json.value;
  const combined = combinedSchema.safeParse(value);
  if (combined.success) value = combined.data.data;
  if (subscribeResultSchema.safeParse(value).success) return { kind: "subscribed" };
  const error = errorSchema.safeParse(value);
  if (error.success) return { kind: "error", message: `${error.data.code}: ${error.data.msg}` };
  const trade = binanceTradeSchema.safeParse(value);
  if (!trade.success) return invalid(`trade: ${trade.error.issues[0]?.path.join(".")} ${trade.error.issues[0]?.message}`);
  if (trade.data.s !== BINANCE_SYMBOL) return { kind: "alive" };
  const priceCents = decimalToCents(trade.data.p);
  return priceCents === undefined ? invalid(`trade price "${trade.data.p}"`) : { kind: "price", priceCents };
}
