/**
 * Online, SQLite-safe backup of the current and the historical database (used by scripts/archive.sh
 * before the archiver runs). `VACUUM INTO` copies one consistent read snapshot of a live WAL database
 * without blocking writers, then each copy is checked with `PRAGMA integrity_check`.
 *
 *   tsx scripts/backup-db.ts <DATA_DIR> <BACKUP_DIR>
 */
import Database from "libsql";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";

const [dataDir, backupDir] = process.argv.slice(2);
if (!dataDir || !backupDir) {
  process.stderr.write("usage: tsx scripts/backup-db.ts <DATA_DIR> <BACKUP_DIR>\n");
  process.exit(64);
}
mkdirSync(backupDir, { recursive: true });
for (const name of ["current.db", "history.db"]) {
  const source = join(dataDir, name);
  const target = join(backupDir, name);
  if (!existsSync(source)) {
    process.stdout.write(`${name}: not there yet, nothing to back up\n`);
    continue;
  }
  if (existsSync(target)) throw new Error(`${target} exists; refusing to overwrite a backup`);
  const db = new Database(source);
  db.exec("PRAGMA busy_timeout = 10000");
  const started = performance.now();
  db.prepare("VACUUM INTO ?").run(target);
  db.close();
  const copy = new Database(target);
  const check = (copy.prepare("PRAGMA integrity_check").get() as { integrity_check: string }).integrity_check;
  copy.close();
  if (check !== "ok") throw new Error(`backup ${target} failed its integrity check: ${check}`);
  process.stdout.write(`${name}: backed up to ${target} in ${Math.round(performance.now() - started)} ms (integrity ok)\n`);
}
