import type { MessagePort } from "node:worker_threads";
import { currentOsThreadId } from "./thread-cpu.ts";
import type { BatchQueue } from "./batch-queue.ts";
import { encodeError, type WireError } from "./wire-errors.ts";
import { guardOf, type CommandMap } from "./writer.ts";

/** [id, command name ("" = barrier), arguments] */
export type WriterOp = [number, string, unknown[]];

export type ToWriter = { t: "ops"; ops: WriterOp[] } | { t: "close" };

export interface BatchStats {
  sizes: number[];
  commitSeconds: number[];
}

export type FromWriter =
  | { t: "ready"; osThreadId?: number }
  | { t: "done"; results: [number, boolean, unknown][]; stats: BatchStats }
  | { t: "batchError"; error: WireError }
  | { t: "closed" };

/** What the queue in the thread records per batch, sent along with the batch's answers. */
export function statsRecorder() {
  const stats: BatchStats = { sizes: [], commitSeconds: [] };
  const metrics = {
    batchSize: { observe: (n: number) => void stats.sizes.push(n) },
    batchCommitSeconds: { observe: (s: number) => void stats.commitSeconds.push(s) },
    batchQueueDepth: { set: () => undefined },
    batchRejected: { inc: () => undefined },
  };
  return {
    metrics,
    take(): BatchStats {
      const taken = { sizes: stats.sizes.splice(0), commitSeconds: stats.commitSeconds.splice(0) };
      return taken;
    },
  };
}

/**
 * The thread side of storage/thread-writer.ts: runs each command through the batch queue and sends
 * the answers of a committed batch back in one message. `close` drains the queue, then calls
 * `release` (close the connection and whatever else the thread holds) and answers "closed".
 */
export function serveWriter(
  port: MessagePort,
  queue: BatchQueue,
  commands: CommandMap,
  stats: ReturnType<typeof statsRecorder>,
  release: () => Promise<void>,
): void {
  let results: [number, boolean, unknown][] = [];
  let postScheduled = false;
  const post = () => {
    postScheduled = false;
    const message: FromWriter = { t: "done", results, stats: stats.take() };
    results = [];
    try {
      port.postMessage(message);
    } catch {
      // A result that cannot be cloned: answer those commands with an error instead.
      for (const r of message.results) {
        if (r[1]) {
          try {
            structuredClone(r[2]);
          } catch (error) {
            r[1] = false;
            r[2] = encodeError(new Error(`the result of a write command cannot cross threads: ${(error as Error).message}`));
          }
        }
      }
      port.postMessage(message);
    }
  };
  const answer = (id: number, ok: boolean, value: unknown) => {
    results.push([id, ok, value]);
    // The answers of one batch settle in one run of microtasks; one message carries them all.
    if (!postScheduled) {
      postScheduled = true;
      queueMicrotask(post);
    }
  };
  const barrier = () => undefined;
  port.on("message", (message: ToWriter) => {
    if (message.t === "ops") {
      for (const [id, name, args] of message.ops) {
        const command = name === "" ? barrier : Object.hasOwn(commands, name) ? commands[name] : undefined;
        if (!command) {
          answer(id, false, encodeError(new Error(`unknown write command ${name}`)));
          continue;
        }
        queue.enqueue((d) => command(d, ...args), guardOf(command)).then(
          (value) => answer(id, true, value),
          (error: unknown) => answer(id, false, encodeError(error)),
        );
      }
      return;
    }
    if (message.t === "close") {
      queue.close();
      // After the drained batches' answers (microtasks queued by close) have gone out.
      setImmediate(() => {
        release().finally(() => {
          port.postMessage({ t: "closed" } satisfies FromWriter);
          port.close();
        });
      });
    }
  });
  port.postMessage({ t: "ready", osThreadId: currentOsThreadId() } satisfies FromWriter);
}
