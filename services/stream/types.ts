import type { QuoteTerms } from "../../domain/pricing/quote.ts";
import type { CircuitState, SourceHealth } from "../price/types.ts";

/**
 * The market stream (SPEC §11): what the core tells the processes that serve the audience. The core
 * (ROLE=core, or the single process, ROLE=all) numbers its index ticks and serialises each one once
 * as the client's `price` frame; edges (ROLE=edge) take those frames, its circuit changes and its
 * state from the bus (Redis pub/sub, ADR-004) and forward the frames' bytes as they are.
 */

/** Bus channels (REDIS_PREFIX in front on Redis). */
export const PRICE_FRAMES_CHANNEL = "stream:price";
export const CORE_STATE_CHANNEL = "stream:state";
/** The core's state is published this often (and at once when it changes): the edges' heartbeat. */
export const CORE_STATE_INTERVAL_MS = 1000;

/** The market's fixed terms, as `hello` tells them and as an edge checks them against its own configuration. */
export interface MarketTerms {
  /** The stream's epoch: made when the core starts; `seq` counts ticks from 1 within it. */
  epoch: string;
  columnMs: number;
  rowCents: number;
  lockMs: number;
  horizonColumns: number;
  quoteMaxAgeMs: number;
  /** Absent while the core has no pricing module. */
  quoteTerms?: QuoteTerms;
  /** The order of the fields in a price frame's `quote` (domain/pricing/quote-wire.ts); absent before the first quoted tick. */
  quoteKeys?: string[];
}

/** The core's state on CORE_STATE_CHANNEL: every CORE_STATE_INTERVAL_MS and at once on a change. */
export interface CoreState {
  terms: MarketTerms;
  /** seq of the newest tick (0 before the first). */
  seq: number;
  /** When the core sent it (its clock). */
  at: number;
  circuit: CircuitState;
  sources: SourceHealth[];
}

/** "interrupted" while an edge hears nothing from the core (Redis or the core is gone); the core's own stream is always live. */
export type StreamState = "live" | "interrupted";

export interface StreamListener {
  /** Every price frame, serialised once, in `seq` order. */
  frame?(frame: Buffer): void;
  /** The terms changed (the first quoted tick brought `quoteKeys`, or a new epoch began): hello is out of date. */
  terms?(): void;
  state?(state: StreamState, at: number): void;
}

/** What the WebSocket hub (services/realtime) serves: the same interface on the core and on an edge. */
export interface MarketStream {
  /** undefined while there is nothing to tell a client (an edge that has not heard from the core, or whose configuration differs). */
  terms(): MarketTerms | undefined;
  /** The newest price frame, sent to a client right after hello. */
  latestFrame(): Buffer | undefined;
  state(): StreamState;
  listen(listener: StreamListener): () => void;
}

declare module "../types.ts" {
  interface Services {
    stream: MarketStream;
  }
}
