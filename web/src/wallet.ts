import { secp256k1 } from "@noble/curves/secp256k1.js";
import { keccak_256 } from "@noble/hashes/sha3.js";
import { personalMessageHash } from "../../domain/eip191.ts";
import { addressFromBytes } from "../../domain/eip55.ts";
import { api } from "./api.ts";

/**
 * Wallets and Sign-In with Ethereum for the demo page: an injected EIP-1193 wallet when the browser
 * has one, otherwise a development key generated here and kept in localStorage (the "demo wallet").
 * Either signs the server's EIP-4361 message with EIP-191 personal_sign.
 */
export interface Wallet {
  kind: "injected" | "demo";
  label: string;
  address(): Promise<string>;
  signPersonal(message: string, address: string): Promise<string>;
}

interface Eip1193 {
  request(args: { method: string; params?: unknown[] }): Promise<unknown>;
}

const DEMO_KEY_STORAGE = "tap.demoKey";
const SESSION_STORAGE = "tap.session";

const toHex = (bytes: Uint8Array) => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
const fromHex = (hex: string) => Uint8Array.from(hex.match(/../g) ?? [], (h) => Number.parseInt(h, 16));

/** The EIP-55 address of a secp256k1 secret key. */
export function addressOfKey(secretKey: Uint8Array): string {
  const uncompressed = secp256k1.getPublicKey(secretKey, false); // 0x04 ‖ X ‖ Y
  return addressFromBytes(keccak_256(uncompressed.subarray(1)).subarray(12));
}

/** EIP-191 personal_sign with a raw key: 0x ‖ r ‖ s ‖ v (v = 27 | 28), low s, as wallets produce it. */
export function personalSign(message: string, secretKey: Uint8Array): string {
  const recovered = secp256k1.sign(personalMessageHash(message), secretKey, { prehash: false, format: "recovered" });
  const sig = secp256k1.Signature.fromBytes(recovered, "recovered");
  const r = sig.r.toString(16).padStart(64, "0");
  const s = sig.s.toString(16).padStart(64, "0");
  return `0x${r}${s}${(27 + sig.recovery!).toString(16)}`;
}

/** The demo wallet: a key made once in this browser and kept in localStorage. */
export function demoWallet(storage: Storage): Wallet {
  let hex = storage.getItem(DEMO_KEY_STORAGE);
  if (hex === null || !/^[0-9a-f]{64}$/.test(hex)) {
    hex = toHex(secp256k1.utils.randomSecretKey());
    storage.setItem(DEMO_KEY_STORAGE, hex);
  }
  const key = fromHex(hex);
  const address = addressOfKey(key);
  return {
    kind: "demo",
    label: "demo wallet",
    address: async () => address,
    signPersonal: async (message) => personalSign(message, key),
  };
}

/** An injected EIP-1193 wallet (MetaMask and the like). */
export function injectedWallet(provider: Eip1193): Wallet {
  return {
    kind: "injected",
    label: "browser wallet",
    async address() {
      const accounts = (await provider.request({ method: "eth_requestAccounts" })) as string[];
      if (!Array.isArray(accounts) || typeof accounts[0] !== "string") throw new Error("the wallet gave no account");
      return accounts[0];
    },
    async signPersonal(message, address) {
      const data = `0x${toHex(new TextEncoder().encode(message))}`;
      return String(await provider.request({ method: "personal_sign", params: [data, address] }));
    },
  };
}

export function pickWallet(win: Window & { ethereum?: Eip1193 }): Wallet {
  return win.ethereum && typeof win.ethereum.request === "function" ? injectedWallet(win.ethereum) : demoWallet(win.localStorage);
}

export interface Session {
  token: string;
  address: string;
  expiresAt: number;
  wallet: Wallet["kind"];
}

/** The real SIWE round trip: nonce → sign the server's EIP-4361 message → verify. */
export async function signIn(wallet: Wallet): Promise<Session> {
  const address = await wallet.address();
  const { message } = await api<{ message: string }>("/api/auth/nonce", { method: "POST", body: { address } });
  const signature = await wallet.signPersonal(message, address);
  const answer = await api<{ token: string; address: string; expiresAt: number }>("/api/auth/verify", { method: "POST", body: { message, signature } });
  return { token: answer.token, address: answer.address, expiresAt: answer.expiresAt, wallet: wallet.kind };
}

export function loadSession(storage: Storage, nowMs: number): Session | undefined {
  try {
    const session = JSON.parse(storage.getItem(SESSION_STORAGE) ?? "null") as Session | null;
    if (session && typeof session.token === "string" && typeof session.address === "string" && !(session.expiresAt <= nowMs)) return session;
  } catch {
    // a damaged entry is as good as none
  }
  storage.removeItem(SESSION_STORAGE);
  return undefined;
}

export function saveSession(storage: Storage, session: Session | undefined): void {
  if (session) storage.setItem(SESSION_STORAGE, JSON.stringify(session));
  else storage.removeItem(SESSION_STORAGE);
}
