/**
 * The life of one price source as an explicit state machine, shared by the three exchange
 * adapters (and trivially by the synthetic and manual sources, which are born `live`):
 *
 *   connecting ──open──▶ subscribing ──subscribed──▶ live ◀──fresh──▶ stale
 *        ▲                 │  ▲  resubscribe          │  ╲              │
 *        │                 │  └──────────┘          unhealthy ◀─────────┘
 *   reconnecting           │                           │
 *        ▲                 ▼                           ▼
 *        └──redial── backoff ◀──────────closed──────────┘  (from any connected state)
 *
 * - subscribing: the socket is open and our subscribe is sent; no ack (or, where the protocol
 *   has none, no price) yet. A refusal or a silent exchange re-sends it once after a backoff
 *   delay (`resubscribe`), then closes the connection (`closed`).
 * - live: subscribed and the last price is fresh (exchange event time within PRICE_STALE_MS).
 * - stale: subscribed, the link alive (heartbeats), but no fresh price: out of the index.
 * - unhealthy: the exchange says it is not trading normally (maintenance, cancel-only, …) or its
 *   prices arrive too late (lagging): out of the index, with a reason.
 * - backoff: disconnected, waiting before the next dial; reconnecting: dialling again.
 *
 * `nextSourceState` is the whole table; an event that does not apply in a state returns
 * undefined and changes nothing.
 */
export const SOURCE_STATES = ["connecting", "subscribing", "live", "stale", "unhealthy", "backoff", "reconnecting"] as const;
export type SourceStateName = (typeof SOURCE_STATES)[number];

export type SourceEvent = "open" | "subscribed" | "resubscribe" | "fresh" | "stale" | "unhealthy" | "closed" | "redial";

const TABLE: Record<SourceStateName, Partial<Record<SourceEvent, SourceStateName>>> = {
  connecting: { open: "subscribing", closed: "backoff" },
  reconnecting: { open: "subscribing", closed: "backoff" },
  subscribing: { subscribed: "live", resubscribe: "subscribing", closed: "backoff" },
  live: { stale: "stale", unhealthy: "unhealthy", closed: "backoff" },
  stale: { fresh: "live", unhealthy: "unhealthy", closed: "backoff" },
  unhealthy: { fresh: "live", stale: "stale", closed: "backoff" },
  backoff: { redial: "reconnecting" },
};

export function nextSourceState(state: SourceStateName, event: SourceEvent): SourceStateName | undefined {
  return TABLE[state][event];
}

/** States in which the source is subscribed and its prices may count. */
export function isSubscribed(state: SourceStateName): boolean {
  return state === "live" || state === "stale" || state === "unhealthy";
}

/**
 * Which health event a subscribed source's observations call for. `statusReason` is the
 * exchange's own word (maintenance, …), `lagging` our measurement, `fresh` whether its last
 * accepted price is within PRICE_STALE_MS. An unhealthy exchange wins over a stale price.
 */
export function healthEvent(input: { statusReason: string | undefined; lagging: boolean; fresh: boolean }): "fresh" | "stale" | "unhealthy" {
  if (input.statusReason !== undefined || input.lagging) return "unhealthy";
  return input.fresh ? "fresh" : "stale";
}
