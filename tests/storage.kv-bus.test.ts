import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDiskKv, createMemoryKv, createRedisKv, type Kv } from "../storage/kv/index.ts";
import { createMemoryBus, createRedisBus, type Bus } from "../storage/bus/index.ts";
import { requireService, startRedis, type RedisInstance } from "./helpers/services.ts";

const hasRedis = requireService("redis-server");
let redis: RedisInstance | undefined;
let prefixCounter = 0;

const diskDir = mkdtempSync(join(tmpdir(), "tap-kv-"));

beforeAll(async () => {
  if (hasRedis) redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
  rmSync(diskDir, { recursive: true, force: true });
});

const backends: { name: string; enabled: boolean; kv: () => Kv; bus: (() => Bus) | undefined }[] = [
  { name: "memory", enabled: true, kv: () => createMemoryKv(), bus: () => createMemoryBus() },
  {
    name: "disk",
    enabled: true,
    kv: () => createDiskKv({ path: join(diskDir, "sessions.db"), table: `t${++prefixCounter}`, keysMax: 1000 }),
    bus: undefined, // the embedded default's bus is the memory one: one process
  },
  {
    name: "redis",
    enabled: hasRedis,
    kv: () => createRedisKv({ url: redis!.url, prefix: `t${++prefixCounter}:` }),
    bus: () => createRedisBus({ url: redis!.url, prefix: `t${++prefixCounter}:` }),
  },
];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

for (const backend of backends) {
  describe.runIf(backend.enabled)(`KV store: ${backend.name}`, () => {
    let kv: Kv;
    beforeAll(() => {
      kv = backend.kv();
    });
    afterAll(async () => {
      await kv.close();
    });

    it("stores, reads and deletes strings", async () => {
      await kv.set("a", "1");
      expect(await kv.get("a")).toBe("1");
      await kv.set("json-looking", '{"x":1}');
      expect(await kv.get("json-looking")).toBe('{"x":1}');
      await kv.del("a");
      expect(await kv.get("a")).toBeNull();
    });

    it("expires keys after their TTL", async () => {
      await kv.set("short", "v", 80);
      expect(await kv.get("short")).toBe("v");
      await sleep(150);
      expect(await kv.get("short")).toBeNull();
    });

    it("setIfAbsent sets once", async () => {
      expect(await kv.setIfAbsent("once", "a", 10_000)).toBe(true);
      expect(await kv.setIfAbsent("once", "b", 10_000)).toBe(false);
      expect(await kv.get("once")).toBe("a");
    });

    it("take() hands the value to exactly one of many concurrent takers", async () => {
      await kv.set("nonce", "n1", 10_000);
      const results = await Promise.all(Array.from({ length: 50 }, () => kv.take("nonce")));
      expect(results.filter((r) => r === "n1")).toHaveLength(1);
      expect(results.filter((r) => r === null)).toHaveLength(49);
      expect(await kv.get("nonce")).toBeNull();
    });

    it("incr counts atomically and starts a TTL window", async () => {
      const values = await Promise.all(Array.from({ length: 20 }, () => kv.incr("ctr", 100)));
      expect([...values].sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
      await sleep(180);
      expect(await kv.incr("ctr", 100)).toBe(1);
    });

    it("answers ping", async () => {
      expect(await kv.ping()).toBe(true);
    });
  });

  // The disk store has no bus of its own (the embedded default's bus is the memory one): no bus suite.
  if (backend.bus) describe.runIf(backend.enabled)(`bus: ${backend.name}`, () => {
    it("delivers a published message to every subscriber of the channel, and none after unsubscribe", async () => {
      const a = backend.bus!();
      const got: string[] = [];
      const both = new Promise<void>((resolve) => {
        const check = () => got.length === 2 && resolve();
        a.subscribe("ch", (m) => (got.push(`1:${m}`), check()));
        a.subscribe("ch", (m) => (got.push(`2:${m}`), check()));
      });
      await sleep(50); // redis SUBSCRIBE round trip
      await a.publish("ch", "hello");
      await both;
      expect(got.sort()).toEqual(["1:hello", "2:hello"]);
      await a.close();
    });

    it("does not deliver to other channels", async () => {
      const bus = backend.bus!();
      const got: string[] = [];
      const unsubscribe = bus.subscribe("x", (m) => got.push(m));
      const done = new Promise<void>((resolve) => bus.subscribe("y", () => resolve()));
      await sleep(50);
      await bus.publish("y", "for-y");
      await done;
      expect(got).toEqual([]);
      unsubscribe();
      await bus.close();
    });
  });
}

describe.runIf(hasRedis)("redis bus across processes and restarts", () => {
  it("delivers between two bus instances (two API processes) and resubscribes after Redis restarts", async () => {
    const prefix = `r${++prefixCounter}:`;
    const one = createRedisBus({ url: redis!.url, prefix });
    const two = createRedisBus({ url: redis!.url, prefix });
    const received: string[] = [];
    let notify: (() => void) | undefined;
    two.subscribe("events", (m) => {
      received.push(m);
      notify?.();
    });
    const publishUntilReceived = async (message: string) => {
      const arrived = new Promise<void>((resolve) => (notify = resolve));
      for (let attempt = 0; attempt < 100 && !received.includes(message); attempt++) {
        await one.publish("events", message).catch(() => {});
        await Promise.race([arrived, sleep(100)]);
      }
    };
    await publishUntilReceived("before");
    expect(received).toContain("before");
    await redis!.restart();
    await publishUntilReceived("after");
    expect(received).toContain("after");
    await one.close();
    await two.close();
  });
});
