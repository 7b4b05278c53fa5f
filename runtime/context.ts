import { join } from "node:path";
import type { H3Event } from "h3";
import type { Config } from "./config.ts";
import { createLogger, type Logger } from "./logger.ts";
import { createMetrics, type Metrics } from "./metrics.ts";
import { CURRENT_MIGRATIONS_DIR, HISTORY_MIGRATIONS_DIR, migrate, openDatabase, type Db } from "../storage/db.ts";
import { BatchQueue } from "../storage/batch-queue.ts";
import { ThreadWriter } from "../storage/thread-writer.ts";
import { InlineWriter, type Writer } from "../storage/writer.ts";
import { COMMAND_ERRORS, COMMANDS, writerHooks, type Commands } from "../services/commands.ts";
import type { WriterThreadData } from "./writer-thread.ts";
import { moduleUrl } from "../storage/workers.ts";
import { createRedisKv, openEmbeddedKv, type Kv } from "../storage/kv/index.ts";
import { createMemoryBus, createRedisBus, type Bus } from "../storage/bus/index.ts";
import type { AppContext, ModuleLifecycle, InstallModule, ReadyCheck, Services } from "../services/types.ts";
import { databasePaths } from "../storage/db.ts";
import { registerReadinessMetrics } from "./readiness.ts";
import { registerDiskMetrics } from "./disk-metrics.ts";
import { LeaseLostError } from "../storage/lease.ts";
import { processHolder, WRITER_LEASE } from "./lease-keeper.ts";

export { useApp, type AppContext, type ReadyCheck } from "../services/types.ts";
export { databasePaths } from "../storage/db.ts";

export interface ContextOptions {
  /** Injected clock for deterministic tests. */
  now?: () => number;
  /** Modules to install, in order; defaults to the full service (services/index.ts). */
  modules?: InstallModule[];
  logger?: Logger;
  /** The writer thread died: nothing can be written any more (the server exits so systemd restarts it). */
  onFatal?: (error: Error) => void;
  /** LEASE=on: a transaction found the lease held by another process (the fence refused it). */
  onLeaseLost?: (error: Error) => void;
}

export interface BootedContext {
  ctx: AppContext;
  start(): Promise<void>;
  /** Stops modules, flushes the queue, closes databases and connections. Idempotent. */
  close(): Promise<void>;
  /** Lets modules close long-lived connections at the start of shutdown (ModuleLifecycle.drain). */
  drain(): Promise<void>;
}

/** Opens storage, applies migrations and installs the modules: everything but HTTP. */
export async function createContext(config: Config, options: ContextOptions = {}): Promise<BootedContext> {
  const log = options.logger ?? createLogger(config.LOG_LEVEL);
  const metrics = createMetrics();
  // An edge (ROLE=edge, SPEC §11) holds no database and no writer: the money lives in the core only.
  const { db, history, queue, writerFailed, closeStorage } = config.ROLE === "edge" ? noStorage() : await openStorage(config, log, metrics, options);
  const redisLimits = { commandTimeoutMs: config.REDIS_COMMAND_TIMEOUT_MS, pendingMax: config.REDIS_PENDING_MAX };
  const embedded = config.REDIS_URL
    ? undefined
    : openEmbeddedKv({
        dataDir: config.DATA_DIR,
        mode: config.SESSION_STORE,
        sessionsMax: config.SESSIONS_MAX,
        noncesMax: config.NONCES_MAX,
        busyTimeoutMs: config.DB_BUSY_TIMEOUT_MS,
      });
  const kv = config.REDIS_URL
    ? createRedisKv({
        url: config.REDIS_URL,
        prefix: config.REDIS_PREFIX,
        limits: redisLimits,
        onError: (error) => log.warn({ err: error.message }, "redis store error"),
      })
    : embedded!.kv;
  const nonceKv = embedded?.nonces ?? kv;
  const bus = config.REDIS_URL
    ? createRedisBus({
        url: config.REDIS_URL,
        prefix: config.REDIS_PREFIX,
        limits: redisLimits,
        onError: (error) => log.warn({ err: error.message }, "redis bus error"),
      })
    : createMemoryBus();

  const ctx: AppContext = {
    config,
    log,
    metrics,
    db,
    history,
    queue,
    kv,
    nonceKv,
    bus,
    now: options.now ?? Date.now,
    services: {} as Services,
    readyChecks: new Map(),
  };
  registerReadinessMetrics(metrics, ctx.readyChecks);
  if (config.ROLE !== "edge") {
    metrics.batchQueueMax.set(config.BATCH_QUEUE_MAX);
    registerDiskMetrics(metrics, [
      { volume: "data", path: config.DATA_DIR },
      { volume: "backups", path: config.BACKUP_DIR },
    ]);
    ctx.readyChecks.set("db", async () => {
      if (writerFailed()) return "writer failed";
      return probeDatabase(ctx.queue, ctx.now());
    });
  }
  ctx.readyChecks.set("redis", async () => {
    if (!config.REDIS_URL) return "not_configured";
    const [kvUp, busUp] = await Promise.all([kv.ping(), bus.ping()]);
    return kvUp && busUp ? "ok" : "redis unreachable";
  });

  const modules = options.modules ?? (await import("../services/index.ts")).MODULES[config.ROLE];
  const lifecycles: ModuleLifecycle[] = [];
  for (const install of modules) lifecycles.push(install(ctx) ?? {});

  let closing: Promise<void> | undefined;
  return {
    ctx,
    async start() {
      for (const lifecycle of lifecycles) await lifecycle.start?.();
    },
    async drain() {
      for (const lifecycle of [...lifecycles].reverse()) {
        try {
          await lifecycle.drain?.();
        } catch (error) {
          log.error({ err: error }, "module failed to drain");
        }
      }
    },
    close() {
      closing ??= (async () => {
        for (const lifecycle of [...lifecycles].reverse()) {
          try {
            await lifecycle.stop?.();
          } catch (error) {
            log.error({ err: error }, "module failed to stop cleanly");
          }
        }
        await closeStorage();
        await kv.close();
        if (nonceKv !== kv) await nonceKv.close();
        await bus.close();
      })();
      return closing;
    },
  };
}

