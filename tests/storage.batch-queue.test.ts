import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { BatchQueue, QueueClosedError, QueueFullError, type TransactionHooks, type WalSync } from "../storage/batch-queue.ts";
import { openDatabase, type Db } from "../storage/db.ts";
import { walFileSync } from "../storage/wal-sync.ts";

describe("shared batch queue (ADR-005)", () => {
  let dir: string;
  let db: Db;
  let reader: Db;
  const open = () => openDatabase(join(dir, "q.db"), { busyTimeoutMs: 2000, synchronous: "NORMAL" });

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "tap-queue-"));
    db = open();
    db.exec("CREATE TABLE items (id INTEGER PRIMARY KEY, v INTEGER NOT NULL UNIQUE)");
    reader = open();
  });
  afterEach(() => {
    db.close();
    reader.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const queue = (over: Partial<ConstructorParameters<typeof BatchQueue>[0]> = {}) =>
    new BatchQueue({ db, flushIntervalMs: 1, batchSizeMax: 100, queueLengthMax: 1000, ...over });
  const insert = (v: number) => (d: Db) => Number(d.prepare("INSERT INTO items (v) VALUES (?)").run(v).lastInsertRowid);
  const committedCount = () => (reader.prepare("SELECT count(*) AS n FROM items").get() as { n: number }).n;
  const stored = () => (reader.prepare("SELECT v FROM items ORDER BY v").all() as { v: number }[]).map((r) => r.v);

  it("resolves each promise only after its batch committed (a second connection already sees the row)", async () => {
    const q = queue();
    const seen = await Promise.all(
      Array.from({ length: 250 }, (_, i) =>
        q.enqueue(insert(i)).then((id) => {
          const row = reader.prepare("SELECT v FROM items WHERE id = ?").get(id) as { v: number } | undefined;
          return row?.v;
        }),
      ),
    );
    expect(seen).toEqual(Array.from({ length: 250 }, (_, i) => i));
  });

  it("keeps enqueue order inside and across batches", async () => {
    const q = queue({ batchSizeMax: 7 });
    const ids = await Promise.all(Array.from({ length: 50 }, (_, i) => q.enqueue(insert(i))));
    const rows = reader.prepare("SELECT id, v FROM items ORDER BY id").all() as { id: number; v: number }[];
    expect(rows.map((r) => r.v)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(ids).toEqual(rows.map((r) => r.id));
  });

  it("fails only the operation that threw; the rest of its batch commits", async () => {
    const q = queue();
    const results = await Promise.allSettled([
      q.enqueue(insert(1)),
      q.enqueue(insert(1)), // UNIQUE violation
      q.enqueue((d) => {
        insert(2)(d);
        throw new Error("boom after a write");
      }),
      q.enqueue(insert(3)),
    ]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "rejected", "fulfilled"]);
    expect(q.batches).toBe(1);
    const values = (reader.prepare("SELECT v FROM items ORDER BY v").all() as { v: number }[]).map((r) => r.v);
    expect(values).toEqual([1, 3]); // the write before the throw was rolled back with its savepoint
  });

  it("group commit: an operation enqueued while idle commits on the next turn, with no timer", async () => {
    const q = queue({ flushIntervalMs: 0 });
    const done = q.enqueue(insert(1));
    await new Promise((resolve) => setImmediate(resolve));
    expect(committedCount()).toBe(1);
    await done;
  });

  it("commit spacing: writes arriving right after a commit wait for the spacing and share one transaction; when idle nothing waits", async () => {
    const q = queue({ flushIntervalMs: 0, commitSpacingMs: 200 });
    const idleStart = performance.now();
    await q.enqueue(insert(1));
    expect(performance.now() - idleStart).toBeLessThan(150);
    const firstCommitAt = performance.now();
    const later = [q.enqueue(insert(2))];
    await new Promise((resolve) => setTimeout(resolve, 10));
    later.push(q.enqueue(insert(3)));
    await new Promise((resolve) => setImmediate(resolve));
    expect(committedCount()).toBe(1); // still waiting for the spacing
    later.push(q.enqueue(insert(4)));
    await Promise.all(later);
    expect(performance.now() - firstCommitAt).toBeGreaterThanOrEqual(190);
    expect(q.batches).toBe(2);
    expect(committedCount()).toBe(4);
  });

  it("rejects with QueueFullError beyond its bound instead of growing", async () => {
    const q = queue({ queueLengthMax: 10, flushIntervalMs: 50, batchSizeMax: 1000 });
    const accepted = Array.from({ length: 10 }, (_, i) => q.enqueue(insert(i)));
    await expect(q.enqueue(insert(99))).rejects.toBeInstanceOf(QueueFullError);
    expect(q.depth).toBe(10);
    await Promise.all(accepted);
    expect(committedCount()).toBe(10);
  });

  it("commits nothing of a batch whose COMMIT fails, and rejects every promise in it", async () => {
    db.exec("CREATE TABLE parent (id INTEGER PRIMARY KEY)");
    db.exec("CREATE TABLE child (parent_id INTEGER REFERENCES parent(id) DEFERRABLE INITIALLY DEFERRED)");
    const q = queue();
    // A deferred foreign key is only checked at COMMIT, so the whole transaction fails there.
    const results = await Promise.allSettled([
      q.enqueue(insert(1)),
      q.enqueue((d) => d.prepare("INSERT INTO child (parent_id) VALUES (42)").run()),
    ]);
    expect(results.map((r) => r.status)).toEqual(["rejected", "rejected"]);
    expect(committedCount()).toBe(0);
    await q.enqueue(insert(5)); // the queue works on afterwards
    expect(committedCount()).toBe(1);
  });

  it("commits 50 000 inserts in far fewer transactions than items", async () => {
    // Batching by size only: the per-batch time budget (8 ms by default, tests/storage.batch-budget.test.ts)
    // split 1 000 inserts on a slow machine (125 batches seen), which is not what this test is about.
    const q = queue({ batchSizeMax: 1000, queueLengthMax: 60_000, batchTimeBudgetMs: 10_000 });
    const stmt = db.prepare("INSERT INTO items (v) VALUES (?)");
    const promises: Promise<unknown>[] = [];
    for (let i = 0; i < 50_000; i++) promises.push(q.enqueue(() => stmt.run(i)));
    await Promise.all(promises);
    expect(committedCount()).toBe(50_000);
    expect(q.batches).toBeLessThanOrEqual(100);
  });

  it("close() commits what is waiting and refuses new operations", async () => {
    const q = queue({ flushIntervalMs: 1000 });
    const waiting = [q.enqueue(insert(1)), q.enqueue(insert(2))];
    q.close();
    await Promise.all(waiting);
    expect(committedCount()).toBe(2);
    await expect(q.enqueue(insert(3))).rejects.toBeInstanceOf(QueueClosedError);
  });

  it("refuses asynchronous operations (they would escape the transaction)", async () => {
    const q = queue();
    await expect(q.enqueue((async () => 1) as unknown as (d: Db) => number)).rejects.toThrow(/synchronous/);
  });

  // ── Durability off the writer's path (walSync), operations without a savepoint, transaction hooks (issue 23) ──

  /** A WAL sync the test completes by hand, counting the syncs started. */
  function manualSync() {
    const started: ((error: Error | null) => void)[] = [];
    let synchronous = 0;
    const sync: WalSync = { start: (done) => void started.push(done), now: () => void synchronous++ };
    return { sync, started, synchronousCount: () => synchronous };
  }
  const settledFlags = (promises: Promise<unknown>[]) => {
    const flags = promises.map(() => false);
    promises.forEach((p, i) => p.then(() => (flags[i] = true), () => (flags[i] = true)));
    return flags;
  };
  const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

  it("answers a committed batch only once a WAL sync that started after its COMMIT completed", async () => {
    const m = manualSync();
    const q = queue({ walSync: m.sync, flushIntervalMs: 1000 });
    const first = [q.enqueue(insert(1)), q.enqueue(insert(2))];
    const firstDone = settledFlags(first);
    q.flush();
    expect(stored()).toEqual([1, 2]); // committed (a reader sees it) ...
    await turn();
    expect(firstDone).toEqual([false, false]); // ... but not answered: not durable yet
    expect(m.started).toHaveLength(1);

    // A batch committed while a sync runs gets a sync of its own at once (two at most in flight);
    // a third waits for a free one.
    const second = q.enqueue(insert(3));
    q.flush();
    const third = q.enqueue(insert(4));
    q.flush();
    const laterDone = settledFlags([second, third]);
    expect(m.started).toHaveLength(2);

    // The second sync started after the first two batches committed: it answers both of them,
    // though the first sync has not completed; the third batch's sync starts now.
    m.started[1]!(null);
    expect(await Promise.all(first)).toEqual([1, 2]);
    expect(await second).toBe(3);
    await turn();
    expect(laterDone).toEqual([true, false]);
    expect(m.started).toHaveLength(3);
    m.started[0]!(null); // a late completion answers nothing it does not cover
    await turn();
    expect(laterDone).toEqual([true, false]);
    m.started[2]!(null);
    expect(await third).toBe(4);
  });

  it("group commit waits while every sync slot is busy, then commits what gathered as one batch", async () => {
    const m = manualSync();
    const q = queue({ walSync: m.sync, flushIntervalMs: 0, commitSpacingMs: 0 });
    const first = q.enqueue(insert(1));
    await turn();
    const second = q.enqueue(insert(2));
    await turn();
    expect(m.started).toHaveLength(2); // both slots busy
    const waiting = [q.enqueue(insert(3)), q.enqueue(insert(4)), q.enqueue(insert(5))];
    await turn();
    await turn();
    expect(q.batches).toBe(2); // nothing more committed meanwhile
    m.started[0]!(null);
    expect(await first).toBe(1);
    await turn();
    expect(q.batches).toBe(3); // the three as one transaction
    expect(stored()).toEqual([1, 2, 3, 4, 5]);
    m.started[1]!(null);
    m.started[2]!(null);
    expect(await Promise.all([second, ...waiting])).toEqual([2, 3, 4, 5]);
  });

  it("a refusal inside a committed batch also waits for the sync (it was decided on that state)", async () => {
    const m = manualSync();
    const q = queue({ walSync: m.sync, flushIntervalMs: 1000 });
    const refused = q.enqueue(() => {
      throw new Error("refused");
    });
    const done = settledFlags([refused]);
    q.flush();
    await turn();
    expect(done).toEqual([false]);
    m.started[0]!(null);
    await expect(refused).rejects.toThrow("refused");
  });

  it("a failed sync fails every waiting answer and the queue, and tells its owner", async () => {
    const m = manualSync();
    const failures: unknown[] = [];
    const q = queue({ walSync: m.sync, onSyncFailure: (error) => failures.push(error), flushIntervalMs: 1000 });
    const waiting = q.enqueue(insert(1));
    q.flush();
    const queued = q.enqueue(insert(2));
    m.started[0]!(new Error("EIO"));
    await expect(waiting).rejects.toThrow("EIO");
    await expect(queued).rejects.toThrow("EIO");
    await expect(q.enqueue(insert(3))).rejects.toThrow("EIO");
    expect(failures).toHaveLength(1);
    expect(stored()).toEqual([1]); // committed, but never answered as done
  });

  it("close() makes everything committed durable in the calling thread, then answers it", async () => {
    const m = manualSync();
    const q = queue({ walSync: m.sync, flushIntervalMs: 1000 });
    const a = q.enqueue(insert(1));
    q.flush(); // its async sync never completes
    const b = q.enqueue(insert(2));
    q.close();
    expect(m.synchronousCount()).toBe(1);
    expect(await Promise.all([a, b])).toEqual([1, 2]);
    m.started[0]!(null); // a late completion changes nothing
    await expect(q.enqueue(insert(3))).rejects.toBeInstanceOf(QueueClosedError);
  });

  it("the real WAL sync (fdatasync of the -wal file) completes, and copes with no WAL file", async () => {
    const q = queue({ walSync: walFileSync(join(dir, "q.db")), flushIntervalMs: 0 });
    expect(await Promise.all([q.enqueue(insert(1)), q.enqueue(insert(2))])).toEqual([1, 2]);
    await new Promise<void>((resolve, reject) => walFileSync(join(dir, "none.db")).start((error) => (error ? reject(error) : resolve())));
    walFileSync(join(dir, "none.db")).now();
  });

  it("an operation without a savepoint: a refusal fails it alone; any other error rolls back the whole batch", async () => {
    const guard = { savepoint: false as const, isRefusal: (error: unknown) => (error as Error).message === "refused" };
    const q = queue({ flushIntervalMs: 1000 });
    const refusal = Promise.allSettled([
      q.enqueue(insert(1)),
      q.enqueue(() => {
        throw new Error("refused");
      }, guard),
      q.enqueue(insert(2)),
    ]);
    q.flush();
    expect((await refusal).map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    const halfway = Promise.allSettled([
      q.enqueue(insert(3)),
      q.enqueue((d) => {
        insert(4)(d);
        throw new Error("half-way");
      }, guard),
      q.enqueue(insert(5)),
    ]);
    q.flush();
    // The batch stopped at the failure and rolled back: nothing of what ran in it committed and
    // both answers failed; the operation it never reached keeps its place and commits next.
    q.flush();
    expect((await halfway).map((r) => r.status)).toEqual(["rejected", "rejected", "fulfilled"]);
    expect(stored()).toEqual([1, 2, 5]);
  });

  it("calls the transaction hooks after BEGIN, before COMMIT (inside it) and after a rollback", async () => {
    const seen: string[] = [];
    const hooks: TransactionHooks = {
      afterBegin: (d) => seen.push(`begin:${d.inTransaction}`),
      beforeCommit: (d) => seen.push(`commit:${d.inTransaction}`),
      afterRollback: (d) => seen.push(`rollback:${d.inTransaction}`),
    };
    const q = queue({ transactionHooks: [hooks], flushIntervalMs: 1000 });
    const ok = q.enqueue(insert(1));
    q.flush();
    await ok;
    const guard = { savepoint: false as const, isRefusal: () => false };
    const failing = q.enqueue(() => {
      throw new Error("bug");
    }, guard);
    q.flush();
    await expect(failing).rejects.toThrow("bug");
    expect(seen).toEqual(["begin:true", "commit:true", "begin:true", "rollback:false"]);
  });
});
