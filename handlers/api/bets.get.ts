import { defineHandler, getQuery } from "h3";
import { useApp } from "../../runtime/context.ts";
import { validate } from "../../runtime/body.ts";
import { betsQuery } from "../../services/api-docs/requests.ts";
import { requireUser } from "../../services/auth/require-user.ts";
import { listBets } from "../../services/bets/reads.ts";

/** GET /api/bets?status=&limit=&cursor= — the player's bets, newest first, current + history. */
export default defineHandler(async (event) => {
  const player = await requireUser(event);
  const q = validate(betsQuery, getQuery(event), "query");
  return listBets(useApp(event), player.accountId, q);
});
