/**
 * Online, verified backup of the current and the historical database into one directory (used by
 * scripts/archive.sh before the archiver runs; the server's hourly `backup` job does the same through
 * storage/backup.ts). Each file is copied from one consistent read snapshot with `VACUUM INTO`, which
 * does not block the writer, then checked: `PRAGMA integrity_check` on the copy, and row counts and
 * sums of the append-only tables matching the source up to the copy's newest rows.
 *
 *   tsx scripts/backup-db.ts <DATA_DIR> <TARGET_DIR>      # TARGET_DIR must not exist yet
 */
import { existsSync, renameSync, rmSync } from "node:fs";
import { backupInto } from "../storage/backup.ts";

const [dataDir, targetDir] = process.argv.slice(2);
if (!dataDir || !targetDir) {
  process.stderr.write("usage: tsx scripts/backup-db.ts <DATA_DIR> <TARGET_DIR>\n");
  process.exit(64);
}
if (existsSync(targetDir)) {
  process.stderr.write(`${targetDir} exists; refusing to overwrite a backup\n`);
  process.exit(1);
}
const partial = `${targetDir}.partial`;
try {
  const manifest = backupInto(dataDir, partial);
  renameSync(partial, targetDir);
  for (const name of ["current.db", "history.db"]) {
    const file = manifest.files[name];
    if (!file) {
      process.stdout.write(`${name}: not there yet, nothing to back up\n`);
      continue;
    }
    const rows = Object.entries(file.tables).map(([table, t]) => `${t.rows} ${table}`).join(", ");
    process.stdout.write(`${name}: backed up to ${targetDir}/${name} in ${file.snapshotMs} ms, verified in ${file.verifyMs} ms: ${rows} as in the source (integrity ok)\n`);
  }
} catch (error) {
  rmSync(partial, { recursive: true, force: true });
  process.stderr.write(`backup failed: ${(error as Error).message}\n`);
  process.exit(1);
}
