import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "./helpers/server.ts";
import { clientIp, ipSet } from "../runtime/client-ip.ts";
import { TokenBuckets } from "../domain/token-bucket.ts";
import { readCost } from "../runtime/rate-limit.ts";
import { loadConfig } from "../runtime/config.ts";

/** Issue 13 item 3: reads are limited per client address in the app, and only a trusted proxy names the address. */
describe("abuse: the client address", () => {
  const trusted = ipSet(["127.0.0.1", "::1", "10.0.0.2"]);

  it("is the socket peer unless that peer is a trusted proxy", () => {
    expect(clientIp("203.0.113.9", "1.2.3.4", trusted)).toBe("203.0.113.9");
    expect(clientIp("::ffff:203.0.113.9", null, trusted)).toBe("203.0.113.9");
  });

  it("behind a trusted proxy, is the right-most forwarded hop that is not a trusted proxy", () => {
    // nginx appends the address it saw; what the client wrote to the left of it proves nothing.
    expect(clientIp("127.0.0.1", "6.6.6.6, 198.51.100.7", trusted)).toBe("198.51.100.7");
    expect(clientIp("::ffff:127.0.0.1", "198.51.100.7, 10.0.0.2", trusted)).toBe("198.51.100.7");
    expect(clientIp("127.0.0.1", "198.51.100.7, not-an-ip", trusted)).toBe("127.0.0.1");
    expect(clientIp("127.0.0.1", null, trusted)).toBe("127.0.0.1");
    expect(clientIp("127.0.0.1", "127.0.0.1", trusted)).toBe("127.0.0.1");
  });

  it("refuses addresses that are not addresses in the config", () => {
    expect(() => loadConfig({ TRUSTED_PROXIES: "127.0.0.1,nginx.local" })).toThrow(/TRUSTED_PROXIES/);
    expect(loadConfig({ READ_RATE_EXEMPT: "" }).READ_RATE_EXEMPT).toEqual([]);
  });
});

describe("abuse: token buckets", () => {
  it("allow a burst, then refill at the rate, and say how long to wait", () => {
    const buckets = new TokenBuckets({ ratePerSec: 2, burst: 3, keysMax: 10 });
    expect([1, 2, 3].map(() => buckets.take("a", 0).ok)).toEqual([true, true, true]);
    expect(buckets.take("a", 0)).toEqual({ ok: false, retryAfterMs: 500 });
    expect(buckets.take("b", 0).ok).toBe(true); // another address has its own bucket
    expect(buckets.take("a", 499).ok).toBe(false);
    expect(buckets.take("a", 1000).ok).toBe(true);
  });

  it("take a cost of several tokens (clamped to the burst), and say how long until that many are back", () => {
    const buckets = new TokenBuckets({ ratePerSec: 10, burst: 20, keysMax: 10 });
    expect(buckets.take("a", 0, 15).ok).toBe(true);
    expect(buckets.take("a", 0, 15)).toEqual({ ok: false, retryAfterMs: 1_000 });
    expect(buckets.take("a", 0, 5).ok).toBe(true);
    expect(buckets.take("b", 0, 1_000).ok).toBe(true); // more than the burst costs the burst
    expect(buckets.take("b", 0, 1).ok).toBe(false);
    expect(readCost(new URL("http://x/api/grid"))).toBe(1);
    expect(readCost(new URL("http://x/api/grid?cols=60&rows=61"))).toBe(15);
    expect(readCost(new URL("http://x/api/grid?cols=6000&rows=61"))).toBe(15); // read leniently: clamped to the maxima,
    expect(readCost(new URL("http://x/api/grid?cols=abc&rows=61"))).toBe(1); // anything unreadable counts as 1
    expect(readCost(new URL("http://x/api/price?cols=60&rows=61"))).toBe(1);
  });

  it("remember at most keysMax addresses", () => {
    const buckets = new TokenBuckets({ ratePerSec: 1, burst: 1, keysMax: 100 });
    for (let i = 0; i < 10_000; i++) buckets.take(`10.0.${i >> 8}.${i & 255}`, 0);
    expect(buckets.size).toBe(100);
  });
});

describe("abuse: per-IP read limit in the app", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ READ_RATE_PER_SEC: 1, READ_RATE_BURST: 3, READ_RATE_EXEMPT: "" });
  });
  afterAll(async () => {
    await server?.stop();
  });

  const read = (path: string, from?: string) => server.request(path, { headers: from ? { "x-forwarded-for": from } : {} });

  it("answers 429 rate_limited with Retry-After once an address has used its burst", async () => {
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await read("/api/grid", "198.51.100.1")).status);
    expect(statuses).not.toContain(429);
    const refused = await read("/api/grid", "198.51.100.1");
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(refused.headers.get("content-type")).toMatch(/^application\/json/);
    expect((await refused.json()).error).toMatchObject({ code: "rate_limited" });
    // Every read route counts, a bearer header included (an unchecked header buys no bypass).
    expect((await server.request("/api/price", { headers: { "x-forwarded-for": "198.51.100.1" }, token: "made-up" })).status).toBe(429);
  });

  it("charges a large grid by its size: one 60 × 61 grid uses the whole burst a default grid uses a third of", async () => {
    // (Not 429 is what matters here: without a price feed the grid itself may answer 503.)
    expect((await read("/api/grid?cols=60&rows=61", "198.51.100.9")).status).not.toBe(429);
    expect((await read("/api/grid", "198.51.100.9")).status).toBe(429);
    expect((await read("/api/grid?cols=12&rows=21", "198.51.100.10")).status).not.toBe(429);
    expect((await read("/api/grid", "198.51.100.10")).status).not.toBe(429);
  });

  it("keeps one address's flood from refusing another address", async () => {
    for (let i = 0; i < 10; i++) await read("/api/price", "198.51.100.2");
    expect((await read("/api/price", "198.51.100.2")).status).toBe(429);
    expect((await read("/api/price", "198.51.100.3")).status).not.toBe(429);
  });

  it("leaves health checks, metrics and writes alone", async () => {
    for (let i = 0; i < 10; i++) await read("/api/price", "198.51.100.4");
    for (const path of ["/healthz", "/readyz", "/metrics"]) expect((await read(path, "198.51.100.4")).status, path).not.toBe(429);
    const bet = await server.request("/api/bets", { method: "POST", json: {}, headers: { "x-forwarded-for": "198.51.100.4" } });
    expect(bet.status).toBe(401);
  });
});

describe("abuse: a forwarded address from an untrusted peer is ignored", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ READ_RATE_PER_SEC: 1, READ_RATE_BURST: 2, READ_RATE_EXEMPT: "", TRUSTED_PROXIES: "192.0.2.1" });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("limits the socket's address, whatever X-Forwarded-For claims", async () => {
    const statuses = [];
    for (let i = 0; i < 5; i++) statuses.push((await server.request("/api/price", { headers: { "x-forwarded-for": `198.51.100.${10 + i}` } })).status);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(3);
  });
});

describe("abuse: loopback is exempt by default", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ READ_RATE_PER_SEC: 1, READ_RATE_BURST: 1 });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("lets local tools read without a limit, but not a forwarded client", async () => {
    for (let i = 0; i < 5; i++) expect((await server.request("/api/price")).status).not.toBe(429);
    await server.request("/api/price", { headers: { "x-forwarded-for": "198.51.100.20" } });
    expect((await server.request("/api/price", { headers: { "x-forwarded-for": "198.51.100.20" } })).status).toBe(429);
  });
});
