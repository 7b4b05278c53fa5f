import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "./helpers/server.ts";

describe("runtime: health and error shape", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server.stop();
  });

  it("serves /healthz", async () => {
    const res = await server.request("/healthz");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "ok" });
    expect(res.headers.get("x-request-id")).toMatch(/^[\w-]+$/);
  });

  it("answers an unknown route with 404 not_found in the documented shape", async () => {
    const res = await server.request("/api/nope");
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: { code: "not_found", message: "no such route" } });
  });

  it("answers with the client's request id, once, on success and on error alike", async () => {
    for (const [path, status] of [["/healthz", 200], ["/api/nope", 404]] as const) {
      const res = await server.request(path, { headers: { "x-request-id": "trace-42" } });
      expect(res.status).toBe(status);
      expect(res.headers.get("x-request-id")).toBe("trace-42");
    }
  });

  it("answers a known path with the wrong method with 405 and Allow", async () => {
    const res = await server.request("/healthz", { method: "DELETE" });
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe("GET");
    expect((await res.json()).error.code).toBe("method_not_allowed");
  });
});
