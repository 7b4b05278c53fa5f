/** One index tick: the server's price at time t (SPEC §5). t is strictly increasing. */
export interface IndexTick {
  t: number;
  priceCents: number;
}

export type CircuitState = "open" | "closed";

export interface SourceHealth {
  name: string;
  priceCents: number | null;
  ageMs: number | null;
  /** The exchange's event time of the last accepted price, on our clock (corrected for skew); ageMs = now − this. */
  priceAtMs: number | null;
  healthy: boolean;
  /** The source's state machine (domain/price/source-machine.ts): connecting, subscribing, live, stale, unhealthy, backoff, reconnecting. */
  state: string;
  /** Event→arrival lag of the last accepted price (exchange clock vs. ours), null before the first. */
  eventLagMs: number | null;
  /** Why it is not in the index: "stale", "outlier", "disconnected", "lagging", "exchange_maintenance", ... */
  reason?: string;
  reconnects: number;
  parseErrors: number;
}

export interface StaleGap {
  startAt: number;
  /** null while the gap is still open. */
  endAt: number | null;
}

/**
 * The contract of the price module (issue: price feed) that pricing, bets, the resolver and the
 * WebSocket server build on. Implemented in services/price/.
 */
export interface PriceService {
  /** The newest index tick, or undefined before the first one. */
  latest(): IndexTick | undefined;
  circuit(): CircuitState;
  sources(): SourceHealth[];
  /** Called for every index tick, after it was accepted (persisting is batched and asynchronous). */
  onTick(listener: (tick: IndexTick) => void): () => void;
  onCircuit(listener: (state: CircuitState, at: number) => void): () => void;
  /** Stale gaps overlapping [fromMs, toMs), the open one included. */
  staleGaps(fromMs: number, toMs: number): StaleGap[];
  /**
   * Feeds one observation of a named source into the index, as the adapters do. The `manual`
   * source exists for deterministic tests and replays: with PRICE_SOURCES=manual nothing ticks
   * unless a test calls this.
   */
  ingest(source: string, priceCents: number, at: number): void;
  /** While the circuit is open: seconds a refused client should wait before retrying (Retry-After, ≥ 1). */
  retryAfterSeconds(): number;
}
