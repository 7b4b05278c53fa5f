import type { Bus, BusHandler } from "./types.ts";

/** In-process bus: delivery is asynchronous (next microtask) like Redis, never re-entrant. */
export function createMemoryBus(): Bus {
  const channels = new Map<string, Set<BusHandler>>();
  return {
    kind: "memory",
    async publish(channel, message) {
      const handlers = channels.get(channel);
      if (!handlers || handlers.size === 0) return;
      await Promise.resolve();
      for (const handler of [...handlers]) handler(message);
    },
    subscribe(channel, handler) {
      let handlers = channels.get(channel);
      if (!handlers) channels.set(channel, (handlers = new Set()));
      handlers.add(handler);
      return () => {
        handlers.delete(handler);
        if (handlers.size === 0) channels.delete(channel);
      };
    },
    async ping() {
      return true;
    },
    async close() {
      channels.clear();
    },
  };
}
