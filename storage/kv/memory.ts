import type { Kv } from "./types.ts";

interface Entry {
  value: string;
  expiresAt: number;
}

export interface MemoryKvOptions {
  now?: () => number;
  /** Bound on stored keys; the sweep drops expired keys, and beyond it the oldest go first. */
  keysMax?: number;
  sweepIntervalMs?: number;
}

/** In-process store for the embedded default; single-threaded JS makes each call atomic. */
export function createMemoryKv(options: MemoryKvOptions = {}): Kv {
  const now = options.now ?? Date.now;
  const keysMax = options.keysMax ?? 1_000_000;
  const map = new Map<string, Entry>();

  const live = (key: string): Entry | undefined => {
    const entry = map.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= now()) {
      map.delete(key);
      return undefined;
    }
    return entry;
  };
  const put = (key: string, value: string, ttlMs?: number) => {
    map.delete(key);
    if (map.size >= keysMax) {
      const oldest = map.keys().next();
      if (!oldest.done) map.delete(oldest.value);
    }
    map.set(key, { value, expiresAt: ttlMs === undefined ? Infinity : now() + ttlMs });
  };
  const sweep = setInterval(() => {
    const t = now();
    for (const [key, entry] of map) if (entry.expiresAt <= t) map.delete(key);
  }, options.sweepIntervalMs ?? 30_000);
  sweep.unref();

  return {
    kind: "memory",
    async get(key) {
      return live(key)?.value ?? null;
    },
    async set(key, value, ttlMs) {
      put(key, value, ttlMs);
    },
    async setIfAbsent(key, value, ttlMs) {
      if (live(key)) return false;
      put(key, value, ttlMs);
      return true;
    },
    async take(key) {
      const entry = live(key);
      if (!entry) return null;
      map.delete(key);
      return entry.value;
    },
    async del(key) {
      map.delete(key);
    },
    async incr(key, ttlMs, by = 1) {
      const entry = live(key);
      const next = (entry ? Number(entry.value) : 0) + by;
      if (entry) entry.value = String(next);
      else put(key, String(next), ttlMs);
      return next;
    },
    async ping() {
      return true;
    },
    async close() {
      clearInterval(sweep);
      map.clear();
    },
  };
}
