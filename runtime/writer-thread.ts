import { parentPort, workerData } from "node:worker_threads";
import { BatchQueue } from "../storage/batch-queue.ts";
import type { CheckpointerData } from "../storage/checkpointer.ts";
import { openDatabase, type OpenOptions } from "../storage/db.ts";
import { encodeError } from "../storage/wire-errors.ts";
import { walFileSync } from "../storage/wal-sync.ts";
import { moduleUrl, spawnWorker } from "../storage/workers.ts";
import { serveWriter, statsRecorder, type FromWriter } from "../storage/writer-host.ts";
import { COMMANDS, writerHooks } from "../services/commands.ts";

/** What runtime/context.ts hands the writer thread. */
export interface WriterThreadData {
  path: string;
  db: OpenOptions;
  flushIntervalMs: number;
  commitSpacingMs: number;
  batchSizeMax: number;
  queueLengthMax: number;
  /** PASSIVE checkpoints from a thread of their own every this many ms; 0 leaves them to the writer. */
  checkpointIntervalMs: number;
  /** The writer's own checkpoint once the WAL holds this many pages (mostly copied already by then). */
  walAutocheckpointPages: number;
  /** LEASE=on: every transaction first checks that this process holds the lease (storage/lease.ts leaseFence). */
  lease?: { name: string; holder: string };
}

/**
 * Entry of the writer thread (WRITER_MODE=thread): the current database's only writing connection.
 * With DB_SYNCHRONOUS=FULL, durability is pipelined: the connection commits with NORMAL and the
 * queue fsyncs the WAL in the thread pool before it answers a transaction (storage/wal-sync.ts),
 * so the writer runs the next transactions while a commit is made durable.
 */
const data = (workerData as { data: WriterThreadData }).data;
const port = parentPort!;
const pipelined = data.db.synchronous === "FULL";
const db = openDatabase(data.path, pipelined ? { ...data.db, synchronous: "NORMAL" } : data.db);
const checkpointer =
  data.checkpointIntervalMs > 0
    ? (
        await spawnWorker(moduleUrl("../storage/checkpointer.ts", import.meta.url), {
          path: data.path,
          db: data.db,
          intervalMs: data.checkpointIntervalMs,
        } satisfies CheckpointerData)
      ).worker
    : undefined;
db.exec(`PRAGMA wal_autocheckpoint = ${Math.trunc(data.walAutocheckpointPages)}`);
const stats = statsRecorder();
const queue = new BatchQueue({
  db,
  flushIntervalMs: data.flushIntervalMs,
  commitSpacingMs: data.commitSpacingMs,
  batchSizeMax: data.batchSizeMax,
  queueLengthMax: data.queueLengthMax,
  metrics: stats.metrics,
  onBatchError: (error) => port.postMessage({ t: "batchError", error: encodeError(error) } satisfies FromWriter),
  transactionHooks: writerHooks(data.lease),
  walSync: pipelined ? walFileSync(data.path) : undefined,
  // Whether the committed transactions would survive a power cut is unknown: stop writing; the
  // process restarts (exit 70 from the main thread) and SQLite recovers what is durable.
  onSyncFailure: (error) => {
    port.postMessage({ t: "batchError", error: encodeError(error) } satisfies FromWriter);
    process.exit(1);
  },
});
serveWriter(port, queue, COMMANDS, stats, async () => {
  if (checkpointer) {
    const exited = new Promise((resolve) => checkpointer.once("exit", resolve));
    checkpointer.postMessage({ t: "close" });
    await exited;
  }
  db.close();
});
