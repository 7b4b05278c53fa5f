import { afterAll, beforeAll, describe, expect, it } from "vitest";
import fc from "fast-check";
import { generatePrivateKey, privateKeyToAccount, type PrivateKeyAccount } from "viem/accounts";
import { createSiweMessage, type SiweMessage } from "viem/siwe";
import { startTestServer, type TestServer } from "./helpers/server.ts";
import { requestNonce } from "./helpers/siwe.ts";
import { parseSiweMessage } from "../domain/siwe.ts";

const NONCE_TTL_MS = 300_000;
const SESSION_TTL_MS = 3_600_000;
const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

let server: TestServer;
let clock = Date.UTC(2030, 0, 1, 12, 0, 0);

beforeAll(async () => {
  server = await startTestServer({ NONCE_TTL_MS, SESSION_TTL_MS }, { now: () => clock });
});
afterAll(async () => {
  await server.stop();
});

const newAccount = () => privateKeyToAccount(generatePrivateKey());

/** A message as a third-party wallet library (viem) writes it; defaults are this server's values. */
function messageFor(account: PrivateKeyAccount, nonce: string, overrides: Partial<SiweMessage> = {}): string {
  return createSiweMessage({
    domain: "localhost:3000",
    address: account.address,
    uri: "http://localhost:3000",
    version: "1",
    chainId: 1,
    nonce,
    issuedAt: new Date(clock),
    statement: "Sign in to BTC Tap Trading.",
    ...overrides,
  });
}

async function verify(message: string, signature: string) {
  const res = await server.request("/api/auth/verify", { method: "POST", json: { message, signature } });
  const body = res.status === 200 ? await res.json() : ((await res.json()) as { error: { code: string } });
  return { status: res.status, body, code: (body as { error?: { code: string } }).error?.code };
}

/** Fresh nonce for `account`, a message built with `overrides`, signed by `signer` (default: the account). */
async function attempt(overrides: Partial<SiweMessage> = {}, options: { account?: PrivateKeyAccount; signer?: PrivateKeyAccount } = {}) {
  const account = options.account ?? newAccount();
  const { nonce } = await requestNonce(server, account.address);
  const message = messageFor(account, nonce, overrides);
  const signature = await (options.signer ?? account).signMessage({ message });
  return { account, nonce, message, signature, ...(await verify(message, signature)) };
}

function withHighS(signature: string): string {
  const s = BigInt(`0x${signature.slice(66, 130)}`);
  const v = Number.parseInt(signature.slice(130), 16);
  return `${signature.slice(0, 66)}${(N - s).toString(16).padStart(64, "0")}${(v === 27 ? 28 : 27).toString(16)}`;
}

describe("POST /api/auth/nonce", () => {
  it("issues a fresh single-use nonce and a complete EIP-4361 message for the address", async () => {
    const account = newAccount();
    const a = await requestNonce(server, account.address.toLowerCase());
    const b = await requestNonce(server, account.address);
    expect(a.nonce).toMatch(/^[A-Za-z0-9]{16,}$/);
    expect(a.nonce).not.toBe(b.nonce);
    expect(a).toMatchObject({ domain: "localhost:3000", uri: "http://localhost:3000", chainId: 1, issuedAt: clock, expirationTime: clock + SESSION_TTL_MS });
    const parsed = parseSiweMessage(a.message);
    expect(parsed).toMatchObject({ ok: true, message: { address: account.address, nonce: a.nonce, domain: "localhost:3000", issuedAtMs: clock, expirationTimeMs: clock + SESSION_TTL_MS } });
  });

  it("refuses what is not an address with 400", async () => {
    const wrongChecksum = newAccount().address.replace(/[a-f]/, (c) => c.toUpperCase());
    for (const json of [{}, { address: "0x1234" }, { address: 42 }, { address: wrongChecksum }, { address: `0x${"z".repeat(40)}` }]) {
      const res = await server.request("/api/auth/nonce", { method: "POST", json });
      expect(res.status, JSON.stringify(json)).toBe(400);
      expect((await res.json()).error.code).toBe("invalid_request");
    }
  });
});

