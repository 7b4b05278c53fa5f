import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildWeb } from "../scripts/build-web.ts";
import { startTestServer, type TestServer } from "./helpers/server.ts";

/** GET / and /assets/*: the demo page's files only, from a fixed table, revalidated by ETag. */
describe("web: the page's static files", () => {
  let server: TestServer;
  beforeAll(async () => {
    await buildWeb();
    server = await startTestServer();
  });
  afterAll(async () => {
    await server.stop();
  });

  it("serves the page with a same-origin-only CSP, and its bundle and style sheet", async () => {
    const page = await server.request("/");
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(page.headers.get("content-security-policy")).toContain("default-src 'self'");
    const html = await page.text();
    expect(html).toContain('<script type="module" src="/assets/app.js"></script>');
    expect(html).not.toMatch(/https?:\/\//); // no CDN: it works offline
    const js = await server.request("/assets/app.js");
    expect(js.status).toBe(200);
    expect(js.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    expect(await js.text()).toContain("quoteTerms");
    expect((await server.request("/assets/style.css")).headers.get("content-type")).toBe("text/css; charset=utf-8");
  });

  it("answers 304 to a matching ETag", async () => {
    const first = await server.request("/assets/app.js");
    await first.arrayBuffer();
    const etag = first.headers.get("etag")!;
    expect(etag).toBeTruthy();
    const again = await server.request("/assets/app.js", { headers: { "if-none-match": etag } });
    expect(again.status).toBe(304);
  });

  it("serves nothing else: unknown names, sources and traversal are 404 in the API's error shape", async () => {
    for (const path of ["/assets/main.ts", "/assets/..%2fsrc%2fmain.ts", "/assets/%2e%2e%2fpackage.json", "/index.html", "/web/index.html"]) {
      const res = await server.request(path);
      expect(res.status, path).toBe(404);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe("not_found");
    }
    expect((await server.request("/", { method: "POST" })).status).toBe(405);
  });
});
