import { parentPort, workerData } from "node:worker_threads";
import { openDatabase, type OpenOptions } from "./db.ts";

/** What the writer thread (runtime/writer-thread.ts) hands its checkpointer thread. */
export interface CheckpointerData {
  path: string;
  db: OpenOptions;
  intervalMs: number;
}

/**
 * Entry of the checkpointer thread: copies committed WAL frames back into the database file with
 * PASSIVE checkpoints (they never wait for, nor block, the writer or readers). The writer's own
 * autocheckpoint then finds the WAL already copied and only restarts it, so the page copying and
 * the database file's fsync stay off the writer thread; frames rewritten between two runs are
 * copied once instead of once per autocheckpoint.
 */
const data = (workerData as { data: CheckpointerData }).data;
const db = openDatabase(data.path, data.db);
const checkpoint = db.prepare("PRAGMA wal_checkpoint(PASSIVE)");
const timer = setInterval(() => {
  try {
    checkpoint.get();
  } catch {
    // SQLITE_BUSY or the like: the next run tries again
  }
}, data.intervalMs);
parentPort!.on("message", (message: { t: string }) => {
  if (message.t !== "close") return;
  clearInterval(timer);
  db.close();
  parentPort!.close();
});
parentPort!.postMessage({ t: "ready" });
