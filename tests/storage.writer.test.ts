import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { BatchQueue, QueueClosedError, QueueFullError } from "../storage/batch-queue.ts";
import { openDatabase, type Db } from "../storage/db.ts";
import { OPS_PER_MESSAGE_MAX, ThreadWriter } from "../storage/thread-writer.ts";
import { InlineWriter, type Writer } from "../storage/writer.ts";
import { ItemRefused, TEST_COMMANDS } from "./fixtures/writer-entry.ts";

type TestWriter = Writer<typeof TEST_COMMANDS>;
const ENTRY = new URL("./fixtures/writer-entry.ts", import.meta.url);

/** The same contract for both writers: the thread one must behave exactly like the inline one. */
describe.each(["inline", "thread"] as const)("writer (%s)", (mode) => {
  let dir: string;
  let reader: Db;
  let inlineDb: Db | undefined;
  let writer: TestWriter;
  let failures: Error[];

  const start = async (queueLengthMax = 1000, flushIntervalMs = 1): Promise<TestWriter> => {
    const path = join(dir, "w.db");
    if (mode === "thread") {
      return ThreadWriter.start<typeof TEST_COMMANDS>({
        entry: ENTRY,
        data: { path, flushIntervalMs },
        queueLengthMax,
        errorClasses: [ItemRefused],
        onFailure: (error) => failures.push(error),
      });
    }
    inlineDb = openDatabase(path, { busyTimeoutMs: 2000, synchronous: "NORMAL" });
    return new InlineWriter(new BatchQueue({ db: inlineDb, flushIntervalMs, batchSizeMax: 100, queueLengthMax }), TEST_COMMANDS);
  };

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), "tap-writer-"));
    reader = openDatabase(join(dir, "w.db"), { busyTimeoutMs: 2000, synchronous: "NORMAL" });
    reader.exec("CREATE TABLE items (id INTEGER PRIMARY KEY, v INTEGER NOT NULL UNIQUE)");
    failures = [];
    writer = await start();
  });
  afterEach(async () => {
    await writer.close();
    inlineDb?.close();
    inlineDb = undefined;
    reader.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const stored = () => (reader.prepare("SELECT v FROM items ORDER BY id").all() as { v: number }[]).map((r) => r.v);

  it("answers a command only once its transaction committed, in the order the commands were queued", async () => {
    const seen = await Promise.all(
      Array.from({ length: 300 }, (_, i) =>
        writer.run("insert", i).then((id) => (reader.prepare("SELECT v FROM items WHERE id = ?").get(id) as { v: number } | undefined)?.v),
      ),
    );
    expect(seen).toEqual(Array.from({ length: 300 }, (_, i) => i));
    expect(stored()).toEqual(Array.from({ length: 300 }, (_, i) => i));
  });

  it("fails only the failing command, with its own error class and fields; its writes are rolled back", async () => {
    const results = await Promise.allSettled([writer.run("insert", 1), writer.run("refuse", 2), writer.run("insert", 2), writer.run("unlisted")]);
    expect(results[0]).toEqual({ status: "fulfilled", value: expect.any(Number) });
    const refused = (results[1] as PromiseRejectedResult).reason;
    expect(refused).toBeInstanceOf(ItemRefused);
    expect(refused).toMatchObject({ code: "too_big", details: { v: 2 }, message: "item 2 refused" });
    expect(results[2].status).toBe("fulfilled"); // v = 2 was free again: the refused insert was rolled back
    const unlisted = (results[3] as PromiseRejectedResult).reason;
    expect(unlisted).toBeInstanceOf(Error);
    expect(unlisted).toMatchObject({ message: "unlisted", reason: "not in the caller's list" });
    // A constraint error from SQLite keeps its code across the thread too.
    await expect(writer.run("insert", 1)).rejects.toMatchObject({ code: expect.stringMatching(/^SQLITE_CONSTRAINT/) });
    expect(stored()).toEqual([1, 2]);
  });

  it("an argument that is not plain data fails its own command only", async () => {
    const notData = (() => 1) as unknown as number;
    const [before, bad, after] = await Promise.allSettled([writer.run("insert", 1), writer.run("insert", notData), writer.run("insert", 2)]);
    expect(before.status).toBe("fulfilled");
    expect(bad.status).toBe("rejected");
    expect(after.status).toBe("fulfilled");
    expect(stored()).toEqual([1, 2]);
  });

  it("barrier resolves after everything queued before it committed", async () => {
    const writes = Array.from({ length: 50 }, (_, i) => writer.run("insert", i));
    await writer.barrier();
    expect(stored()).toHaveLength(50);
    await Promise.all(writes);
  });

  it("refuses beyond its bound with QueueFullError and counts the waiting commands", async () => {
    await writer.close();
    writer = await start(10, 200);
    const writes = Array.from({ length: 10 }, (_, i) => writer.run("insert", i));
    expect(writer.depth).toBe(10);
    await expect(writer.run("insert", 99)).rejects.toBeInstanceOf(QueueFullError);
    await Promise.all(writes);
    expect(writer.depth).toBe(0);
  });

  it("close commits what is queued, then refuses with QueueClosedError", async () => {
    await writer.close();
    writer = await start(1000, 10_000);
    const writes = Array.from({ length: 20 }, (_, i) => writer.run("insert", i));
    await writer.close();
    await Promise.all(writes);
    expect(stored()).toHaveLength(20);
    await expect(writer.run("insert", 100)).rejects.toBeInstanceOf(QueueClosedError);
    await writer.close(); // idempotent
  });

});

