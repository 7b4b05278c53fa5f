import { retryDelayMs } from "../backoff.ts";

export interface BackoffPolicy {
  /** Delay before the first retry, before jitter. */
  baseMs: number;
  /** Upper bound of any delay. */
  capMs: number;
}

/**
 * Capped exponential backoff with "equal jitter": half of the exponential delay is fixed, the other
 * half random. The fixed half keeps a storm of reconnecting clients from hammering a recovering
 * exchange; the random half spreads them out. `random01` is injectable for tests.
 */
export function backoffDelayMs(attempt: number, policy: BackoffPolicy, random01: () => number = Math.random): number {
  const ceiling = retryDelayMs(Math.max(attempt, 0) + 1, policy.baseMs, policy.capMs);
  const half = ceiling / 2;
  return Math.round(half + random01() * half);
}
