/**
 * The key-value store behind nonces, sessions and rate-limit counters (ADR-004).
 * Three implementations with the same behaviour: disk (the embedded default, a libSQL file),
 * memory (tests) and Redis.
 * Every TTL is in milliseconds; an expired key reads as absent.
 */
export interface Kv {
  readonly kind: "memory" | "redis" | "disk";
  get(key: string): Promise<string | null>;
  set(key: string, value: string, ttlMs?: number): Promise<void>;
  /** Sets only when the key is absent; true when this call set it (SET NX). */
  setIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean>;
  /** Reads and deletes in one atomic step (GETDEL): of many concurrent takers exactly one gets the value. */
  take(key: string): Promise<string | null>;
  del(key: string): Promise<void>;
  /** Adds `by` to an integer counter, creating it with `ttlMs` on first use; returns the new value. */
  incr(key: string, ttlMs: number, by?: number): Promise<number>;
  ping(): Promise<boolean>;
  close(): Promise<void>;
}
