import { keccak_256 } from "@noble/hashes/sha3.js";

/**
 * EIP-55 mixed-case checksum addresses. Pure functions, no I/O.
 * A letter of the hex address is upper case when the matching nibble of
 * keccak256(lower-case hex, as ASCII) is 8 or more.
 */

const HEX_ADDRESS = /^0x[0-9a-fA-F]{40}$/;

/** The EIP-55 form of a `0x` + 40 hex address in any case; null when it is not one. */
export function toChecksumAddress(address: string): string | null {
  if (!HEX_ADDRESS.test(address)) return null;
  const lower = address.slice(2).toLowerCase();
  const hash = keccak_256(new TextEncoder().encode(lower));
  let out = "0x";
  for (let i = 0; i < 40; i++) {
    const nibble = (hash[i >> 1]! >> (i % 2 === 0 ? 4 : 0)) & 0x0f;
    const c = lower[i]!;
    out += nibble >= 8 ? c.toUpperCase() : c;
  }
  return out;
}

/** True only for an address written exactly in its EIP-55 form. */
export function isChecksumAddress(address: string): boolean {
  return toChecksumAddress(address) === address;
}

/**
 * Accepts what wallets and users type: all lower case, all upper case, or a correct checksum.
 * A mixed-case address with a wrong checksum is a typo and is refused (null).
 */
export function parseAddress(input: string): string | null {
  const checksummed = toChecksumAddress(input);
  if (!checksummed) return null;
  const body = input.slice(2);
  if (body === body.toLowerCase() || body === body.toUpperCase()) return checksummed;
  return checksummed === input ? checksummed : null;
}

/** The checksummed address of a 20-byte account id (the last 20 bytes of keccak256(pubkey)). */
export function addressFromBytes(bytes: Uint8Array): string {
  if (bytes.length !== 20) throw new Error("an address has 20 bytes");
  let hex = "0x";
  for (const b of bytes) hex += b.toString(16).padStart(2, "0");
  return toChecksumAddress(hex)!;
}
