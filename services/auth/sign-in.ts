import type { AppContext } from "../types.ts";
import { apiError } from "../../runtime/errors.ts";
import { QueueClosedError, QueueFullError } from "../../storage/batch-queue.ts";

export interface SignInResult {
  token: string;
  address: string;
  expiresAt: number;
}

/**
 * Verifies a signed EIP-4361 message and opens a session: the account is created on first sign-in
 * with the demo balance (a ledger `deposit`), through the shared write queue.
 * Throws the API error of the first failed check.
 */
export async function signIn(ctx: AppContext, message: string, signature: string): Promise<SignInResult> {
  const auth = ctx.services.auth;
  const result = await auth.verifier.verify(message, signature);
  auth.verifyTotal.inc({ result: result.ok ? "ok" : result.code });
  if (!result.ok) throw apiError(result.status, result.code, result.reason, result.details);
  const { address } = result;
  let accountId: number;
  try {
    ({ accountId } = await ctx.queue.run("accounts.ensurePlayer", address, ctx.now(), ctx.config.DEMO_BALANCE_MICRO_USD));
  } catch (error) {
    // The nonce is spent either way; the client asks for a new one when it retries.
    if (error instanceof QueueFullError) throw apiError(503, "overloaded", error.message, undefined, { "retry-after": "1" });
    if (error instanceof QueueClosedError) throw apiError(503, "shutting_down", error.message);
    throw error;
  }
  // A session never outlives the message it was signed in with (EIP-4361 `Expiration Time`).
  const { token, expiresAt } = await auth.sessions.create(address, accountId, result.message.expirationTimeMs);
  return { token, address, expiresAt };
}
