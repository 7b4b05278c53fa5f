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
  /**
   * The operation may leave writes in a hook's journal for later in the transaction, and may run
   * while the journal holds writes of its kind (TransactionHooks.beforeOperation lets it through).
   */
  journaled?: boolean;
}

/**
 * Called by the queue at the edges of every transaction, with the writer's connection: after BEGIN,
 * just before COMMIT (still inside the transaction; a throw fails the batch), and after a ROLLBACK
 * of a whole batch. State the writer keeps in memory beside the database follows its transactions
 * through these (services/bets/writer-state.ts).
 */
export interface TransactionHooks {
  afterBegin?(db: Db): void;
  /**
   * Before each operation (and its savepoint), with the operation's guard. A hook that keeps writes
   * in memory for later in the transaction (services/bets/stake-journal.ts) writes them here unless
   * the operation is `journaled`: every other operation sees them in the database, and no savepoint
   * of another operation can undo them. A throw fails the whole transaction.
   */
  beforeOperation?(db: Db, guard: OperationGuard | undefined): void;
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
  /**
   * Durability off the writer's path (flush pipelining): the connection commits without syncing
   * (`synchronous=NORMAL`), and the answers of a committed transaction wait until this has made
   * the WAL durable (an fdatasync, storage/wal-sync.ts) — while the writer already runs the next
   * transactions. One sync at a time; it covers every transaction committed before it started.
   * Unset: the connection syncs inside COMMIT (`synchronous=FULL`) and answers follow COMMIT.
   */
  walSync?: WalSync;
  /** The WAL could not be made durable: every waiting answer failed; the writer must stop (restart and recover). */
  onSyncFailure?: (error: unknown) => void;
}

