import type { SourceVerdict } from "../../domain/price/index-price.ts";
import type { SourceHealth } from "./types.ts";

export type SourceReason = Exclude<SourceVerdict, "ok"> | "disconnected" | "no_data";

/** What the feed knows about one price source. */
export interface SourceState {
  readonly name: string;
  priceCents: number | null;
  atMs: number | null;
  /** undefined for sources without a connection (synthetic, manual). */
  connected: boolean | undefined;
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
    priceCents: null,
    atMs: null,
    connected: kind.connection ? false : undefined,
    reconnects: 0,
    parseErrors: 0,
    throttled: kind.throttled,
    reason: "no_data",
  };
}

export function toHealth(s: SourceState, nowMs: number): SourceHealth {
  const health: SourceHealth = {
    name: s.name,
    priceCents: s.priceCents,
    ageMs: s.atMs === null ? null : Math.max(0, nowMs - s.atMs),
    healthy: s.reason === undefined,
    reconnects: s.reconnects,
    parseErrors: s.parseErrors,
  };
  if (s.reason !== undefined) health.reason = s.reason;
  return health;
}
