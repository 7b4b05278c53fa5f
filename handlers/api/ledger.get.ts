import { defineHandler, getQuery } from "h3";
import { useApp } from "../../runtime/context.ts";
import { validate } from "../../runtime/body.ts";
import { ledgerQuery } from "../../services/api-docs/requests.ts";
import { requireUser } from "../../services/auth/require-user.ts";
import { listLedger } from "../../services/bets/reads.ts";

/** GET /api/ledger?limit=&cursor= — the player's ledger entries, newest first, current + history. */
export default defineHandler(async (event) => {
  const player = await requireUser(event);
  const q = validate(ledgerQuery, getQuery(event), "query");
  return listLedger(useApp(event), player.accountId, q);
});
