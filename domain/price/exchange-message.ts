/** What an adapter makes of one frame from an exchange, whatever the exchange. */
export type ExchangeMessage =
  | { kind: "price"; priceCents: number }
  /** Alive, nothing to price (heartbeats, pongs, other products, status). */
  | { kind: "alive" }
  /** The exchange confirmed our subscription. */
  | { kind: "subscribed" }
  /** The exchange reported an error (e.g. refused the subscription). */
  | { kind: "error"; message: string }
  /** Not valid JSON or not in the exchange's documented format: counted as a parse error. */
  | { kind: "invalid"; issue: string };

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
