/**
 * Per-player token bucket (SPEC §4: 20 bets/s with bursts of 50). In-process: exact while one API
 * process serves a player. With several processes behind nginx a player could get up to N× the rate;
 * the Redis form would be a `kv.incr` per (player, second) window or a Lua token bucket — not needed
 * for the single-process deployment of ADR-003.
 *
 * Bounded: at most `entriesMax` buckets; a full bucket carries no state (it equals a fresh one), so
 * the oldest entries can be dropped without letting anyone exceed the burst.
 */
export interface TokenBucketOptions {
  ratePerSec: number;
  burst: number;
  entriesMax?: number;
}

interface Bucket {
  tokens: number;
  updatedAtMs: number;
}

/** Keyed by player id (bets) or by any other key, e.g. a client IP (nonces). */
export class TokenBucketLimiter<K = number> {
  readonly #ratePerMs: number;
  readonly #burst: number;
  readonly #entriesMax: number;
  readonly #buckets = new Map<K, Bucket>();

  constructor(options: TokenBucketOptions) {
    if (options.ratePerSec <= 0 || options.burst < 1) throw new Error("token bucket needs a positive rate and burst >= 1");
    this.#ratePerMs = options.ratePerSec / 1000;
    this.#burst = options.burst;
    this.#entriesMax = options.entriesMax ?? 200_000;
  }

  /** Takes one token for `id` at `nowMs`; when none is left returns the wait in ms until one is. */
  take(id: K, nowMs: number): { ok: true } | { ok: false; retryAfterMs: number } {
    let bucket = this.#buckets.get(id);
    if (!bucket) {
      this.#evictIfFull(nowMs);
      bucket = { tokens: this.#burst, updatedAtMs: nowMs };
      this.#buckets.set(id, bucket);
    } else {
      const elapsedMs = Math.max(0, nowMs - bucket.updatedAtMs);
      bucket.tokens = Math.min(this.#burst, bucket.tokens + elapsedMs * this.#ratePerMs);
      bucket.updatedAtMs = nowMs;
    }
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { ok: true };
    }
    return { ok: false, retryAfterMs: Math.ceil((1 - bucket.tokens) / this.#ratePerMs) };
  }

  get size(): number {
    return this.#buckets.size;
  }

  /** Drops buckets that have refilled (they carry no state); if none did, the oldest one. */
  #evictIfFull(nowMs: number): void {
    if (this.#buckets.size < this.#entriesMax) return;
    const refillMs = this.#burst / this.#ratePerMs;
    let scanned = 0;
    for (const [id, bucket] of this.#buckets) {
      if (nowMs - bucket.updatedAtMs >= refillMs) this.#buckets.delete(id);
      if (++scanned >= 1000) break;
    }
    if (this.#buckets.size >= this.#entriesMax) {
      const oldest = this.#buckets.keys().next();
      if (!oldest.done) this.#buckets.delete(oldest.value);
    }
  }
}
