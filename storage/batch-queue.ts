import type { Db } from "./db.ts";

/** An operation runs inside the batch's transaction; it may throw to fail only itself. */
export type Operation<T> = (db: Db) => T;

/**
 * How an operation is guarded. By default each runs in a savepoint of its own, so a throw undoes
 * only its writes. An operation that cannot fail half-way may run without one: it throws only
 * refusals (`isRefusal`) and only once nothing of it is written (or after undoing it exactly);
 * any other error it throws fails the whole transaction — nothing of the batch commits.
 */
export interface OperationGuard {
  savepoint: false;
  isRefusal(error: unknown): boolean;
}

/**
 * Called by the queue at the edges of every transaction, with the writer's connection: after BEGIN,
 * just before COMMIT (still inside the transaction; a throw fails the batch), and after a ROLLBACK
 * of a whole batch. State the writer keeps in memory beside the database follows its transactions
 * through these (services/bets/writer-state.ts).
 */
export interface TransactionHooks {
  afterBegin?(db: Db): void;
  beforeCommit?(db: Db): void;
  afterRollback?(db: Db): void;
}

export interface BatchQueueOptions {
  db: Db;
  /**
   * How long the first waiting operation may wait for company before its batch commits. 0 means
   * group commit: the batch commits as soon as the event loop has handled the I/O that is ready
   * (setImmediate, or once `commitSpacingMs` has passed), so batches grow with the load instead of
   * every operation paying a timer.
   */
  flushIntervalMs: number;
  /**
   * With group commit only (ignored when flushIntervalMs > 0): a transaction starts at least this
   * long after the previous one started (0: no spacing). Under load every commit then carries more operations, so the fixed cost of a
   * commit (fsync, the pages every transaction rewrites) is paid less often; when idle nothing waits.
   */
  commitSpacingMs?: number;
  /** At most this many operations per transaction; reaching it flushes at once. */
  batchSizeMax: number;
  /**
   * Writer time one transaction may take before it stops taking operations and commits (the rest
   * wait for the next batch, after the event loop had a turn). Bounds the event-loop stall of one
   * flush whatever the operations cost. Default 8 ms.
   */
  batchTimeBudgetMs?: number;
  /** At most this many operations waiting; beyond it `enqueue` rejects with QueueFullError. */
  queueLengthMax: number;
  metrics?: QueueMetrics;
  onBatchError?: (error: unknown) => void;
  transactionHooks?: readonly TransactionHooks[];
}

/** What the queue reports (prom-client metrics in the main thread; a recorder in the writer thread). */
export interface QueueMetrics {
  batchSize: { observe(operations: number): void };
  batchCommitSeconds: { observe(seconds: number): void };
  batchQueueDepth: { set(depth: number): void };
  batchRejected: { inc(labels: { reason: string }): void };
}

export class QueueFullError extends Error {
  readonly code = "overloaded";
  constructor() {
    super("the write queue is full, try again shortly");
  }
}

export class QueueClosedError extends Error {
  readonly code = "shutting_down";
  constructor() {
    super("the server is shutting down");
  }
}

interface Pending {
  op: Operation<unknown>;
  guard: OperationGuard | undefined;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

/**
 * The shared write path of ADR-005: callers enqueue operations and get a promise that settles
 * only after the transaction holding the operation has committed (or failed). One writer, one
 * transaction per batch, each operation in its own savepoint so one failure spares the rest.
 */
export class BatchQueue {
  readonly #options: BatchQueueOptions;
  #pending: Pending[] = [];
  #timer: NodeJS.Timeout | undefined;
  #immediate: NodeJS.Immediate | undefined;
  #closed = false;
  #batches = 0;
  #lastFlushAt = -Infinity;
  readonly #statements;

  constructor(options: BatchQueueOptions) {
    if (options.batchSizeMax < 1 || options.queueLengthMax < 1) throw new Error("batch queue bounds must be >= 1");
    this.#options = options;
    const { db } = options;
    this.#statements = {
      begin: db.prepare("BEGIN IMMEDIATE"),
      commit: db.prepare("COMMIT"),
      rollback: db.prepare("ROLLBACK"),
      savepoint: db.prepare("SAVEPOINT op"),
      release: db.prepare("RELEASE op"),
      rollbackTo: db.prepare("ROLLBACK TO op"),
    };
  }

  /** Operations waiting for their batch. */
  get depth(): number {
    return this.#pending.length;
  }

  /** Transactions committed (or attempted) so far. */
  get batches(): number {
    return this.#batches;
  }

  enqueue<T>(op: Operation<T>, guard?: OperationGuard): Promise<T> {
    if (this.#closed) {
      this.#options.metrics?.batchRejected.inc({ reason: "closed" });
      return Promise.reject(new QueueClosedError());
    }
    if (this.#pending.length >= this.#options.queueLengthMax) {
      this.#options.metrics?.batchRejected.inc({ reason: "full" });
      return Promise.reject(new QueueFullError());
    }
    return new Promise<T>((resolve, reject) => {
      this.#pending.push({ op, guard, resolve: resolve as (v: unknown) => void, reject });
      this.#options.metrics?.batchQueueDepth.set(this.#pending.length);
      this.#schedule();
    });
  }