describe("POST /api/auth/verify: success", () => {
  it("signs in with the server's own message, creates the account once with the demo balance", async () => {
    const account = newAccount();
    for (let round = 0; round < 2; round++) {
      const { message } = await requestNonce(server, account.address);
      const result = await verify(message, await account.signMessage({ message }));
      expect(result.status).toBe(200);
      expect(result.body).toEqual({ token: expect.stringMatching(/^[\w-]{43}$/), address: account.address, expiresAt: clock + SESSION_TTL_MS });
      const me = await server.request("/api/me", { token: (result.body as { token: string }).token });
      expect(await me.json()).toEqual({ address: account.address, balanceMicroUsd: 1_000_000_000, openBets: 0 });
    }
    const rows = server.ctx.db
      .prepare("SELECT e.kind, e.amount_micro_usd AS amount FROM ledger_entries e JOIN accounts a ON a.id = e.account_id WHERE a.address = ?")
      .all(account.address)
      .map((r) => ({ kind: (r as { kind: string }).kind, amount: (r as { amount: number }).amount }));
    expect(rows).toEqual([{ kind: "deposit", amount: 1_000_000_000 }]);
  });

  it("accepts a message written by a wallet library with every optional field, and v as 0/1", async () => {
    const result = await attempt({
      scheme: "http",
      expirationTime: new Date(clock + 60_000),
      notBefore: new Date(clock - 1000),
      requestId: "abc-123",
      resources: ["https://localhost:3000/terms", "ipfs://bafybeiemxf5abjwjbikoz4mc3a3dla6ual3jsgpdr4cjr3oz3evfyavhwq/"],
    });
    expect(result.status).toBe(200);
    const again = await attempt();
    expect(again.status).toBe(200);
    const other = newAccount();
    const { nonce } = await requestNonce(server, other.address);
    const message = messageFor(other, nonce);
    const sig = await other.signMessage({ message });
    const v01 = sig.slice(0, 130) + (Number.parseInt(sig.slice(130), 16) - 27).toString(16).padStart(2, "0");
    expect((await verify(message, v01)).status).toBe(200);
  });
});

describe("POST /api/auth/verify: replay protection", () => {
  it("answers the same body twice with 200 then 401 nonce_unknown", async () => {
    const first = await attempt();
    expect(first.status).toBe(200);
    const second = await verify(first.message, first.signature);
    expect([second.status, second.code]).toEqual([401, "nonce_unknown"]);
  });

  it("lets exactly one of 20 concurrent identical verifies through", async () => {
    const account = newAccount();
    const { message } = await requestNonce(server, account.address);
    const signature = await account.signMessage({ message });
    const results = await Promise.all(Array.from({ length: 20 }, () => verify(message, signature)));
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    expect(results.filter((r) => r.status === 401 && r.code === "nonce_unknown")).toHaveLength(19);
  });

  it("burns the nonce on a failed verify: the right signature afterwards is refused", async () => {
    const account = newAccount();
    const failed = await attempt({}, { account, signer: newAccount() });
    expect(failed.code).toBe("invalid_signature");
    const retry = await verify(failed.message, await account.signMessage({ message: failed.message }));
    expect([retry.status, retry.code]).toEqual([401, "nonce_unknown"]);
  });

  it("refuses a nonce issued for another address, even when correctly signed", async () => {
    const victim = newAccount();
    const attacker = newAccount();
    const { nonce } = await requestNonce(server, victim.address);
    const message = messageFor(attacker, nonce);
    const result = await verify(message, await attacker.signMessage({ message }));
    expect([result.status, result.code]).toEqual([401, "nonce_unknown"]);
    // …and the attempt spent it: the victim's own message with that nonce fails too.
    const own = messageFor(victim, nonce);
    expect((await verify(own, await victim.signMessage({ message: own }))).code).toBe("nonce_unknown");
  });
});

