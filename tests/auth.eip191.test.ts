import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { getAddress, hashMessage } from "viem";
import { isChecksumAddress, parseAddress, toChecksumAddress } from "../domain/eip55.ts";
import { personalMessageHash, recoverPersonalSigner } from "../domain/eip191.ts";

// Hardhat's well-known account #0 (private key 0xac0974be…f2ff80); the signature of "hello world"
// was produced once by viem (RFC 6979, deterministic) and pinned here.
const ADDRESS0 = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266";
const HELLO_SIG =
  "0xa461f509887bd19e312c0c58467ce8ff8e300d3c1a90b608a760c5b80318eaf15fe57c96f9175d6cd4daad4663763baa7e78836e067d0163e9a2ccf2ff753f5b1b";
const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

const hex64 = (n: bigint) => n.toString(16).padStart(64, "0");
function withV(sig: string, v: number) {
  return sig.slice(0, 130) + v.toString(16).padStart(2, "0");
}
function flipByte(sig: string, byteIndex: number) {
  const at = 2 + byteIndex * 2;
  const b = (Number.parseInt(sig.slice(at, at + 2), 16) ^ 0x01).toString(16).padStart(2, "0");
  return sig.slice(0, at) + b + sig.slice(at + 2);
}

describe("EIP-55 checksum addresses", () => {
  // The test vectors of the EIP-55 text.
  const vectors = [
    "0x52908400098527886E0F7030069857D2E4169EE7",
    "0x8617E340B3D01FA5F11F306F4090FD50E238070D",
    "0xde709f2102306220921060314715629080e2fb77",
    "0x27b1fdb04752bbc536007a920d24acb045561c26",
    "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
    "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
    "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
    "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
  ];
  it("reproduces the EIP's vectors from lower case", () => {
    for (const v of vectors) {
      expect(toChecksumAddress(v.toLowerCase())).toBe(v);
      expect(isChecksumAddress(v)).toBe(true);
    }
  });
  it("agrees with viem's getAddress on random addresses", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 20, maxLength: 20 }), (bytes) => {
        const lower = `0x${Buffer.from(bytes).toString("hex")}`;
        expect(toChecksumAddress(lower)).toBe(getAddress(lower));
      }),
      { numRuns: 200 },
    );
  });
  it("accepts all-lower and all-upper input but refuses a wrong mixed-case checksum", () => {
    expect(parseAddress(ADDRESS0.toLowerCase())).toBe(ADDRESS0);
    expect(parseAddress(`0x${ADDRESS0.slice(2).toUpperCase()}`)).toBe(ADDRESS0);
    expect(parseAddress("0xF39Fd6e51aad88F6F4ce6aB8827279cffFb92266")).toBeNull();
    expect(isChecksumAddress(ADDRESS0.toLowerCase())).toBe(false);
    expect(parseAddress("0x1234")).toBeNull();
    expect(parseAddress(`0x${"g".repeat(40)}`)).toBeNull();
  });
});

describe("EIP-191 personal_sign recovery", () => {
  it("hashes like viem's hashMessage, including multi-byte UTF-8 lengths", () => {
    for (const m of ["", "hello world", "héllo ✓ 𝄞", "a\nb"]) {
      expect(`0x${Buffer.from(personalMessageHash(m)).toString("hex")}`).toBe(hashMessage(m));
    }
  });

  it("recovers a fixed known-answer vector and fails on any changed byte", () => {
    expect(recoverPersonalSigner("hello world", HELLO_SIG)).toEqual({ ok: true, address: ADDRESS0 });
    expect(recoverPersonalSigner("hello worle", HELLO_SIG)).not.toEqual({ ok: true, address: ADDRESS0 });
    for (const i of [0, 17, 31, 32, 50, 63]) {
      expect(recoverPersonalSigner("hello world", flipByte(HELLO_SIG, i))).not.toEqual({ ok: true, address: ADDRESS0 });
    }
  });

  it("recovers signatures made by viem for random keys and messages", async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 200, unit: "grapheme" }), async (message) => {
        const account = privateKeyToAccount(generatePrivateKey());
        const sig = await account.signMessage({ message });
        expect(recoverPersonalSigner(message, sig)).toEqual({ ok: true, address: account.address });
      }),
      { numRuns: 40 },
    );
  });

  it("accepts v as 27/28 and as 0/1, refuses any other v", () => {
    const v = Number.parseInt(HELLO_SIG.slice(130), 16);
    expect(recoverPersonalSigner("hello world", withV(HELLO_SIG, v - 27))).toEqual({ ok: true, address: ADDRESS0 });
    for (const bad of [2, 3, 26, 29, 35, 37, 255]) {
      expect(recoverPersonalSigner("hello world", withV(HELLO_SIG, bad))).toEqual({ ok: false, reason: "v" });
    }
  });

  it("refuses the high-s twin that recovery alone would accept", () => {
    const r = HELLO_SIG.slice(2, 66);
    const s = BigInt(`0x${HELLO_SIG.slice(66, 130)}`);
    const v = Number.parseInt(HELLO_SIG.slice(130), 16);
    const twin = `0x${r}${hex64(N - s)}${(v === 27 ? 28 : 27).toString(16)}`;
    expect(recoverPersonalSigner("hello world", twin)).toEqual({ ok: false, reason: "high_s" });
  });

  it("refuses r or s outside [1, n), malformed hex and wrong lengths without throwing", () => {
    const s = HELLO_SIG.slice(66, 130);
    expect(recoverPersonalSigner("x", `0x${hex64(0n)}${s}1b`)).toEqual({ ok: false, reason: "range" });
    expect(recoverPersonalSigner("x", `0x${hex64(N)}${s}1b`)).toEqual({ ok: false, reason: "range" });
    expect(recoverPersonalSigner("x", `0x${HELLO_SIG.slice(2, 66)}${hex64(0n)}1b`)).toEqual({ ok: false, reason: "range" });
    expect(recoverPersonalSigner("x", HELLO_SIG.slice(0, 130))).toEqual({ ok: false, reason: "format" });
    expect(recoverPersonalSigner("x", `${HELLO_SIG}00`)).toEqual({ ok: false, reason: "format" });
    expect(recoverPersonalSigner("x", HELLO_SIG.replace("a", "z"))).toEqual({ ok: false, reason: "format" });
  });

  it("never throws on arbitrary 65-byte signatures", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 65, maxLength: 65 }), fc.string(), (bytes, message) => {
        const result = recoverPersonalSigner(message, `0x${Buffer.from(bytes).toString("hex")}`);
        expect(typeof result.ok).toBe("boolean");
      }),
      { numRuns: 300 },
    );
  });
});
