import { defineHandler, getQuery } from "h3";
import { z } from "zod";
import { useApp } from "../../runtime/context.ts";
import { validate } from "../../runtime/body.ts";
import { requireUser } from "../../services/auth/require-user.ts";
import { listBets } from "../../services/bets/reads.ts";

const query = z.object({
  status: z.enum(["open", "won", "lost", "void"]).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().regex(/^[1-9]\d{0,15}$/, "not a cursor from this API").transform(Number).optional(),
});

/** GET /api/bets?status=&limit=&cursor= — the player's bets, newest first, current + history. */
export default defineHandler(async (event) => {
  const player = await requireUser(event);
  const q = validate(query, getQuery(event), "query");
  return listBets(useApp(event), player.accountId, q);
});
