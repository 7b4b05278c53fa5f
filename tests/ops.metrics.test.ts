import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newKey, pickCell, postBet, startBetServer, type BetServer } from "./helpers/bets-fixture.ts";
import { createPlayer, type TestPlayer } from "./helpers/players.ts";
import { insertOpenBet, placeBet } from "./helpers/resolver-fixtures.ts";
import { writeDirect } from "./helpers/write.ts";
import { failCommands, waitFor } from "./helpers/faults.ts";
import { alertRules, metricNames } from "./helpers/alert-rules.ts";
import { diskSpace } from "../runtime/disk-metrics.ts";

// What the alert rules (ops/alerts.yml) read must really be on /metrics: a renamed metric breaks the
// build, not the pager. And the gauges added for them (issue 24) say what they claim.
const COLUMN_MS = 10_000;
const GRACE_MS = 5000;
/** Series Prometheus writes itself for every scrape target, not the app. */
const PROMETHEUS_OWN = new Set(["up"]);

/** Every sample line's value, by series (name plus labels as written). */
function samples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (!line || line.startsWith("#")) continue;
    const at = line.lastIndexOf(" ");
    out.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return out;
}
const sampleNames = (text: string) => new Set([...samples(text).keys()].map((series) => series.replace(/\{.*$/, "")));

describe("metrics the alert rules read", () => {
  let server: BetServer;
  let player: TestPlayer;
  const scrape = async () => (await server.request("/metrics")).text();
  const tick = (priceCents: number, at: number) => {
    server.clock.nowMs = at;
    server.ctx.services.price.ingest("manual", priceCents, at);
  };

  beforeAll(async () => {
    server = await startBetServer({ COLUMN_MS, ROW_CENTS: 1000, STUCK_BET_GRACE_MS: GRACE_MS, BATCH_QUEUE_MAX: 12_345 });
    player = await createPlayer(server.ctx, 1_000_000_000);
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("are all exported by the running server, with samples", async () => {
    const cell = await pickCell(server, 1);
    const bet = await postBet(server, player.token, { col: cell.col, row: cell.row, stakeMicroUsd: 1_000_000, idempotencyKey: newKey() });
    expect(bet.status).toBe(201);
    const exported = sampleNames(await scrape());
    const used = new Set(alertRules().flatMap((rule) => metricNames(rule.expr)));
    expect(used.size).toBeGreaterThan(10);
    const missing = [...used].filter((name) => !PROMETHEUS_OWN.has(name) && !exported.has(name));
    expect(missing, "series the rules use that /metrics does not export").toEqual([]);
  });

  it("readiness_check_ok follows /readyz check by check", async () => {
    let state = "disk on fire";
    server.ctx.readyChecks.set("drill", () => state);
    try {
      const degraded = await server.request("/readyz");
      expect(degraded.status).toBe(503);
      let values = samples(await scrape());
      expect(values.get('readiness_check_ok{check="drill"}')).toBe(0);
      expect(values.get('readiness_check_ok{check="db"}')).toBe(1);
      expect(values.get('readiness_check_ok{check="redis"}')).toBe(1); // not configured counts as ready
      state = "ok";
      values = samples(await scrape());
      expect(values.get('readiness_check_ok{check="drill"}')).toBe(1);
    } finally {
      server.ctx.readyChecks.delete("drill");
    }
    expect(samples(await scrape()).has('readiness_check_ok{check="drill"}')).toBe(false);
  });

  it("batch_queue_max is BATCH_QUEUE_MAX; refusals and WebSocket drops are exported at 0 before the first", async () => {
    const values = samples(await scrape());
    expect(values.get("batch_queue_max")).toBe(12_345);
    expect(values.get('batch_queue_rejected_total{reason="full"}')).toBe(0);
    for (const reason of ["slow", "flood", "full", "unauthorized"]) expect(values.get(`ws_clients_dropped_total{reason="${reason}"}`), reason).toBe(0);
  });

  it("disk_available_bytes and disk_size_bytes are the data and backup volumes' statfs figures", async () => {
    const values = samples(await scrape());
    for (const [volume, path] of [["data", server.dataDir], ["backups", server.ctx.config.BACKUP_DIR]] as const) {
      const now = diskSpace(path);
      expect(values.get(`disk_size_bytes{volume="${volume}"}`), volume).toBe(now.sizeBytes);
      const available = values.get(`disk_available_bytes{volume="${volume}"}`)!;
      expect(available, volume).toBeGreaterThan(0);
      expect(Math.abs(available - now.availableBytes), volume).toBeLessThan(now.sizeBytes * 0.01);
    }
  });

  it("resolver_stuck_open_bets counts open bets past STUCK_BET_GRACE_MS after their window, and only those", async () => {
    const now = server.clock.nowMs;
    const col = Math.floor(now / COLUMN_MS) + 1;
    const windowEnd = (col + 1) * COLUMN_MS;
    await placeBet(server.ctx, { accountId: player.accountId, address: player.address, col, row: 9600, stakeMicroUsd: 1_000_000, multiplierHundredths: 300, placedAt: now });
    const fault = failCommands(server.ctx, ["resolver.settle"]);
    try {
      for (let t = now + 500; t <= windowEnd + 2000; t += 500) tick(9_500_000, t);
      await waitFor("a failed settlement", () => fault.failures("resolver.settle") >= 1);
      let values = samples(await scrape());
      expect(values.get("resolver_ended_open_bets")).toBeGreaterThanOrEqual(1);
      expect(values.get("resolver_stuck_open_bets")).toBe(0); // ended 2 s ago: within the grace
      for (let t = windowEnd + 2500; t <= windowEnd + GRACE_MS + 1000; t += 500) tick(9_500_000, t);
      values = samples(await scrape());
      expect(values.get("resolver_stuck_open_bets")).toBeGreaterThanOrEqual(1);
      expect(values.get("resolver_settlements_retrying")).toBeGreaterThanOrEqual(1);
    } finally {
      fault.heal();
    }
    await waitFor("the stuck bet settled", async () => samples(await scrape()).get("resolver_stuck_open_bets") === 0, 15_000);
  });

  // Last here: it leaves 10 050 open bets of an ended window (their settlements failed).
  it("the ended-open gauges count up to 10 000: a scrape during a large settlement backlog stays cheap", async () => {
    const now = server.clock.nowMs;
    const col = Math.floor(now / COLUMN_MS) + 1;
    const windowEnd = (col + 1) * COLUMN_MS;
    const fault = failCommands(server.ctx, ["resolver.settle"]);
    try {
      writeDirect(server.ctx, (db) => {
        for (let i = 0; i < 10_050; i++) {
          const spec = { accountId: player.accountId, address: player.address, col, row: 9600 + (i % 20), stakeMicroUsd: 10_000, multiplierHundredths: 300, placedAt: now };
          insertOpenBet(db, spec, COLUMN_MS, 1000);
        }
      });
      for (let t = now + 500; t <= windowEnd + GRACE_MS + 1000; t += 500) tick(9_500_000, t);
      const values = samples(await scrape());
      expect(values.get("resolver_ended_open_bets")).toBe(10_000);
      expect(values.get("resolver_stuck_open_bets")).toBe(10_000);
    } finally {
      fault.heal();
    }
  });
});
