import { createStorage } from "unstorage";
import redisDriver from "unstorage/drivers/redis";
import type { Redis } from "ioredis";
import type { Kv } from "./types.ts";
import { commandClientOptions, createRedisGuard, REDIS_LIMITS_DEFAULT, type RedisLimits } from "../redis-guard.ts";

export interface RedisKvOptions {
  url: string;
  /** Key prefix, so several deployments can share one Redis. */
  prefix: string;
  /** Command timeout and pending-command bound (storage/redis-guard.ts); defaults 1 s and 10 000. */
  limits?: RedisLimits;
  /** Connection errors (ioredis reconnects by itself; commands meanwhile fail within the timeout). */
  onError?: (error: Error) => void;
}

/**
 * Redis store through unstorage's redis driver; the atomic commands the driver does not expose
 * (SET NX PX, GETDEL, INCRBY with PEXPIRE) go to the driver's own ioredis client. The client is
 * created lazily on first use. Every call is bounded (storage/redis-guard.ts): a Redis that is down
 * or hung fails it with DependencyUnavailableError within the command timeout, never later.
 */
export function createRedisKv(options: RedisKvOptions): Kv {
  const base = options.prefix.replace(/:$/, "");
  const limits = options.limits ?? REDIS_LIMITS_DEFAULT;
  const guard = createRedisGuard(limits);
  const driver = redisDriver({ url: options.url, base, lazyConnect: false, ...commandClientOptions(limits) });
  const storage = createStorage({ driver });
  const client = (): Redis => driver.getInstance!() as Redis;
  // Created now, with a listener: an "error" event without one is printed by ioredis as unhandled.
  client().on("error", options.onError ?? (() => {}));
  const k = (key: string) => `${base}:${key}`;

  return {
    kind: "redis",
    async get(key) {
      const value = await guard(() => storage.getItemRaw<string>(key));
      return value === null || value === undefined ? null : String(value);
    },
    async set(key, value, ttlMs) {
      if (ttlMs === undefined) await guard(() => client().set(k(key), value));
      else await guard(() => client().set(k(key), value, "PX", Math.max(1, Math.ceil(ttlMs))));
    },
    async setIfAbsent(key, value, ttlMs) {
      const result = await guard(() => client().set(k(key), value, "PX", Math.max(1, Math.ceil(ttlMs)), "NX"));
      return result === "OK";
    },
    async take(key) {
      return guard(() => client().getdel(k(key)));
    },
    async del(key) {
      await guard(() => storage.removeItem(key));
    },
    async incr(key, ttlMs, by = 1) {
      const replies = (await guard(() =>
        client()
          .multi()
          .incrby(k(key), by)
          .pexpire(k(key), Math.max(1, Math.ceil(ttlMs)), "NX")
          .exec(),
      )) as [[Error | null, number], [Error | null, number]] | null;
      const [error, value] = replies?.[0] ?? [new Error("MULTI was discarded"), 0];
      if (error) throw error;
      return value;
    },
    async ping() {
      try {
        return (await guard(() => client().ping())) === "PONG";
      } catch {
        return false;
      }
    },
    async close() {
      await storage.dispose();
    },
  };
}
