import Database from "libsql";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createDiskKv, openEmbeddedKv, type Kv } from "../storage/kv/index.ts";

/**
 * The disk store's own promises beyond the shared contract (tests/storage.kv-bus.test.ts runs that
 * one against it too): it survives being closed and opened again, it is bounded per table, and
 * expired rows leave the file.
 */
const dir = mkdtempSync(join(tmpdir(), "tap-disk-kv-"));
const path = join(dir, "sessions.db");
let tableCounter = 0;
const open: Kv[] = [];
afterAll(async () => {
  for (const kv of open) await kv.close().catch(() => {});
  rmSync(dir, { recursive: true, force: true });
});

function store(options: { table?: string; keysMax?: number; now?: () => number; sweepIntervalMs?: number; sweepBatchMax?: number } = {}) {
  const kv = createDiskKv({ path, table: options.table ?? `t${++tableCounter}`, keysMax: options.keysMax ?? 1000, ...options });
  open.push(kv);
  return kv;
}

function rowsIn(table: string): number {
  const db = new Database(path);
  try {
    return (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
  } finally {
    db.close();
  }
}

describe("disk KV store", () => {
  it("keeps values and their TTLs when closed and opened again (a restart)", async () => {
    let t = 1_000_000;
    const now = () => t;
    const first = store({ table: "reopen", now });
    await first.set("session:a", "alice", 60_000);
    await first.set("forever", "x");
    await first.setIfAbsent("nonce:n", "rec", 10_000);
    await first.close();

    const second = store({ table: "reopen", now });
    expect(await second.get("session:a")).toBe("alice");
    expect(await second.get("forever")).toBe("x");
    expect(await second.take("nonce:n")).toBe("rec");
    expect(await second.take("nonce:n")).toBeNull();
    t += 60_000;
    expect(await second.get("session:a")).toBeNull();
    expect(await second.get("forever")).toBe("x");
  });

  it("is bounded: when full an expired key goes first, else the oldest", async () => {
    let t = 0;
    const kv = store({ keysMax: 3, now: () => t });
    await kv.set("old", "1", 1_000_000);
    await kv.set("short", "2", 10);
    await kv.set("new", "3", 1_000_000);
    t = 20; // "short" expired but not swept
    await kv.set("fourth", "4", 1_000_000);
    expect(await kv.get("old")).toBe("1");
    expect(await kv.get("new")).toBe("3");
    expect(await kv.get("fourth")).toBe("4");
    await kv.set("fifth", "5", 1_000_000); // nothing expired: the oldest goes
    expect(await kv.get("old")).toBeNull();
    expect(await kv.get("fifth")).toBe("5");
    await kv.set("fifth", "5b", 1_000_000); // overwriting a key does not evict another
    expect(await kv.get("new")).toBe("3");
    expect(await kv.get("fourth")).toBe("4");
  });

  it("keeps the bound across connections (two processes open the same file)", async () => {
    const a = store({ table: "shared_bound", keysMax: 10 });
    const b = store({ table: "shared_bound", keysMax: 10 });
    for (let i = 0; i < 30; i++) await (i % 2 ? a : b).set(`k${i}`, String(i), 60_000);
    expect(rowsIn("shared_bound")).toBe(10);
    expect(await a.get("k29")).toBe("29");
    expect(await b.get("k19")).toBeNull();
  });

  it("sweeps expired rows out of the file, in steps of a bounded size", async () => {
    let t = 0;
    const kv = store({ table: "swept", now: () => t, sweepIntervalMs: 20, sweepBatchMax: 7 });
    for (let i = 0; i < 50; i++) await kv.set(`gone${i}`, "v", 100);
    await kv.set("stays", "v", 1_000_000);
    expect(rowsIn("swept")).toBe(51);
    t = 200;
    await expect.poll(() => rowsIn("swept"), { timeout: 5000 }).toBe(1);
    expect(await kv.get("stays")).toBe("v");
  });

  it("the embedded stores: nonces and sessions in separate tables, so a nonce flood evicts only nonces", async () => {
    const embeddedDir = mkdtempSync(join(dir, "embedded-"));
    const { kv, nonces } = openEmbeddedKv({ dataDir: embeddedDir, mode: "disk", sessionsMax: 5, noncesMax: 5, busyTimeoutMs: 1000 });
    open.push(kv, nonces);
    await kv.set("session:s", "player", 60_000);
    for (let i = 0; i < 100; i++) expect(await nonces.setIfAbsent(`nonce:${i}`, "r", 60_000)).toBe(true);
    expect(await kv.get("session:s")).toBe("player");
    expect(await nonces.get("nonce:0")).toBeNull();
    expect(await nonces.get("nonce:99")).toBe("r");
  });
});
