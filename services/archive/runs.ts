import type { Db } from "../../storage/db.ts";

/** Bookkeeping of archive runs in the current database (archive_runs of migration 001), written as commands (services/commands.ts). */
export type RunStatus = "running" | "copied" | "done" | "failed";

export function startRun(db: Db, weekStart: number, at: number): number {
  return (db.prepare("INSERT INTO archive_runs (week_start, started_at, status) VALUES (?, ?, 'running') RETURNING id").get(weekStart, at) as { id: number }).id;
}

export function finishRun(db: Db, runId: number, status: RunStatus, finishedAt: number | null, report: unknown): void {
  db.prepare("UPDATE archive_runs SET status = ?, finished_at = ?, report = ? WHERE id = ?").run(status, finishedAt, JSON.stringify(report), runId);
}
