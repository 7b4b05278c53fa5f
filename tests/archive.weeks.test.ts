import { afterEach, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "./helpers/server.ts";
import { createPlayer, type TestPlayer } from "./helpers/players.ts";
import { placeBet } from "./helpers/resolver-fixtures.ts";
import { WEEK_MS, weekStartOf } from "../services/archive/weeks.ts";
import type { ArchiveOptions } from "../services/archive/archiver.ts";
import { runIntegrityCheck } from "../services/bets/integrity.ts";
import { openDatabase } from "../storage/db.ts";
import { join } from "node:path";

// Several weeks of play (bets won, lost and void, ticks, stale gaps between sessions), then the
// weekly archiver: history must hold every closed week exactly once, current only this week's rows
// and the open bets; balances, history reads, proofs and the integrity check are unchanged.
const COLUMN_MS = 10_000;
const ADMIN_TOKEN = "admin-token-for-archive-tests";
const MONDAY = Date.UTC(2024, 0, 1); // 2024-01-01 was a Monday
const WEEKS = 4;

interface World {
  server: TestServer;
  players: TestPlayer[];
  betIds: number[];
  openIds: number[];
  clock: { now: number };
}

async function playWeeks(): Promise<World> {
  const clock = { now: MONDAY + 3_600_000 };
  const server = await startTestServer({ COLUMN_MS, ROW_CENTS: 1000, ADMIN_TOKEN, ARCHIVE_MODE: "inline" }, { now: () => clock.now });
  const { ctx } = server;
  const players = [await createPlayer(ctx, 500_000_000), await createPlayer(ctx, 500_000_000), await createPlayer(ctx, 500_000_000)];
  const betIds: number[] = [];
  let price = 9_500_500;
  let seed = 7;
  const random = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648) / 2_147_483_648);
  const session = async (start: number) => {
    clock.now = start;
    // The first column starts with the session: after hours of silence its window opens stale.
    const firstCol = Math.floor(start / COLUMN_MS);
    for (let k = 0; k < 12; k++) {
      const player = players[k % players.length]!;
      const col = firstCol + (k % 4);
      const row = Math.floor(price / 1000) + Math.floor(random() * 5) - 2;
      const bet = await placeBet(ctx, { accountId: player.accountId, address: player.address, col, row, stakeMicroUsd: 1_000_000 + k * 10_000, multiplierHundredths: 150 + k * 25, placedAt: clock.now });
      betIds.push(bet.id);
    }
    // 55 s of ticks every 500 ms (a random walk of ±$4), then the windows are decided.
    for (let t = start + 500; t <= start + 55_000; t += 500) {
      price += Math.round((random() - 0.5) * 800);
      clock.now = t;
      ctx.services.price.ingest("manual", price, t);
    }
    await ctx.services.resolver.sweep();
  };
  for (let w = 0; w < WEEKS; w++) {
    await session(MONDAY + w * WEEK_MS + 2 * 3_600_000);
    // Between sessions the feed is silent for hours: the monitor records a stale gap, the next
    // session's first window opens stale → some voids.
    clock.now += 3_600_000;
    (ctx.services.price as unknown as { check?: () => void }).check?.();
    await session(MONDAY + w * WEEK_MS + 3 * 86_400_000 + 1000);
  }
  // Sunday night of the last closed week: a bet whose window is next Monday stays open across the boundary.
  clock.now = MONDAY + WEEKS * WEEK_MS - 30_000;
  ctx.services.price.ingest("manual", price, clock.now);
  const p = players[0]!;
  const open = await placeBet(ctx, { accountId: p.accountId, address: p.address, col: Math.floor((MONDAY + WEEKS * WEEK_MS) / COLUMN_MS) + 30, row: 9000, stakeMicroUsd: 3_000_000, multiplierHundredths: 500, placedAt: clock.now });
  clock.now = MONDAY + WEEKS * WEEK_MS + 5 * 60_000; // Monday 00:05, like the cron job
  await ctx.services.resolver.sweep();
  return { server, players, betIds, openIds: [open.id], clock };
}

const count = (db: TestServer["ctx"]["db"], sql: string, ...args: unknown[]) => (db.prepare(sql).get(...args) as { n: number }).n;

function snapshot(world: World) {
  const { db } = world.server.ctx;
  const balances = db.prepare("SELECT id, balance_micro_usd AS b FROM accounts ORDER BY id").all() as { id: number; b: number }[];
  return balances.map((r) => [r.id, r.b]);
}

