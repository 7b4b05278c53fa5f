import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "./helpers/server.ts";
import { rawRequest } from "./helpers/raw-http.ts";
import { isCanonicalPath } from "../runtime/strict-path.ts";

/** Issue 13 item 4, the app's half: one path, one route, so nginx's per-path rules cannot be sidestepped. */
describe("abuse: canonical paths", () => {
  it("accepts the paths our routes use and nothing that normalises to them", () => {
    for (const ok of ["/", "/api/bets", "/api/bets/123/proof", "/metrics", "/api/auth/nonce"]) expect(isCanonicalPath(ok), ok).toBe(true);
    for (const bad of ["/api/bets/", "/api//bets", "//api/bets", "/api/./bets", "/api/x/../bets", "/api\\bets", "/api/%62ets", "/metrics/.", "/metrics/%2e", "api/bets", ""]) {
      expect(isCanonicalPath(bad), bad).toBe(false);
    }
  });
});

describe("abuse: the app refuses path aliases", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server?.stop();
  });

  const aliasesOfBets = ["/api/bets/", "/api/bets/.", "/api\\bets", "/api/x/../bets", "/api/%2e/bets", "/./api/bets", "/api/%62ets", "//api/bets"];
  const aliasesOfMetrics = ["/metrics/", "/metrics/.", "/metrics/%2e", "/x/../metrics", "/x/..\\metrics", "/%6detrics", "/metrics\\"];

  it("answers 404 not_found to every alias of POST /api/bets; the exact path still reaches the handler", async () => {
    for (const path of aliasesOfBets) {
      const res = await rawRequest(server.port, "POST", path, "{}");
      expect(res.status, path).toBe(404);
      expect(JSON.parse(res.body).error.code, path).toBe("not_found");
    }
    expect((await rawRequest(server.port, "POST", "/api/bets", "{}")).status).toBe(401);
    expect((await rawRequest(server.port, "POST", "/api/bets?x=1", "{}")).status).toBe(401);
  });

  it("answers 404 to every alias of /metrics; the exact path still serves the metrics", async () => {
    for (const path of aliasesOfMetrics) {
      const res = await rawRequest(server.port, "GET", path);
      expect(res.status, path).toBe(404);
      expect(res.body, path).not.toMatch(/# HELP/);
    }
    const metrics = await rawRequest(server.port, "GET", "/metrics");
    expect(metrics.status).toBe(200);
    expect(metrics.body).toMatch(/# HELP/);
  });
});
