import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "./helpers/server.ts";
import { TestWsClient, wsUrl } from "./fakes/ws-client.ts";
import { until } from "./fakes/wait.ts";

/**
 * The broadcast fast path (services/realtime/wire.ts) reaches into the `ws` library's private socket
 * fields. It is pinned to one exact `ws` (and crossws) version; these tests fail loudly when the
 * installed version differs or when those internals no longer look as wire.ts expects, instead of
 * every client silently falling back to the slower path.
 */
const require = createRequire(import.meta.url);
const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { dependencies: Record<string, string> };

describe("ws: the framed-once fast path", () => {
  it("is pinned to the exact ws version installed", () => {
    const installed = (require("ws/package.json") as { version: string }).version;
    expect(pkg.dependencies.ws, "package.json must pin ws exactly (wire.ts reads its private fields)").toMatch(/^\d+\.\d+\.\d+$/);
    expect(installed).toBe(pkg.dependencies.ws);
    expect(pkg.dependencies.crossws).toMatch(/^\d+\.\d+\.\d+$/);
  });

  for (const rawFrames of [true, false]) {
    describe(`WS_RAW_FRAMES=${rawFrames}`, () => {
      let server: TestServer;
      beforeAll(async () => {
        server = await startTestServer({ WS_RAW_FRAMES: rawFrames });
      });
      afterAll(async () => {
        await server.stop();
      });

      it(rawFrames ? "serves every connection through ws's socket and delivers whole frames" : "sends through crossws's public API", async () => {
        const clients = [new TestWsClient(wsUrl(server.url)), new TestWsClient(wsUrl(server.url))];
        await Promise.all(clients.map((c) => c.next((m) => m.type === "hello")));
        const realtime = server.ctx.services.realtime;
        expect(realtime.clients).toBe(2);
        // If ws renames `_socket` or crossws stops exposing the ws instance, this drops to 0.
        expect(realtime.rawFrameClients).toBe(rawFrames ? 2 : 0);
        const at = Date.now();
        // Two ticks, one with a large payload-sized price, so both the short and the 16-bit length headers are used.
        server.ctx.services.price.ingest("manual", 9_500_001, at);
        server.ctx.services.price.ingest("manual", 9_500_002, at + 1);
        for (const client of clients) {
          const first = await client.next((m) => m.type === "price" && m.at === at);
          const second = await client.next((m) => m.type === "price" && m.at === at + 1);
          expect([first.priceCents, second.priceCents]).toEqual([9_500_001, 9_500_002]);
        }
        await Promise.all(clients.map((c) => c.close()));
        await until("server forgot the clients", () => realtime.clients === 0);
      });
    });
  }
});
