import { parentPort, workerData } from "node:worker_threads";
import { takeBackup } from "./backup.ts";

/** What services/backup hands the backup thread. */
export interface BackupThreadData {
  dataDir: string;
  root: string;
  busyTimeoutMs: number;
  now: number;
}

/**
 * Entry of the backup thread: one `takeBackup` (VACUUM INTO and the verification reads, seconds to
 * minutes on a large file) off the API's event loop, then the thread ends. It starts on `run`, so
 * the host listens before the answer can come.
 */
const data = (workerData as { data: BackupThreadData }).data;
parentPort!.once("message", (message: { t: string }) => {
  if (message.t !== "run") return;
  try {
    const manifest = takeBackup(data.dataDir, data.root, { busyTimeoutMs: data.busyTimeoutMs, now: data.now });
    parentPort!.postMessage({ t: "done", manifest });
  } catch (error) {
    parentPort!.postMessage({ t: "failed", name: (error as Error).name, message: (error as Error).message });
  }
  parentPort!.close();
});
parentPort!.postMessage({ t: "ready" });