  #schedule(): void {
    if (this.#pending.length >= this.#options.batchSizeMax) {
      this.#flushNextTurn();
      return;
    }
    if (this.#options.flushIntervalMs === 0) {
      this.#flushSoon();
      return;
    }
    this.#timer ??= setTimeout(() => {
      this.#timer = undefined;
      this.flush();
    }, this.#options.flushIntervalMs);
  }

  /**
   * Commits one batch now (synchronously) and settles its promises. Operations the time budget left
   * out go back to the head of the queue, in order, and are flushed on a later turn of the loop
   * (the next one, or once the commit spacing has passed).
   */
  flush(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#immediate) clearImmediate(this.#immediate);
    this.#immediate = undefined;
    let batch = this.#pending.splice(0, this.#options.batchSizeMax);
    if (batch.length === 0) {
      this.#options.metrics?.batchQueueDepth.set(this.#pending.length);
      return;
    }
    this.#batches++;
    const started = performance.now();
    this.#lastFlushAt = started;
    const outcomes = this.#runTransaction(batch, started + (this.#options.batchTimeBudgetMs ?? 8));
    if (outcomes.length < batch.length) {
      // Never run: nothing of them happened; they keep their place at the head of the queue.
      this.#pending.unshift(...batch.slice(outcomes.length));
      batch = batch.slice(0, outcomes.length);
    }
    if (this.#pending.length > 0) this.#scheduleNext();
    this.#options.metrics?.batchQueueDepth.set(this.#pending.length);
    this.#options.metrics?.batchCommitSeconds.observe((performance.now() - started) / 1000);
    this.#options.metrics?.batchSize.observe(batch.length);
    for (let i = 0; i < batch.length; i++) {
      const item = batch[i]!;
      const outcome = outcomes[i]!;
      if (outcome.ok) item.resolve(outcome.value);
      else item.reject(outcome.error);
    }
  }

  /** Group commit: on the next turn of the loop, or once the commit spacing has passed. */
  #flushSoon(): void {
    if (this.#immediate || this.#timer) return;
    const waitMs = this.#lastFlushAt + (this.#options.commitSpacingMs ?? 0) - performance.now();
    if (waitMs < 1) this.#flushNextTurn();
    else
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        this.flush();
      }, waitMs);
  }

  #flushNextTurn(): void {
    this.#immediate ??= setImmediate(() => {
      this.#immediate = undefined;
      this.flush();
    });
  }

  /** What a flush left (beyond the size or time bound) goes after the event loop had a turn for its I/O. */
  #scheduleNext(): void {
    if (this.#pending.length >= this.#options.batchSizeMax || this.#options.flushIntervalMs > 0) this.#flushNextTurn();
    else this.#flushSoon();
  }

  /** Runs operations until the batch or the time budget ends (at least one), then commits. */
  #runTransaction(batch: Pending[], deadline: number): Outcome[] {
    const s = this.#statements;
    const { db, transactionHooks: hooks = [] } = this.#options;
    try {
      s.begin.run();
    } catch (error) {
      this.#options.onBatchError?.(error);
      return batch.map(() => ({ ok: false, error }));
    }
    const outcomes: Outcome[] = [];
    let taken = 0;
    try {
      for (const hook of hooks) hook.afterBegin?.(db);
      for (const item of batch) {
        taken++;
        outcomes.push(item.guard ? this.#runUnguarded(item, item.guard) : this.#runOne(item));
        if (performance.now() >= deadline) break;
      }
      for (const hook of hooks) hook.beforeCommit?.(db);
      s.commit.run();
      return outcomes;
    } catch (error) {
      // The transaction as a whole failed (e.g. disk full at COMMIT, or an operation without a
      // savepoint failed half-way): nothing in it happened.
      this.#options.onBatchError?.(error);
      try {
        s.rollback.run();
      } catch {
        // the transaction may already be gone
      }
      for (const hook of hooks) hook.afterRollback?.(db);
      return batch.slice(0, taken).map(() => ({ ok: false, error }));
    }
  }

  /** An operation without a savepoint: a refusal fails it alone; any other error ends the transaction. */
  #runUnguarded(item: Pending, guard: OperationGuard): Outcome {
    let value: unknown;
    try {
      value = item.op(this.#options.db);
    } catch (error) {
      if (!guard.isRefusal(error)) throw error;
      if (!this.#options.db.inTransaction) throw new Error("a batch operation ended the transaction it runs in", { cause: error });
      return { ok: false, error };
    }
    if (value instanceof Promise) throw new Error("batch operations must be synchronous");
    if (!this.#options.db.inTransaction) throw new Error("a batch operation ended the transaction it runs in");
    return { ok: true, value };
  }

  #runOne(item: Pending): Outcome {
    const s = this.#statements;
    s.savepoint.run();
    try {
      const value = item.op(this.#options.db);
      if (value instanceof Promise) throw new Error("batch operations must be synchronous");
      if (!this.#options.db.inTransaction) throw new Error("a batch operation ended the transaction it runs in");
      s.release.run();
      return { ok: true, value };
    } catch (error) {
      s.rollbackTo.run();
      s.release.run();
      return { ok: false, error };
    }
  }

  /** Flushes until nothing is waiting. */
  drain(): void {
    // Every flush commits at least one operation, so this bound is never what stops it.
    const roundsMax = this.#pending.length + 1;
    for (let round = 0; round < roundsMax && this.#pending.length > 0; round++) this.flush();
  }

  /** Stops accepting operations and commits what is waiting (graceful shutdown). */
  close(): void {
    this.#closed = true;
    if (this.#immediate) clearImmediate(this.#immediate);
    this.#immediate = undefined;
    this.drain();
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
