export type { Bus, BusHandler } from "./types.ts";
export { createMemoryBus } from "./memory.ts";
export { createRedisBus } from "./redis.ts";
export { parseBusObject } from "./message.ts";
