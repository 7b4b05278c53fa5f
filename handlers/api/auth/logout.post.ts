import { defineHandler } from "h3";
import { useApp } from "../../../runtime/context.ts";
import { requireUser } from "../../../services/auth/require-user.ts";

/** POST /api/auth/logout → 204; the token stops working at once in every process. */
export default defineHandler(async (event) => {
  await requireUser(event);
  await useApp(event).services.auth.sessions.revoke(event.context.token!);
  event.res.status = 204;
  return null;
});
