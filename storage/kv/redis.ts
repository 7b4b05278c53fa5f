import { createStorage } from "unstorage";
import redisDriver from "unstorage/drivers/redis";
import type { Redis } from "ioredis";
import type { Kv } from "./types.ts";

export interface RedisKvOptions {
  url: string;
  /** Key prefix, so several deployments can share one Redis. */
  prefix: string;
}

/**
 * Redis store through unstorage's redis driver; the atomic commands the driver does not expose
 * (SET NX PX, GETDEL, INCRBY with PEXPIRE) go to the driver's own ioredis client. The client is
 * created lazily on first use.
 */
export function createRedisKv(options: RedisKvOptions): Kv {
  const base = options.prefix.replace(/:$/, "");
  const driver = redisDriver({
    url: options.url,
    base,
    lazyConnect: false,
    maxRetriesPerRequest: 2,
    enableOfflineQueue: true,
  });
  const storage = createStorage({ driver });
  const client = (): Redis => driver.getInstance!() as Redis;
  const k = (key: string) => `${base}:${key}`;

  return {
    kind: "redis",
    async get(key) {
      const value = await storage.getItemRaw<string>(key);
      return value === null || value === undefined ? null : String(value);
    },
    async set(key, value, ttlMs) {
      if (ttlMs === undefined) await client().set(k(key), value);
      else await client().set(k(key), value, "PX", Math.max(1, Math.ceil(ttlMs)));
    },
    async setIfAbsent(key, value, ttlMs) {
      const result = await client().set(k(key), value, "PX", Math.max(1, Math.ceil(ttlMs)), "NX");
      return result === "OK";
    },
    async take(key) {
      return client().getdel(k(key));
    },
    async del(key) {
      await storage.removeItem(key);
    },
    async incr(key, ttlMs, by = 1) {
      const [[, value]] = (await client()
        .multi()
        .incrby(k(key), by)
        .pexpire(k(key), Math.max(1, Math.ceil(ttlMs)), "NX")
        .exec()) as [[Error | null, number], [Error | null, number]];
      return value;
    },
    async ping() {
      try {
        return (await client().ping()) === "PONG";
      } catch {
        return false;
      }
    },
    async close() {
      await storage.dispose();
    },
  };
}
