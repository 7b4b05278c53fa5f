import type { Db } from "../../storage/db.ts";

/**
 * Deletes exposure rows of columns before `col` (they can no longer take bets, so their caps are
 * never read again). A batch-queue operation; bounded by the number of past columns with bets.
 */
export function pruneExposureBefore(db: Db, col: number): { cells: number; columns: number } {
  const cells = db.prepare("DELETE FROM cell_exposure WHERE col < ?").run(col).changes;
  const columns = db.prepare("DELETE FROM column_exposure WHERE col < ?").run(col).changes;
  return { cells, columns };
}
