import Database from "libsql";
import { mkdirSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export type Db = InstanceType<typeof Database>;

export interface OpenOptions {
  busyTimeoutMs: number;
  /**
   * FULL (default): every commit is fsynced before its promises resolve, so an acknowledged bet
   * survives a power cut as well as a crash. Batching (ADR-005) makes that affordable: one fsync
   * per batch, not per bet. NORMAL survives a process crash (kill -9) but may lose the last
   * commits on power loss; it is offered for benchmarks and non-money deployments.
   */
  synchronous: "FULL" | "NORMAL";
  /** Reject writes on this connection (the API's view of the historical database). */
  queryOnly?: boolean;
}

const here = dirname(fileURLToPath(import.meta.url));
export const CURRENT_MIGRATIONS_DIR = join(here, "migrations");
export const HISTORY_MIGRATIONS_DIR = join(here, "history-migrations");

/** Opens a libSQL file in WAL mode with an explicit busy timeout (libsql defaults to 0). */
export function openDatabase(path: string, options: OpenOptions): Db {
  if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  db.exec(`PRAGMA busy_timeout = ${Math.trunc(options.busyTimeoutMs)}`);
  db.exec("PRAGMA journal_mode = WAL");
  db.exec(`PRAGMA synchronous = ${options.synchronous}`);
  db.exec("PRAGMA foreign_keys = ON");
  db.exec("PRAGMA temp_store = MEMORY");
  db.exec("PRAGMA cache_size = -65536");
  if (options.queryOnly) db.exec("PRAGMA query_only = ON");
  return db;
}

/**
 * Applies numbered `NNN_name.sql` files from `dir` that are newer than `PRAGMA user_version`,
 * each in its own transaction. Returns the versions applied.
 */
export function migrate(db: Db, dir: string): number[] {
  const current = Number((db.prepare("PRAGMA user_version").get() as { user_version: number }).user_version);
  const files = readdirSync(dir)
    .filter((f) => /^\d{3}_[\w-]+\.sql$/.test(f))
    .sort();
  const applied: number[] = [];
  for (const file of files) {
    const version = Number(file.slice(0, 3));
    if (version <= current) continue;
    const sql = readFileSync(join(dir, file), "utf8");
    db.exec("BEGIN IMMEDIATE");
    try {
      // Two processes starting at once on one DATA_DIR (a failover pair): the other may have applied
      // it while this one waited for the write lock.
      if (Number((db.prepare("PRAGMA user_version").get() as { user_version: number }).user_version) >= version) {
        db.exec("ROLLBACK");
        continue;
      }
      db.exec(sql);
      db.exec(`PRAGMA user_version = ${version}`);
      db.exec("COMMIT");
    } catch (error) {
      db.exec("ROLLBACK");
      throw new Error(`migration ${file} failed: ${(error as Error).message}`);
    }
    applied.push(version);
  }
  return applied;
}

/** Runs `fn` in a `BEGIN IMMEDIATE` transaction: the write lock first, so the reads inside see the final state. */
export function immediateTransaction<T>(db: Db, fn: () => T): T {
  db.exec("BEGIN IMMEDIATE");
  try {
    const result = fn();
    db.exec("COMMIT");
    return result;
  } catch (error) {
    if (db.inTransaction) db.exec("ROLLBACK");
    throw error;
  }
}

/**
 * Prepared statements per connection, built once on first use: `const stmts = statementCache((db) => ({ … }))`.
 * Preparing per call would re-parse the SQL on every write of the hot path.
 */
export function statementCache<T>(prepare: (db: Db) => T): (db: Db) => T {
  const cache = new WeakMap<Db, T>();
  return (db) => {
    let statements = cache.get(db);
    if (!statements) cache.set(db, (statements = prepare(db)));
    return statements;
  };
}

/** Where the current-week and historical databases live under the data directory (ADR-006). */
export function databasePaths(config: { DATA_DIR: string }) {
  return { current: join(config.DATA_DIR, "current.db"), history: join(config.DATA_DIR, "history.db") };
}
