/** What an adapter makes of one frame from an exchange, whatever the exchange. */
export type ExchangeMessage =
  /**
   * A trade/ticker price. `eventAtMs` is the exchange's own time of the event (undefined when the
   * frame carries none); `sequence` the exchange's message sequence where it has one (Coinbase);
   * `snapshot` marks a state replayed on subscribe rather than a new event.
   */
  | { kind: "price"; priceCents: number; eventAtMs: number | undefined; sequence?: number; snapshot?: boolean }
  /** Alive, nothing to price (heartbeats, pongs, other products, other request results). */
  | { kind: "alive" }
  /** The exchange confirmed our subscription. */
  | { kind: "subscribed" }
  /** The exchange refused (answered with an error to) our subscription request. */
  | { kind: "refused"; message: string }
  /** The exchange reported an error that is not about our subscription (e.g. a refused ping). */
  | { kind: "error"; message: string }
  /** The exchange's trading status: `healthy` false takes the source out of the index. */
  | { kind: "status"; healthy: boolean; reason: string }
  /** The server announced it is about to go away: reconnect now. */
  | { kind: "shutdown" }
  /** Not valid JSON or not in the exchange's documented format: counted as a parse error. */
  | { kind: "invalid"; issue: string };

export type ExchangeMessageKind = ExchangeMessage["kind"];

/** JSON.parse that never throws. */
export function parseJsonFrame(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false };
  }
}

export function invalid(issue: string): ExchangeMessage {
  return { kind: "invalid", issue: issue.slice(0, 200) };
}

/** An RFC 3339 timestamp ("2024-05-01T12:00:00.123456Z") to epoch ms; undefined when unreadable. */
export function isoToMs(text: string): number | undefined {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(text)) return undefined;
  const ms = Date.parse(text);
  return Number.isFinite(ms) ? ms : undefined;
}
