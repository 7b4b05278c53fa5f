import { defineJob } from "../runtime/jobs.ts";
import { DATA_FILES_LOCK, SCHEDULE } from "./_schedule.ts";

/**
 * Online backup of both databases (issue 24), verified, then retention (BACKUP_KEEP_RECENT,
 * BACKUP_KEEP_DAILY). `npm run job -- backup` takes one by hand; scripts/restore.sh brings one back.
 */
export default defineJob({
  name: "backup",
  schedule: SCHEDULE.backup,
  lock: DATA_FILES_LOCK,
  run: (ctx) => ctx.services.backup.run(),
});
