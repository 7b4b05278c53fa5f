import { defineHandler } from "h3";
import { useApp } from "../../../runtime/context.ts";
import { readJson } from "../../../runtime/body.ts";
import { signIn } from "../../../services/auth/sign-in.ts";
import { verifyBody } from "../../../services/api-docs/requests.ts";

/** POST /api/auth/verify: a signed EIP-4361 message → a session token (API.md § Auth). */
export default defineHandler(async (event) => {
  const { message, signature } = await readJson(event, verifyBody);
  return signIn(useApp(event), message, signature);
});
