/**
 * When each job of jobs/ runs: node-cron expressions, UTC. The one place to read or change the schedule.
 * Jobs that share a `lock` (runtime/jobs.ts) never run at the same time: the backup compares its copy
 * with the live files, and the archiver moves rows out of them.
 */
export const SCHEDULE = {
  /** The weekly archiver: Monday 00:05, once the week is closed and its last windows are settled. */
  archive: "5 0 * * 1",
  /** The ledger audit. */
  integrity: "*/15 * * * *",
  /** Online backup of current.db and history.db: hourly, away from the archive's minute. */
  backup: "35 * * * *",
} as const;

/** The lock of the jobs that read or move the database files as a whole. */
export const DATA_FILES_LOCK = "data-files";
