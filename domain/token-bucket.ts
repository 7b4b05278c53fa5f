/**
 * A token bucket per key with a bound on the number of keys (pure, clock injected).
 * Each key holds up to `burst` tokens and regains `ratePerSec` per second; a request takes one.
 * When the table is full, the least recently refilled keys are dropped first (Map order): a flood
 * of new addresses costs memory up to the bound and nothing more, and a dropped key starts full,
 * which only ever errs towards letting a client in.
 */
export interface TokenBucketOptions {
  ratePerSec: number;
  burst: number;
  keysMax: number;
}

export type TakeResult = { ok: true } | { ok: false; retryAfterMs: number };

interface Bucket {
  tokens: number;
  atMs: number;
}

export class TokenBuckets {
  readonly #buckets = new Map<string, Bucket>();

  constructor(readonly options: TokenBucketOptions) {
    if (!(options.ratePerSec > 0) || !(options.burst >= 1) || !(options.keysMax >= 1)) throw new RangeError("token bucket: rate > 0, burst ≥ 1, keysMax ≥ 1");
  }

  get size(): number {
    return this.#buckets.size;
  }

  /** Takes `cost` tokens (default 1; clamped to [1, burst] so that any request can pass on a full bucket). */
  take(key: string, nowMs: number, cost = 1): TakeResult {
    const need = Math.min(Math.max(cost, 1), this.options.burst);
    const { ratePerSec, burst, keysMax } = this.options;
    let bucket = this.#buckets.get(key);
    if (bucket === undefined) {
      if (this.#buckets.size >= keysMax) this.#buckets.delete(this.#buckets.keys().next().value!);
      bucket = { tokens: burst, atMs: nowMs };
    } else {
      this.#buckets.delete(key); // re-inserted below: Map order stays least recently used first
      const elapsedMs = Math.max(0, nowMs - bucket.atMs);
      bucket.tokens = Math.min(burst, bucket.tokens + (elapsedMs * ratePerSec) / 1000);
      bucket.atMs = nowMs;
    }
    this.#buckets.set(key, bucket);
    if (bucket.tokens >= need) {
      bucket.tokens -= need;
      return { ok: true };
    }
    return { ok: false, retryAfterMs: Math.ceil(((need - bucket.tokens) * 1000) / ratePerSec) };
  }
}
