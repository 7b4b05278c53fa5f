import { defineHandler } from "h3";
import { z } from "zod";
import { useApp } from "../../../runtime/context.ts";
import { readJson } from "../../../runtime/body.ts";
import { SIWE_LIMITS } from "../../../domain/siwe.ts";
import { signIn } from "../../../services/auth/sign-in.ts";

const body = z.object({
  message: z.string().min(1).max(SIWE_LIMITS.messageChars),
  signature: z.string().regex(/^0x[0-9a-fA-F]{130}$/, "expected 0x and 130 hex digits (65 bytes r‖s‖v)"),
});

/** POST /api/auth/verify: a signed EIP-4361 message → a session token (API.md § Auth). */
export default defineHandler(async (event) => {
  const { message, signature } = await readJson(event, body);
  return signIn(useApp(event), message, signature);
});
