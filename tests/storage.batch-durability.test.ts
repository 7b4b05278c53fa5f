import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { BatchQueue, QueueClosedError, type TransactionHooks, type WalSync } from "../storage/batch-queue.ts";
import { openDatabase, type Db } from "../storage/db.ts";
import { walFileSync } from "../storage/wal-sync.ts";

/**
 * The batch queue's answers wait for durability (flush pipelining, `walSync`), operations without a
 * savepoint of their own, and the transaction hooks the writer's in-memory state follows (issue 23).
 */
describe("batch queue: durability, guards and hooks", () => {
  let dir: string;
  let db: Db;
  let reader: Db;
  const open = () => openDatabase(join(dir, "q.db"), { busyTimeoutMs: 2000, synchronous: "NORMAL" });

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "tap-durable-"));
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
    new BatchQueue({ db, flushIntervalMs: 1000, batchSizeMax: 100, queueLengthMax: 1000, ...over });
  const insert = (v: number) => (d: Db) => Number(d.prepare("INSERT INTO items (v) VALUES (?)").run(v).lastInsertRowid);
  const stored = () => (reader.prepare("SELECT v FROM items ORDER BY v").all() as { v: number }[]).map((r) => r.v);

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
    const q = queue({ walSync: m.sync });
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

  it("a refusal inside a committed batch also waits for the sync (it was decided on that state)", async () => {
    const m = manualSync();
    const q = queue({ walSync: m.sync });
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
    const q = queue({ walSync: m.sync, onSyncFailure: (error) => failures.push(error) });
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
    const q = queue({ walSync: m.sync });
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
    const q = queue();
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
    const q = queue({ transactionHooks: [hooks] });
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
