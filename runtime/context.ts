import { join } from "node:path";
import type { H3Event } from "h3";
import type { Config } from "./config.ts";
import { createLogger, type Logger } from "./logger.ts";
import { createMetrics, type Metrics } from "./metrics.ts";
import { CURRENT_MIGRATIONS_DIR, HISTORY_MIGRATIONS_DIR, migrate, openDatabase, type Db } from "../storage/db.ts";
import { BatchQueue } from "../storage/batch-queue.ts";
import { createMemoryKv, createRedisKv, type Kv } from "../storage/kv/index.ts";
import { createMemoryBus, createRedisBus, type Bus } from "../storage/bus/index.ts";
import type { ModuleLifecycle, InstallModule, Services } from "../services/types.ts";

/** A readiness check answers "ok", "not_configured", or a short reason it is not ready. */
export type ReadyCheck = () => string | Promise<string>;

export interface AppContext {
  config: Config;
  log: Logger;
  metrics: Metrics;
  /** The current-week database (read-write; all writes go through `queue`). */
  db: Db;
  /** The historical database, read-only (`PRAGMA query_only=ON`). */
  history: Db;
  queue: BatchQueue;
  kv: Kv;
  bus: Bus;
  now: () => number;
  services: Services;
  readyChecks: Map<string, ReadyCheck>;
}

export interface ContextOptions {
  /** Injected clock for deterministic tests. */
  now?: () => number;
  /** Modules to install, in order; defaults to the full service (services/index.ts). */
  modules?: InstallModule[];
  logger?: Logger;
}

export interface BootedContext {
  ctx: AppContext;
  start(): Promise<void>;
  /** Stops modules, flushes the queue, closes databases and connections. Idempotent. */
  close(): Promise<void>;
  /** Lets modules close long-lived connections at the start of shutdown (ModuleLifecycle.drain). */
  drain(): Promise<void>;
}

export function databasePaths(config: Config) {
  return { current: join(config.DATA_DIR, "current.db"), history: join(config.DATA_DIR, "history.db") };
}

/** Opens storage, applies migrations and installs the modules: everything but HTTP. */
export async function createContext(config: Config, options: ContextOptions = {}): Promise<BootedContext> {
  const log = options.logger ?? createLogger(config.LOG_LEVEL);
  const metrics = createMetrics();
  const paths = databasePaths(config);
  const dbOptions = { busyTimeoutMs: config.DB_BUSY_TIMEOUT_MS, synchronous: config.DB_SYNCHRONOUS };
  const db = openDatabase(paths.current, dbOptions);
  migrate(db, CURRENT_MIGRATIONS_DIR);
  // Migrations of the history file run on a short-lived writable connection; the API keeps a query-only one.
  const historyWriter = openDatabase(paths.history, dbOptions);
  migrate(historyWriter, HISTORY_MIGRATIONS_DIR);
  historyWriter.close();
  const history = openDatabase(paths.history, { ...dbOptions, queryOnly: true });

  const queue = new BatchQueue({
    db,
    flushIntervalMs: config.BATCH_FLUSH_INTERVAL_MS,
    batchSizeMax: config.BATCH_SIZE_MAX,
    queueLengthMax: config.BATCH_QUEUE_MAX,
    metrics,
    onBatchError: (error) => log.error({ err: error }, "batch transaction failed"),
  });
  const kv = config.REDIS_URL ? createRedisKv({ url: config.REDIS_URL, prefix: config.REDIS_PREFIX }) : createMemoryKv();
  const bus = config.REDIS_URL
    ? createRedisBus({
        url: config.REDIS_URL,
        prefix: config.REDIS_PREFIX,
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
    bus,
    now: options.now ?? Date.now,
    services: {} as Services,
    readyChecks: new Map(),
  };
  ctx.readyChecks.set("db", () => (queueWritable(ctx) ? "ok" : "database not writable"));
  ctx.readyChecks.set("redis", async () => {
    if (!config.REDIS_URL) return "not_configured";
    return (await kv.ping()) && (await bus.ping()) ? "ok" : "redis unreachable";
  });

  const modules = options.modules ?? (await import("../services/index.ts")).MODULES;
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
        queue.close();
        db.close();
        history.close();
        await kv.close();
        await bus.close();
      })();
      return closing;
    },
  };
}

function queueWritable(ctx: AppContext): boolean {
  try {
    // A write-lock probe outside the queue would race its transaction; ask SQLite for the lock only
    // when the queue is idle, otherwise the queue committing proves the database writable.
    if (ctx.db.inTransaction) return true;
    ctx.db.exec("BEGIN IMMEDIATE; ROLLBACK");
    return true;
  } catch {
    return false;
  }
}

declare module "h3" {
  interface H3EventContext {
    app: AppContext;
    requestId: string;
    bodyLimitBytes: number;
  }
}

/** The app context of a request (set by the runtime for every event). */
export function useApp(event: H3Event): AppContext {
  return event.context.app;
}