/** What only the thread writer can run into. */
describe("writer (thread only)", () => {
  let dir: string;
  let reader: Db;
  let writer: TestWriter;
  let failures: Error[];

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), "tap-writer-"));
    reader = openDatabase(join(dir, "w.db"), { busyTimeoutMs: 2000, synchronous: "NORMAL" });
    reader.exec("CREATE TABLE items (id INTEGER PRIMARY KEY, v INTEGER NOT NULL UNIQUE)");
    failures = [];
    writer = await ThreadWriter.start<typeof TEST_COMMANDS>({
      entry: ENTRY,
      data: { path: join(dir, "w.db"), flushIntervalMs: 1 },
      queueLengthMax: 1000,
      errorClasses: [ItemRefused],
      onFailure: (error) => failures.push(error),
    });
  });
  afterEach(async () => {
    await writer.close();
    reader.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const stored = () => (reader.prepare("SELECT v FROM items ORDER BY id").all() as { v: number }[]).map((r) => r.v);

  it("a result that cannot cross threads fails its command only", async () => {
    const [bad, good] = await Promise.allSettled([writer.run("uncloneable"), writer.run("insert", 7)]);
    expect((bad as PromiseRejectedResult).reason.message).toMatch(/cannot cross threads/);
    expect(good.status).toBe("fulfilled");
  });

  it("when the thread dies, waiting commands fail with QueueClosedError and the owner is told", async () => {
    await writer.run("insert", 1);
    const waiting = [writer.run("crash"), writer.run("insert", 2)];
    for (const w of waiting) await expect(w).rejects.toBeInstanceOf(QueueClosedError);
    expect(failures).toHaveLength(1);
    await expect(writer.run("insert", 3)).rejects.toBeInstanceOf(QueueClosedError);
    expect(stored()).toEqual([1]);
  });
});

describe("the service's writer (WRITER_MODE=thread, the default)", () => {
  it("writes only through the thread: the API's connection is query-only, readiness probes the writer", async () => {
    const { startTestServer } = await import("./helpers/server.ts");
    const server = await startTestServer();
    try {
      expect(server.ctx.config.WRITER_MODE).toBe("thread");
      expect(() => server.ctx.db.prepare("INSERT INTO price_ticks (t, price_cents) VALUES (1, 1)").run()).toThrow(/readonly|query_only|read-only/i);
      await server.ctx.queue.run("price.insertTick", 1, 1);
      expect(server.ctx.db.prepare("SELECT price_cents FROM price_ticks WHERE t = 1").get()).toMatchObject({ price_cents: 1 });
      const ready = await server.request("/readyz"); // 503 until the first price tick; the db check is ours
      expect((await ready.json()).checks.db).toBe("ok");
    } finally {
      await server.close();
    }
  });
});

describe("the thread writer under a burst of requests", () => {
  it("starts on the first commands while the event loop is still busy with the rest of its turn (no convoy)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tap-writer-burst-"));
    const reader = openDatabase(join(dir, "w.db"), { busyTimeoutMs: 2000, synchronous: "NORMAL" });
    reader.exec("CREATE TABLE items (id INTEGER PRIMARY KEY, v INTEGER NOT NULL UNIQUE)");
    const sizes: number[] = [];
    const writer = await ThreadWriter.start<typeof TEST_COMMANDS>({
      entry: ENTRY,
      data: { path: join(dir, "w.db"), flushIntervalMs: 1 },
      queueLengthMax: 1000,
      errorClasses: [ItemRefused],
      metrics: {
        batchSize: { observe: (n) => sizes.push(n) },
        batchCommitSeconds: { observe: () => undefined },
        batchQueueDepth: { set: () => undefined },
        batchRejected: { inc: () => undefined },
      },
    });
    try {
      // One turn of the event loop: a burst of requests parsed one after another (the busy wait stands
      // for the parsing). The first OPS_PER_MESSAGE_MAX go over at once and commit in a transaction of
      // their own while the loop is still busy; before, all of them waited for the end of the turn.
      const first = Array.from({ length: OPS_PER_MESSAGE_MAX }, (_, i) => writer.run("insert", i));
      const until = Date.now() + 400;
      while (Date.now() < until) {
        /* the loop is busy */
      }
      const rest = Array.from({ length: OPS_PER_MESSAGE_MAX }, (_, i) => writer.run("insert", 100 + i));
      await Promise.all([...first, ...rest]);
      expect(sizes[0]).toBe(OPS_PER_MESSAGE_MAX);
      expect(sizes.reduce((a, b) => a + b, 0)).toBe(2 * OPS_PER_MESSAGE_MAX);
      expect(reader.prepare("SELECT count(*) AS n FROM items").get()).toMatchObject({ n: 2 * OPS_PER_MESSAGE_MAX });
    } finally {
      await writer.close();
      reader.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
