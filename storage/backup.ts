import Database from "libsql";
import { closeSync, existsSync, fsyncSync, linkSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/**
 * Online backups of the current-week and the historical database (issue 24).
 *
 * A copy is `VACUUM INTO` on a connection of its own that only reads the source: SQLite copies one
 * read snapshot of the WAL database (what was committed when it began), while the writer goes on
 * committing into the WAL — readers never block the writer in WAL mode, and the snapshot is held
 * only for the copy itself (`snapshotMs`). Each copy is fsynced, then verified before it counts:
 * `PRAGMA integrity_check` on the copy, the schema version, and for every append-only table the
 * row count and the sum of its money or price column up to the copy's newest key, compared with the
 * source's rows up to that same key (the source "at the backup's point"). A backup is a directory
 * `<root>/<UTC stamp>` holding the copies and `manifest.json`; it is written as `<stamp>.partial`
 * and renamed only once verified, so a directory without the suffix is complete.
 */

export const BACKED_UP_FILES = ["current.db", "history.db"] as const;
export const MANIFEST = "manifest.json";
const STAMP = /^\d{8}T\d{6}Z$/;
/** A `.partial` directory older than this is what a crashed backup left behind. */
const PARTIAL_ABANDONED_MS = 6 * 3_600_000;

/** Tables whose rows are only added (the archiver moves whole weeks out), by a key that only grows. */
const APPEND_ONLY = [
  // Transfers sum to 0 by construction: the size of each entry is what a lost row would change.
  { table: "ledger_entries", key: "id", sum: "abs(amount_micro_usd)" },
  { table: "bets", key: "id", sum: "stake_micro_usd" },
  { table: "price_ticks", key: "t", sum: "price_cents" },
  { table: "stale_gaps", key: "id", sum: "start_at" },
] as const;

export interface TableFigures {
  rows: number;
  sum: number;
  /** The newest key in the copy: the source is compared up to it. */
  maxKey: number | null;
}

export interface FileReport {
  bytes: number;
  /** How long the copy held its read snapshot of the source (VACUUM INTO). */
  snapshotMs: number;
  verifyMs: number;
  userVersion: number;
  tables: Record<string, TableFigures>;
  /** Accounts and the sum of their balances (current.db: 0, the double-entry invariant). */
  accounts?: { rows: number; balanceSum: number };
  /** The source did not change since this earlier backup: its verified copy was hard-linked. */
  sameAs?: string;
  /** Size and mtime of the source file and its WAL when copied (to see that nothing changed since). */
  sourceStamp: string;
}

export interface BackupManifest {
  stamp: string;
  takenAt: number;
  files: Record<string, FileReport>;
}

export class BackupVerificationError extends Error {}

const ms = (from: number) => Math.round(performance.now() - from);

/** `YYYYMMDDTHHMMSSZ` of an epoch ms (the name of a backup directory, as scripts/archive.sh names its own). */
export function backupStamp(epochMs: number): string {
  return new Date(epochMs).toISOString().replace(/[-:]/g, "").replace(/\.\d{3}Z$/, "Z");
}

export function stampTime(stamp: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(stamp);
  if (!m) throw new Error(`not a backup stamp: ${stamp}`);
  return Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!);
}

