import { cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { routeFromPath, scanHandlers } from "../runtime/routes.ts";
import { startTestServer, type TestServer } from "./helpers/server.ts";

describe("routeFromPath", () => {
  it.each([
    ["api/bets.post.ts", "POST", "/api/bets"],
    ["api/bets.get.ts", "GET", "/api/bets"],
    ["api/bets/[id].get.ts", "GET", "/api/bets/:id"],
    ["api/bets/[id]/proof.get.ts", "GET", "/api/bets/:id/proof"],
    ["api/index.get.ts", "GET", "/api"],
    ["index.get.ts", "GET", "/"],
    ["ws.ts", "", "/ws"],
    ["files/[...path].get.ts", "GET", "/files/**:path"],
  ])("%s → %s %s", (file, method, route) => {
    expect(routeFromPath(file)).toEqual({ method, route });
  });

  it.each(["api/_helpers.ts", "_lib/x.get.ts", "api/bets.test.ts", "types.d.ts", "README.md", "api/a.b.get.ts"])(
    "%s is not a route",
    (file) => {
      expect(routeFromPath(file)).toBeUndefined();
    },
  );

  it("the real handlers/ folder scans without duplicate claims", () => {
    const routes = scanHandlers(join(import.meta.dirname, "..", "handlers"));
    expect(routes.map((r) => `${r.method} ${r.route}`)).toContain("GET /healthz");
  });
});

describe("file-routed app on a fixture handler directory", () => {
  let server: TestServer;
  let handlersDir: string;
  beforeAll(async () => {
    // A copy, so the test can add a file the way a developer would.
    handlersDir = mkdtempSync(join(tmpdir(), "tap-handlers-"));
    cpSync(join(import.meta.dirname, "fixtures", "handlers"), handlersDir, { recursive: true });
    writeFileSync(
      join(handlersDir, "api", "added.get.ts"),
      `import { defineHandler } from "h3";\nexport default defineHandler(() => ({ added: true }));\n`,
    );
    // the fixture's relative imports point into the repo; keep them valid from the copy
    for (const f of ["api/echo.post.ts", "healthz.get.ts"]) {
      const fixture = join(import.meta.dirname, "fixtures", "handlers", f);
      writeFileSync(join(handlersDir, f), `export { default } from ${JSON.stringify(fixture)};\n`);
    }
    server = await startTestServer({ BODY_LIMIT_BYTES: 1024 }, { handlersDir });
  });
  afterAll(async () => {
    await server.stop();
    rmSync(handlersDir, { recursive: true, force: true });
  });

  it("a new file handlers/api/example.get.ts is a route with no other change", async () => {
    const res = await server.request("/api/example");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ example: true });
    expect(await (await server.request("/api/added")).json()).toEqual({ added: true });
  });

  it("passes [id] as a router param", async () => {
    expect(await (await server.request("/api/things/abc")).json()).toEqual({ id: "abc" });
  });

  it("ignores _-prefixed helper files", async () => {
    expect((await server.request("/api/_helper")).status).toBe(404);
  });

  it("accepts a valid JSON body", async () => {
    const res = await server.request("/api/echo", { method: "POST", json: { name: "a", n: 1 } });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ echoed: { name: "a", n: 1 } });
  });

  it("answers malformed JSON with 400 invalid_request", async () => {
    const res = await server.request("/api/echo", { method: "POST", body: "{not json", headers: { "content-type": "application/json" } });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: { code: "invalid_request", message: "body is not valid JSON" } });
  });

  it("answers a schema failure with 400 naming the failing fields", async () => {
    const res = await server.request("/api/echo", { method: "POST", json: { name: "", n: 1.5 } });
    expect(res.status).toBe(400);
    const body = await res.json();
    expect(body.error.code).toBe("invalid_request");
    expect(Object.keys(body.error.details.fields).sort()).toEqual(["n", "name"]);
  });

  it("answers an oversized body with 413, declared or streamed", async () => {
    const big = JSON.stringify({ name: "x".repeat(5000), n: 1 });
    const declared = await server.request("/api/echo", { method: "POST", body: big, headers: { "content-type": "application/json" } });
    expect(declared.status).toBe(413);
    expect((await declared.json()).error.code).toBe("payload_too_large");
    const stream = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode(big));
        controller.close();
      },
    });
    const streamed = await fetch(server.url + "/api/echo", { method: "POST", body: stream, duplex: "half" } as RequestInit);
    expect(streamed.status).toBe(413);
  });

  it("a client that hangs up halfway through its body costs only its own request", async () => {
    const { createConnection } = await import("node:net");
    const { port } = new URL(server.url);
    const answered = async (statusClass: string) =>
      (await server.ctx.metrics.requestSeconds.get()).values
        .filter((v) => v.metricName?.endsWith("_count") && v.labels.route === "/api/echo" && String(v.labels.status).startsWith(statusClass))
        .reduce((n, v) => n + v.value, 0);
    const [errorsBefore, refusedBefore] = [await answered("5"), await answered("400")];
    const socket = createConnection({ host: "127.0.0.1", port: Number(port) });
    await new Promise((resolve) => socket.once("connect", resolve));
    socket.write("POST /api/echo HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{\"name\":");
    await new Promise((resolve) => setTimeout(resolve, 50));
    socket.destroy();
    // The server finishes the cut request (as a 400 nobody receives) rather than leaving it hanging.
    for (let i = 0; i < 100 && (await answered("400")) === refusedBefore; i++) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await answered("400")).toBe(refusedBefore + 1);
    const res = await server.request("/api/echo", { method: "POST", body: JSON.stringify({ name: "after", n: 2 }), headers: { "content-type": "application/json" } });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ echoed: { name: "after", n: 2 } });
    expect(await answered("5")).toBe(errorsBefore);
  });

  it("answers a thrown bug with 500 and no stack or detail in the body", async () => {
    const res = await server.request("/api/bug");
    expect(res.status).toBe(500);
    const text = await res.text();
    expect(JSON.parse(text)).toEqual({ error: { code: "internal_error", message: "internal error" } });
    expect(text).not.toMatch(/secret|\.ts|at /);
  });

  it("answers unknown routes 404 and wrong methods 405", async () => {
    expect((await server.request("/api/none")).status).toBe(404);
    const res = await server.request("/api/example", { method: "POST" });
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe("GET");
  });
});
