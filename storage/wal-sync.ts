import { close, closeSync, fdatasync, fdatasyncSync, open, openSync } from "node:fs";
import type { WalSync } from "./batch-queue.ts";

/**
 * Makes a WAL-mode database's committed transactions durable: an fdatasync of its `-wal` file
 * (storage/batch-queue.ts `walSync`). The writer's connection then runs with `synchronous=NORMAL`,
 * which writes every commit to the WAL without syncing it (and still syncs the WAL before each
 * checkpoint, the database after it, and the WAL header when the file is reused): once this sync
 * returns, every transaction committed before it started survives a power cut, exactly as with
 * `synchronous=FULL`, whose COMMIT runs the same sync itself.
 *
 * The file is opened for each sync rather than kept open: SQLite deletes the WAL only after
 * checkpointing all of it into the database and syncing that, so a sync that finds no file (or a
 * file that replaced it) has nothing of the transactions before it left to make durable.
 * `start` runs in the thread pool, so the writer goes on with its next transactions meanwhile.
 */
export function walFileSync(databasePath: string): WalSync {
  const walPath = `${databasePath}-wal`;
  return {
    start(done) {
      open(walPath, "r", (openError, fd) => {
        if (openError) return done(openError.code === "ENOENT" ? null : openError);
        fdatasync(fd, (syncError) => close(fd, (closeError) => done(syncError ?? closeError ?? null)));
      });
    },
    now() {
      let fd: number;
      try {
        fd = openSync(walPath, "r");
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "ENOENT") return;
        throw error;
      }
      try {
        fdatasyncSync(fd);
      } finally {
        closeSync(fd);
      }
    },
  };
}
