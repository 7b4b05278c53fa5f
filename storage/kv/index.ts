export type { Kv } from "./types.ts";
export { createMemoryKv } from "./memory.ts";
export { createRedisKv } from "./redis.ts";
export { createDiskKv } from "./disk.ts";
export { openEmbeddedKv, embeddedKvPath, type EmbeddedKv } from "./embedded.ts";
