import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { connect, createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { renderNginx, startNginx, testNginxConfig, type RunningNginx } from "../scripts/lib/nginx.ts";
import { freePort, requireService } from "./helpers/services.ts";
import type { TestServer } from "./helpers/server.ts";
import { startBehindNginx, type NginxStack } from "./helpers/nginx-stack.ts";
import { rawRequest, type RawAnswer } from "./helpers/raw-http.ts";

const hasNginx = requireService("nginx");
/** A client that is not the host: nginx allows /metrics to 127.0.0.1 and ::1 only. */
const OUTSIDER = "127.0.0.2";

/** API.md § Conventions: every error nginx itself produces is `{"error":{"code","message"}}` as JSON. */
function expectApiError(res: RawAnswer, status: number, code: string): void {
  expect(res.status, res.body).toBe(status);
  expect(res.headers["content-type"]).toMatch(/^application\/json/);
  const body = JSON.parse(res.body) as { error: { code: string; message: string } };
  expect(body.error.code).toBe(code);
  expect(typeof body.error.message).toBe("string");
}

/** Sends bytes as they are (malformed or oversized requests) and returns the parsed answer. */
function rawBytes(port: number, bytes: string): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const socket: Socket = connect(port, "127.0.0.1");
    let data = "";
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => (data += chunk));
    socket.on("error", reject);
    socket.on("end", () => {
      const [head = "", body = ""] = data.split("\r\n\r\n");
      const lines = head.split("\r\n");
      const headers: Record<string, string> = {};
      for (const line of lines.slice(1)) {
        const colon = line.indexOf(":");
        if (colon > 0) headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
      }
      resolve({ status: Number(lines[0]?.split(" ")[1]), headers, body });
    });
    socket.write(bytes);
  });
}

