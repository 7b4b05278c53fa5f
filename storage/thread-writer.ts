import type { Worker } from "node:worker_threads";
import { QueueClosedError, QueueFullError, type QueueMetrics } from "./batch-queue.ts";
import { decodeError, type ErrorClass, type WireError } from "./wire-errors.ts";
import type { CommandArgs, CommandMap, CommandResult, Writer } from "./writer.ts";
import type { FromWriter, ToWriter, WriterOp } from "./writer-host.ts";
import { spawnWorker } from "./workers.ts";

export interface ThreadWriterOptions {
  /** The module the thread runs; it opens the database and calls `serveWriter` (storage/writer-host.ts). */
  entry: URL;
  /** Handed to the entry as `workerData.data` (structured-cloned). */
  data: unknown;
  /** At most this many commands queued or running; beyond it `run` rejects with QueueFullError. */
  queueLengthMax: number;
  /** Error classes rebuilt from the thread's answers, so callers can test them with instanceof. */
  errorClasses: readonly ErrorClass[];
  metrics?: QueueMetrics;
  onBatchError?: (error: Error) => void;
  /** The thread died: every queued command failed with QueueClosedError and nothing more can be written. */
  onFailure?: (error: Error) => void;
}

/**
 * Commands per message at most: a message goes over when this many are queued, not only at the end
 * of the event loop's turn. Under a closed loop of many connections the requests arrive together;
 * sent only at the turn's end, the writer idled while the loop parsed all of them, then the loop
 * idled while the writer ran them, and the clients' next requests came back together again (a convoy:
 * each thread busy half the time). Sent eight at a time, the writer starts on the first while the loop
 * parses the rest. `npm run bench` (closed loop, 64 connections) in one run each: product / minimal
 * 0.54 × with one message per turn, 0.65 × at 4, 0.72 × at 8, 0.67 × at 16, 0.58 × at 32.
 */
export const OPS_PER_MESSAGE_MAX = 8;

interface Waiting {
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/**
 * The writer in its own thread (ADR-005 with the SQLite work off the event loop): the batch queue,
 * its connection and every transaction run in a worker thread, so a commit or a burst of settlements
 * never stalls HTTP. Commands go over in one message per turn of the event loop (at most
 * OPS_PER_MESSAGE_MAX in each), answers come back
 * as one message per committed batch. A command's promise settles after its transaction committed,
 * as with the inline writer.
 */
export class ThreadWriter<C extends CommandMap> implements Writer<C> {
  readonly #options: ThreadWriterOptions;
  readonly #worker: Worker;
  readonly #waiting = new Map<number, Waiting>();
  #outbox: WriterOp[] = [];
  #sendScheduled: NodeJS.Immediate | undefined;
  #nextId = 1;
  #closed = false;
  #failed: Error | undefined;
  #closing: Promise<void> | undefined;
  readonly #exited: Promise<void>;
  #onClosed: (() => void) | undefined;

  /** The thread's OS thread id (Linux), so its CPU time can be read (runtime/thread-cpu.ts). */
  readonly osThreadId: number | undefined;

