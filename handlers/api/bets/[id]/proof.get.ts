import { defineHandler, getRouterParam } from "h3";
import { useApp } from "../../../../runtime/context.ts";
import { apiError } from "../../../../runtime/errors.ts";
import { requireUser } from "../../../../services/auth/require-user.ts";
import { buildProof } from "../../../../services/resolver/proof.ts";

/** GET /api/bets/:id/proof — the stored ticks and gaps of one of the player's bets and the outcome recomputed from them. */
export default defineHandler(async (event) => {
  const player = await requireUser(event);
  const raw = getRouterParam(event, "id") ?? "";
  const id = /^[1-9]\d{0,15}$/.test(raw) ? Number(raw) : undefined;
  const proof = id !== undefined && Number.isSafeInteger(id) ? buildProof(useApp(event), player.accountId, id) : undefined;
  if (!proof) throw apiError(404, "not_found", "no such bet");
  return proof;
});