/** Makes everything written to the WAL so far durable: `start` asynchronously, `now` in the calling thread. */
export interface WalSync {
  start(done: (error: Error | null) => void): void;
  now(): void;
  /** Releases what it holds (the queue's connection closes after it). */
  close?(): void;
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

/** The answers of a committed transaction, waiting for the WAL sync that makes it durable. */
interface Unsynced {
  batch: Pending[];
  outcomes: Outcome[];
  /** The transaction's number among those committed (walSync only). */
  seq: number;
}

/** WAL syncs running at once (each in the thread pool, which has 4 threads by default). */
const WAL_SYNCS_IN_FLIGHT_MAX = 2;

function settle(batch: Pending[], outcomes: Outcome[]): void {
  for (let i = 0; i < batch.length; i++) {
    const item = batch[i]!;
    const outcome = outcomes[i]!;
    if (outcome.ok) item.resolve(outcome.value);
    else item.reject(outcome.error);
  }
}

/**
 * The shared write path of ADR-005: callers enqueue operations and get a promise that settles
 * only after the transaction holding the operation has committed and is durable (or failed). One
 * writer, one transaction per batch, each operation in its own savepoint (unless it runs without
 * one, OperationGuard) so one failure spares the rest.
 */
export class BatchQueue {
  readonly #options: BatchQueueOptions;
  #pending: Pending[] = [];
  #timer: NodeJS.Timeout | undefined;
  #immediate: NodeJS.Immediate | undefined;
  #closed = false;
  #batches = 0;
  #lastFlushAt = -Infinity;
  /** Committed and not answered yet, in commit order (walSync only). */
  #unsynced: Unsynced[] = [];
  #committedSeq = 0;
  /** `#committedSeq` when the last WAL sync started: what it covers. */
  #syncStartedSeq = 0;
  #syncsInFlight = 0;
  /** Bumped when the syncs in flight no longer count (a synchronous sync settled all, or a failure). */
  #syncEpoch = 0;
  #syncFailed: unknown;
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
    if (this.#syncFailed !== undefined) return Promise.reject(this.#syncFailed);
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
    const { outcomes, committed } = this.#runTransaction(batch, started + (this.#options.batchTimeBudgetMs ?? 8));
    if (outcomes.length < batch.length) {
      // Never run: nothing of them happened; they keep their place at the head of the queue.
      this.#pending.unshift(...batch.slice(outcomes.length));
      batch = batch.slice(0, outcomes.length);
    }
    if (this.#pending.length > 0) this.#scheduleNext();
    this.#options.metrics?.batchQueueDepth.set(this.#pending.length);
    this.#options.metrics?.batchCommitSeconds.observe((performance.now() - started) / 1000);
    this.#options.metrics?.batchSize.observe(batch.length);
    if (committed && this.#options.walSync) {
      // Every answer of a committed transaction (refusals too: they were decided on its state)
      // waits until the WAL holding it is durable.
      this.#unsynced.push({ batch, outcomes, seq: ++this.#committedSeq });
      this.#startSync();
      return;
    }
    settle(batch, outcomes);
  }

  /**
   * Starts a WAL sync for the transactions committed since the last one started, unless
   * `WAL_SYNCS_IN_FLIGHT_MAX` are running: a sync covers every transaction committed before it
   * started, so when one completes, everything committed before its start is answered (whether or
   * not an earlier sync is still running), and a transaction committed during a sync does not wait
   * for it to end before its own sync begins.
   */
  #startSync(): void {
    const walSync = this.#options.walSync;
    if (!walSync || this.#syncFailed !== undefined || this.#syncsInFlight >= WAL_SYNCS_IN_FLIGHT_MAX) return;
    if (this.#committedSeq === this.#syncStartedSeq) return;
    const covers = (this.#syncStartedSeq = this.#committedSeq);
    const epoch = this.#syncEpoch;
    this.#syncsInFlight++;
    walSync.start((error) => {
      if (epoch !== this.#syncEpoch) return; // settled meanwhile by a synchronous sync (close), or failed
      this.#syncsInFlight--;
      if (error) return this.#failSync(error);
      while (this.#unsynced.length > 0 && this.#unsynced[0]!.seq <= covers) {
        const { batch, outcomes } = this.#unsynced.shift()!;
        settle(batch, outcomes);
      }
      this.#startSync();
      if (this.#pending.length > 0) this.#scheduleNext();
    });
  }

  /** Makes everything committed durable in this thread and answers it (drain, close). */
  #syncNow(): void {
    const walSync = this.#options.walSync;
    if (!walSync || this.#syncFailed !== undefined || this.#unsynced.length === 0) return;
    try {
      walSync.now();
    } catch (error) {
      this.#failSync(error);
      return;
    }
    this.#syncEpoch++;
    this.#syncsInFlight = 0;
    this.#syncStartedSeq = this.#committedSeq;
    for (const { batch, outcomes } of this.#unsynced.splice(0)) settle(batch, outcomes);
  }

  /**
   * The WAL could not be made durable: whether the committed transactions survive a power cut is
   * unknown, so none of them is answered as done, and this queue takes nothing more.
   */
  #failSync(error: unknown): void {
    this.#syncFailed = error;
    this.#syncEpoch++;
    this.#closed = true;
    for (const { batch } of this.#unsynced.splice(0)) for (const item of batch) item.reject(error);
    for (const item of this.#pending.splice(0)) item.reject(error);
    this.#options.onSyncFailure?.(error);
  }

  /**
   * Group commit: on the next turn of the loop, or once the commit spacing has passed. With
   * walSync, not while every sync slot is busy: a transaction committed now would wait for a free
   * one before its own sync could even start, so the queue waits instead and commits one larger
   * batch when a sync completes (the disk, not the writer, sets the pace then).
   */
  #flushSoon(): void {
    if (this.#immediate || this.#timer) return;
    if (this.#options.walSync && this.#syncsInFlight >= WAL_SYNCS_IN_FLIGHT_MAX) return;
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
  #runTransaction(batch: Pending[], deadline: number): { outcomes: Outcome[]; committed: boolean } {
    const s = this.#statements;
    const { db, transactionHooks: hooks = [] } = this.#options;
    try {
      s.begin.run();
    } catch (error) {
      this.#options.onBatchError?.(error);
      return { outcomes: batch.map(() => ({ ok: false, error })), committed: false };
    }
    const outcomes: Outcome[] = [];
    let taken = 0;
    try {
      for (const hook of hooks) hook.afterBegin?.(db);
      for (const item of batch) {
        taken++;
        for (const hook of hooks) hook.beforeOperation?.(db, item.guard);
        outcomes.push(item.guard ? this.#runUnguarded(item, item.guard) : this.#runOne(item));
        if (performance.now() >= deadline) break;
      }
      for (const hook of hooks) hook.beforeCommit?.(db);
      s.commit.run();
      return { outcomes, committed: true };
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
      // A hook refused the transaction before any operation ran (a lease's fence): the whole batch
      // fails, as when BEGIN fails; otherwise the operations never taken would be queued again forever.
      return { outcomes: (taken === 0 ? batch : batch.slice(0, taken)).map(() => ({ ok: false, error })), committed: false };
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

  /** Flushes until nothing is waiting, and (walSync) makes it durable and answers it. */
  drain(): void {
    // Every flush commits at least one operation, so this bound is never what stops it.
    const roundsMax = this.#pending.length + 1;
    for (let round = 0; round < roundsMax && this.#pending.length > 0; round++) this.flush();
    this.#syncNow();
  }

  /** Stops accepting operations and commits what is waiting (graceful shutdown). */
  close(): void {
    this.#closed = true;
    if (this.#immediate) clearImmediate(this.#immediate);
    this.#immediate = undefined;
    this.drain();
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#options.walSync?.close?.();
  }
}
