import { z } from "zod";
import { numberToCents } from "./decimal.ts";
import { invalid, isoToMs, parseJsonFrame, type ExchangeMessage } from "./exchange-message.ts";

/**
 * Kraken spot websocket v2: `subscribe` to the `ticker` channel for BTC/USD (a snapshot, then an
 * update per trade with `last`), answered by a subscribe ack; prices are JSON numbers.
 * https://docs.kraken.com/api/docs/websocket-v2/ticker
 *
 * The rules this adapter follows:
 * - Event time: the ticker's `timestamp` (RFC 3339) where the server sends it. Without one, an
 *   `update` (published on a trade) is taken at its arrival time, but a `snapshot` (the state
 *   replayed on subscribe, its last trade possibly minutes old) has no provable age and never
 *   counts as a fresh price.
 * - Subscribe ack `{"method":"subscribe","success":true,…}`; a refusal is
 *   `{"method":"subscribe","success":false,"error":"…"}`: resubscribe, then reconnect. A refused
 *   ping or unsubscribe is an error, not a price and not a refusal of the feed.
 * - `status` (sent on connect and on every change): `system` `online` is healthy; `maintenance`,
 *   `cancel_only` and `post_only` take the source out of the index with that reason (no trades,
 *   or none that make a market price); `limit_only` still trades and stays in.
 *   https://docs.kraken.com/api/docs/websocket-v2/status
 * - `heartbeat` about once a second proves the link alive; it never makes an old price fresh.
 *   https://docs.kraken.com/api/docs/websocket-v2/heartbeat
 * - The client may send `{"method":"ping"}` and gets `{"method":"pong"}` (used as our keep-alive).
 *   https://docs.kraken.com/api/docs/websocket-v2/ping
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
        timestamp: z.string().optional(),
      }),
    )
    .min(1),
});
export type KrakenTicker = z.infer<typeof krakenTickerSchema>;

const ackSchema = z.object({
  method: z.string(),
  success: z.boolean(),
  error: z.string().optional(),
  result: z.object({ channel: z.string() }).passthrough().optional(),
  req_id: z.number().optional(),
});
const pongSchema = z.object({ method: z.literal("pong"), req_id: z.number().optional() });
const channelSchema = z.object({ channel: z.string() });
const statusSchema = z.object({
  channel: z.literal("status"),
  data: z.array(z.object({ system: z.string() }).passthrough()).min(1),
});

/** System states that keep a source out of the index. */
const UNHEALTHY_SYSTEM = new Set(["maintenance", "cancel_only", "post_only"]);

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
  if (typeof value === "object" && value !== null && "method" in value) return parseMethod(value);
  const channel = channelSchema.safeParse(value);
  if (!channel.success) return invalid("neither method nor channel");
  switch (channel.data.channel) {
    case "heartbeat":
      return { kind: "alive" };
    case "status": {
      const status = statusSchema.safeParse(value);
      if (!status.success) return invalid("status");
      const system = status.data.data[0]!.system.slice(0, 40);
      return { kind: "status", healthy: !UNHEALTHY_SYSTEM.has(system), reason: `exchange_${system}` };
    }
    case "ticker":
      return parseTicker(value);
    default:
      return invalid(`unexpected channel "${channel.data.channel.slice(0, 40)}"`);
  }
}

function parseMethod(value: { method?: unknown }): ExchangeMessage {
  if (pongSchema.safeParse(value).success) return { kind: "alive" };
  const ack = ackSchema.safeParse(value);
  if (!ack.success) return invalid(`method "${String(value.method).slice(0, 40)}"`);
  const { method, success, error } = ack.data;
  if (method === "subscribe") return success ? { kind: "subscribed" } : { kind: "refused", message: (error ?? "subscribe refused").slice(0, 200) };
  return success ? { kind: "alive" } : { kind: "error", message: `${method.slice(0, 40)}: ${(error ?? "refused").slice(0, 160)}` };
}

function parseTicker(value: unknown): ExchangeMessage {
  const ticker = krakenTickerSchema.safeParse(value);
  if (!ticker.success) return invalid(`ticker: ${ticker.error.issues[0]?.path.join(".")} ${ticker.error.issues[0]?.message}`);
  const entry = ticker.data.data.find((d) => d.symbol === KRAKEN_SYMBOL);
  if (!entry) return { kind: "alive" };
  const priceCents = numberToCents(entry.last);
  if (priceCents === undefined) return invalid(`ticker last ${entry.last}`);
  let eventAtMs: number | undefined;
  if (entry.timestamp !== undefined) {
    eventAtMs = isoToMs(entry.timestamp);
    if (eventAtMs === undefined) return invalid(`ticker timestamp "${entry.timestamp.slice(0, 40)}"`);
  }
  return { kind: "price", priceCents, eventAtMs, snapshot: ticker.data.type === "snapshot" };
}