  private constructor(options: ThreadWriterOptions, worker: Worker, osThreadId: number | undefined) {
    this.#options = options;
    this.#worker = worker;
    this.osThreadId = osThreadId;
    this.#exited = new Promise((resolve) => worker.once("exit", () => resolve()));
    worker.on("message", (message: FromWriter) => this.#onMessage(message));
    worker.on("error", (error) => this.#fail(error));
    worker.on("messageerror", (error) => this.#fail(error));
    worker.once("exit", (code) => {
      if (!this.#closing) this.#fail(new Error(`the writer thread exited (code ${code})`));
    });
  }

  /** Starts the thread and waits until it has opened the database. */
  static async start<C extends CommandMap>(options: ThreadWriterOptions): Promise<ThreadWriter<C>> {
    const { worker, ready } = await spawnWorker(options.entry, options.data);
    const writer = new ThreadWriter<C>(options, worker, ready.osThreadId);
    worker.unref();
    return writer;
  }

  get depth(): number {
    return this.#waiting.size;
  }

  run<K extends keyof C & string>(name: K, ...args: CommandArgs<C[K]>): Promise<CommandResult<C[K]>> {
    return this.#send(name, args) as Promise<CommandResult<C[K]>>;
  }

  async barrier(): Promise<void> {
    await this.#send("", []);
  }

  #send(name: string, args: unknown[]): Promise<unknown> {
    const metrics = this.#options.metrics;
    if (this.#closed) {
      metrics?.batchRejected.inc({ reason: "closed" });
      return Promise.reject(new QueueClosedError());
    }
    if (this.#waiting.size >= this.#options.queueLengthMax) {
      metrics?.batchRejected.inc({ reason: "full" });
      return Promise.reject(new QueueFullError());
    }
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#waiting.set(id, { resolve, reject });
      this.#outbox.push([id, name, args]);
      if (this.#waiting.size === 1) this.#worker.ref(); // keep the process alive until answered
      // What is queued during this turn of the event loop goes over in one message, or in messages of
      // OPS_PER_MESSAGE_MAX while more come.
      if (this.#outbox.length >= OPS_PER_MESSAGE_MAX) {
        if (this.#sendScheduled) clearImmediate(this.#sendScheduled);
        this.#flushOutbox();
      } else this.#sendScheduled ??= setImmediate(() => this.#flushOutbox());
    });
  }

  #flushOutbox(): void {
    this.#sendScheduled = undefined;
    if (this.#outbox.length === 0 || this.#failed) return;
    const ops = this.#outbox;
    this.#outbox = [];
    this.#post({ t: "ops", ops });
  }

  #post(message: ToWriter): void {
    try {
      this.#worker.postMessage(message);
    } catch (error) {
      if (message.t !== "ops") throw error;
      // An argument that cannot be cloned: send the commands one by one, in order, so that only the
      // ones carrying it fail.
      for (const op of message.ops) {
        try {
          this.#worker.postMessage({ t: "ops", ops: [op] } satisfies ToWriter);
        } catch (opError) {
          this.#settle(op[0], false, opError);
        }
      }
    }
  }

  #onMessage(message: FromWriter): void {
    switch (message.t) {
      case "done": {
        const m = this.#options.metrics;
        if (m) {
          for (const size of message.stats.sizes) m.batchSize.observe(size);
          for (const seconds of message.stats.commitSeconds) m.batchCommitSeconds.observe(seconds);
          m.batchQueueDepth.set(this.#waiting.size - message.results.length);
        }
        for (const [id, ok, value] of message.results) {
          this.#settle(id, ok, ok ? value : decodeError(value as WireError, this.#options.errorClasses));
        }
        return;
      }
      case "closed":
        this.#onClosed?.();
        return;
      case "batchError":
        this.#options.onBatchError?.(decodeError(message.error, this.#options.errorClasses));
        return;
      default:
        return;
    }
  }

  #settle(id: number, ok: boolean, value: unknown): void {
    const waiting = this.#waiting.get(id);
    if (!waiting) return;
    this.#waiting.delete(id);
    if (this.#waiting.size === 0) this.#worker.unref();
    if (ok) waiting.resolve(value);
    else waiting.reject(value);
  }

  #fail(error: Error): void {
    if (this.#failed) return;
    this.#failed = error;
    this.#closed = true;
    for (const [id] of this.#waiting) this.#settle(id, false, new QueueClosedError());
    this.#outbox = [];
    this.#options.onFailure?.(error);
    void this.#worker.terminate();
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#closed = true;
      if (!this.#failed) {
        if (this.#sendScheduled) clearImmediate(this.#sendScheduled);
        this.#flushOutbox();
        this.#worker.ref();
        const closed = new Promise<void>((resolve) => (this.#onClosed = resolve));
        this.#post({ t: "close" });
        // "closed" comes after the answers to everything that was queued; an exit first means a crash.
        await Promise.race([closed, this.#exited]);
      }
      await this.#exited;
      // Whatever is still waiting was never run.
      for (const [id] of this.#waiting) this.#settle(id, false, new QueueClosedError());
    })();
    return this.#closing;
  }
}
