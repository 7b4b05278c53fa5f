import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getJson, integrity, newKey, pickCell, postBet, startBetServer, type BetServer } from "./helpers/bets-fixture.ts";
import { createPlayer, type TestPlayer } from "./helpers/players.ts";
import { betStatus, placeBet, playerEntries } from "./helpers/resolver-fixtures.ts";
import { failCommands, waitFor } from "./helpers/faults.ts";
import { balanceOf } from "../storage/ledger.ts";

// Issue 13 item 1: a settlement that cannot be written (disk full) is retried until it commits —
// well past the five attempts after which it used to give up — and the wait is visible on
// /metrics, /readyz and the integrity report. Once the disk has room, each bet settles exactly once.
const COLUMN_MS = 10_000;
const ROW = 9500;
const LO = ROW * 1000;
const START = 1_000_000_000;
const STAKE = 2_000_000;
const MULTIPLIER = 350; // payout $7

function metric(text: string, name: string): number | undefined {
  const match = new RegExp(`^${name} (\\S+)$`, "m").exec(text);
  return match ? Number(match[1]) : undefined;
}

describe("faults: settlement on a full disk", () => {
  let server: BetServer;
  let player: TestPlayer;

  const tick = (priceCents: number, at: number) => {
    server.clock.nowMs = at;
    server.ctx.services.price.ingest("manual", priceCents, at);
  };
  const metrics = async () => (await server.request("/metrics")).text();

  beforeAll(async () => {
    server = await startBetServer({ COLUMN_MS, ROW_CENTS: 1000, STUCK_BET_GRACE_MS: 5000 });
    player = await createPlayer(server.ctx, START);
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("refuses a bet with 503 unavailable and Retry-After while its write fails for lack of disk; no money moves", async () => {
    const fault = failCommands(server.ctx, ["bets.place"]);
    try {
      const cell = await pickCell(server, 1);
      const res = await postBet(server, player.token, { col: cell.col, row: cell.row, stakeMicroUsd: STAKE, idempotencyKey: newKey() });
      expect(res.status).toBe(503);
      expect(res.body.error.code).toBe("unavailable");
      expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
      expect(JSON.stringify(res.body)).not.toMatch(/SQLITE|stack/i);
      expect(fault.failures("bets.place")).toBe(1);
      expect(balanceOf(server.ctx.db, player.accountId)).toBe(START);
      const me = await getJson(server, "/api/me", player.token);
      expect(me.body).toMatchObject({ balanceMicroUsd: START, openBets: 0 });
    } finally {
      fault.heal();
    }
  });

  it("keeps retrying a win it cannot write, holds the loss of its window, shows both waiting, then settles each exactly once", async () => {
    const now = server.clock.nowMs;
    const c = Math.floor(now / COLUMN_MS) + 2;
    const t0 = c * COLUMN_MS;
    const spec = { accountId: player.accountId, address: player.address, col: c, stakeMicroUsd: STAKE, multiplierHundredths: MULTIPLIER, placedAt: now };
    const win = await placeBet(server.ctx, { ...spec, row: ROW });
    const loss = await placeBet(server.ctx, { ...spec, row: ROW + 5 });

    const fault = failCommands(server.ctx, ["resolver.settle", "health.probe"]);
    try {
      for (let t = now + 500; t < t0 + 3000; t += 500) tick(LO - 4000, t);
      tick(LO + 500, t0 + 3000); // touches the win's band: settled at once, or would be
      for (let t = t0 + 3500; t <= t0 + COLUMN_MS + 1500; t += 500) tick(LO - 4000, t); // the loss is decided after the window
      // Old behaviour: five attempts, then the bet stayed open until a restart. Wait for more than that.
      // The loss shares the win's window: it is decided only once the win (and its ticks) committed.
      await waitFor("7 failed attempts to settle the win", () => fault.failures("resolver.settle") >= 7, 20_000);
      expect(betStatus(server.ctx, win.id).status).toBe("open");
      expect(betStatus(server.ctx, loss.id).status).toBe("open");

      const text = await metrics();
      expect(metric(text, "resolver_ended_open_bets")).toBe(2);
      expect(metric(text, "resolver_settlements_retrying")).toBe(1);

      const ready = await server.request("/readyz");
      expect(ready.status).toBe(503);
      const readyBody = (await ready.json()) as { status: string; checks: Record<string, string> };
      expect(readyBody.status).toBe("degraded");
      expect(readyBody.checks.db).toMatch(/SQLITE_FULL/);
      expect(readyBody.checks.settlement).toMatch(/^1 settlements? failed/);

      // Before the grace period the integrity report says nothing of them; after it, it names them.
      expect((await integrity(server)).problems).toEqual([]);
      tick(LO - 4000, t0 + COLUMN_MS + 6000);
      const report = await integrity(server);
      expect(report.ok).toBe(false);
      expect(report.problems).toEqual([
        expect.objectContaining({ check: "stuck_open_bet", details: expect.objectContaining({ count: 2, betIds: expect.arrayContaining([win.id, loss.id]) }) }),
      ]);
    } finally {
      fault.heal();
    }

    // Room again: no restart, each bet settles within the backoff cap (2 s) plus a sweep.
    const tookMs = await waitFor("both bets settled", () => betStatus(server.ctx, win.id).status !== "open" && betStatus(server.ctx, loss.id).status !== "open", 5000);
    expect(tookMs).toBeLessThan(5000);
    expect(betStatus(server.ctx, win.id)).toMatchObject({ status: "won", priceCents: LO + 500, reason: "touch" });
    expect(betStatus(server.ctx, loss.id).status).toBe("lost");
    expect(playerEntries(server.ctx, win.id, player.accountId)).toEqual([["stake", -STAKE], ["payout", 7_000_000]]);
    expect(playerEntries(server.ctx, loss.id, player.accountId)).toEqual([["stake", -STAKE]]);
    expect(balanceOf(server.ctx.db, player.accountId)).toBe(START - 2 * STAKE + 7_000_000);

    await waitFor("the retry gauge back to 0", async () => metric(await metrics(), "resolver_settlements_retrying") === 0, 2000);
    expect(metric(await metrics(), "resolver_ended_open_bets")).toBe(0);
    const ready = (await (await server.request("/readyz")).json()) as { checks: Record<string, string> };
    expect(ready.checks).toMatchObject({ db: "ok", settlement: "ok" });
    const report = await integrity(server);
    expect(report.problems).toEqual([]);
    expect(report.ok).toBe(true);
    // A later sweep pays nothing more.
    await server.ctx.services.resolver.sweep();
    expect(playerEntries(server.ctx, win.id, player.accountId)).toHaveLength(2);
  });
});
