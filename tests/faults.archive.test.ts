import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "./helpers/server.ts";
import { createPlayer } from "./helpers/players.ts";
import { placeBet } from "./helpers/resolver-fixtures.ts";
import { failCommands } from "./helpers/faults.ts";
import { WEEK_MS } from "../services/archive/weeks.ts";

// Issue 13 item 1 for the weekly archiver: its writes on a full disk wait (capped backoff) and
// commit once there is room, instead of failing the week.
const COLUMN_MS = 10_000;
const MONDAY = Date.UTC(2024, 0, 1);

describe("faults: the archiver on a full disk", () => {
  let server: TestServer;
  const clock = { now: MONDAY + 3_600_000 };

  beforeAll(async () => {
    server = await startTestServer({ COLUMN_MS, ROW_CENTS: 1000, ARCHIVE_MODE: "inline" }, { now: () => clock.now });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("waits out failing writes and archives the week once they commit", async () => {
    const { ctx } = server;
    const player = await createPlayer(ctx, 100_000_000);
    const col = Math.floor(clock.now / COLUMN_MS) + 1;
    const ids: number[] = [];
    for (let k = 0; k < 3; k++) {
      const bet = await placeBet(ctx, { accountId: player.accountId, address: player.address, col, row: 9500 + k, stakeMicroUsd: 1_000_000, multiplierHundredths: 200, placedAt: clock.now });
      ids.push(bet.id);
    }
    for (let t = clock.now + 500; t <= (col + 1) * COLUMN_MS + 2000; t += 500) {
      clock.now = t;
      ctx.services.price.ingest("manual", 9_400_000, t);
    }
    await ctx.services.resolver.sweep();
    const open = ctx.db.prepare("SELECT count(*) AS n FROM bets WHERE status = 'open'").get() as { n: number };
    expect(open.n).toBe(0);

    clock.now = MONDAY + WEEK_MS + 5 * 60_000;
    const fault = failCommands(ctx, ["archive.startRun", "archive.purgeBets", "archive.finishRun"]);
    const healed = new Promise<void>((resolve) =>
      setTimeout(() => {
        fault.heal();
        resolve();
      }, 1200),
    );
    const report = await ctx.services.archive.run();
    await healed;
    expect(fault.failures("archive.startRun")).toBeGreaterThanOrEqual(3);
    expect(report.ok).toBe(true);
    expect(report.weeks.map((w) => w.status)).toEqual(["done"]);
    expect(report.weeks[0]!.copied.bets).toBe(3);
    const moved = ctx.history.prepare(`SELECT count(*) AS n FROM bets WHERE id IN (${ids.join(",")})`).get() as { n: number };
    expect(moved.n).toBe(3);
    const left = ctx.db.prepare(`SELECT count(*) AS n FROM bets WHERE id IN (${ids.join(",")})`).get() as { n: number };
    expect(left.n).toBe(0);
  });
});
