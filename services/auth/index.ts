import { Counter } from "prom-client";
import type { InstallModule } from "../types.ts";
import { buildSiweMessage, parseSiweMessage } from "../../domain/siwe.ts";
import { SessionManager } from "./sessions.ts";
import { NonceStore } from "./nonces.ts";
import { SiweVerifier } from "./verifier.ts";
import { TokenBucketLimiter } from "../bets/rate-limiter.ts";

export interface AuthService {
  sessions: SessionManager;
  nonces: NonceStore;
  verifier: SiweVerifier;
  /** Nonces issued per client IP (token bucket, bounded number of tracked IPs). */
  nonceRate: TokenBucketLimiter<string>;
  /** Verify outcomes by result ("ok" or the failure code). */
  verifyTotal: Counter<"result">;
}

declare module "../types.ts" {
  interface Services {
    auth: AuthService;
  }
}

/** Client IPs whose nonce rate is tracked at once; a full bucket carries no state, so dropping one is safe. */
const NONCE_RATE_IPS_MAX = 100_000;

/** How far ahead of the server clock a wallet's `Issued At` may be. */
export const ISSUED_AT_SKEW_MS = 60_000;

export const installAuth: InstallModule = (ctx) => {
  const { config } = ctx;
  assertSignableConfig(config.AUTH_DOMAIN, config.AUTH_URI, config.AUTH_CHAIN_ID);
  const sessions = new SessionManager({ kv: ctx.kv, bus: ctx.bus, ttlMs: config.SESSION_TTL_MS, now: ctx.now });
  const nonces = new NonceStore({ kv: ctx.nonceKv, ttlMs: config.NONCE_TTL_MS, now: ctx.now });
  const nonceRate = new TokenBucketLimiter<string>({
    ratePerSec: config.NONCE_RATE_PER_MIN / 60,
    burst: config.NONCE_RATE_BURST,
    entriesMax: NONCE_RATE_IPS_MAX,
  });
  const verifier = new SiweVerifier({
    nonces,
    domain: config.AUTH_DOMAIN,
    uri: config.AUTH_URI,
    chainId: config.AUTH_CHAIN_ID,
    nonceTtlMs: config.NONCE_TTL_MS,
    issuedAtSkewMs: ISSUED_AT_SKEW_MS,
    now: ctx.now,
  });
  const verifyTotal = new Counter({
    name: "auth_verify_total",
    help: "Sign-in verifications by result (ok or the failure code)",
    labelNames: ["result"] as const,
    registers: [ctx.metrics.registry],
  });
  ctx.services.auth = { sessions, nonces, verifier, nonceRate, verifyTotal };
  return { stop: () => sessions.close() };
};

/**
 * AUTH_DOMAIN and AUTH_URI end up inside every message we issue; if they do not fit the EIP-4361
 * grammar no sign-in could ever succeed, so refuse to start instead.
 */
function assertSignableConfig(domain: string, uri: string, chainId: number): void {
  const sample = buildSiweMessage({
    domain,
    address: "0x0000000000000000000000000000000000000000",
    uri,
    chainId,
    nonce: "configcheck0",
    issuedAtMs: 0,
  });
  const parsed = parseSiweMessage(sample);
  if (!parsed.ok) throw new Error(`AUTH_DOMAIN / AUTH_URI do not fit an EIP-4361 message: ${parsed.field} ${parsed.reason}`);
}
