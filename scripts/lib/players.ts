import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";

/**
 * Signs in `n` fresh wallets with real SIWE (viem signs the server's EIP-4361 message), 32 at a time,
 * and returns their session tokens. Refusals that say "later" (429, 503) are retried.
 */
export async function signInPlayers(baseUrl: string, n: number): Promise<string[]> {
  const tokens: string[] = [];
  let next = 0;
  const worker = async () => {
    while (next < n) {
      next++;
      tokens.push(await signInOne(baseUrl));
    }
  };
  await Promise.all(Array.from({ length: Math.min(32, n) }, worker));
  return tokens;
}

async function signInOne(baseUrl: string): Promise<string> {
  const account = privateKeyToAccount(generatePrivateKey());
  for (let attempt = 0; ; attempt++) {
    const nonce = await postJson(baseUrl, "/api/auth/nonce", { address: account.address });
    if (nonce.status === 200) {
      const signature = await account.signMessage({ message: nonce.body.message });
      const verify = await postJson(baseUrl, "/api/auth/verify", { message: nonce.body.message, signature });
      if (verify.status === 200) return verify.body.token as string;
      if (verify.status !== 429 && verify.status !== 503) throw new Error(`verify: ${verify.status} ${JSON.stringify(verify.body)}`);
    } else if (nonce.status !== 429 && nonce.status !== 503) {
      throw new Error(`nonce: ${nonce.status} ${JSON.stringify(nonce.body)}`);
    }
    if (attempt > 50) throw new Error("sign-in kept being refused");
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function postJson(baseUrl: string, path: string, body: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(baseUrl + path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}