async function withNginx(appPort: number, options: { proxyReadTimeoutSec?: number; limitLoopback?: boolean }, run: (port: number) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "tap-nginx-abuse-"));
  const plainPort = await freePort();
  const conf = renderNginx({ prefixDir: dir, appPort, plainPort, tlsPort: await freePort(), redirectPort: await freePort(), ...options });
  const verdict = testNginxConfig(conf, dir);
  expect(verdict.ok, verdict.output).toBe(true);
  const nginx = await startNginx(conf, dir, plainPort);
  try {
    await run(plainPort);
  } finally {
    await nginx.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

describe.runIf(hasNginx)("abuse: nginx in front of the app, bypasses closed", () => {
  let app: TestServer;
  let nginx: RunningNginx;
  let prefixDir: string;
  let port: number;

  let stack: NginxStack | undefined;

  beforeAll(async () => {
    // The app's own read limit is lifted here, so a 429 below can only be nginx's.
    stack = await startBehindNginx({ READ_RATE_PER_SEC: 1_000_000, READ_RATE_BURST: 1_000_000 }, { limitLoopback: true });
    ({ app, nginx, prefixDir } = stack);
    port = stack.plainPort;
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it("serves /metrics to the host only, on the exact path only", async () => {
    const local = await rawRequest(port, "GET", "/metrics");
    expect(local.status).toBe(200);
    expect(local.body).toMatch(/# HELP/);
    expectApiError(await rawRequest(port, "GET", "/metrics", undefined, {}, OUTSIDER), 403, "forbidden");
    // Every other spelling is refused from everywhere, the host included, and never shows the metrics.
    for (const from of [undefined, OUTSIDER]) {
      for (const path of ["/metrics/", "/metrics/.", "/metrics/%2e", "/metrics//", "/metricsx", "/metrics/x/..", "//metrics/", "/metrics\\", "/metrics;x"]) {
        const res = await rawRequest(port, "GET", path, undefined, {}, from);
        expect(res.body, `${path} from ${from ?? "127.0.0.1"}`).not.toMatch(/# HELP/);
        expectApiError(res, 403, "forbidden");
      }
      // Spellings nginx does not see as /metrics reach the app, which answers 404 to any non-canonical path.
      for (const path of ["/x/..\\metrics", "/x/..\\metrics/"]) {
        const res = await rawRequest(port, "GET", path, undefined, {}, from);
        expect(res.body, path).not.toMatch(/# HELP/);
        expect(res.status, path).toBe(404);
      }
    }
    // Spellings nginx decodes or normalises to /metrics get the exact location's allow list.
    for (const path of ["/%6detrics", "/x/../metrics", "//metrics"]) expectApiError(await rawRequest(port, "GET", path, undefined, {}, OUTSIDER), 403, "forbidden");
  });

  it("places bets on one path only: every alias of POST /api/bets is 404 not_found through nginx", async () => {
    for (const path of ["/api/bets/", "/api/bets/.", "/api\\bets", "/api/bets/%2e", "/api/bets;x", "/api/bets%2f"]) {
      const res = await rawRequest(port, "POST", path, "{}", {}, OUTSIDER);
      expectApiError(res, 404, "not_found");
    }
  });

  it("limits POST /api/bets per address in nginx with a JSON 429", async () => {
    const answers = await Promise.all(Array.from({ length: 320 }, () => rawRequest(port, "POST", "/api/bets", "{}")));
    const limited = answers.filter((a) => a.status === 429);
    expect(limited.length).toBeGreaterThan(0);
    expect(answers.filter((a) => a.status === 401).length).toBeGreaterThan(0); // the rest reach the app (no token)
    expectApiError(limited[0]!, 429, "rate_limited");
    expect(limited[0]!.headers["retry-after"]).toBe("1");
  });

  it("limits unauthenticated grid reads per address in nginx with a JSON 429", async () => {
    const answers = await Promise.all(Array.from({ length: 60 }, () => rawRequest(port, "GET", "/api/grid?cols=60&rows=61", undefined, {}, OUTSIDER)));
    const limited = answers.filter((a) => a.status === 429);
    expect(limited.length).toBeGreaterThan(0);
    expectApiError(limited[0]!, 429, "rate_limited");
  });

  it("does not write an error-log line per refused request (a flood must not fill the disk)", async () => {
    const errorLog = join(prefixDir, "logs", "error.log");
    const before = existsSync(errorLog) ? statSync(errorLog).size : 0;
    const answers = await Promise.all(Array.from({ length: 200 }, () => rawRequest(port, "GET", "/api/price", undefined, {}, OUTSIDER)));
    expect(answers.filter((a) => a.status === 429).length).toBeGreaterThan(100);
    // The test config logs at warn; rejections at the default level (error) wrote ~200 bytes each.
    const after = existsSync(errorLog) ? statSync(errorLog).size : 0;
    expect(after - before, readFileSync(errorLog, "utf8").slice(before, before + 400)).toBeLessThan(2_000);
  });

  it("answers 413, 414, an oversized header and a malformed request in the API's error shape", async () => {
    expectApiError(await rawRequest(port, "POST", "/api/auth/nonce", JSON.stringify({ address: "x".repeat(20_000) }), {}, OUTSIDER), 413, "payload_too_large");
    expectApiError(await rawRequest(port, "GET", `/api/price?x=${"a".repeat(20_000)}`, undefined, {}, OUTSIDER), 414, "uri_too_long");
    expectApiError(await rawRequest(port, "GET", "/api/price", undefined, { "x-big": "a".repeat(20_000) }, OUTSIDER), 431, "headers_too_large");
    expectApiError(await rawBytes(port, "GARBAGE\r\n\r\n"), 400, "invalid_request");
  });
});

describe.runIf(hasNginx)("abuse: nginx's answers when the app fails", () => {
  let hanging: Server;
  let hangingPort: number;
  const held: Socket[] = [];

  beforeAll(async () => {
    hangingPort = await freePort();
    // Accepts and never answers: an app stuck on a dependency.
    hanging = createServer((socket) => held.push(socket));
    await new Promise<void>((resolve) => hanging.listen(hangingPort, "127.0.0.1", resolve));
  });
  afterAll(async () => {
    for (const socket of held) socket.destroy();
    await new Promise<void>((resolve) => hanging.close(() => resolve()));
  });

  it("answers 504 upstream_timeout in the API's shape when the app does not answer in time", async () => {
    await withNginx(hangingPort, { proxyReadTimeoutSec: 1 }, async (port) => {
      const res = await rawRequest(port, "GET", "/api/price");
      expectApiError(res, 504, "upstream_timeout");
      expect(res.headers["retry-after"]).toBe("2");
    });
  });

  it("answers 503 unavailable in the API's shape when the app is down (nginx's 502)", async () => {
    await withNginx(await freePort(), {}, async (port) => {
      const res = await rawRequest(port, "POST", "/api/bets", "{}");
      expectApiError(res, 503, "unavailable");
      expect(res.headers["retry-after"]).toBe("2");
    });
  });
});
