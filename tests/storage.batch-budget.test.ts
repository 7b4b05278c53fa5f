import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { BatchQueue } from "../storage/batch-queue.ts";
import { openDatabase, type Db } from "../storage/db.ts";

/** The per-transaction time budget and group commit of the shared batch queue. */
describe("batch queue: time budget and group commit", () => {
  let dir: string;
  let db: Db;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "tap-queue-budget-"));
    db = openDatabase(join(dir, "q.db"), { busyTimeoutMs: 2000, synchronous: "NORMAL" });
    db.exec("CREATE TABLE items (id INTEGER PRIMARY KEY, v INTEGER NOT NULL)");
  });
  afterEach(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** An operation that keeps the writer busy for `ms` (a stand-in for an expensive settlement). */
  const slowInsert = (v: number, ms: number) => (d: Db) => {
    const until = performance.now() + ms;
    while (performance.now() < until);
    return Number(d.prepare("INSERT INTO items (v) VALUES (?)").run(v).lastInsertRowid);
  };

  it("commits what fits in the budget and leaves the rest, in order, to the next batches", async () => {
    const q = new BatchQueue({ db, flushIntervalMs: 1, batchSizeMax: 100, queueLengthMax: 1000, batchTimeBudgetMs: 5 });
    const ids = await Promise.all(Array.from({ length: 10 }, (_, i) => q.enqueue(slowInsert(i, 2))));
    expect(q.batches).toBeGreaterThanOrEqual(3); // 10 × 2 ms of work never went into one 5 ms transaction
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    const values = (db.prepare("SELECT v FROM items ORDER BY id").all() as { v: number }[]).map((r) => r.v);
    expect(values).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it("runs at least one operation per batch even when that one alone exceeds the budget", async () => {
    const q = new BatchQueue({ db, flushIntervalMs: 1, batchSizeMax: 100, queueLengthMax: 1000, batchTimeBudgetMs: 1 });
    await Promise.all([q.enqueue(slowInsert(1, 3)), q.enqueue(slowInsert(2, 3))]);
    expect(q.batches).toBe(2);
  });

  it("with flushIntervalMs 0, commits what arrived in one turn of the event loop as one batch", async () => {
    const q = new BatchQueue({ db, flushIntervalMs: 0, batchSizeMax: 100, queueLengthMax: 1000 });
    await Promise.all(Array.from({ length: 20 }, (_, i) => q.enqueue(slowInsert(i, 0))));
    expect(q.batches).toBe(1);
    await q.enqueue(slowInsert(99, 0));
    expect(q.batches).toBe(2);
  });

  it("drain() still commits everything waiting, however many budget-cut batches it takes", async () => {
    const q = new BatchQueue({ db, flushIntervalMs: 1000, batchSizeMax: 100, queueLengthMax: 1000, batchTimeBudgetMs: 1 });
    const all = Promise.all(Array.from({ length: 5 }, (_, i) => q.enqueue(slowInsert(i, 2))));
    q.drain();
    expect(q.depth).toBe(0);
    await all;
    expect((db.prepare("SELECT count(*) AS n FROM items").get() as { n: number }).n).toBe(5);
  });
});
