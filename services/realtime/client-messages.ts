/**
 * Client → server frames of API.md § WebSocket: `{"type":"ping"}` and
 * `{"type":"subscribe"|"unsubscribe","channels":["grid"]}`. Anything else is a bad frame. Pure.
 */
export const CHANNELS = ["grid"] as const;
export type Channel = (typeof CHANNELS)[number];

export type ClientMessage = { type: "ping" } | { type: "subscribe" | "unsubscribe"; channels: Channel[] };

/** Longer client frames are not parsed (the largest valid one is well under this). */
const CLIENT_FRAME_CHARS_MAX = 256;
const CHANNELS_MAX = 8;

/** The message, or undefined for a bad frame (not JSON, unknown type, no known channel). */
export function parseClientMessage(text: string): ClientMessage | undefined {
  if (text.length > CLIENT_FRAME_CHARS_MAX) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined;
  const message = value as { type?: unknown; channels?: unknown };
  if (message.type === "ping") return { type: "ping" };
  if (message.type !== "subscribe" && message.type !== "unsubscribe") return undefined;
  if (!Array.isArray(message.channels) || message.channels.length > CHANNELS_MAX) return undefined;
  // Names this server does not know are left out (a newer client may ask for more); none known is a bad frame.
  const channels = CHANNELS.filter((c) => (message.channels as unknown[]).includes(c));
  return channels.length > 0 ? { type: message.type, channels } : undefined;
}
