import type { AppContext } from "../types.ts";
import { apiError } from "../../runtime/errors.ts";
import { isLoopbackIp } from "../../runtime/client-ip.ts";
import { buildSiweMessage } from "../../domain/siwe.ts";

export const SIGN_IN_STATEMENT = "Sign in to BTC Tap Trading.";

export interface Challenge {
  nonce: string;
  domain: string;
  uri: string;
  chainId: number;
  issuedAt: number;
  expirationTime: number;
  /** The complete EIP-4361 message a wallet may sign as it is. */
  message: string;
}

/**
 * A fresh nonce bound to `address` (EIP-55) and the message that carries it (API.md § Auth), within
 * the per-IP nonce rate (429 `rate_limited` with Retry-After beyond it; nothing is stored then).
 * Clients on this host are not limited, as in nginx's zones; behind nginx the client is the address it forwarded (runtime/client-ip.ts).
 */
export async function issueChallenge(ctx: AppContext, address: string, clientIp: string): Promise<Challenge> {
  const rate = isLoopbackIp(clientIp) ? ({ ok: true } as const) : ctx.services.auth.nonceRate.take(clientIp, ctx.now());
  if (!rate.ok) {
    const retryAfterS = Math.max(1, Math.ceil(rate.retryAfterMs / 1000));
    throw apiError(429, "rate_limited", "too many sign-in nonces from this address; try again later", { retryAfterMs: rate.retryAfterMs }, {
      "retry-after": String(retryAfterS),
    });
  }
  const { nonce, issuedAt } = await ctx.services.auth.nonces.issue(address);
  const { AUTH_DOMAIN: domain, AUTH_URI: uri, AUTH_CHAIN_ID: chainId } = ctx.config;
  // The message's Expiration Time is the end of the session it signs in (a session never outlives
  // its message); the nonce itself must still be used within NONCE_TTL_MS (checked at verify).
  const expiresAt = issuedAt + ctx.config.SESSION_TTL_MS;
  const message = buildSiweMessage({
    domain,
    address,
    statement: SIGN_IN_STATEMENT,
    uri,
    chainId,
    nonce,
    issuedAtMs: issuedAt,
    expirationTimeMs: expiresAt,
  });
  return { nonce, domain, uri, chainId, issuedAt, expirationTime: expiresAt, message };
}
