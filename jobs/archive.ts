import { defineJob } from "../runtime/jobs.ts";
import { runJobInChild } from "../runtime/job-child.ts";
import { DATA_FILES_LOCK, SCHEDULE } from "./_schedule.ts";

/**
 * The weekly archiver (ADR-006), on its schedule in jobs/_schedule.ts, once the week is closed and its
 * last windows are settled. `npm run job -- archive` (scripts/archive.sh, after a backup) and POST /api/admin/archive
 * run it by hand; the report's `ok: false` makes the CLI exit with status 2.
 * With ARCHIVE_MODE=process (default) the server hands the run to a child process: copying and
 * verifying a week of bets reads for minutes, and none of it may sit on the API's event loop
 * (SPEC §10: bet placement never blocked > 50 ms). The child's deletes are small transactions on
 * the same database file, serialised with the API's batches by SQLite's write lock.
 */
export default defineJob({
  name: "archive",
  schedule: SCHEDULE.archive,
  lock: DATA_FILES_LOCK,
  run: (ctx) =>
    ctx.config.ARCHIVE_MODE === "inline" ? ctx.services.archive.run() : runJobInChild(ctx.config, "archive", { ARCHIVE_MODE: "inline" }),
});
