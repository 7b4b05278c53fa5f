import { defineHandler } from "h3";
import { useApp } from "../../../runtime/context.ts";
import { requireAdmin } from "../../../services/auth/require-admin.ts";
import { exposureReport } from "../../../services/bets/exposure-report.ts";

/** GET /api/admin/exposure — open exposure per column and cell, with the caps. */
export default defineHandler((event) => {
  requireAdmin(event);
  return exposureReport(useApp(event));
});
