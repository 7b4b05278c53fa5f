import { statementCache, type Db } from "./db.ts";

const stmts = statementCache((db: Db) => ({
  touch: db.prepare("UPDATE health_probe SET at = ? WHERE id = 1"),
}));

/** The readiness probe's write (a command of services/commands.ts): one row rewritten, committed like any write. */
export function probeWrite(db: Db, atMs: number): void {
  const changes = stmts(db).touch.run(atMs).changes;
  if (changes !== 1) throw new Error("health_probe row missing");
}
