import { ReplyError, type RedisOptions } from "ioredis";
import { DependencyUnavailableError, withTimeout } from "./unavailable.ts";

/** Bounds on every Redis command (issue 13): a hung or absent Redis costs a caller at most the timeout. */
export interface RedisLimits {
  /** A command not answered within this fails (ioredis `commandTimeout`, and a timer of ours). */
  commandTimeoutMs: number;
  /** Commands of one client waiting at once (offline queue included); beyond it a command fails at once. */
  pendingMax: number;
}

export const REDIS_LIMITS_DEFAULT: RedisLimits = { commandTimeoutMs: 1000, pendingMax: 10_000 };

/** Reconnect delay after the n-th failed attempt: 50 ms doubling, at most 1 s, so a restarted Redis is found within a second. */
export function reconnectDelayMs(attempt: number): number {
  return Math.min(50 * 2 ** Math.min(attempt, 10), 1000);
}

/**
 * ioredis options for a command connection: every command times out, a command survives one
 * reconnect at most, and the offline queue (commands issued while disconnected) is kept so that
 * start-up and a quick reconnect do not fail anything; its length is bounded by `guard` below and
 * each queued command still times out.
 */
export function commandClientOptions(limits: RedisLimits): RedisOptions {
  return {
    commandTimeout: limits.commandTimeoutMs,
    connectTimeout: Math.max(limits.commandTimeoutMs, 1000),
    maxRetriesPerRequest: 1,
    enableOfflineQueue: true,
    retryStrategy: reconnectDelayMs,
  };
}

/** Redis answered, but with a state that passes (loading, read-only replica, out of memory, cannot persist). */
const TRANSIENT_REPLY = /^(LOADING|BUSY|MISCONF|READONLY|OOM|MASTERDOWN|TRYAGAIN|CLUSTERDOWN)\b/;

/** Runs Redis commands within the limits: counts and bounds them, times them out, and names unavailability. */
export type RedisGuard = <T>(run: () => Promise<T>) => Promise<T>;

export function createRedisGuard(limits: RedisLimits): RedisGuard {
  let pending = 0;
  return async <T>(run: () => Promise<T>): Promise<T> => {
    if (pending >= limits.pendingMax) throw new DependencyUnavailableError("redis", "too many Redis commands waiting");
    pending++;
    try {
      // A little beyond ioredis' own timeout, which usually fires first; ours also covers what it does not (MULTI, connect).
      return await withTimeout(run(), limits.commandTimeoutMs + 50, () => new DependencyUnavailableError("redis", "Redis did not answer in time"));
    } catch (error) {
      throw asUnavailable(error);
    } finally {
      pending--;
    }
  };
}

/** A connection, timeout or transient-state error becomes DependencyUnavailableError; a real reply error (a bug) stays what it is. */
function asUnavailable(error: unknown): unknown {
  if (error instanceof DependencyUnavailableError) return error;
  if (error instanceof ReplyError && !TRANSIENT_REPLY.test((error as Error).message)) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new DependencyUnavailableError("redis", `Redis unavailable: ${message}`, { cause: error });
}
