import { generatePrivateKey, privateKeyToAccount, type PrivateKeyAccount } from "viem/accounts";
import type { TestServer } from "./server.ts";

export interface SignedIn {
  token: string;
  /** EIP-55 address as the server answered it. */
  address: string;
  /** The viem account that signed; sign more messages with `account.signMessage({ message })`. */
  account: PrivateKeyAccount;
}

export interface NonceAnswer {
  nonce: string;
  domain: string;
  uri: string;
  chainId: number;
  issuedAt: number;
  expirationTime: number;
  message: string;
}

/** POST /api/auth/nonce for `address`; throws with the body when the server refuses. */
export async function requestNonce(server: Pick<TestServer, "request">, address: string): Promise<NonceAnswer> {
  const res = await server.request("/api/auth/nonce", { method: "POST", json: { address } });
  if (res.status !== 200) throw new Error(`nonce: ${res.status} ${await res.text()}`);
  return (await res.json()) as NonceAnswer;
}

/**
 * The real Sign-In with Ethereum round trip against a running server: nonce → the server's
 * EIP-4361 message signed by viem (an implementation independent of ours) → verify. Works for
 * in-process test servers and for child processes (only `request` is used).
 */
export async function signIn(server: Pick<TestServer, "request">, privateKey: `0x${string}` = generatePrivateKey()): Promise<SignedIn> {
  const account = privateKeyToAccount(privateKey);
  const { message } = await requestNonce(server, account.address);
  const signature = await account.signMessage({ message });
  const res = await server.request("/api/auth/verify", { method: "POST", json: { message, signature } });
  if (res.status !== 200) throw new Error(`verify: ${res.status} ${await res.text()}`);
  const body = (await res.json()) as { token: string; address: string };
  return { token: body.token, address: body.address, account };
}
