import type { AppContext } from "../../runtime/context.ts";
import { databasePaths } from "../../runtime/context.ts";
import { openDatabase, type Db } from "../../storage/db.ts";

/**
 * A write from outside the service (the way an operator's tool or another process would): its own
 * connection to the current database, one transaction. For fixtures the service has no command for;
 * the service's in-memory state does not see it unless the test tells it. As any tool that may
 * change open bets must, it bumps bets_generation, so the writer loads its open-bet figures again
 * (services/bets/writer-state.ts).
 */
export function writeDirect<T>(ctx: AppContext, write: (db: Db) => T): T {
  const db = openDatabase(databasePaths(ctx.config).current, { busyTimeoutMs: 10_000, synchronous: "NORMAL" });
  try {
    db.exec("BEGIN IMMEDIATE");
    try {
      const value = write(db);
      db.exec("UPDATE bets_generation SET generation = generation + 1");
      db.exec("COMMIT");
      return value;
    } catch (error) {
      db.exec("ROLLBACK");
      throw error;
    }
  } finally {
    db.close();
  }
}