interface Storage {
  db: Db;
  history: Db;
  queue: Writer<Commands>;
  writerFailed: () => boolean;
  closeStorage: () => Promise<void>;
}

/** The current and history databases, migrated, and the write path (the writer thread by default). */
async function openStorage(config: Config, log: Logger, metrics: Metrics, options: ContextOptions): Promise<Storage> {
  const paths = databasePaths(config);
  const dbOptions = { busyTimeoutMs: config.DB_BUSY_TIMEOUT_MS, synchronous: config.DB_SYNCHRONOUS };
  const threaded = config.WRITER_MODE === "thread";
  const migrator = openDatabase(paths.current, dbOptions);
  migrate(migrator, CURRENT_MIGRATIONS_DIR);
  if (threaded) migrator.close();
  const db = threaded ? openDatabase(paths.current, { ...dbOptions, queryOnly: true }) : migrator;
  // Migrations of the history file run on a short-lived writable connection; the API keeps a query-only one.
  const historyWriter = openDatabase(paths.history, dbOptions);
  migrate(historyWriter, HISTORY_MIGRATIONS_DIR);
  historyWriter.close();
  const history = openDatabase(paths.history, { ...dbOptions, queryOnly: true });

  const queueOptions = {
    flushIntervalMs: config.BATCH_FLUSH_INTERVAL_MS,
    commitSpacingMs: config.BATCH_COMMIT_SPACING_MS,
    batchSizeMax: config.BATCH_SIZE_MAX,
    queueLengthMax: config.BATCH_QUEUE_MAX,
  };
  // LEASE=on: the writer checks in every transaction that this process (or, for a job process, the
  // holder that started it) still holds the lease.
  const lease = config.LEASE === "on" ? { name: WRITER_LEASE, holder: processHolder } : undefined;
  const onBatchError = (error: unknown) => {
    if (error instanceof LeaseLostError) {
      log.fatal({ err: error }, "the writer lease is another process's: this process must not write");
      options.onLeaseLost?.(error);
      return;
    }
    log.error({ err: error }, "batch transaction failed");
  };
  let writerFailed = false;
  const queue: Writer<Commands> = threaded
    ? await ThreadWriter.start<Commands>({
        entry: moduleUrl("./writer-thread.ts", import.meta.url),
        data: {
          path: paths.current,
          db: dbOptions,
          ...queueOptions,
          checkpointIntervalMs: config.DB_CHECKPOINT_INTERVAL_MS,
          walAutocheckpointPages: config.DB_WAL_AUTOCHECKPOINT_PAGES,
          ...(lease ? { lease } : {}),
        } satisfies WriterThreadData,
        queueLengthMax: config.BATCH_QUEUE_MAX,
        errorClasses: COMMAND_ERRORS,
        metrics,
        onBatchError,
        onFailure: (error) => {
          writerFailed = true;
          log.fatal({ err: error }, "the writer thread failed; nothing can be written");
          options.onFatal?.(error);
        },
      })
    : new InlineWriter(new BatchQueue({ db, ...queueOptions, metrics, onBatchError, transactionHooks: writerHooks(lease) }), COMMANDS);
  if (queue instanceof ThreadWriter && queue.osThreadId !== undefined) metrics.osThreads.set("writer", queue.osThreadId);
  return {
    db,
    history,
    queue,
    writerFailed: () => writerFailed,
    async closeStorage() {
      await queue.close();
      db.close();
      history.close();
    },
  };
}

/**
 * An edge's storage: none. Anything that reaches for the database or the writer there is a bug
 * (a core module installed on an edge) and fails loudly, naming what it wanted.
 */
function noStorage(): Storage {
  const absent = <T extends object>(what: string): T =>
    new Proxy({} as T, {
      get(_target, property) {
        if (property === "then") return undefined;
        throw new Error(`ROLE=edge has no ${what} (asked for ${String(property)})`);
      },
    });
  return { db: absent("database"), history: absent("history database"), queue: absent("writer"), writerFailed: () => false, closeStorage: async () => {} };
}

/**
 * A real write through the writer commits within a second: the probe row is rewritten, so a full
 * disk or an I/O error answers here (with its SQLite code) as it would for a bet.
 */
async function probeDatabase(queue: Writer<Commands>, nowMs: number): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<string>((resolve) => (timer = setTimeout(() => resolve("database write timed out"), READY_WRITE_TIMEOUT_MS)));
  const write = queue.run("health.probe", nowMs).then(
    () => "ok",
    (error: unknown) => `database not writable: ${(error as { code?: string }).code ?? (error as Error).message}`,
  );
  try {
    return await Promise.race([write, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

const READY_WRITE_TIMEOUT_MS = 1000;

