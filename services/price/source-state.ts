import type { SourceVerdict } from "../../domain/price/index-price.ts";
import type { LastAccepted, SkewWindow } from "../../domain/price/freshness.ts";
import { isSubscribed, type SourceStateName } from "../../domain/price/source-machine.ts";
import type { SourceHealth } from "./types.ts";

/**
 * Why a source is out of the index: the index's own verdicts, the link's state, or the exchange's
 * status (`exchange_maintenance`, `exchange_cancel_only`, …).
 */
export type SourceReason = Exclude<SourceVerdict, "ok"> | "disconnected" | "subscribing" | "no_data" | "lagging" | `exchange_${string}`;

/** What the feed knows about one price source. */
export interface SourceState {
  readonly name: string;
  /** Exchange sources go through connecting → subscribing → live …; the others are born live. */
  readonly connection: boolean;
  state: SourceStateName;
  priceCents: number | null;
  /** Event time of the last accepted price on our clock (corrected for the measured skew). */
  atMs: number | null;
  /** Arrival time (our clock) of the last accepted price. */
  arrivalAtMs: number | null;
  /** Raw event→arrival lag of the last accepted price. */
  eventLagMs: number | null;
  /** The measured clock-skew allowance now applied to this source's event times. */
  skewMs: number;
  skew: SkewWindow;
  /** Ordering guard: the last accepted event time and (per connection) sequence. */
  last: LastAccepted | undefined;
  /** The exchange's status says it is not trading normally; undefined when it is. */
  statusReason: string | undefined;
  lagging: boolean;
  /** When the current subscription was confirmed (a source with no price yet is stale after PRICE_STALE_MS). */
  subscribedAtMs: number | null;
  reconnects: number;
  parseErrors: number;
  /** Exchange sources are coalesced to at most one index tick per interval (see PriceFeed). */
  throttled: boolean;
  /** Why it is out of the index at the last evaluation, undefined when healthy. */
  reason: SourceReason | undefined;
}

export function newSourceState(name: string, kind: { connection: boolean; throttled: boolean }): SourceState {
  return {
    name,
    connection: kind.connection,
    state: kind.connection ? "connecting" : "live",
    priceCents: null,
    atMs: null,
    arrivalAtMs: null,
    eventLagMs: null,
    skewMs: 0,
    skew: { lagsMs: [] },
    last: undefined,
    statusReason: undefined,
    lagging: false,
    subscribedAtMs: null,
    reconnects: 0,
    parseErrors: 0,
    throttled: kind.throttled,
    reason: "no_data",
  };
}

/** Connected and subscribed (always true for sources without a connection). */
export function isUp(s: SourceState): boolean {
  return !s.connection || isSubscribed(s.state);
}

export function toHealth(s: SourceState, nowMs: number): SourceHealth {
  const health: SourceHealth = {
    name: s.name,
    priceCents: s.priceCents,
    ageMs: s.atMs === null ? null : Math.max(0, nowMs - s.atMs),
    priceAtMs: s.atMs,
    healthy: s.reason === undefined,
    state: s.state,
    eventLagMs: s.eventLagMs,
    reconnects: s.reconnects,
    parseErrors: s.parseErrors,
  };
  if (s.reason !== undefined) health.reason = s.reason;
  return health;
}
