import { defineHandler } from "h3";
import { useApp } from "../../../runtime/context.ts";
import { requireAdmin } from "../../../services/auth/require-admin.ts";
import { runIntegrityCheck } from "../../../services/bets/integrity.ts";

/** GET /api/admin/integrity → {ok, checkedAccounts, problems, …}: the ledger audit, run now. */
export default defineHandler(async (event) => {
  requireAdmin(event);
  return runIntegrityCheck(useApp(event));
});
