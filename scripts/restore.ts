/**
 * Brings a backup back into a data directory (issue 24); `scripts/restore.sh` runs it.
 *
 *   tsx scripts/restore.ts [--force] <BACKUP> <DATA_DIR>
 *
 * BACKUP is one backup directory (`…/backups/20261207T113500Z`) or a directory of them (the newest
 * complete one is taken). Steps, each printed:
 * 1. the backup is checked again: its manifest, `PRAGMA integrity_check` of each copy, and the row
 *    counts and sums of the manifest (a copy that rotted on disk since is refused);
 * 2. the data directory must not be in use: a process holding one of its databases open (a running
 *    server, a job) makes it refuse, unless `--force`;
 * 3. the copies go in as `<name>.restoring`, fsynced; what was there (the databases, their -wal and
 *    -shm, sessions.db) moves to `DATA_DIR/pre-restore-<stamp>/` — nothing is deleted; then each copy
 *    is renamed into place. An old -wal left beside a restored file would be replayed onto it.
 * 4. sessions: sessions.db moves aside with the rest, so every player signs in again. A session
 *    issued after the backup names an account id the restore may hand to another player (ids of
 *    accounts created after the backup are free again). With REDIS_URL set, the sessions in Redis
 *    (`<REDIS_PREFIX>session:*`) are deleted for the same reason.
 */
import Database from "libsql";
import { closeSync, copyFileSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, readlinkSync, readFileSync, renameSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { BACKED_UP_FILES, backupStamp, listBackups, MANIFEST, readManifest, type BackupManifest } from "../storage/backup.ts";

const SIDE_FILES = ["", "-wal", "-shm", "-journal"];
const MOVED_ASIDE = [...BACKED_UP_FILES, "sessions.db"];

function say(line: string) {
  process.stdout.write(`restore: ${line}\n`);
}

function fail(line: string, code = 1): never {
  process.stderr.write(`restore: ${line}\n`);
  process.exit(code);
}

function fsyncPath(path: string) {
  const fd = openSync(path, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function pickBackup(path: string): { dir: string; manifest: BackupManifest } {
  if (existsSync(join(path, MANIFEST))) return { dir: path, manifest: readManifest(path) };
  const newest = listBackups(path)[0];
  if (!newest) fail(`${path} is neither a backup (no ${MANIFEST}) nor a directory of complete backups`, 66);
  return { dir: newest.dir, manifest: readManifest(newest.dir) };
}

/** Checks each copy again before anything in the data directory is touched. */
function checkBackup(dir: string, manifest: BackupManifest): void {
  for (const [name, expected] of Object.entries(manifest.files)) {
    const copy = new Database(join(dir, name));
    try {
      copy.exec("PRAGMA query_only = ON");
      const check = (copy.prepare("PRAGMA integrity_check").all() as { integrity_check: string }[]).map((r) => r.integrity_check).join("; ");
      if (check !== "ok") fail(`${dir}/${name} fails its integrity check: ${check.slice(0, 500)}`);
      for (const [table, figures] of Object.entries(expected.tables)) {
        const row = copy.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number };
        if (row.n !== figures.rows) fail(`${dir}/${name}: ${row.n} rows in ${table}, the manifest says ${figures.rows}`);
      }
      say(`${name}: backup copy checked (integrity ok, ${Object.entries(expected.tables).map(([t, f]) => `${f.rows} ${t}`).join(", ")})`);
    } finally {
      copy.close();
    }
  }
}

/** Processes that hold a file of the data directory open (Linux /proc; other users' processes need root to see). */
function holders(dataDir: string): string[] {
  const watched = new Set(MOVED_ASIDE.flatMap((name) => SIDE_FILES.map((side) => resolve(dataDir, name + side))));
  const found: string[] = [];
  for (const pid of readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    if (Number(pid) === process.pid) continue;
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue; // gone, or not ours to look at
    }
    for (const fd of fds) {
      let target: string;
      try {
        target = readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        continue;
      }
      if (!watched.has(target)) continue;
      let command = "";
      try {
        command = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ").trim().slice(0, 120);
      } catch {
        // exited meanwhile
      }
      found.push(`pid ${pid} (${command}) has ${target} open`);
      break;
    }
  }
  return found;
}

async function dropRedisSessions(): Promise<void> {
  const url = process.env.REDIS_URL;
  if (!url) return;
  const prefix = process.env.REDIS_PREFIX ?? "tap:";
  const { Redis } = await import("ioredis");
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    let cursor = "0";
    let dropped = 0;
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}session:*`, "COUNT", 1000);
      cursor = next;
      if (keys.length > 0) dropped += await redis.del(...keys);
    } while (cursor !== "0");
    say(`deleted ${dropped} sessions in Redis (${prefix}session:*): every player signs in again`);
  } finally {
    redis.disconnect();
  }
}

async function main() {
  const args = process.argv.slice(2);
  const force = args.includes("--force");
  const [backupArg, dataArg] = args.filter((a) => a !== "--force");
  if (!backupArg || !dataArg) fail("usage: scripts/restore.sh [--force] <BACKUP_DIR | backup root> <DATA_DIR>", 64);
  const dataDir = resolve(dataArg);
  const { dir, manifest } = pickBackup(resolve(backupArg));
  say(`backup ${dir}, taken ${new Date(manifest.takenAt).toISOString()}`);
  checkBackup(dir, manifest);

  const inUse = existsSync(dataDir) ? holders(dataDir) : [];
  if (inUse.length > 0) {
    for (const line of inUse) process.stderr.write(`restore: ${line}\n`);
    if (!force) fail(`${dataDir} is in use; stop the server first (systemctl stop tap-backend), or pass --force to restore under it anyway`, 75);
    say("--force: restoring although the files are open (the processes above must be restarted at once)");
  }

  mkdirSync(dataDir, { recursive: true });
  for (const name of Object.keys(manifest.files)) {
    const staged = join(dataDir, `${name}.restoring`);
    copyFileSync(join(dir, name), staged);
    fsyncPath(staged);
  }
  const aside = join(dataDir, `pre-restore-${backupStamp(Date.now())}`);
  const moved: string[] = [];
  for (const name of MOVED_ASIDE) {
    for (const side of SIDE_FILES) {
      const file = join(dataDir, name + side);
      if (!existsSync(file)) continue;
      mkdirSync(aside, { recursive: true });
      renameSync(file, join(aside, name + side));
      moved.push(name + side);
    }
  }
  if (moved.length > 0) say(`moved what was there to ${aside}: ${moved.join(", ")} (delete it once the restore is confirmed)`);
  for (const name of Object.keys(manifest.files)) {
    renameSync(join(dataDir, `${name}.restoring`), join(dataDir, name));
    say(`${name}: restored (${statSync(join(dataDir, name)).size} bytes)`);
  }
  fsyncPath(dataDir);
  if (moved.some((f) => f.startsWith("sessions.db"))) say("sessions.db moved aside: every player signs in again");
  await dropRedisSessions();
  const current = manifest.files["current.db"];
  const lastBet = current?.tables.bets?.maxKey;
  say(`done: ${dataDir} is as of ${new Date(manifest.takenAt).toISOString()}${lastBet ? ` (newest bet id ${lastBet})` : ""}; whatever was written after that is not in it. Start the server: systemctl start tap-backend`);
}

main().catch((error) => fail(error instanceof Error ? error.message : String(error)));
