import { z } from "zod";
import { numberToCents } from "./decimal.ts";
import { invalid, parseJsonFrame, type ExchangeMessage } from "./exchange-message.ts";

/**
 * Kraken spot websocket v2: `subscribe` to the `ticker` channel for BTC/USD (a snapshot, then an
 * update per trade with `last`), answered by a subscribe ack; the server sends `status` on connect
 * and a `heartbeat` every second; the client may send `{"method":"ping"}` and gets a `pong`.
 * Prices are JSON numbers in v2.
 * https://docs.kraken.com/api/docs/websocket-v2/ticker
 */
export const KRAKEN_SYMBOL = "BTC/USD";

export const krakenTickerSchema = z.object({
  channel: z.literal("ticker"),
  type: z.enum(["snapshot", "update"]),
  data: z
    .array(
      z.object({
        // What the index uses is required; the rest is checked when present.
        symbol: z.string(),
        last: z.number(),
        bid: z.number().optional(),
        bid_qty: z.number().optional(),
        ask: z.number().optional(),
        ask_qty: z.number().optional(),
        volume: z.number().optional(),
        vwap: z.number().optional(),
        low: z.number().optional(),
        high: z.number().optional(),
        change: z.number().optional(),
        change_pct: z.number().optional(),
      }),
    )
    .min(1),
});
export type KrakenTicker = z.infer<typeof krakenTickerSchema>;

const ackSchema = z.object({
  method: z.enum(["subscribe", "unsubscribe"]),
  success: z.boolean(),
  error: z.string().optional(),
  result: z.object({ channel: z.string() }).optional(),
  req_id: z.number().optional(),
});
const pongSchema = z.object({ method: z.literal("pong"), req_id: z.number().optional() });
const channelSchema = z.object({ channel: z.string() });

export function krakenSubscribe(): string[] {
  return [JSON.stringify({ method: "subscribe", params: { channel: "ticker", symbol: [KRAKEN_SYMBOL] }, req_id: 1 })];
}

export function krakenPing(reqId: number): string {
  return JSON.stringify({ method: "ping", req_id: reqId });
}

export function parseKraken(text: string): ExchangeMessage {
  const json = parseJsonFrame(text);
  if (!json.ok) return invalid("not JSON");
  const value = json.value as { method?: unknown; channel?: unknown };
  if (typeof value === "object" && value !== null && "method" in value) {
    if (pongSchema.safeParse(value).success) return { kind: "alive" };
    const ack = ackSchema.safeParse(value);
    if (!ack.success) return invalid(`method "${String(value.method).slice(0, 40)}"`);
    return ack.data.success ? { kind: "subscribed" } : { kind: "error", message: ack.data.error ?? "subscribe refused" };
  }
  const channel = channelSchema.safeParse(value);
  if (!channel.success) return invalid("neither method nor channel");
  switch (channel.data.channel) {
    case "heartbeat":
    case "status":
      return { kind: "alive" };
    case "ticker": {
      const ticker = krakenTickerSchema.safeParse(value);
      if (!ticker.success) return invalid(`ticker: ${ticker.error.issues[0]?.path.join(".")} ${ticker.error.issues[0]?.message}`);
      const entry = ticker.data.data.find((d) => d.symbol === KRAKEN_SYMBOL);
      if (!entry) return { kind: "alive" };
      const priceCents = numberToCents(entry.last);
      return priceCents === undefined ? invalid(`ticker last ${entry.last}`) : { kind: "price", priceCents };
    }
    default:
      return invalid(`unexpected channel "${channel.data.channel.slice(0, 40)}"`);
  }
}
