import { defineHandler, getQuery } from "h3";
import { z } from "zod";
import { useApp } from "../../runtime/context.ts";
import { validate } from "../../runtime/body.ts";
import { requireUser } from "../../services/auth/require-user.ts";
import { listLedger } from "../../services/bets/reads.ts";

const query = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().regex(/^[1-9]\d{0,15}$/, "not a cursor from this API").transform(Number).optional(),
});

/** GET /api/ledger?limit=&cursor= — the player's ledger entries, newest first, current + history. */
export default defineHandler(async (event) => {
  const player = await requireUser(event);
  const q = validate(query, getQuery(event), "query");
  return listLedger(useApp(event), player.accountId, q);
});