describe("POST /api/auth/verify: every failure code", () => {
  const cases: Array<[string, string, () => Promise<{ status: number; code?: string }>]> = [
    ["invalid_signature", "signed by another key", () => attempt({}, { signer: newAccount() })],
    [
      "invalid_signature",
      "one byte of the message changed after signing",
      async () => {
        const account = newAccount();
        const { nonce } = await requestNonce(server, account.address);
        const message = messageFor(account, nonce);
        const signature = await account.signMessage({ message });
        return verify(message.replace("Trading.", "Tradinh."), signature);
      },
    ],
    [
      "invalid_signature",
      "one byte of the signature changed",
      async () => {
        const account = newAccount();
        const { nonce } = await requestNonce(server, account.address);
        const message = messageFor(account, nonce);
        const sig = await account.signMessage({ message });
        return verify(message, `${sig.slice(0, 10)}${sig[10] === "0" ? "1" : "0"}${sig.slice(11)}`);
      },
    ],
    [
      "invalid_signature",
      "the high-s twin of a valid signature",
      async () => {
        const account = newAccount();
        const { nonce } = await requestNonce(server, account.address);
        const message = messageFor(account, nonce);
        return verify(message, withHighS(await account.signMessage({ message })));
      },
    ],
    ["nonce_unknown", "a nonce the server never issued", async () => verify(messageFor(newAccount(), "NeverIssued1234567890"), `0x${"11".repeat(65)}`)],
    [
      "nonce_expired",
      "verified after NONCE_TTL_MS",
      async () => {
        const account = newAccount();
        const { nonce } = await requestNonce(server, account.address);
        const message = messageFor(account, nonce);
        const signature = await account.signMessage({ message });
        clock += NONCE_TTL_MS + 1;
        return verify(message, signature);
      },
    ],
    ["domain_mismatch", "another domain", () => attempt({ domain: "evil.example" })],
    ["domain_mismatch", "our domain with another scheme", () => attempt({ scheme: "https" })],
    ["uri_mismatch", "another URI", () => attempt({ uri: "http://evil.example/" })],
    ["chain_mismatch", "another chain", () => attempt({ chainId: 5 })],
    ["message_expired", "Expiration Time passed", () => attempt({ expirationTime: new Date(clock - 1) })],
    ["message_expired", "Issued At older than the nonce TTL", () => attempt({ issuedAt: new Date(clock - NONCE_TTL_MS - 1) })],
    ["message_not_yet_valid", "Not Before in the future", () => attempt({ notBefore: new Date(clock + 10_000) })],
    ["message_not_yet_valid", "Issued At beyond the clock skew", () => attempt({ issuedAt: new Date(clock + 120_000) })],
  ];
  for (const [code, what, run] of cases) {
    it(`401 ${code}: ${what}`, async () => {
      const result = await run();
      expect([result.status, result.code]).toEqual([401, code]);
    });
  }

  it("counts outcomes by code on /metrics", async () => {
    const text = await (await server.request("/metrics")).text();
    expect(text).toMatch(/auth_verify_total\{result="ok"\} [1-9]/);
    expect(text).toMatch(/auth_verify_total\{result="nonce_unknown"\} [1-9]/);
  });

  it("checks in the documented order: domain before URI before chain before nonce before time before signature", async () => {
    const all = await attempt({ domain: "evil.example", uri: "http://evil.example/", chainId: 5, expirationTime: new Date(clock - 1) }, { signer: newAccount() });
    expect(all.code).toBe("domain_mismatch");
    const noDomain = await attempt({ uri: "http://evil.example/", chainId: 5 }, { signer: newAccount() });
    expect(noDomain.code).toBe("uri_mismatch");
    const chainAndTime = await attempt({ chainId: 5, expirationTime: new Date(clock - 1) }, { signer: newAccount() });
    expect(chainAndTime.code).toBe("chain_mismatch");
    const timeAndSignature = await attempt({ expirationTime: new Date(clock - 1) }, { signer: newAccount() });
    expect(timeAndSignature.code).toBe("message_expired");
    // A mismatch found before the nonce check leaves the nonce usable.
    const account = newAccount();
    const { nonce } = await requestNonce(server, account.address);
    const wrong = messageFor(account, nonce, { chainId: 5 });
    expect((await verify(wrong, await account.signMessage({ message: wrong }))).code).toBe("chain_mismatch");
    const right = messageFor(account, nonce);
    expect((await verify(right, await account.signMessage({ message: right }))).status).toBe(200);
  });
});

describe("POST /api/auth/verify: malformed input is 400, never 5xx", () => {
  const post = (body: string) =>
    server.request("/api/auth/verify", { method: "POST", body, headers: { "content-type": "application/json" } });

  it("refuses malformed bodies, non-hex and short signatures, huge and non-EIP-4361 messages", async () => {
    const account = newAccount();
    const { message } = await requestNonce(server, account.address);
    const sig = await account.signMessage({ message });
    const bodies = [
      "",
      "{",
      "null",
      "[]",
      JSON.stringify({ message }),
      JSON.stringify({ signature: sig }),
      JSON.stringify({ message: 42, signature: sig }),
      JSON.stringify({ message, signature: `0x${"zz".repeat(65)}` }),
      JSON.stringify({ message, signature: sig.slice(0, 100) }),
      JSON.stringify({ message, signature: sig.slice(2) }),
      JSON.stringify({ message, signature: `${sig}00` }),
      JSON.stringify({ message: "hello", signature: sig }),
      JSON.stringify({ message: `${message}${"x".repeat(10_000)}`, signature: sig }),
      JSON.stringify({ message: message.replace("Version: 1", "Version: 2"), signature: sig }),
      JSON.stringify({ message: message.replaceAll("\n", "\r\n"), signature: sig }),
    ];
    for (const body of bodies) {
      const res = await post(body);
      expect(res.status, body.slice(0, 80)).toBe(400);
      expect((await res.json()).error.code).toBe("invalid_request");
    }
    // The untouched message still verifies: none of the malformed attempts consumed its nonce.
    expect((await verify(message, sig)).status).toBe(200);
  });

  it("answers 413 for a body over the limit (API.md conventions)", async () => {
    const res = await post(JSON.stringify({ message: "x".repeat(20_000), signature: "0x" }));
    expect(res.status).toBe(413);
  });

  it("never answers 5xx to arbitrary bodies (property)", async () => {
    const account = newAccount();
    const { message } = await requestNonce(server, account.address);
    const lines = message.split("\n");
    const mutatedMessage = fc
      .tuple(fc.nat({ max: lines.length - 1 }), fc.string({ maxLength: 60 }))
      .map(([i, s]) => lines.map((l, j) => (j === i ? s : l)).join("\n"));
    const body = fc.oneof(
      fc.string({ maxLength: 200 }),
      fc.record({ message: fc.oneof(mutatedMessage, fc.string(), fc.integer()), signature: fc.oneof(fc.stringMatching(/^0x[0-9a-fA-F]{130}$/), fc.string()) }).map((o) => JSON.stringify(o)),
    );
    await fc.assert(
      fc.asyncProperty(body, async (b) => {
        const res = await post(b);
        await res.arrayBuffer();
        expect([400, 401]).toContain(res.status);
      }),
      { numRuns: 150 },
    );
  });
});
