import { defineHandler } from "h3";
import { useApp } from "../../runtime/context.ts";
import { readJsonValue } from "../../runtime/body.ts";
import { requireUser } from "../../services/auth/require-user.ts";
import { requireFreshPrice } from "../../services/price/breaker.ts";
import { betErrorToHttp } from "../../services/bets/http.ts";
import { parsePlaceBetBody } from "../../services/bets/request.ts";

/** POST /api/bets (API.md § Bets): 201 once the bet, the debit and its entries are committed; 200 for a retry. */
export default defineHandler(async (event) => {
  const player = await requireUser(event);
  const body = parsePlaceBetBody(await readJsonValue(event));
  try {
    // The circuit breaker runs after the idempotency lookup: a retry of a committed bet gets its bet
    // back even while bets are paused.
    const answer = await useApp(event).services.bets.place(player, body, { assertMarketOpen: () => requireFreshPrice(event) });
    event.res.status = answer.status;
    return { bet: answer.bet, balanceMicroUsd: answer.balanceMicroUsd };
  } catch (error) {
    throw betErrorToHttp(error);
  }
});