function fsyncPath(path: string): void {
  const fd = openSync(path, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Size and mtime of a database file and its WAL: any commit (or checkpoint) changes one of them. */
function sourceStamp(path: string): string {
  const part = (p: string) => (existsSync(p) ? `${statSync(p).size}@${statSync(p, { bigint: true }).mtimeNs}` : "-");
  return `${part(path)} wal ${part(`${path}-wal`)}`;
}

function openReader(path: string, busyTimeoutMs: number) {
  const db = new Database(path);
  db.exec(`PRAGMA busy_timeout = ${Math.trunc(busyTimeoutMs)}`);
  return db;
}

type Reader = ReturnType<typeof openReader>;

function userVersion(db: Reader): number {
  return Number((db.prepare("PRAGMA user_version").get() as { user_version: number }).user_version);
}

function hasTable(db: Reader, table: string): boolean {
  return db.prepare("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?").get(table) !== undefined;
}

/** The newest key of each append-only table (an index lookup each). */
function newestKeys(db: Reader): Record<string, number | null> {
  const out: Record<string, number | null> = {};
  for (const { table, key } of APPEND_ONLY) {
    if (hasTable(db, table)) out[table] = (db.prepare(`SELECT max(${key}) AS k FROM ${table}`).get() as { k: number | null }).k;
  }
  return out;
}

/** Whether a database is still as it was when `before` was copied: same file and WAL size and mtime, same newest keys. */
function unchangedSince(path: string, before: FileReport, busyTimeoutMs: number): boolean {
  if (before.sourceStamp !== sourceStamp(path)) return false;
  const db = openReader(path, busyTimeoutMs);
  try {
    db.exec("PRAGMA query_only = ON");
    const keys = newestKeys(db);
    const version = userVersion(db);
    return version === before.userVersion && Object.entries(before.tables).every(([table, figures]) => keys[table] === figures.maxKey) && Object.keys(keys).length === Object.keys(before.tables).length;
  } finally {
    db.close();
  }
}

/** Count and sum of each append-only table, all rows or (`upTo`) those with a key up to the given one. */
function tableFigures(db: Reader, upTo?: Record<string, TableFigures>): Record<string, TableFigures> {
  const out: Record<string, TableFigures> = {};
  for (const { table, key, sum } of APPEND_ONLY) {
    if (!hasTable(db, table)) continue;
    const bound = upTo?.[table]?.maxKey;
    const where = upTo ? (bound === null || bound === undefined ? "WHERE 0" : `WHERE ${key} <= ${Math.trunc(bound)}`) : "";
    // total(): a float sum that cannot overflow; both sides add the same rows in key order, so equal data gives equal sums.
    const row = db.prepare(`SELECT count(*) AS n, total(${sum}) AS s, max(${key}) AS k FROM ${table} ${where}`).get() as { n: number; s: number; k: number | null };
    out[table] = { rows: row.n, sum: row.s, maxKey: row.k };
  }
  return out;
}

/**
 * Checks a copy against its source: integrity, schema version, every append-only table up to the
 * copy's newest key, and (current.db) the accounts up to the copy's newest account id with their
 * balances summing to 0. Throws BackupVerificationError naming what differs.
 */
export function verifyCopy(sourcePath: string, copyPath: string, busyTimeoutMs = 5000): Omit<FileReport, "snapshotMs" | "verifyMs" | "sourceStamp"> {
  const copy = openReader(copyPath, busyTimeoutMs);
  const source = openReader(sourcePath, busyTimeoutMs);
  try {
    copy.exec("PRAGMA query_only = ON");
    source.exec("PRAGMA query_only = ON");
    const problems: string[] = [];
    const check = (copy.prepare("PRAGMA integrity_check").all() as { integrity_check: string }[]).map((r) => r.integrity_check);
    if (check.join() !== "ok") throw new BackupVerificationError(`${copyPath}: integrity_check says ${check.slice(0, 5).join("; ")}`);
    const version = userVersion(copy);
    const sourceVersion = userVersion(source);
    if (version !== sourceVersion) problems.push(`schema version ${version} in the copy, ${sourceVersion} in the source`);
    const tables = tableFigures(copy);
    const atPoint = tableFigures(source, tables);
    for (const [table, mine] of Object.entries(tables)) {
      const theirs = atPoint[table];
      if (!theirs || theirs.rows !== mine.rows || theirs.sum !== mine.sum)
        problems.push(`${table} up to ${mine.maxKey}: ${mine.rows} rows summing to ${mine.sum} in the copy, ${theirs?.rows} rows summing to ${theirs?.sum} in the source`);
    }
    let accounts: FileReport["accounts"];
    if (hasTable(copy, "accounts")) {
      const row = copy.prepare("SELECT count(*) AS n, coalesce(sum(balance_micro_usd), 0) AS s, coalesce(max(id), 0) AS k FROM accounts").get() as { n: number; s: number; k: number };
      const inSource = source.prepare("SELECT count(*) AS n FROM accounts WHERE id <= ?").get(row.k) as { n: number };
      if (row.s !== 0) problems.push(`account balances sum to ${row.s} in the copy, not 0`);
      if (inSource.n !== row.n) problems.push(`${row.n} accounts in the copy, ${inSource.n} up to id ${row.k} in the source`);
      accounts = { rows: row.n, balanceSum: row.s };
    }
    if (problems.length > 0) throw new BackupVerificationError(`${copyPath} does not match its source: ${problems.join("; ")}`);
    return { bytes: statSync(copyPath).size, userVersion: version, tables, accounts };
  } finally {
    copy.close();
    source.close();
  }
}

/** One consistent copy of a live database (VACUUM INTO on a connection that only reads it), fsynced. */
export function snapshotDatabase(sourcePath: string, copyPath: string, busyTimeoutMs = 5000): { snapshotMs: number; sourceStamp: string } {
  const reader = openReader(sourcePath, busyTimeoutMs);
  try {
    const stamp = sourceStamp(sourcePath);
    const started = performance.now();
    reader.prepare("VACUUM INTO ?").run(copyPath);
    const snapshotMs = ms(started);
    fsyncPath(copyPath);
    return { snapshotMs, sourceStamp: stamp };
  } finally {
    reader.close();
  }
}

/**
 * Backs up every database of `dataDir` into `targetDir` (which must not exist yet), verifying each
 * copy. A file unchanged since `previous` (same size and mtime of the file and its WAL: history.db
 * between two weekly archives) is hard-linked to that backup's verified copy instead of copied again.
 * Writes the manifest last.
 */
export function backupInto(dataDir: string, targetDir: string, options: { busyTimeoutMs?: number; now?: number; previous?: { dir: string; manifest: BackupManifest } } = {}): BackupManifest {
  if (existsSync(targetDir)) throw new Error(`${targetDir} exists; refusing to overwrite a backup`);
  mkdirSync(targetDir, { recursive: true });
  const takenAt = options.now ?? Date.now();
  const files: Record<string, FileReport> = {};
  for (const name of BACKED_UP_FILES) {
    const source = join(dataDir, name);
    if (!existsSync(source)) continue;
    const target = join(targetDir, name);
    const before = options.previous?.manifest.files[name];
    if (before && options.previous && existsSync(join(options.previous.dir, name)) && unchangedSince(source, before, options.busyTimeoutMs ?? 5000)) {
      linkSync(join(options.previous.dir, name), target);
      files[name] = { ...before, snapshotMs: 0, verifyMs: 0, sameAs: before.sameAs ?? options.previous.manifest.stamp };
      continue;
    }
    const { snapshotMs, sourceStamp: stamp } = snapshotDatabase(source, target, options.busyTimeoutMs);
    const started = performance.now();
    const verified = verifyCopy(source, target, options.busyTimeoutMs);
    files[name] = { ...verified, snapshotMs, verifyMs: ms(started), sourceStamp: stamp };
  }
  const manifest: BackupManifest = { stamp: targetDir.split("/").pop()!.replace(/\.partial$/, ""), takenAt, files };
  writeFileSync(join(targetDir, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
  fsyncPath(join(targetDir, MANIFEST));
  fsyncPath(targetDir);
  return manifest;
}

export interface BackupEntry {
  stamp: string;
  dir: string;
  takenAt: number;
}

/** Complete backups under `root` (a stamp directory with a manifest), newest first. */
export function listBackups(root: string): BackupEntry[] {
  if (!existsSync(root)) return [];
  return readdirSync(root)
    .filter((name) => STAMP.test(name) && existsSync(join(root, name, MANIFEST)))
    .map((stamp) => ({ stamp, dir: join(root, stamp), takenAt: stampTime(stamp) }))
    .sort((a, b) => b.takenAt - a.takenAt);
}

export function readManifest(dir: string): BackupManifest {
  return JSON.parse(readFileSync(join(dir, MANIFEST), "utf8")) as BackupManifest;
}

/** Takes a verified backup into `<root>/<stamp>`: written as `.partial`, renamed once verified; a failed one is removed. */
export function takeBackup(dataDir: string, root: string, options: { busyTimeoutMs?: number; now?: number } = {}): BackupManifest & { dir: string } {
  const now = options.now ?? Date.now();
  const stamp = backupStamp(now);
  const dir = join(root, stamp);
  if (existsSync(dir)) throw new Error(`a backup named ${stamp} exists already`);
  const partial = `${dir}.partial`;
  const newest = listBackups(root)[0];
  let previous: { dir: string; manifest: BackupManifest } | undefined;
  try {
    if (newest) previous = { dir: newest.dir, manifest: readManifest(newest.dir) };
  } catch {
    previous = undefined; // an unreadable manifest: copy everything again
  }
  try {
    const manifest = backupInto(dataDir, partial, { ...options, now, previous });
    renameSync(partial, dir);
    fsyncPath(root);
    return { ...manifest, dir };
  } catch (error) {
    rmSync(partial, { recursive: true, force: true });
    throw error;
  }
}

/**
 * Which backups retention removes: the newest `keepRecent` stay, and so does the newest backup of
 * each of the last `keepDaily` UTC days (today included). Pure: `stamps` in any order.
 */
export function backupsToPrune(stamps: string[], nowMs: number, keepRecent: number, keepDaily: number): string[] {
  const sorted = [...stamps].sort((a, b) => stampTime(b) - stampTime(a));
  const keep = new Set(sorted.slice(0, Math.max(1, keepRecent)));
  const today = Math.floor(nowMs / 86_400_000);
  const daysSeen = new Set<number>();
  for (const stamp of sorted) {
    const day = Math.floor(stampTime(stamp) / 86_400_000);
    if (today - day >= keepDaily || daysSeen.has(day)) continue;
    daysSeen.add(day);
    keep.add(stamp);
  }
  return sorted.filter((s) => !keep.has(s));
}

/** Applies retention under `root`, and removes `.partial` directories a crashed backup left; returns what it removed. */
export function pruneBackups(root: string, nowMs: number, keepRecent: number, keepDaily: number): string[] {
  const removed = backupsToPrune(listBackups(root).map((b) => b.stamp), nowMs, keepRecent, keepDaily);
  for (const stamp of removed) rmSync(join(root, stamp), { recursive: true, force: true });
  if (existsSync(root)) {
    for (const name of readdirSync(root)) {
      const stamp = name.replace(/\.partial$/, "");
      if (name === stamp || !STAMP.test(stamp) || nowMs - stampTime(stamp) < PARTIAL_ABANDONED_MS) continue;
      rmSync(join(root, name), { recursive: true, force: true });
      removed.push(name);
    }
  }
  return removed;
}
