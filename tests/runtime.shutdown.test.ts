import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { openDatabase } from "../storage/db.ts";
import { startChildServer } from "./helpers/child.ts";
import { startTestServer } from "./helpers/server.ts";

describe("graceful shutdown", () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it("commits every queued write before closing the databases", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "tap-shutdown-"));
    dirs.push(dataDir);
    const server = await startTestServer({ BATCH_FLUSH_INTERVAL_MS: 1000 }, { dataDir });
    // Ticks long before anything the price feed stores, so only these count below.
    const writes = Array.from({ length: 100 }, (_, i) => server.ctx.queue.run("price.insertTick", i + 1, 1_000_000));
    expect(server.ctx.queue.depth).toBe(100); // still waiting for the 1 s flush
    await server.close();
    await Promise.all(writes);
    const db = openDatabase(join(dataDir, "current.db"), { busyTimeoutMs: 1000, synchronous: "FULL" });
    expect((db.prepare("SELECT count(*) AS n FROM price_ticks WHERE t <= 100").get() as { n: number }).n).toBe(100);
    db.close();
  });

  it.each(["SIGTERM", "SIGINT"] as const)("exits 0 on %s after serving", async (signal) => {
    const dataDir = mkdtempSync(join(tmpdir(), "tap-shutdown-"));
    dirs.push(dataDir);
    const server = await startChildServer({ DATA_DIR: dataDir, PRICE_SOURCES: "synthetic" });
    expect((await fetch(server.url + "/healthz")).status).toBe(200);
    server.child.kill(signal);
    expect(await server.exited).toBe(0);
    expect(server.output()).toMatch(/"msg":"shutting down"/);
    await expect(fetch(server.url + "/healthz")).rejects.toThrow();
  });
});
