import { Worker } from "node:worker_threads";

const BOOT = new URL("./worker-boot.mjs", import.meta.url);

/**
 * The module `path` relative to `base` (an `import.meta.url`): written with its `.ts` name as in the
 * source tree, it becomes the `.js` file when `base` itself is compiled JavaScript (dist/, `npm run
 * build`), so thread and child entries work under tsx and under plain `node dist/…` alike.
 */
export function moduleUrl(path: string, base: string): URL {
  const url = new URL(path, base);
  if (base.endsWith(".js") && url.pathname.endsWith(".ts")) url.pathname = `${url.pathname.slice(0, -3)}.js`;
  return url;
}

/** Node arguments that run `file`: TypeScript through the tsx loader, compiled JavaScript as it is. */
export function nodeArgsFor(file: string): string[] {
  return file.endsWith(".ts") ? ["--import", "tsx", file] : [file];
}

/** What a thread says once it is ready; `osThreadId` lets the parent read the thread's CPU time. */
export interface ReadyMessage {
  t: "ready";
  osThreadId?: number;
}

/**
 * Starts `entry` (a .ts or .js module) in a worker thread with `data` as `workerData.data`, and
 * waits for its `{ t: "ready" }` message. Rejects if the thread fails or exits first.
 */
export async function spawnWorker(entry: URL, data: unknown): Promise<{ worker: Worker; ready: ReadyMessage }> {
  const worker = new Worker(BOOT, { workerData: { entry: entry.href, data } });
  const ready = await new Promise<ReadyMessage>((resolve, reject) => {
    const onMessage = (message: { t?: string }) => {
      if (message?.t !== "ready") return;
      cleanup();
      resolve(message as ReadyMessage);
    };
    const onError = (error: Error) => {
      cleanup();
      reject(error);
    };
    const onExit = (code: number) => {
      cleanup();
      reject(new Error(`worker ${entry.pathname} exited during start (code ${code})`));
    };
    const cleanup = () => {
      worker.off("message", onMessage);
      worker.off("error", onError);
      worker.off("exit", onExit);
    };
    worker.on("message", onMessage);
    worker.once("error", onError);
    worker.once("exit", onExit);
  });
  return { worker, ready };
}
