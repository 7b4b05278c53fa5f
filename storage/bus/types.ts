/**
 * Fan-out of price ticks and player events between processes (ADR-004): Redis pub/sub when
 * REDIS_URL is set, an in-process bus otherwise. Messages are strings (serialised once).
 */
export type BusHandler = (message: string) => void;

export interface Bus {
  readonly kind: "memory" | "redis";
  publish(channel: string, message: string): Promise<void>;
  /** Returns the function that unsubscribes this handler. */
  subscribe(channel: string, handler: BusHandler): () => void;
  ping(): Promise<boolean>;
  close(): Promise<void>;
}
