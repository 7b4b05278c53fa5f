import { existsSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newKey, pickCell, postBet, startBetServer, type BetServer } from "./helpers/bets-fixture.ts";
import { createPlayer } from "./helpers/players.ts";
import { listBackups, readManifest } from "../storage/backup.ts";
import type { BackupResult } from "../services/backup/index.ts";

// The server's own backup job (jobs/backup.ts → services/backup, copy and verification in a thread)
// while the writer thread runs: a verified backup with every committed bet, its metrics, retention.
describe("backup job in the server", () => {
  let server: BetServer;
  beforeAll(async () => {
    server = await startBetServer({ BACKUP_KEEP_RECENT: 1, BACKUP_KEEP_DAILY: 0 });
  });
  afterAll(async () => {
    await server?.stop();
  });
  const gauge = async (series: string) => {
    const text = await (await server.request("/metrics")).text();
    const line = text.split("\n").find((l) => l.startsWith(`${series} `));
    return line === undefined ? undefined : Number(line.slice(series.length + 1));
  };

  it("takes a verified backup holding every committed bet, shows it on /metrics, and keeps what retention says", async () => {
    expect(await gauge("backup_newest_timestamp_seconds")).toBe(0);
    const player = await createPlayer(server.ctx, 100_000_000);
    const cell = await pickCell(server, 1);
    const placed = await Promise.all(Array.from({ length: 5 }, () => postBet(server, player.token, { col: cell.col, row: cell.row, stakeMicroUsd: 1_000_000, idempotencyKey: newKey() })));
    expect(placed.map((p) => p.status)).toEqual([201, 201, 201, 201, 201]);

    const first = (await server.jobs.run("backup")).result as BackupResult;
    expect(first.dir).toBe(join(server.ctx.config.BACKUP_DIR, first.stamp));
    const manifest = readManifest(first.dir);
    expect(manifest.files["current.db"]!.tables.bets).toMatchObject({ rows: 5, maxKey: Math.max(...placed.map((p) => Number(p.body.bet.id))) });
    expect(manifest.files["history.db"]).toBeDefined();
    expect(await gauge("backup_newest_timestamp_seconds")).toBe(listBackups(server.ctx.config.BACKUP_DIR)[0]!.takenAt / 1000);
    expect(await gauge('backup_snapshot_seconds{file="current.db"}')).toBeGreaterThanOrEqual(0);

    server.clock.nowMs += 3_600_000;
    const second = (await server.jobs.run("backup")).result as BackupResult;
    expect(second.pruned).toEqual([first.stamp]);
    expect(existsSync(first.dir)).toBe(false);
    // history.db did not change: the second backup's copy is a hard link, intact after the first went.
    expect(second.files["history.db"]!.sameAs).toBe(first.stamp);
    expect(readManifest(second.dir).files["history.db"]!.userVersion).toBeGreaterThan(0);
    expect(existsSync(join(second.dir, "history.db"))).toBe(true);
    expect(listBackups(server.ctx.config.BACKUP_DIR).map((b) => b.stamp)).toEqual([second.stamp]);
  });
});
