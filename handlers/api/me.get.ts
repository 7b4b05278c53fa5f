import { defineHandler } from "h3";
import { useApp } from "../../runtime/context.ts";
import { requireUser } from "../../services/auth/require-user.ts";
import { readProfile } from "../../services/auth/profile.ts";

/** GET /api/me → {address, balanceMicroUsd, openBets}. */
export default defineHandler(async (event) => {
  const { address, accountId } = await requireUser(event);
  return readProfile(useApp(event).db, address, accountId);
});
