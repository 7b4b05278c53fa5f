export type { Kv } from "./types.ts";
export { createMemoryKv } from "./memory.ts";
export { createRedisKv } from "./redis.ts";
