import { readlinkSync } from "node:fs";
import { setPriority } from "node:os";
import { parentPort, workerData } from "node:worker_threads";
import { takeBackup } from "./backup.ts";

/** What services/backup hands the backup thread. */
export interface BackupThreadData {
  dataDir: string;
  root: string;
  busyTimeoutMs: number;
  now: number;
  /** The thread's nice value (Linux: per thread), so the API's loop and the writer keep the CPU; 0 leaves it. */
  nice?: number;
}

/** Lowers this thread's CPU priority (Linux names a thread by its id in /proc/thread-self); elsewhere a no-op. */
function niceThisThread(nice: number): void {
  if (nice === 0) return;
  try {
    const tid = Number(readlinkSync("/proc/thread-self").split("/").pop());
    if (Number.isInteger(tid) && tid > 0) setPriority(tid, nice);
  } catch {
    // not Linux, or not allowed: run at the process's priority
  }
}

/**
 * Entry of the backup thread: one `takeBackup` (VACUUM INTO and the verification reads, seconds to
 * minutes on a large file) off the API's event loop, then the thread ends. It starts on `run`, so
 * the host listens before the answer can come.
 */
const BACKUP_NICE = 10;
const data = (workerData as { data: BackupThreadData }).data;
parentPort!.once("message", (message: { t: string }) => {
  if (message.t !== "run") return;
  niceThisThread(data.nice ?? BACKUP_NICE);
  try {
    const manifest = takeBackup(data.dataDir, data.root, { busyTimeoutMs: data.busyTimeoutMs, now: data.now });
    parentPort!.postMessage({ t: "done", manifest });
  } catch (error) {
    parentPort!.postMessage({ t: "failed", name: (error as Error).name, message: (error as Error).message });
  }
  parentPort!.close();
});
parentPort!.postMessage({ t: "ready" });
