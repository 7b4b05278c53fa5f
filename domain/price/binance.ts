import { z } from "zod";
import { decimalToCents } from "./decimal.ts";
import { invalid, parseJsonFrame, type ExchangeMessage } from "./exchange-message.ts";

/**
 * Binance spot trade stream (`btcusdt@trade`), raw (`/ws/btcusdt@trade`) or combined
 * (`/stream?streams=btcusdt@trade` wraps each event as {stream, data}).
 * https://developers.binance.com/docs/binance-spot-api-docs/web-socket-streams
 *
 * The rules this adapter follows, from that page:
 * - Event time: a trade carries `E` (event time) and `T` (trade time), epoch ms. The price's time
 *   is `T`, when the trade happened; `E` is when the event was produced (≥ T).
 * - Subscribe on the bare `/ws` endpoint: `{"method":"SUBSCRIBE","params":[…],"id":1}`, answered
 *   `{"result":null,"id":1}`; a refusal is `{"error":{"code":…,"msg":"…"},"id":1}` (nested error
 *   object), older servers answer `{"code":…,"msg":"…","id":1}`. Both retry: resubscribe, then reconnect.
 * - Liveness: the server sends a protocol ping frame every 20 s (the `ws` client pongs by itself);
 *   there is no application heartbeat, so a quiet stream is proven alive by pings/pongs only.
 * - "A single connection … is only valid for 24 hours": the adapter reconnects before that
 *   (BINANCE_MAX_CONNECTION_MS).
 * - `serverShutdown` ("sent when the server is about to shut down … establish a new connection as
 *   soon as possible"): reconnect at once. The WebSocket API wraps it as {"event":{"e":…}}; both
 *   the wrapped and the bare form are accepted.
 *   https://developers.binance.com/docs/binance-spot-api-docs/websocket-api/connection-events
 */
export const BINANCE_SYMBOL = "BTCUSDT";
export const BINANCE_STREAM = "btcusdt@trade";

export const binanceTradeSchema = z.object({
  e: z.enum(["trade", "aggTrade"]),
  E: z.number().int(), // event time
  s: z.string(),
  p: z.string(), // price
  q: z.string(), // quantity
  T: z.number().int(), // trade time
  m: z.boolean(), // buyer is the market maker
});
export type BinanceTrade = z.infer<typeof binanceTradeSchema>;

const combinedSchema = z.object({ stream: z.string(), data: z.unknown() });
const subscribeResultSchema = z.object({ result: z.null(), id: z.union([z.number(), z.string()]) });
const otherResultSchema = z.object({ result: z.unknown(), id: z.union([z.number(), z.string(), z.null()]) });
const nestedErrorSchema = z.object({ error: z.object({ code: z.number(), msg: z.string() }), id: z.union([z.number(), z.string(), z.null()]).optional() });
const flatErrorSchema = z.object({ code: z.number(), msg: z.string(), id: z.union([z.number(), z.string(), z.null()]).optional() });
const shutdownSchema = z.object({ e: z.literal("serverShutdown"), E: z.number().optional() });

/** Sent after connecting when the URL names no stream (the bare `/ws` endpoint). */
export function binanceSubscribe(url: string): string[] {
  if (url.toLowerCase().includes(BINANCE_STREAM)) return [];
  return [JSON.stringify({ method: "SUBSCRIBE", params: [BINANCE_STREAM], id: 1 })];
}

export function parseBinance(text: string): ExchangeMessage {
  const json = parseJsonFrame(text);
  if (!json.ok) return invalid("not JSON");
  let value = json.value;
  if (isObject(value) && "stream" in value && "data" in value) {
    const combined = combinedSchema.safeParse(value);
    if (combined.success) value = combined.data.data;
  }
  if (!isObject(value)) return invalid("not an object");
  if ("event" in value) value = value.event;
  if (!isObject(value)) return invalid("event not an object");
  // Dispatch on the distinguishing field first: a failed zod parse builds an error (slow), and
  // trades are hundreds a second.
  if ("e" in value) return value.e === "serverShutdown" && shutdownSchema.safeParse(value).success ? { kind: "shutdown" } : parseTrade(value);
  if ("result" in value) {
    if (subscribeResultSchema.safeParse(value).success) return { kind: "subscribed" };
    return otherResultSchema.safeParse(value).success ? { kind: "alive" } : invalid("result"); // e.g. LIST_SUBSCRIPTIONS
  }
  if ("error" in value) {
    // Only requests are answered with a nested error, and ours are SUBSCRIBEs (`id` is null when
    // the server could not read the request at all).
    const nested = nestedErrorSchema.safeParse(value);
    return nested.success ? errorMessage(nested.data.error.code, nested.data.error.msg, nested.data.id ?? "unreadable") : invalid("error");
  }
  if ("code" in value) {
    const flat = flatErrorSchema.safeParse(value);
    return flat.success ? errorMessage(flat.data.code, flat.data.msg, flat.data.id) : invalid("error");
  }
  return invalid("unknown message");
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function parseTrade(value: unknown): ExchangeMessage {
  const trade = binanceTradeSchema.safeParse(value);
  if (!trade.success) return invalid(`trade: ${trade.error.issues[0]?.path.join(".")} ${trade.error.issues[0]?.message}`);
  if (trade.data.s !== BINANCE_SYMBOL) return { kind: "alive" };
  const priceCents = decimalToCents(trade.data.p);
  if (priceCents === undefined) return invalid(`trade price "${trade.data.p}"`);
  return { kind: "price", priceCents, eventAtMs: trade.data.T };
}

/** An error answering a request (it has an id; ours are SUBSCRIBEs) refuses the subscription. */
function errorMessage(code: number, msg: string, id: unknown): ExchangeMessage {
  const message = `${code}: ${msg}`.slice(0, 200);
  return id === undefined || id === null ? { kind: "error", message } : { kind: "refused", message };
}
