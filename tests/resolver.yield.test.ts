import { afterEach, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "./helpers/server.ts";
import { createPlayer } from "./helpers/players.ts";
import { betStatus, placeBet } from "./helpers/resolver-fixtures.ts";

// Losses yield the writer to other work: while more than RESOLVER_LOSS_YIELD_DEPTH writes are queued,
// a column's losses wait (a loss moves no money), so they cannot delay bet placement when a column ends.
// A slow flush (400 ms) keeps queued writes visible long enough to see who shares which transaction.
const COLUMN_MS = 10_000;
const ROW = 9500;
const BELOW = ROW * 1000 - 4_500;

describe("resolver: losses yield to a busy writer", () => {
  let server: TestServer | undefined;
  afterEach(async () => {
    await server?.stop();
    server = undefined;
  });

  /** Three bets that lose in column c, then the window ends while 10 other writes are queued. */
  const run = async (yieldDepth: number) => {
    let clock = 1_700_000_000_000;
    server = await startTestServer(
      { COLUMN_MS, ROW_CENTS: 1000, BATCH_FLUSH_INTERVAL_MS: 400, RESOLVER_LOSS_YIELD_DEPTH: yieldDepth },
      { now: () => clock },
    );
    const { ctx } = server;
    const player = await createPlayer(ctx, 100_000_000);
    const c = Math.floor(clock / COLUMN_MS) + 2;
    const bets = [];
    for (let i = 0; i < 3; i++) {
      bets.push(await placeBet(ctx, { accountId: player.accountId, address: player.address, col: c, row: ROW, stakeMicroUsd: 1_000_000, multiplierHundredths: 300, placedAt: clock }));
    }
    for (let t = clock + 500; t <= (c + 1) * COLUMN_MS + 500; t += 500) {
      clock = t;
      ctx.services.price.ingest("manual", BELOW, t);
    }
    await ctx.queue.barrier(); // the ticks are stored
    clock = (c + 1) * COLUMN_MS + 10_000; // well past the window and the settle delay
    // The sweep first waits for everything queued before it (a barrier). Ten other writes are queued
    // the moment that batch commits, just before the resolver decides the window.
    let others: Promise<unknown>[] = [];
    const first = ctx.queue.run("price.insertTick", 999, 1_000_000).then(() => {
      others = Array.from({ length: 10 }, (_, i) => ctx.queue.run("price.insertTick", 1000 + i, 1_000_000));
    });
    const settled = ctx.services.resolver.sweep();
    await first;
    expect(others).toHaveLength(10);
    await Promise.all(others);
    const afterOthers = bets.map((b) => betStatus(ctx, b.id).status);
    await settled;
    return { afterOthers, final: bets.map((b) => betStatus(ctx, b.id).status) };
  };

  it("without yielding, the losses join the writes queued before them, in the same transaction", async () => {
    const { afterOthers, final } = await run(0);
    expect(afterOthers).toEqual(["lost", "lost", "lost"]);
    expect(final).toEqual(["lost", "lost", "lost"]);
  });

  it("with more writes queued than the depth, the losses wait for them, then settle", async () => {
    const { afterOthers, final } = await run(5);
    expect(afterOthers).toEqual(["open", "open", "open"]);
    expect(final).toEqual(["lost", "lost", "lost"]);
  });
});
