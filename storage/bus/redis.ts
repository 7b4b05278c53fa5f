import { Redis } from "ioredis";
import type { Bus, BusHandler } from "./types.ts";

export interface RedisBusOptions {
  url: string;
  prefix: string;
  onError?: (error: Error) => void;
}

/**
 * Redis pub/sub: one connection publishes, one subscribes. ioredis re-subscribes every channel
 * after a reconnect (autoResubscribe), so a Redis restart does not silently stop delivery.
 */
export function createRedisBus(options: RedisBusOptions): Bus {
  const publisher = new Redis(options.url, { maxRetriesPerRequest: 2 });
  const subscriber = new Redis(options.url, { autoResubscribe: true, maxRetriesPerRequest: null });
  const onError = options.onError ?? (() => {});
  publisher.on("error", onError);
  subscriber.on("error", onError);
  const channels = new Map<string, Set<BusHandler>>();
  const c = (channel: string) => `${options.prefix}${channel}`;

  subscriber.on("message", (channel: string, message: string) => {
    const handlers = channels.get(channel.slice(options.prefix.length));
    if (!handlers) return;
    for (const handler of [...handlers]) handler(message);
  });

  return {
    kind: "redis",
    async publish(channel, message) {
      await publisher.publish(c(channel), message);
    },
    subscribe(channel, handler) {
      let handlers = channels.get(channel);
      if (!handlers) {
        channels.set(channel, (handlers = new Set()));
        subscriber.subscribe(c(channel)).catch(onError);
      }
      handlers.add(handler);
      return () => {
        handlers.delete(handler);
        if (handlers.size > 0) return;
        channels.delete(channel);
        subscriber.unsubscribe(c(channel)).catch(onError);
      };
    },
    async ping() {
      try {
        return (await publisher.ping()) === "PONG";
      } catch {
        return false;
      }
    },
    async close() {
      channels.clear();
      subscriber.disconnect();
      publisher.disconnect();
    },
  };
}
