import { randomBytes } from "node:crypto";
import type { Kv } from "../../storage/kv/index.ts";

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
/** 24 of 62 symbols ≈ 143 bits: unguessable, and within EIP-4361's `8*( ALPHA / DIGIT )`. */
export const NONCE_LENGTH = 24;
const NONCE_PATTERN = /^[A-Za-z0-9]{8,64}$/;

/** A uniformly random alphanumeric string from the CSPRNG (rejection sampling: no modulo bias). */
export function generateNonce(length = NONCE_LENGTH): string {
  let out = "";
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte < 248) out += ALPHABET[byte % 62]; // 248 = 4 × 62: the bytes above it would favour the first symbols
      if (out.length === length) break;
    }
  }
  return out;
}

export interface NonceRecord {
  /** The EIP-55 address the nonce was issued for; the signed message must name the same one. */
  address: string;
  issuedAt: number;
  expiresAt: number;
}

export interface NonceStoreOptions {
  kv: Kv;
  ttlMs: number;
  now: () => number;
}

/**
 * Server-issued single-use nonces (ADR-007). A nonce is stored under its own key and consumed
 * with the store's atomic take (GETDEL on Redis), so of any number of concurrent verifies of one
 * nonce exactly one gets the record, in this process or any other sharing the store.
 *
 * The store keeps a record for twice the nonce's life: within that time a late verify learns
 * "expired" rather than "unknown", which tells a user their wallet took too long.
 */
export class NonceStore {
  readonly #o: NonceStoreOptions;

  constructor(options: NonceStoreOptions) {
    this.#o = options;
  }

  async issue(address: string): Promise<{ nonce: string } & NonceRecord> {
    const issuedAt = this.#o.now();
    const record: NonceRecord = { address, issuedAt, expiresAt: issuedAt + this.#o.ttlMs };
    // A collision of 143-bit values does not happen; the bounded retry documents that SET NX guards it anyway.
    for (let attempt = 0; attempt < 3; attempt++) {
      const nonce = generateNonce();
      if (await this.#o.kv.setIfAbsent(key(nonce), JSON.stringify(record), this.#o.ttlMs * 2)) return { nonce, ...record };
    }
    throw new Error("could not store a fresh nonce");
  }

  /** The record of `nonce`, removed in the same atomic step; null when unknown or already consumed. */
  async consume(nonce: string): Promise<NonceRecord | null> {
    if (!NONCE_PATTERN.test(nonce)) return null;
    const raw = await this.#o.kv.take(key(nonce));
    if (raw === null) return null;
    try {
      const parsed = JSON.parse(raw) as Partial<NonceRecord>;
      if (typeof parsed.address !== "string" || !Number.isSafeInteger(parsed.issuedAt) || !Number.isSafeInteger(parsed.expiresAt)) return null;
      return { address: parsed.address, issuedAt: parsed.issuedAt!, expiresAt: parsed.expiresAt! };
    } catch {
      return null;
    }
  }
}

function key(nonce: string) {
  return `nonce:${nonce}`;
}
