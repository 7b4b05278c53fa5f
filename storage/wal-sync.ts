import { closeSync, fdatasync, fdatasyncSync, fstatSync, openSync } from "node:fs";
import type { WalSync } from "./batch-queue.ts";

/**
 * Makes a WAL-mode database's committed transactions durable: an fdatasync of its `-wal` file
 * (storage/batch-queue.ts `walSync`). The writer's connection then runs with `synchronous=NORMAL`,
 * which writes every commit to the WAL without syncing it (and still syncs the WAL before each
 * checkpoint, the database after it, and the WAL header when the file is reused): once this sync
 * returns, every transaction committed before it started survives a power cut, exactly as with
 * `synchronous=FULL`, whose COMMIT runs the same sync itself.
 *
 * The file stays open between syncs (one trip to the thread pool per sync). SQLite deletes a WAL
 * only after checkpointing all of it into the database and syncing that, when its last connection
 * closes — never while the writer's connection is open — and checks here make sure of it anyway: a
 * WAL file that was unlinked (no links left) is closed and the current one opened, and no WAL file
 * at all means nothing is left to make durable.
 * `start` runs the fdatasync in the thread pool, so the writer goes on with its next transactions.
 */
export function walFileSync(databasePath: string): WalSync {
  const walPath = `${databasePath}-wal`;
  let fd: number | undefined;
  /** The open WAL file, reopened if it was unlinked; undefined when there is none. */
  const current = (): number | undefined => {
    if (fd !== undefined && fstatSync(fd).nlink > 0) return fd;
    if (fd !== undefined) closeSync(fd);
    fd = undefined;
    try {
      fd = openSync(walPath, "r");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    }
    return fd;
  };
  return {
    start(done) {
      let file: number | undefined;
      try {
        file = current();
      } catch (error) {
        return done(error as Error);
      }
      if (file === undefined) return done(null);
      fdatasync(file, (error) => done(error));
    },
    now() {
      const file = current();
      if (file !== undefined) fdatasyncSync(file);
    },
    close() {
      if (fd !== undefined) closeSync(fd);
      fd = undefined;
    },
  };
}
