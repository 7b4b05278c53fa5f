import { secp256k1 } from "@noble/curves/secp256k1.js";
import { keccak_256 } from "@noble/hashes/sha3.js";
import { addressFromBytes } from "./eip55.ts";

/**
 * EIP-191 version 0x45 ("personal_sign") hashing and signer recovery (ADR-007). Pure; never throws
 * on untrusted input: every failure is a value the caller maps to `invalid_signature`.
 */

const CURVE_ORDER = secp256k1.Point.CURVE().n;
const HALF_ORDER = CURVE_ORDER >> 1n;
const SIGNATURE_HEX = /^0x[0-9a-fA-F]{130}$/;

/** keccak256("\x19Ethereum Signed Message:\n" + byteLength + message), message as UTF-8. */
export function personalMessageHash(message: string): Uint8Array {
  const body = new TextEncoder().encode(message);
  const prefix = new TextEncoder().encode(`\x19Ethereum Signed Message:\n${body.length}`);
  const data = new Uint8Array(prefix.length + body.length);
  data.set(prefix, 0);
  data.set(body, prefix.length);
  return keccak_256(data);
}

export type RecoverResult =
  | { ok: true; address: string }
  | { ok: false; reason: "format" | "v" | "range" | "high_s" | "recovery" };

/**
 * The EIP-55 address that signed `message` with the 65-byte `0x`-hex signature r‖s‖v.
 * v may be 27/28 (Ethereum) or 0/1 (raw recovery id); any other v is refused. High-s signatures
 * are refused: recovery alone accepts both s and n−s, which would let anyone mint a second valid
 * signature for a message they saw (malleability).
 */
export function recoverPersonalSigner(message: string, signatureHex: string): RecoverResult {
  if (!SIGNATURE_HEX.test(signatureHex)) return { ok: false, reason: "format" };
  const r = BigInt(`0x${signatureHex.slice(2, 66)}`);
  const s = BigInt(`0x${signatureHex.slice(66, 130)}`);
  const v = Number.parseInt(signatureHex.slice(130, 132), 16);
  const recovery = v === 27 || v === 28 ? v - 27 : v === 0 || v === 1 ? v : -1;
  if (recovery < 0) return { ok: false, reason: "v" };
  if (r < 1n || r >= CURVE_ORDER || s < 1n || s >= CURVE_ORDER) return { ok: false, reason: "range" };
  if (s > HALF_ORDER) return { ok: false, reason: "high_s" };
  try {
    const point = new secp256k1.Signature(r, s, recovery).recoverPublicKey(personalMessageHash(message));
    const uncompressed = point.toBytes(false); // 0x04 ‖ X ‖ Y
    return { ok: true, address: addressFromBytes(keccak_256(uncompressed.subarray(1)).subarray(12)) };
  } catch {
    // r is not the x of a curve point for this recovery id, or the result is the point at infinity.
    return { ok: false, reason: "recovery" };
  }
}
