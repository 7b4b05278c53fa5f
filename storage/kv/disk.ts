import { immediateTransaction, openDatabase, type Db } from "../db.ts";
import type { Kv } from "./types.ts";

export interface DiskKvOptions {
  /** The libSQL file (`DATA_DIR/sessions.db`); several stores may share it, each in its own table. */
  path: string;
  /** Table of this store: one store per table, so each has its own bound. */
  table: string;
  /** Bound on stored keys; when full, an expired key goes first, else the oldest. */
  keysMax: number;
  busyTimeoutMs?: number;
  now?: () => number;
  sweepIntervalMs?: number;
  /** Expired rows deleted per sweep step; a sweep takes at most `SWEEP_STEPS_MAX` steps. */
  sweepBatchMax?: number;
}

const TABLE_NAME = /^[a-z][a-z0-9_]{0,31}$/;
/** Steps of one sweep (see `startSweeper`). */
const SWEEP_STEPS_MAX = 20;
/** The store's page cache: small, it holds sessions and nonces, not bets. */
const CACHE_KIB = 8192;

/**
 * The embedded default's store of sessions and nonces: a table in a libSQL file of its own, so
 * they survive a restart. It is not the money database: its writes do not queue behind bets in
 * the batch queue (ADR-005) and they are not fsynced per commit (`synchronous=NORMAL` in WAL: a
 * process crash loses nothing, a power cut may lose the last sign-ins, which then sign in again).
 * Each call is one SQLite statement or one short `BEGIN IMMEDIATE` transaction, so calls are
 * atomic across every process that opens the file, as Redis commands are.
 *
 * The key count of each table is kept by triggers in `kv_counts`, so the bound is exact and cheap.
 */
export function createDiskKv(options: DiskKvOptions): Kv {
  if (!TABLE_NAME.test(options.table)) throw new Error(`disk kv table name "${options.table}" is not a plain identifier`);
  if (!Number.isSafeInteger(options.keysMax) || options.keysMax < 1) throw new Error("disk kv keysMax must be a positive integer");
  const now = options.now ?? Date.now;
  const db = openDatabase(options.path, { busyTimeoutMs: options.busyTimeoutMs ?? 5000, synchronous: "NORMAL" });
  db.exec(`PRAGMA cache_size = -${CACHE_KIB}`);
  const s = prepare(db, options.table);
  const sweepBatchMax = options.sweepBatchMax ?? 500;

  const write = <T>(fn: () => T): T => immediateTransaction(db, fn);
  /** Makes room for one more key: an expired one goes first, else the oldest (lowest rowid). */
  const evictIfFull = (t: number) => {
    const { n } = s.count.get() as { n: number };
    if (n < options.keysMax) return;
    if (s.evictExpired.run(t).changes === 0) s.evictOldest.run();
  };
  const expiresAt = (t: number, ttlMs: number | undefined) => (ttlMs === undefined ? null : t + Math.max(1, Math.ceil(ttlMs)));

  const sweeper = startSweeper({
    intervalMs: options.sweepIntervalMs ?? 30_000,
    now,
    step: (t) => s.sweep.run(t, sweepBatchMax).changes === sweepBatchMax,
  });

  return {
    kind: "disk",
    async get(key) {
      const row = s.get.get(key, now()) as { value: string } | undefined;
      return row?.value ?? null;
    },
    async set(key, value, ttlMs) {
      const t = now();
      write(() => {
        if (!s.exists.get(key)) evictIfFull(t);
        s.upsert.run(key, value, expiresAt(t, ttlMs));
      });
    },
    async setIfAbsent(key, value, ttlMs) {
      const t = now();
      return write(() => {
        s.deleteIfExpired.run(key, t);
        if (s.exists.get(key)) return false;
        evictIfFull(t);
        return s.insert.run(key, value, expiresAt(t, ttlMs)).changes === 1;
      });
    },
    async take(key) {
      // One DELETE … RETURNING: of concurrent takers, in any process, exactly one gets the row.
      const row = s.take.get(key) as { value: string; expires_at: number | null } | undefined;
      if (!row || (row.expires_at !== null && row.expires_at <= now())) return null;
      return row.value;
    },
    async del(key) {
      s.del.run(key);
    },
    async incr(key, ttlMs, by = 1) {
      const t = now();
      return write(() => {
        if (!s.exists.get(key)) evictIfFull(t);
        const row = s.incr.get(key, String(by), expiresAt(t, ttlMs), t, by) as { value: string };
        return Number(row.value);
      });
    },
    async ping() {
      try {
        return (s.ping.get() as { ok: number }).ok === 1;
      } catch {
        return false;
      }
    },
    async close() {
      sweeper.stop();
      db.close();
    },
  };
}


