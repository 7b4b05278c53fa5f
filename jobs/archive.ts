import { defineJob } from "../runtime/jobs.ts";

/**
 * The weekly archiver (ADR-006): Monday 00:05 UTC, once the week is closed and its last windows are
 * settled. `npm run job -- archive` (scripts/archive.sh, after a backup) and POST /api/admin/archive
 * run it by hand; the report's `ok: false` makes the CLI exit with status 2.
 */
export default defineJob({
  name: "archive",
  schedule: "5 0 * * 1",
  run: (ctx) => ctx.services.archive.run(),
});
