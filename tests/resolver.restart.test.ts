import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "./helpers/server.ts";
import { createPlayer, type TestPlayer } from "./helpers/players.ts";
import { betStatus, insertOpenBet, placeBet, playerEntries } from "./helpers/resolver-fixtures.ts";
import { balanceOf } from "../storage/ledger.ts";
import { writeDirect } from "./helpers/write.ts";

// After a restart the resolver rebuilds its index from the open bets in the database and decides
// what expired while it was down from the stored ticks and gaps — void where ticks are missing.
const COLUMN_MS = 10_000;
const ROW = 9500;
const LO = ROW * 1000;
const BELOW = LO - 4_500;
const START = 1_000_000_000;
const STAKE = 1_000_000;
const MULTIPLIER = 400;

describe("resolver: restart", () => {
  let clock = 1_700_000_000_000;
  let dataDir: string;
  let server: TestServer | undefined;

  const boot = async () => {
    server = await startTestServer({ COLUMN_MS, ROW_CENTS: 1000 }, { now: () => clock, dataDir });
    return server;
  };
  const feed = (s: TestServer, until: number, price: (t: number) => number) => {
    for (let t = clock + 500; t <= until; t += 500) {
      clock = t;
      s.ctx.services.price.ingest("manual", price(t), t);
    }
  };
  const bet = (s: TestServer, p: TestPlayer, col: number) =>
    placeBet(s.ctx, { accountId: p.accountId, address: p.address, col, row: ROW, stakeMicroUsd: STAKE, multiplierHundredths: MULTIPLIER, placedAt: clock });
  /** A fresh data dir and server with the feed below the band, a funded player, a column two ahead. */
  const startFresh = async () => {
    dataDir = mkdtempSync(join(tmpdir(), "tap-resolver-"));
    const s = await boot();
    feed(s, clock + 2000, () => BELOW);
    return { s, player: await createPlayer(s.ctx, START), c: Math.floor(clock / COLUMN_MS) + 2 };
  };
  /** Writes ticks straight into the stored file, as a process that crashed right after persisting them would have. */
  const storeTicks = (s: TestServer, ticks: [number, number][]) =>
    writeDirect(s.ctx, (db) => {
      const insert = db.prepare("INSERT INTO price_ticks (t, price_cents) VALUES (?, ?)");
      for (const [t, p] of ticks) insert.run(t, p);
    });

  afterEach(async () => {
    await server?.stop();
    server = undefined;
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("voids and refunds a bet whose whole window passed while the server was down", async () => {
    const fresh = await startFresh();
    let s = fresh.s;
    const { player, c } = fresh;
    const b = await bet(s, player, c);
    await s.stop();

    clock = (c + 1) * COLUMN_MS + 60_000;
    s = await boot();
    expect(s.ctx.services.resolver.openCount()).toBe(1);
    await s.ctx.services.resolver.sweep();
    expect(betStatus(s.ctx, b.id)).toMatchObject({ status: "void", reason: "stale" });
    expect(balanceOf(s.ctx.db, player.accountId)).toBe(START);
    expect(playerEntries(s.ctx, b.id, player.accountId)).toEqual([["stake", -STAKE], ["refund", STAKE]]);
  });

  it("settles from stored ticks: a window that ended just before the stop is lost, a stored touch wins", async () => {
    const fresh = await startFresh();
    let s = fresh.s;
    const { player, c } = fresh;
    const lost = await bet(s, player, c);
    const stillOpen = await bet(s, player, c + 1);
    const inProgress = await bet(s, player, c + 2);
    // The window of `lost` runs on a fresh feed without a touch; the server stops 100 ms after its end,
    // before the resolver's settle delay, so the bet is still open in the database.
    feed(s, (c + 1) * COLUMN_MS + 100, () => BELOW);
    await s.ctx.queue.barrier();
    expect(betStatus(s.ctx, lost.id).status).toBe("open");
    await s.stop();

    // Ticks stored by a process that crashed before settling: a touch in c+1, and the first half of c+2.
    const t1 = (c + 1) * COLUMN_MS;
    const stored: [number, number][] = [];
    for (let t = t1 + 500; t <= t1 + COLUMN_MS + 4000; t += 500) stored.push([t, t === t1 + 6000 ? LO + 1 : BELOW]);
    storeTicks(s, stored);
    clock = t1 + COLUMN_MS + 4200;
    s = await boot();
    const resolver = s.ctx.services.resolver;
    await resolver.sweep();
    expect(betStatus(s.ctx, lost.id)).toMatchObject({ status: "lost", reason: "no_touch" });
    expect(betStatus(s.ctx, stillOpen.id)).toMatchObject({ status: "won", at: t1 + 6000, priceCents: LO + 1 });
    expect(betStatus(s.ctx, inProgress.id).status).toBe("open");
    expect(resolver.openCount()).toBe(1);
    expect(balanceOf(s.ctx.db, player.accountId)).toBe(START - 3 * STAKE + 4 * STAKE);

    // c+2 resumes live; the path touches the band after the restart: a win.
    const touchAt = clock + 500;
    feed(s, clock + 2000, (t) => (t === touchAt ? LO + 999 : BELOW));
    await resolver.idle();
    expect(betStatus(s.ctx, inProgress.id)).toMatchObject({ status: "won", priceCents: LO + 999 });
  });

  it("adopts an open bet nobody tracks once its window ended, and settles it like any other", async () => {
    const { s, player, c } = await startFresh();
    const spec = { accountId: player.accountId, address: player.address, row: ROW, stakeMicroUsd: STAKE, multiplierHundredths: MULTIPLIER, placedAt: clock };
    // Written behind the resolver's back (as a crash between commit and track would leave them).
    const ended = writeDirect(s.ctx, (db) => insertOpenBet(db, { ...spec, col: c }, COLUMN_MS, 1000));
    const later = writeDirect(s.ctx, (db) => insertOpenBet(db, { ...spec, col: c + 1 }, COLUMN_MS, 1000));
    feed(s, (c + 1) * COLUMN_MS + 2000, () => BELOW);
    await s.ctx.services.resolver.sweep();
    await s.ctx.services.resolver.idle();
    expect(betStatus(s.ctx, ended.id)).toMatchObject({ status: "lost", reason: "no_touch" });
    expect(betStatus(s.ctx, later.id).status).toBe("open"); // its window is still running
    expect(playerEntries(s.ctx, ended.id, player.accountId)).toEqual([["stake", -STAKE]]);
  });

  it("voids a window that the downtime cut in half (ticks missing for longer than PRICE_STALE_MS)", async () => {
    const fresh = await startFresh();
    let s = fresh.s;
    const { player, c } = fresh;
    const b = await bet(s, player, c);
    feed(s, c * COLUMN_MS + 3000, () => BELOW);
    await s.stop();

    clock = c * COLUMN_MS + 7000;
    s = await boot();
    feed(s, (c + 1) * COLUMN_MS + 1000, () => BELOW);
    await s.ctx.services.resolver.sweep();
    expect(betStatus(s.ctx, b.id)).toMatchObject({ status: "void", reason: "stale" });
    expect(balanceOf(s.ctx.db, player.accountId)).toBe(START);
  });
});
