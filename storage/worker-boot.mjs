// Entry of every worker thread: Node does not load TypeScript in workers by itself, so the thread
// registers tsx first (as `npm start` does for the main thread), then imports the real entry.
import { workerData } from "node:worker_threads";

if (workerData.entry.endsWith(".ts")) {
  const { register } = await import("tsx/esm/api");
  register();
}
await import(workerData.entry);
