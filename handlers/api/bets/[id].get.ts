import { defineHandler, getRouterParam } from "h3";
import { useApp } from "../../../runtime/context.ts";
import { apiError } from "../../../runtime/errors.ts";
import { requireUser } from "../../../services/auth/require-user.ts";
import { parseId } from "../../../services/bets/http.ts";
import { findBet } from "../../../services/bets/reads.ts";

/** GET /api/bets/:id — one of the player's own bets (someone else's is 404, like an unknown one). */
export default defineHandler(async (event) => {
  const player = await requireUser(event);
  const id = parseId(getRouterParam(event, "id"));
  const bet = id === undefined ? undefined : findBet(useApp(event), player.accountId, id);
  if (!bet) throw apiError(404, "not_found", "no such bet");
  return bet;
});