/** Every bet exactly once across both files, every entry exactly once, sums as before. */
function assertNothingLostOrDoubled(world: World, before: { bets: number; entries: number; stake: number; entrySum: number }) {
  const { db, history } = world.server.ctx;
  const ids = new Set<number>();
  for (const d of [db, history]) for (const r of d.prepare("SELECT id FROM bets").all() as { id: number }[]) {
    expect(ids.has(r.id), `bet ${r.id} is in both databases`).toBe(false);
    ids.add(r.id);
  }
  expect(ids.size).toBe(before.bets);
  const entryIds = new Set<number>();
  for (const d of [db, history]) for (const r of d.prepare("SELECT id FROM ledger_entries").all() as { id: number }[]) {
    expect(entryIds.has(r.id), `entry ${r.id} is in both databases`).toBe(false);
    entryIds.add(r.id);
  }
  expect(entryIds.size).toBe(before.entries);
  const sum = (sql: string) => [db, history].reduce((acc, d) => acc + (d.prepare(sql).get() as { s: number }).s, 0);
  expect(sum("SELECT COALESCE(SUM(stake_micro_usd), 0) AS s FROM bets")).toBe(before.stake);
  expect(sum("SELECT COALESCE(SUM(ABS(amount_micro_usd)), 0) AS s FROM ledger_entries")).toBe(before.entrySum);
}

function totalsBefore(world: World) {
  const { db } = world.server.ctx;
  return {
    bets: count(db, "SELECT count(*) AS n FROM bets"),
    entries: count(db, "SELECT count(*) AS n FROM ledger_entries"),
    stake: (db.prepare("SELECT SUM(stake_micro_usd) AS s FROM bets").get() as { s: number }).s,
    entrySum: (db.prepare("SELECT SUM(ABS(amount_micro_usd)) AS s FROM ledger_entries").get() as { s: number }).s,
  };
}

