import { defineHandler } from "h3";
import { useApp } from "../../runtime/context.ts";
import { apiError } from "../../runtime/errors.ts";
import { requireUser } from "../../services/auth/require-user.ts";
import { readProfile } from "../../services/auth/profile.ts";

/** GET /api/me → {address, balanceMicroUsd, openBets}. */
export default defineHandler(async (event) => {
  const { address, accountId } = await requireUser(event);
  const profile = readProfile(useApp(event).db, address, accountId);
  // A session whose account this database does not know (e.g. a store shared with another deployment).
  if (!profile) throw apiError(401, "unauthorized", "the session's account does not exist here");
  return profile;
});
