import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "libsql";
import { afterAll, describe, expect, it } from "vitest";
import { startTestServer } from "./helpers/server.ts";
import { createPlayer } from "./helpers/players.ts";
import { placeBet } from "./helpers/resolver-fixtures.ts";
import { WEEK_MS, weekStartOf } from "../services/archive/weeks.ts";

// scripts/archive.sh by hand: online backup of both files first, then `npm run job -- archive` once
// (real clock: the data below is from two weeks ago).
describe("scripts/archive.sh", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "tap-archive-sh-"));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it("backs up both databases, then archives the closed weeks", async () => {
    let clock = weekStartOf(Date.now()) - 2 * WEEK_MS + 3_600_000;
    const server = await startTestServer({ COLUMN_MS: 10_000 }, { now: () => clock, dataDir });
    const player = await createPlayer(server.ctx, 100_000_000);
    const col = Math.floor(clock / 10_000) + 1;
    const bet = await placeBet(server.ctx, { accountId: player.accountId, address: player.address, col, row: 9500, stakeMicroUsd: 1_000_000, multiplierHundredths: 200, placedAt: clock });
    for (let t = clock + 500; t <= (col + 1) * 10_000 + 1000; t += 500) {
      clock = t;
      server.ctx.services.price.ingest("manual", 9_000_000, t);
    }
    await server.ctx.services.resolver.sweep();
    await server.stop();

    const run = spawnSync("bash", ["scripts/archive.sh"], { env: { ...process.env, DATA_DIR: dataDir, LOG_LEVEL: "warn", PRICE_SOURCES: "manual" }, encoding: "utf8", timeout: 60_000 });
    expect(run.status, run.stderr + run.stdout).toBe(0);
    expect(run.stdout).toMatch(/current\.db: backed up .* \(integrity ok\)/);
    expect(run.stdout).toMatch(/"ok": true/);

    const [stamp] = readdirSync(join(dataDir, "backups"));
    const backup = new Database(join(dataDir, "backups", stamp!, "current.db"), { readonly: true });
    expect(backup.prepare("SELECT status FROM bets WHERE id = ?").get(bet.id)).toMatchObject({ status: "lost" });
    backup.close();
    const history = new Database(join(dataDir, "history.db"), { readonly: true });
    expect(history.prepare("SELECT status FROM bets WHERE id = ?").get(bet.id)).toMatchObject({ status: "lost" });
    history.close();
    const current = new Database(join(dataDir, "current.db"), { readonly: true });
    expect(current.prepare("SELECT count(*) AS n FROM bets").get()).toMatchObject({ n: 0 });
    current.close();
  });
});

// The server's own archive run (cron, POST /api/admin/archive) with the default ARCHIVE_MODE=process:
// the archiver works in a child process, never on the API's event loop, and its report comes back.
describe("archive job in its own process", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "tap-archive-child-"));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it("archives closed weeks from a child process and answers the admin route with its report", async () => {
    let clock = weekStartOf(Date.now()) - 2 * WEEK_MS + 3_600_000;
    const seeding = await startTestServer({ COLUMN_MS: 10_000 }, { now: () => clock, dataDir });
    const player = await createPlayer(seeding.ctx, 100_000_000);
    const col = Math.floor(clock / 10_000) + 1;
    const bet = await placeBet(seeding.ctx, { accountId: player.accountId, address: player.address, col, row: 9500, stakeMicroUsd: 1_000_000, multiplierHundredths: 200, placedAt: clock });
    for (let t = clock + 500; t <= (col + 1) * 10_000 + 1000; t += 500) {
      clock = t;
      seeding.ctx.services.price.ingest("manual", 9_000_000, t);
    }
    await seeding.ctx.services.resolver.sweep();
    await seeding.stop();

    const adminToken = "a-long-enough-admin-token";
    const server = await startTestServer({ COLUMN_MS: 10_000, ADMIN_TOKEN: adminToken }, { dataDir });
    try {
      expect(server.ctx.config.ARCHIVE_MODE).toBe("process");
      let inProcessRuns = 0;
      const inline = server.ctx.services.archive.run;
      server.ctx.services.archive.run = (options) => (inProcessRuns++, inline(options));
      const res = await server.request("/api/admin/archive", { method: "POST", token: adminToken });
      expect(res.status).toBe(200);
      const report = await res.json();
      expect(report.ok).toBe(true);
      expect(inProcessRuns).toBe(0); // the run happened in the child, not on this event loop
      // The bet moved to history (read through the API's query-only connection) and left current.
      expect(server.ctx.history.prepare("SELECT status FROM bets WHERE id = ?").get(bet.id)).toMatchObject({ status: "lost" });
      expect(server.ctx.db.prepare("SELECT count(*) AS n FROM bets WHERE id = ?").get(bet.id)).toMatchObject({ n: 0 });
      const { token } = await server.ctx.services.auth.sessions.create(player.address, player.accountId);
      const listed = await server.request("/api/bets", { token });
      expect((await listed.json()).bets.map((b: { id: string }) => b.id)).toContain(String(bet.id));
    } finally {
      await server.stop();
    }
  });
});
