import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "./helpers/server.ts";
import { createPlayer, type TestPlayer } from "./helpers/players.ts";
import { placeBet } from "./helpers/resolver-fixtures.ts";
import { runIntegrityCheck } from "../services/bets/integrity.ts";
import { WEEK_MS, weekStartOf } from "../services/archive/weeks.ts";

/**
 * Issue 13 item 7: proofs do not drift with configuration. A bet decided with PRICE_STALE_MS = 5 s
 * over a window whose ticks are 3 s apart once is lost (the feed never went stale); after a restart
 * with PRICE_STALE_MS = 2 s its proof, the integrity check's re-resolution, and the same after the
 * weekly archive and yet another setting, still recompute "lost" — the threshold in force for the
 * window is recorded. New windows follow the new setting.
 */
const COLUMN_MS = 10_000;
const PRICE_CENTS = 9_500_000;
/** A band the price never touches: without a win the outcome is decided by staleness alone. */
const FAR_ROW = 9000;
const HOLE_MS = 3000;

const dataDir = mkdtempSync(join(tmpdir(), "tap-proof-thresholds-"));
const clock = { now: weekStartOf(Date.UTC(2030, 0, 9)) + 3_600_000 };
let server: TestServer | undefined;

afterAll(async () => {
  await server?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

async function boot(staleMs: number): Promise<TestServer> {
  await server?.stop();
  server = await startTestServer(
    { COLUMN_MS, ROW_CENTS: 1000, PRICE_STALE_MS: staleMs, ARCHIVE_MODE: "inline" },
    { now: () => clock.now, dataDir },
  );
  return server;
}

/** Ticks every 500 ms until `untilMs`, none in [holeFrom, holeFrom + HOLE_MS); the monitor checks at every step. */
function feed(s: TestServer, untilMs: number, holeFrom?: number) {
  const monitor = s.ctx.services.price as unknown as { check(): void };
  while (clock.now < untilMs) {
    clock.now += 500;
    const inHole = holeFrom !== undefined && clock.now >= holeFrom && clock.now < holeFrom + HOLE_MS;
    if (!inHole) s.ctx.services.price.ingest("manual", PRICE_CENTS, clock.now);
    monitor.check();
  }
}

/** A bet in a column a little ahead, whose window has a 3 s hole in its ticks; settled by the resolver. */
async function betWithHole(s: TestServer, player: TestPlayer): Promise<number> {
  const col = Math.floor(clock.now / COLUMN_MS) + 3;
  const bet = await placeBet(s.ctx, { accountId: player.accountId, address: player.address, col, row: FAR_ROW, stakeMicroUsd: 1_000_000, multiplierHundredths: 300, placedAt: clock.now });
  feed(s, bet.windowEnd + 3000, bet.windowStart + 4000);
  await s.ctx.services.resolver.sweep();
  return bet.id;
}

async function proof(s: TestServer, player: TestPlayer, betId: number) {
  const { token } = await s.ctx.services.auth.sessions.create(player.address, player.accountId);
  const res = await s.request(`/api/bets/${betId}/proof`, { token });
  expect(res.status).toBe(200);
  const body = (await res.json()) as { bet: { status: string }; recomputed: string; staleMs: number; staleGaps: unknown[] };
  return { stored: body.bet.status, recomputed: body.recomputed, staleMs: body.staleMs, gaps: body.staleGaps.length };
}

async function reResolutionProblems(s: TestServer) {
  const report = await runIntegrityCheck(s.ctx);
  return report.problems.filter((p) => p.check === "re_resolution");
}

describe("a bet's proof keeps the stale threshold its window was decided with", () => {
  let player: TestPlayer;
  let oldBet: number;
  let newBet: number;

  it("PRICE_STALE_MS = 5000: a window with ticks 3 s apart once is lost", async () => {
    const s = await boot(5000);
    player = await createPlayer(s.ctx, 100_000_000);
    feed(s, clock.now + 5000);
    oldBet = await betWithHole(s, player);
    expect(await proof(s, player, oldBet)).toEqual({ stored: "lost", recomputed: "lost", staleMs: 5000, gaps: 0 });
  });

  it("after a restart with PRICE_STALE_MS = 2000 the old proof still recomputes lost; new windows use 2000", async () => {
    const s = await boot(2000);
    feed(s, clock.now + 3000);
    expect(await proof(s, player, oldBet)).toEqual({ stored: "lost", recomputed: "lost", staleMs: 5000, gaps: 0 });
    newBet = await betWithHole(s, player);
    const fresh = await proof(s, player, newBet);
    expect(fresh).toMatchObject({ stored: "void", recomputed: "void", staleMs: 2000 });
    expect(await reResolutionProblems(s)).toEqual([]);
  });

  it("after the weekly archive and another setting, both proofs recompute from history as they were decided", async () => {
    let s = server!;
    clock.now = weekStartOf(clock.now) + WEEK_MS + 5 * 60_000;
    feed(s, clock.now + 3000);
    const report = await s.ctx.services.archive.run();
    expect(report.ok).toBe(true);
    expect(s.ctx.db.prepare("SELECT count(*) AS n FROM bets WHERE id IN (?, ?)").get(oldBet, newBet)).toMatchObject({ n: 0 });
    const historyThresholds = s.ctx.history.prepare("SELECT stale_ms FROM stale_thresholds ORDER BY from_t").all();
    expect(historyThresholds.map((r) => (r as { stale_ms: number }).stale_ms)).toEqual([5000, 2000]);

    s = await boot(10_000);
    feed(s, clock.now + 3000);
    expect(await proof(s, player, oldBet)).toEqual({ stored: "lost", recomputed: "lost", staleMs: 5000, gaps: 0 });
    expect(await proof(s, player, newBet)).toMatchObject({ stored: "void", recomputed: "void", staleMs: 2000 });
    expect(await reResolutionProblems(s)).toEqual([]);
  });
});
