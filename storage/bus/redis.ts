import { Redis } from "ioredis";
import type { Bus, BusHandler } from "./types.ts";
import { commandClientOptions, createRedisGuard, reconnectDelayMs, REDIS_LIMITS_DEFAULT, type RedisLimits } from "../redis-guard.ts";

export interface RedisBusOptions {
  url: string;
  prefix: string;
  onError?: (error: Error) => void;
  /** Command timeout and pending-command bound for publish and ping (storage/redis-guard.ts). */
  limits?: RedisLimits;
}

/**
 * Redis pub/sub: one connection publishes, one subscribes. ioredis re-subscribes every channel
 * after a reconnect (autoResubscribe), so a Redis restart does not silently stop delivery. Publish
 * and ping are bounded like every command (storage/redis-guard.ts); subscriptions wait for the
 * connection instead (they are not on any request's path).
 */
export function createRedisBus(options: RedisBusOptions): Bus {
  const limits = options.limits ?? REDIS_LIMITS_DEFAULT;
  const guard = createRedisGuard(limits);
  const publisher = new Redis(options.url, commandClientOptions(limits));
  const subscriber = new Redis(options.url, { autoResubscribe: true, maxRetriesPerRequest: null, retryStrategy: reconnectDelayMs });
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
      await guard(() => publisher.publish(c(channel), message));
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
        return (await guard(() => publisher.ping())) === "PONG";
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
