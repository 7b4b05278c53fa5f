import type { Db } from "../../storage/db.ts";

/** Bookkeeping of archive runs in the current database (archive_runs of migration 001), via the batch queue. */
export type RunStatus = "running" | "copied" | "done" | "failed";

export const startRunOp = (weekStart: number, at: number) => (db: Db): number =>
  (db.prepare("INSERT INTO archive_runs (week_start, started_at, status) VALUES (?, ?, 'running') RETURNING id").get(weekStart, at) as { id: number }).id;

export const finishRunOp = (runId: number, status: RunStatus, finishedAt: number | null, report: unknown) => (db: Db): void => {
  db.prepare("UPDATE archive_runs SET status = ?, finished_at = ?, report = ? WHERE id = ?").run(status, finishedAt, JSON.stringify(report), runId);
};
