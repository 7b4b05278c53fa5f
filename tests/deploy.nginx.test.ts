import { mkdtempSync, rmSync } from "node:fs";
import { request as httpsRequest } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { renderNginx, startNginx, testNginxConfig, type RunningNginx } from "../scripts/lib/nginx.ts";
import { freePort, requireService } from "./helpers/services.ts";
import type { TestServer } from "./helpers/server.ts";
import { startBehindNginx, type NginxStack } from "./helpers/nginx-stack.ts";

const hasNginx = requireService("nginx");

describe.runIf(hasNginx)("nginx in front of the app", () => {
  let app: TestServer;
  let nginx: RunningNginx;
  let prefixDir: string;
  let base: string;
  let tlsPort: number;
  let redirectPort: number;

  let stack: NginxStack | undefined;

  beforeAll(async () => {
    stack = await startBehindNginx({}, { limitLoopback: true });
    ({ app, nginx, prefixDir, base, tlsPort, redirectPort } = stack);
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it("passes nginx -t", () => {
    // checked in beforeAll with the full config: TLS server block, zones, upstream keepalive
    expect(testNginxConfig(join(prefixDir, "nginx.conf"), prefixDir).output).toMatch(/syntax is ok/);
  });

  it("proxies requests to the app and keeps the app's JSON errors", async () => {
    const ok = await fetch(`${base}/healthz`);
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ status: "ok" });
    expect(ok.headers.get("x-request-id")).toMatch(/^[0-9a-f]{32}$/); // nginx's $request_id reaches the app
    const missing = await fetch(`${base}/api/nope`);
    expect(missing.status).toBe(404);
    expect((await missing.json()).error.code).toBe("not_found");
  });

  it("refuses bodies over 16 KiB with 413 in the API's error shape", async () => {
    const res = await fetch(`${base}/api/auth/nonce`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ address: "x".repeat(20_000) }),
    });
    expect(res.status).toBe(413);
    expect((await res.json()).error.code).toBe("payload_too_large");
  });

  it("rate-limits the auth routes per IP with 429", async () => {
    const statuses = await Promise.all(
      Array.from({ length: 60 }, () =>
        fetch(`${base}/api/auth/nonce`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" }).then((r) => r.status),
      ),
    );
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThan(0);
    expect(statuses.filter((s) => s !== 429).length).toBeGreaterThan(0);
  });

  it("upgrades /ws to a WebSocket through the proxy and relays the hello", async () => {
    const ws = new WebSocket(`ws://${base.slice("http://".length)}/ws`);
    const first = await new Promise<unknown>((resolve, reject) => {
      ws.once("message", (data) => resolve(JSON.parse(String(data))));
      ws.once("unexpected-response", (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
      ws.once("error", reject);
    });
    ws.close();
    expect(first).toMatchObject({ type: "hello", authenticated: false });
  });

  it("serves the API over TLS and redirects plain HTTP there", async () => {
    const body = await new Promise<string>((resolve, reject) => {
      const req = httpsRequest({ host: "127.0.0.1", port: tlsPort, path: "/healthz", rejectUnauthorized: false }, (res) => {
        let data = "";
        res.on("data", (d) => (data += d));
        res.on("end", () => resolve(data));
      });
      req.on("error", reject);
      req.end();
    });
    expect(JSON.parse(body)).toEqual({ status: "ok" });
    const redirect = await fetch(`http://127.0.0.1:${redirectPort}/api/price`, { redirect: "manual" });
    expect(redirect.status).toBe(301);
    expect(redirect.headers.get("location")).toMatch(/^https:\/\//);
  });

  it("answers 503 in the API's shape when the app is down", async () => {
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), "tap-nginx-down-"));
    const plainPort = await freePort();
    const conf = renderNginx({ prefixDir: dir, appPort: port, plainPort, tlsPort: await freePort(), redirectPort: await freePort() });
    const down = await startNginx(conf, dir, plainPort);
    try {
      const res = await fetch(`http://127.0.0.1:${plainPort}/healthz`);
      expect(res.status).toBe(503);
      expect((await res.json()).error.code).toBe("unavailable");
    } finally {
      await down.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
