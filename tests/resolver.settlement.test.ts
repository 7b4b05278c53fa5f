import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "./helpers/server.ts";
import { createPlayer, type TestPlayer } from "./helpers/players.ts";
import { betStatus, collectUserEvents, placeBet, playerEntries } from "./helpers/resolver-fixtures.ts";
import { balanceOf } from "../storage/ledger.ts";
import { findBet } from "../services/bets/reads.ts";
import type { OpenBet } from "../services/resolver/types.ts";

// Scripted paths through the whole service: manual price source, injected clock, real queue and DB.
// Columns are 10 s, rows $10 (1 000 cents); the target band is row 9 500 = [9 500 000, 9 501 000).
const COLUMN_MS = 10_000;
const ROW = 9500;
const LO = ROW * 1000;
const HI = LO + 1000;
const BELOW = LO - 4_500;
const ABOVE = HI + 4_500;
const START = 1_000_000_000; // $1000
const STAKE = 2_000_000; // $2
const MULTIPLIER = 350; // 3.50x → payout $7

describe("resolver: scripted outcomes end to end (balances, ledger, player events)", () => {
  let server: TestServer;
  let clock = 1_700_000_000_000; // a column boundary
  const col = () => Math.floor(clock / COLUMN_MS);
  let events: ReturnType<typeof collectUserEvents>;

  const tick = (priceCents: number, at: number) => {
    clock = at;
    server.ctx.services.price.ingest("manual", priceCents, at);
  };
  /** Ticks every 500 ms from the clock (exclusive) up to `until` (inclusive), price chosen per t. */
  const feed = (until: number, price: (t: number) => number) => {
    for (let t = clock + 500; t <= until; t += 500) tick(price(t), t);
  };
  const advance = (to: number) => {
    clock = to;
    (server.ctx.services.price as unknown as { check?: () => void }).check?.();
  };
  /** A bet on the band in column `c`, placed well before its window. */
  const placed: { player: TestPlayer; bet: OpenBet }[] = [];
  const bet = (player: TestPlayer, c: number, row = ROW) =>
    placeBetAndRemember(player, c, row);
  const placeBetAndRemember = async (player: TestPlayer, c: number, row: number) => {
    const b = await placeBetRaw(player, c, row);
    placed.push({ player, bet: b });
    return b;
  };
  const placeBetRaw = (player: TestPlayer, c: number, row: number) =>
    placeBet(server.ctx, { accountId: player.accountId, address: player.address, col: c, row, stakeMicroUsd: STAKE, multiplierHundredths: MULTIPLIER, placedAt: clock });
  /** Runs the window of column c with the given path and lets the resolver decide it. */
  const runWindow = async (c: number, price: (t: number) => number) => {
    feed((c + 1) * COLUMN_MS + 1000, price);
    await server.ctx.services.resolver.sweep();
  };
  const balance = (p: TestPlayer) => balanceOf(server.ctx.db, p.accountId);
  const eventsOf = (p: TestPlayer) => events.events.filter((e) => e.address === p.address).map((e) => e.event);

  beforeAll(async () => {
    server = await startTestServer({ COLUMN_MS, ROW_CENTS: 1000 }, { now: () => clock });
    events = collectUserEvents(server.ctx);
    feed(clock + 3000, () => BELOW);
  });
  afterAll(async () => {
    events.stop();
    await server.stop();
  });

  it("pays a win at the first tick inside the band, at once, before the window ends", async () => {
    const player = await createPlayer(server.ctx, START);
    const c = col() + 2;
    const b = await bet(player, c);
    const other = await bet(player, c, ROW + 3);
    const t0 = c * COLUMN_MS;
    feed(t0 + 3000, () => BELOW);
    tick(LO + 500, t0 + 3500);
    await server.ctx.services.resolver.idle();
    expect(betStatus(server.ctx, b.id)).toEqual({ status: "won", at: t0 + 3500, priceCents: LO + 500, reason: "touch" });
    expect(betStatus(server.ctx, other.id).status).toBe("open");
    expect(balance(player)).toBe(START - 2 * STAKE + 7_000_000);
    expect(playerEntries(server.ctx, b.id, player.accountId)).toEqual([["stake", -STAKE], ["payout", 7_000_000]]);
    await runWindow(c, () => BELOW);
    expect(betStatus(server.ctx, other.id).status).toBe("lost");
    const evs = eventsOf(player);
    expect(evs.filter((e) => e.type === "bet").map((e) => (e.bet as { id: string; status: string }).status)).toEqual(["won", "lost"]);
    expect(evs.filter((e) => e.type === "balance")).toEqual([{ type: "balance", balanceMicroUsd: START - 2 * STAKE + 7_000_000 }]);
    // Each event carries the bet exactly as stored (what GET /api/bets/:id answers).
    expect(evs.filter((e) => e.type === "bet").map((e) => e.bet)).toEqual([findBet(server.ctx, player.accountId, b.id), findBet(server.ctx, player.accountId, other.id)]);
  });

  it("pays a crossing between two in-window ticks (the band jumped over)", async () => {
    const player = await createPlayer(server.ctx, START);
    const c = col() + 2;
    const b = await bet(player, c);
    const t0 = c * COLUMN_MS;
    await runWindow(c, (t) => (t < t0 + 4000 ? BELOW : ABOVE));
    expect(betStatus(server.ctx, b.id)).toEqual({ status: "won", at: t0 + 4000, priceCents: ABOVE, reason: "cross" });
    expect(balance(player)).toBe(START - STAKE + 7_000_000);
  });

  it("does not pay a touch before the window, nor a crossing from a pre-window tick", async () => {
    const player = await createPlayer(server.ctx, START);
    const c = col() + 2;
    const b = await bet(player, c);
    const t0 = c * COLUMN_MS;
    // In the band until t0 − 500, above it from t0 on: the touch and the jump both happen before t0.
    await runWindow(c, (t) => (t < t0 - 500 ? LO + 1 : t < t0 ? BELOW : ABOVE));
    expect(betStatus(server.ctx, b.id)).toMatchObject({ status: "lost", reason: "no_touch" });
    expect(balance(player)).toBe(START - STAKE);
    expect(playerEntries(server.ctx, b.id, player.accountId)).toEqual([["stake", -STAKE]]);
  });

  it("does not pay a touch at t1 exactly", async () => {
    const player = await createPlayer(server.ctx, START);
    const c = col() + 2;
    const b = await bet(player, c);
    const t1 = (c + 1) * COLUMN_MS;
    await runWindow(c, (t) => (t === t1 ? LO : BELOW));
    expect(betStatus(server.ctx, b.id)).toEqual({ status: "lost", at: t1, priceCents: null, reason: "no_touch" });
    expect(balance(player)).toBe(START - STAKE);
  });

  it("counts the band's low edge as inside and its high edge as outside", async () => {
    const player = await createPlayer(server.ctx, START);
    const c = col() + 2;
    const low = await bet(player, c);
    const t0 = c * COLUMN_MS;
    await runWindow(c, (t) => (t === t0 + 2000 ? LO : BELOW));
    expect(betStatus(server.ctx, low.id)).toMatchObject({ status: "won", priceCents: LO });

    const c2 = col() + 2;
    const high = await bet(player, c2);
    await runWindow(c2, (t) => (t === c2 * COLUMN_MS + 2000 ? HI : ABOVE));
    expect(betStatus(server.ctx, high.id)).toMatchObject({ status: "lost" });
    expect(balance(player)).toBe(START - 2 * STAKE + 7_000_000);
  });

  it("settles a window without a touch as lost, with no money moved and a bet event but no balance event", async () => {
    const player = await createPlayer(server.ctx, START);
    const c = col() + 2;
    const b = await bet(player, c);
    await runWindow(c, () => ABOVE);
    expect(betStatus(server.ctx, b.id).status).toBe("lost");
    expect(balance(player)).toBe(START - STAKE);
    const evs = eventsOf(player);
    expect(evs).toHaveLength(1);
    expect(evs[0]).toMatchObject({ type: "bet", bet: { id: String(b.id), status: "lost", resolution: { reason: "no_touch" } } });
  });

  it("voids and refunds when the feed went stale in the window and nothing won", async () => {
    const player = await createPlayer(server.ctx, START);
    const c = col() + 2;
    const b = await bet(player, c);
    const t0 = c * COLUMN_MS;
    feed(t0 + 2000, () => BELOW);
    advance(t0 + 6000); // no tick for 4 s: the monitor opens the circuit and records a gap
    expect(server.ctx.services.price.staleGaps(t0, t0 + COLUMN_MS).length).toBe(1);
    await runWindow(c, () => BELOW);
    expect(betStatus(server.ctx, b.id)).toEqual({ status: "void", at: t0 + COLUMN_MS, priceCents: null, reason: "stale" });
    expect(balance(player)).toBe(START);
    expect(playerEntries(server.ctx, b.id, player.accountId)).toEqual([["stake", -STAKE], ["refund", STAKE]]);
    expect(eventsOf(player).at(-1)).toEqual({ type: "balance", balanceMicroUsd: START });
    // The circuit closes again once ticks have flowed for the recovery period.
    feed(clock + 3000, () => BELOW);
  });

  it("keeps a win that came before a later stale gap", async () => {
    const player = await createPlayer(server.ctx, START);
    const c = col() + 2;
    const b = await bet(player, c);
    const lostToGap = await bet(player, c, ROW + 5);
    const t0 = c * COLUMN_MS;
    feed(t0 + 1000, (t) => (t === t0 + 1000 ? LO + 10 : BELOW));
    advance(t0 + 7000);
    await runWindow(c, () => BELOW);
    expect(betStatus(server.ctx, b.id)).toMatchObject({ status: "won", at: t0 + 1000 });
    expect(betStatus(server.ctx, lostToGap.id).status).toBe("void");
    expect(balance(player)).toBe(START - STAKE + 7_000_000);
  });

  it("settles each bet exactly once even when asked twice", async () => {
    const player = await createPlayer(server.ctx, START);
    const c = col() + 2;
    const b: OpenBet = await bet(player, c);
    const t0 = c * COLUMN_MS;
    feed(t0 + 500, (t) => (t === t0 + 500 ? LO : BELOW));
    // The same bet handed over again after it won (a late track, or a second process): nothing more is paid.
    server.ctx.services.resolver.track(b);
    await runWindow(c, () => LO);
    expect(playerEntries(server.ctx, b.id, player.accountId)).toEqual([["stake", -STAKE], ["payout", 7_000_000]]);
    expect(server.ctx.services.resolver.openCount()).toBe(0);
  });

  it("refuses to settle a bet whose tracked terms differ from the stored ones: nothing is paid, the bet stays open", async () => {
    const player = await createPlayer(server.ctx, START);
    const stored = await placeBetRaw(player, col() + 2, ROW);
    server.ctx.services.bets.onSettled(stored.id);
    const verdict = { status: "won", at: clock, priceCents: LO, reason: "touch" } as const;
    for (const altered of [{ payoutMicroUsd: stored.payoutMicroUsd * 2 }, { stakeMicroUsd: 1 }, { bandLowCents: LO - 1000 }, { accountId: 1 }]) {
      const settlement = { bet: { ...stored, ...altered }, verdict, decidedAt: clock };
      await expect(server.ctx.queue.run("resolver.settle", [settlement], clock)).rejects.toThrow(/stored terms differ/);
    }
    expect(betStatus(server.ctx, stored.id).status).toBe("open");
    expect(playerEntries(server.ctx, stored.id, player.accountId)).toEqual([["stake", -STAKE]]);
    // The stored terms themselves settle (and pay) once.
    const [settled] = await server.ctx.queue.run("resolver.settle", [{ bet: stored, verdict, decidedAt: clock }], clock);
    expect(settled).toEqual({ index: 0, multiplierHundredths: MULTIPLIER, placedAt: expect.any(Number), balanceAfterMicroUsd: START + 7_000_000 - STAKE });
    expect(await server.ctx.queue.run("resolver.settle", [{ bet: stored, verdict, decidedAt: clock }], clock)).toEqual([]);
  });

  it("proves every settlement: GET /api/bets/:id/proof recomputes the stored outcome from stored ticks", async () => {
    expect(placed.length).toBeGreaterThan(10);
    const seen = new Set<string>();
    for (const { player, bet: b } of placed) {
      const res = await server.request(`/api/bets/${b.id}/proof`, { token: player.token });
      expect(res.status).toBe(200);
      const proof = await res.json();
      expect(proof.recomputed).toBe(proof.bet.status);
      expect(proof.bet.status).not.toBe("open");
      if (proof.bet.resolution) expect(proof.recomputedResolution).toEqual(proof.bet.resolution);
      expect(proof.rule).toMatch(/first pair of consecutive ticks/);
      // The window's ticks are all there, plus the one before t0.
      expect(proof.ticks[0].t).toBeLessThan(b.windowStart);
      expect(proof.ticks.slice(1).every((t: { t: number }) => t.t >= b.windowStart && t.t < b.windowEnd)).toBe(true);
      seen.add(proof.bet.status);
      if (proof.bet.status === "void") expect(proof.staleGaps.length + proof.ticks.length).toBeGreaterThan(0);
    }
    expect([...seen].sort()).toEqual(["lost", "void", "won"]);
    const [first, second] = [placed[0]!, placed.find((p) => p.player !== placed[0]!.player)!];
    expect((await server.request(`/api/bets/${first.bet.id}/proof`, { token: second.player.token })).status).toBe(404);
    expect((await server.request(`/api/bets/${first.bet.id}/proof`)).status).toBe(401);
    expect((await server.request(`/api/bets/abc/proof`, { token: first.player.token })).status).toBe(404);
  });
});