/**
 * Every `intervalMs`, one sweep of up to `SWEEP_STEPS_MAX` steps; `step` deletes one batch of
 * expired rows and says whether a full batch went (then more may be left). Each step is its own
 * turn of the event loop, so requests run in between.
 */
function startSweeper(o: { intervalMs: number; now: () => number; step: (t: number) => boolean }): { stop(): void } {
  let stopped = false;
  let sweeping = false;
  const run = (t: number, stepIndex: number) => {
    if (stopped) return void (sweeping = false);
    let more = false;
    try {
      more = o.step(t);
    } catch {
      // Busy (another process holds the file): the next sweep tries again; reads ignore expired rows anyway.
    }
    if (more && stepIndex + 1 < SWEEP_STEPS_MAX) setImmediate(run, t, stepIndex + 1);
    else sweeping = false;
  };
  const timer = setInterval(() => {
    if (sweeping) return;
    sweeping = true;
    run(o.now(), 0);
  }, o.intervalMs);
  timer.unref();
  return {
    stop() {
      stopped = true;
      clearInterval(timer);
    },
  };
}

function prepare(db: Db, table: string) {
  const live = "(expires_at IS NULL OR expires_at > ?)";
  db.exec(`
    CREATE TABLE IF NOT EXISTS kv_counts (tbl TEXT PRIMARY KEY, n INTEGER NOT NULL);
    BEGIN IMMEDIATE;
    CREATE TABLE IF NOT EXISTS ${table} (key TEXT NOT NULL UNIQUE, value TEXT NOT NULL, expires_at INTEGER);
    CREATE INDEX IF NOT EXISTS ${table}_expires ON ${table} (expires_at) WHERE expires_at IS NOT NULL;
    INSERT OR IGNORE INTO kv_counts (tbl, n) VALUES ('${table}', (SELECT count(*) FROM ${table}));
    CREATE TRIGGER IF NOT EXISTS ${table}_counted_in AFTER INSERT ON ${table}
      BEGIN UPDATE kv_counts SET n = n + 1 WHERE tbl = '${table}'; END;
    CREATE TRIGGER IF NOT EXISTS ${table}_counted_out AFTER DELETE ON ${table}
      BEGIN UPDATE kv_counts SET n = n - 1 WHERE tbl = '${table}'; END;
    COMMIT;
  `);
  return {
    count: db.prepare(`SELECT n FROM kv_counts WHERE tbl = '${table}'`),
    get: db.prepare(`SELECT value FROM ${table} WHERE key = ? AND ${live}`),
    exists: db.prepare(`SELECT 1 AS x FROM ${table} WHERE key = ?`),
    upsert: db.prepare(
      `INSERT INTO ${table} (key, value, expires_at) VALUES (?, ?, ?)
       ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at`,
    ),
    insert: db.prepare(`INSERT OR IGNORE INTO ${table} (key, value, expires_at) VALUES (?, ?, ?)`),
    deleteIfExpired: db.prepare(`DELETE FROM ${table} WHERE key = ? AND expires_at IS NOT NULL AND expires_at <= ?`),
    take: db.prepare(`DELETE FROM ${table} WHERE key = ? RETURNING value, expires_at`),
    del: db.prepare(`DELETE FROM ${table} WHERE key = ?`),
    // An expired counter starts again at `by` with a fresh TTL; a live one keeps its TTL (INCRBY + PEXPIRE NX).
    incr: db.prepare(
      `INSERT INTO ${table} (key, value, expires_at) VALUES (?, ?, ?)
       ON CONFLICT (key) DO UPDATE SET
         value = CASE WHEN expires_at IS NOT NULL AND expires_at <= ?4 THEN excluded.value
                      ELSE CAST(CAST(value AS INTEGER) + ?5 AS TEXT) END,
         expires_at = CASE WHEN expires_at IS NOT NULL AND expires_at <= ?4 THEN excluded.expires_at ELSE expires_at END
       RETURNING value`,
    ),
    evictExpired: db.prepare(
      `DELETE FROM ${table} WHERE rowid = (SELECT rowid FROM ${table} WHERE expires_at IS NOT NULL AND expires_at <= ? ORDER BY expires_at LIMIT 1)`,
    ),
    evictOldest: db.prepare(`DELETE FROM ${table} WHERE rowid = (SELECT min(rowid) FROM ${table})`),
    sweep: db.prepare(
      `DELETE FROM ${table} WHERE rowid IN (SELECT rowid FROM ${table} WHERE expires_at IS NOT NULL AND expires_at <= ? LIMIT ?)`,
    ),
    ping: db.prepare("SELECT 1 AS ok"),
  };
}
