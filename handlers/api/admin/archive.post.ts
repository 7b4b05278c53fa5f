import { defineHandler } from "h3";
import { useApp } from "../../../runtime/context.ts";
import { apiError } from "../../../runtime/errors.ts";
import { requireAdmin } from "../../../services/auth/require-admin.ts";

/** POST /api/admin/archive — runs the weekly archiver now (one run at a time) and returns its report. */
export default defineHandler(async (event) => {
  requireAdmin(event);
  const ctx = useApp(event);
  const { skipped, result } = await ctx.services.jobs.run("archive");
  if (skipped) throw apiError(409, "archive_running", "the archiver is already running; try again when it has finished");
  return result;
});