describe("weekly archiver", () => {
  let world: World | undefined;
  afterEach(async () => {
    await world?.server.stop();
    world = undefined;
  });

  it("moves closed weeks to history, keeps open bets and balances, and history reads, proofs and integrity still agree", async () => {
    world = await playWeeks();
    const { server } = world;
    const { db, history } = server.ctx;
    const statuses = db.prepare("SELECT status, count(*) AS n FROM bets GROUP BY status").all() as { status: string; n: number }[];
    expect(statuses.map((s) => s.status).sort()).toEqual(["lost", "open", "void", "won"]);
    const before = totalsBefore(world);
    const balancesBefore = snapshot(world);
    const ticksBefore = count(db, "SELECT count(*) AS n FROM price_ticks");
    const gapsBefore = count(db, "SELECT count(*) AS n FROM stale_gaps WHERE end_at IS NOT NULL");
    expect(gapsBefore).toBeGreaterThan(0);

    expect((await server.request("/api/admin/archive", { method: "POST" })).status).toBe(401);
    const res = await server.request("/api/admin/archive", { method: "POST", token: ADMIN_TOKEN });
    expect(res.status).toBe(200);
    const report = await res.json();
    expect(report.ok).toBe(true);
    expect(report.weeks.map((w: { week: string }) => w.week)).toEqual(["2024-01-01", "2024-01-08", "2024-01-15", "2024-01-22"]);
    for (const week of report.weeks) {
      expect(week.status).toBe("done");
      expect(week.totals.bets).toBe(week.copied.bets);
      expect(week.totals.ledgerSumMicroUsd).toBe(0); // double entry: every transfer's two sides moved together
    }

    // Current: only the open bet (and its stake entries) and the non-bet entries remain; history has the rest.
    expect(count(db, "SELECT count(*) AS n FROM bets")).toBe(1);
    expect(count(db, "SELECT count(*) AS n FROM bets WHERE id = ? AND status = 'open'", world.openIds[0])).toBe(1);
    expect(count(db, "SELECT count(*) AS n FROM ledger_entries WHERE bet_id IS NOT NULL")).toBe(2);
    expect(count(db, "SELECT count(*) AS n FROM price_ticks WHERE t < ?", weekStartOf(server.ctx.now()))).toBe(0);
    expect(count(history, "SELECT count(*) AS n FROM price_ticks") + count(db, "SELECT count(*) AS n FROM price_ticks")).toBe(ticksBefore);
    expect(count(history, "SELECT count(*) AS n FROM stale_gaps")).toBe(gapsBefore);
    expect(count(history, "SELECT count(*) AS n FROM archived_weeks")).toBe(WEEKS);
    expect(count(db, "SELECT count(*) AS n FROM archive_runs WHERE status = 'done'")).toBe(WEEKS);
    assertNothingLostOrDoubled(world, before);
    expect(snapshot(world)).toEqual(balancesBefore);

    // History reads page across both files; proofs of archived bets still recompute their outcome.
    // (Sessions from four weeks ago have expired: sign in again.)
    for (const player of world.players) player.token = (await server.ctx.services.auth.sessions.create(player.address, player.accountId)).token;
    for (const player of world.players) {
      const listed: { id: string; status: string }[] = [];
      let cursor: string | null = null;
      do {
        const page = await (await server.request(`/api/bets?limit=7${cursor ? `&cursor=${cursor}` : ""}`, { token: player.token })).json();
        if (!page.bets) throw new Error(JSON.stringify(page));
        listed.push(...page.bets);
        cursor = page.nextCursor;
      } while (cursor);
      const own = [db, history].reduce((n, d) => n + count(d, "SELECT count(*) AS n FROM bets WHERE account_id = ?", player.accountId), 0);
      expect(listed).toHaveLength(own);
      for (const bet of listed.filter((b) => b.status !== "open")) {
        const proof = await (await server.request(`/api/bets/${bet.id}/proof`, { token: player.token })).json();
        expect(proof.recomputed).toBe(bet.status);
      }
    }
    const integrity = await runIntegrityCheck(server.ctx);
    expect(integrity.problems).toEqual([]);
    expect(integrity.ok).toBe(true);

    // The integrity check re-resolves settled bets from stored ticks: a tampered archived outcome shows.
    const writer = openDatabase(join(server.dataDir, "history.db"), { busyTimeoutMs: 1000, synchronous: "FULL" });
    const tampered = (writer.prepare("SELECT id FROM bets WHERE status = 'won' LIMIT 1").get() as { id: number }).id;
    writer.prepare("UPDATE bets SET resolution_price_cents = resolution_price_cents + 1 WHERE id = ?").run(tampered);
    const caught = await runIntegrityCheck(server.ctx);
    expect(caught.problems).toEqual([expect.objectContaining({ check: "re_resolution", details: expect.objectContaining({ betId: tampered }) })]);
    writer.prepare("UPDATE bets SET resolution_price_cents = resolution_price_cents - 1 WHERE id = ?").run(tampered);
    writer.close();

    // A second run finds nothing to do.
    const again = await server.ctx.services.archive.run();
    expect(again).toMatchObject({ ok: true, weeks: [] });
  });

  it("survives a crash half-way (during the purge, and during the copy): the rerun neither duplicates nor loses a row", async () => {
    world = await playWeeks();
    const { server } = world;
    const before = totalsBefore(world);
    const balancesBefore = snapshot(world);
    const small = { copyBets: 5, purgeBets: 4, purgeTicks: 50, tickSliceMs: 3_600_000 };
    const crashAt = (phase: string, week: number, chunk: number): ArchiveOptions => ({
      chunks: small,
      onStep: (step) => {
        if (step.phase === phase && step.weekStart === MONDAY + week * WEEK_MS && step.chunk === chunk) throw new Error(`injected crash at ${phase} ${chunk}`);
      },
    });

    const first = await server.ctx.services.archive.run(crashAt("purge", 1, 2));
    expect(first.ok).toBe(false);
    expect(first.weeks.map((w) => w.status)).toEqual(["done", "failed"]);
    expect(first.weeks[1]!.error).toMatch(/injected crash/);
    // Half-way: some rows of week 1 already left current, the rest are in both files.
    const { db, history } = server.ctx;
    const weekOne = [MONDAY + WEEK_MS, MONDAY + 2 * WEEK_MS];
    const inCurrent = count(db, "SELECT count(*) AS n FROM bets WHERE resolved_at >= ? AND resolved_at < ?", ...weekOne);
    const inHistory = count(history, "SELECT count(*) AS n FROM bets WHERE resolved_at >= ? AND resolved_at < ?", ...weekOne);
    expect(inCurrent).toBeGreaterThan(0);
    expect(inCurrent).toBeLessThan(inHistory);
    expect((await runIntegrityCheck(server.ctx)).ok).toBe(true);

    const second = await server.ctx.services.archive.run(crashAt("copy", 2, 2));
    expect(second.ok).toBe(false);
    expect(second.weeks.map((w) => [w.week, w.status, w.resumed])).toEqual([["2024-01-08", "done", true], ["2024-01-15", "failed", false]]);

    const third = await server.ctx.services.archive.run({ chunks: small });
    expect(third.ok).toBe(true);
    expect(third.weeks.map((w) => w.week)).toEqual(["2024-01-15", "2024-01-22"]);
    assertNothingLostOrDoubled(world, before);
    expect(snapshot(world)).toEqual(balancesBefore);
    expect(count(history, "SELECT count(*) AS n FROM archived_weeks")).toBe(WEEKS);
    expect(count(db, "SELECT count(*) AS n FROM archive_runs WHERE status = 'failed'")).toBe(2);
    const integrity = await runIntegrityCheck(server.ctx);
    expect(integrity.problems).toEqual([]);
  });
});
