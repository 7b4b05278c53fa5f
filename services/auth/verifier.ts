import { recoverPersonalSigner } from "../../domain/eip191.ts";
import { parseSiweMessage, type SiweMessage } from "../../domain/siwe.ts";
import type { NonceStore } from "./nonces.ts";

/** The failure codes of API.md § Auth, in the order the checks run. */
export type VerifyFailureCode =
  | "invalid_request"
  | "domain_mismatch"
  | "uri_mismatch"
  | "chain_mismatch"
  | "nonce_unknown"
  | "nonce_expired"
  | "message_not_yet_valid"
  | "message_expired"
  | "invalid_signature";

export type VerifyResult =
  | { ok: true; address: string; message: SiweMessage }
  | { ok: false; status: 400 | 401; code: VerifyFailureCode; reason: string; details?: Record<string, unknown> };

export interface SiweVerifierOptions {
  nonces: NonceStore;
  /** AUTH_DOMAIN: the RFC 3986 authority the message must name. */
  domain: string;
  /** AUTH_URI. */
  uri: string;
  chainId: number;
  /** A message may not claim to be older than a nonce lives. */
  nonceTtlMs: number;
  /** How far a wallet's clock may run ahead of ours in `Issued At`. */
  issuedAtSkewMs: number;
  now: () => number;
}

const SIGNATURE_HEX = /^0x[0-9a-fA-F]{130}$/;

/** Normalises an absolute URI for comparison (case of scheme and host, default path "/"). */
function normalizeUri(uri: string): string {
  try {
    return new URL(uri).href;
  } catch {
    return uri;
  }
}

const failure = (status: 400 | 401, code: VerifyFailureCode, reason: string, details?: Record<string, unknown>): VerifyResult =>
  details ? { ok: false, status, code, reason, details } : { ok: false, status, code, reason };

/**
 * The Signature Validator of ADR-007. Checks run in a fixed order and the first failure answers,
 * with its own code: grammar, domain, URI, chain id, version, nonce issued and unconsumed, nonce
 * fresh, issued-at window, expiration / not-before, and last the EIP-191 signature.
 *
 * The nonce is consumed (atomically) at its check, before the time and signature checks: a verify
 * that fails after that point has burnt the nonce, so a rejected message can never be retried with
 * another signature, and no nonce can be raced (concurrent identical verifies: one winner).
 * The signature comes last because recovery is the costliest check; requests without a live
 * nonce never reach it.
 */
export class SiweVerifier {
  readonly #o: SiweVerifierOptions;
  readonly #uri: string;
  readonly #scheme: string;

  constructor(options: SiweVerifierOptions) {
    this.#o = options;
    this.#uri = normalizeUri(options.uri);
    this.#scheme = new URL(options.uri).protocol.replace(/:$/, "").toLowerCase();
  }

  async verify(text: string, signature: string): Promise<VerifyResult> {
    const parsed = parseSiweMessage(text);
    if (!parsed.ok) return failure(400, "invalid_request", "message is not a valid EIP-4361 message", { field: parsed.field, reason: parsed.reason });
    if (!SIGNATURE_HEX.test(signature)) return failure(400, "invalid_request", "signature must be 0x and 130 hex digits", { field: "signature" });
    const m = parsed.message;
    const o = this.#o;
    // Host names are case-insensitive (RFC 3986 §3.2.2); a scheme, when given, must be ours.
    if (m.domain.toLowerCase() !== o.domain.toLowerCase()) return failure(401, "domain_mismatch", `domain must be ${o.domain}`);
    if (m.scheme !== undefined && m.scheme.toLowerCase() !== this.#scheme) return failure(401, "domain_mismatch", `scheme must be ${this.#scheme}`);
    if (normalizeUri(m.uri) !== this.#uri) return failure(401, "uri_mismatch", `URI must be ${o.uri}`);
    if (BigInt(m.chainId) !== BigInt(o.chainId)) return failure(401, "chain_mismatch", `chain id must be ${o.chainId}`);
    // The grammar admits only version "1"; kept here so the order of checks reads as specified.
    if (m.version !== "1") return failure(400, "invalid_request", "version must be 1", { field: "version" });
    return this.#verifyConsumingNonce(m, text, signature);
  }

  async #verifyConsumingNonce(m: SiweMessage, text: string, signature: string): Promise<VerifyResult> {
    const o = this.#o;
    const record = await o.nonces.consume(m.nonce);
    if (!record) return failure(401, "nonce_unknown", "nonce was not issued by this server or was already used");
    if (record.address !== m.address) return failure(401, "nonce_unknown", "nonce was issued for another address");
    const now = o.now();
    if (record.expiresAt <= now) return failure(401, "nonce_expired", "nonce expired: request a new one");
    if (m.issuedAtMs > now + o.issuedAtSkewMs) return failure(401, "message_not_yet_valid", "Issued At is in the future");
    if (m.issuedAtMs < now - o.nonceTtlMs) return failure(401, "message_expired", "Issued At is too old");
    if (m.expirationTimeMs !== undefined && m.expirationTimeMs <= now) return failure(401, "message_expired", "Expiration Time has passed");
    if (m.notBeforeMs !== undefined && m.notBeforeMs > now) return failure(401, "message_not_yet_valid", "Not Before is in the future");
    const recovered = recoverPersonalSigner(text, signature);
    if (!recovered.ok) return failure(401, "invalid_signature", `signature does not verify (${recovered.reason})`);
    if (recovered.address !== m.address) return failure(401, "invalid_signature", "signature is not by the message's address");
    return { ok: true, address: m.address, message: m };
  }
}
