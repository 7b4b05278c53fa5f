import { afterEach, describe, expect, it } from "vitest";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { clientIp, ipSet } from "../runtime/client-ip.ts";
import { startTestServer, type TestServer } from "./helpers/server.ts";
import { requestNonce, signIn } from "./helpers/siwe.ts";
import { randomAddress } from "./helpers/players.ts";

/**
 * Issue 13 item 3: nonces live in a bounded store of their own, so a flood of nonce requests cannot
 * sign players out, and one client IP gets only so many nonces (429 `rate_limited`, Retry-After).
 */
let server: TestServer | undefined;
afterEach(async () => {
  await server?.stop();
  server = undefined;
});

const nonceFrom = (s: TestServer, ip: string | undefined, address = randomAddress()) =>
  s.request("/api/auth/nonce", { method: "POST", json: { address }, headers: ip ? { "x-forwarded-for": ip } : {} });

describe.each(["disk", "memory"])("nonce flood against the %s store", (store) => {
  it("evicts old nonces, never sessions; the newest nonces still verify", async () => {
    // Bounds small enough that one shared store of 50 keys would lose the session to the flood.
    server = await startTestServer({ SESSION_STORE: store, SESSIONS_MAX: 50, NONCES_MAX: 50 });
    const player = await signIn(server);
    const early = privateKeyToAccount(generatePrivateKey());
    const first = await requestNonce(server, early.address);
    for (let i = 0; i < 200; i++) expect((await nonceFrom(server, undefined)).status).toBe(200);

    const me = await server.request("/api/me", { token: player.token });
    expect(me.status).toBe(200);

    // The flood pushed the first nonce out of its bounded store…
    const evicted = await server.request("/api/auth/verify", {
      method: "POST",
      json: { message: first.message, signature: await early.signMessage({ message: first.message }) },
    });
    expect(evicted.status).toBe(401);
    expect(((await evicted.json()) as { error: { code: string } }).error.code).toBe("nonce_unknown");
    // …while signing in with a fresh one still works.
    await signIn(server);
  });
});

describe("per-IP nonce rate", () => {
  it("answers 429 rate_limited with Retry-After past the burst, per client IP, and refills with time", async () => {
    let t = Date.now();
    server = await startTestServer({ NONCE_RATE_BURST: 3, NONCE_RATE_PER_MIN: 6 }, { now: () => t });
    const ip = "203.0.113.7";
    for (let i = 0; i < 3; i++) expect((await nonceFrom(server, ip)).status).toBe(200);
    const refused = await nonceFrom(server, ip);
    expect(refused.status).toBe(429);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe("rate_limited");
    const retryAfterS = Number(refused.headers.get("retry-after"));
    expect(retryAfterS).toBeGreaterThanOrEqual(1);
    expect(retryAfterS).toBeLessThanOrEqual(10); // 6 per minute: one token every 10 s

    expect((await nonceFrom(server, "203.0.113.8")).status).toBe(200); // another client is not affected
    expect((await nonceFrom(server, "2001:db8::1")).status).toBe(200);
    expect((await nonceFrom(server, undefined)).status).toBe(200); // this host (as nginx's zones exempt it)

    t += retryAfterS * 1000;
    expect((await nonceFrom(server, ip)).status).toBe(200);
    expect((await nonceFrom(server, ip)).status).toBe(429);
  });

  it("trusts X-Forwarded-For only from a trusted proxy (nginx on this host), and only its right-most address", () => {
    const trusted = ipSet(["127.0.0.1", "::1"]);
    expect(clientIp("127.0.0.1", "198.51.100.4", trusted)).toBe("198.51.100.4");
    expect(clientIp("::1", "2001:db8::2", trusted)).toBe("2001:db8::2");
    expect(clientIp("::ffff:127.0.0.1", " 198.51.100.4 ", trusted)).toBe("198.51.100.4");
    expect(clientIp("127.0.0.1", "203.0.113.7, 198.51.100.4", trusted)).toBe("198.51.100.4");
    expect(clientIp("198.51.100.9", "198.51.100.4", trusted)).toBe("198.51.100.9");
    expect(clientIp("127.0.0.1", "not-an-ip", trusted)).toBe("127.0.0.1");
    expect(clientIp("127.0.0.1", null, trusted)).toBe("127.0.0.1");
  });
});
