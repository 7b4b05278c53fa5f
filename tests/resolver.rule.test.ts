import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { mergeTicks, resolveBet, staleDuring, type BetTerms, type Evidence, type StaleGap, type Tick } from "../domain/resolution.ts";

// Window [10 000, 20 000), band [100 000, 101 000) cents; the feed ticks every 500 ms unless a path says otherwise.
const bet: BetTerms = { windowStart: 10_000, windowEnd: 20_000, bandLowCents: 100_000, bandHighCents: 101_000 };
const STALE_MS = 2000;
const OUTSIDE = 99_000;
const ABOVE = 102_000;

/** A fresh feed from 8 000 to 21 500 at `OUTSIDE`, with some ticks replaced. */
function path(overrides: Record<number, number> = {}, drop: number[] = [], baseCents = OUTSIDE): Tick[] {
  const ticks: Tick[] = [];
  for (let t = 8000; t <= 21_500; t += 500) {
    if (drop.includes(t)) continue;
    ticks.push({ t, priceCents: overrides[t] ?? baseCents });
  }
  return ticks;
}

const ended = (ticks: Tick[], staleGaps: StaleGap[] = []): Evidence => ({ ticks, staleGaps, staleMs: STALE_MS, knownUntil: 20_000 });

describe("resolution rule (SPEC §5)", () => {
  it("wins at the first tick inside the band", () => {
    const v = resolveBet(bet, ended(path({ 12_000: 100_500, 13_000: 100_600 })));
    expect(v).toEqual({ status: "won", at: 12_000, priceCents: 100_500, reason: "touch" });
  });

  it("wins when two consecutive in-window ticks lie on opposite sides of the band (upwards and downwards)", () => {
    expect(resolveBet(bet, ended(path({ 12_000: 101_500 })))).toEqual({ status: "won", at: 12_000, priceCents: 101_500, reason: "cross" });
    const down = path({ 12_000: 99_999 }, [], ABOVE);
    expect(resolveBet(bet, ended(down))).toEqual({ status: "won", at: 12_000, priceCents: 99_999, reason: "cross" });
  });

  it("does not count a touch before the window, nor a crossing from a pre-window tick", () => {
    expect(resolveBet(bet, ended(path({ 9500: 100_500 })))).toMatchObject({ status: "lost" });
    // 9 500 is above the band, 10 000 below: the pair straddles t0, so it is not a pair inside the window.
    expect(resolveBet(bet, ended(path({ 9000: 101_500, 9500: 101_500 })))).toMatchObject({ status: "lost" });
  });

  it("does not count a touch at t1 exactly (the window is half-open)", () => {
    expect(resolveBet(bet, ended(path({ 20_000: 100_500 })))).toEqual({ status: "lost", at: 20_000, priceCents: null, reason: "no_touch" });
    // ... but counts one at t0 exactly and one at t1 - 1.
    expect(resolveBet(bet, ended(path({ 10_000: 100_500 })))).toMatchObject({ status: "won", at: 10_000 });
    const late = mergeTicks(path(), [{ t: 19_999, priceCents: 100_000 }]);
    expect(resolveBet(bet, ended(late))).toMatchObject({ status: "won", at: 19_999 });
  });

  it("treats the band's low edge as inside and its high edge as outside", () => {
    expect(resolveBet(bet, ended(path({ 15_000: 100_000 })))).toMatchObject({ status: "won", priceCents: 100_000 });
    expect(resolveBet(bet, ended(path({ 15_000: 100_999 })))).toMatchObject({ status: "won", priceCents: 100_999 });
    // A path that stays at or above hi never touches; lo - 1 never touches from below.
    expect(resolveBet(bet, ended(path({ 15_000: 101_000 }, [], ABOVE)))).toMatchObject({ status: "lost" });
    expect(resolveBet(bet, ended(path({ 15_000: 99_999 })))).toMatchObject({ status: "lost" });
    // From exactly hi down to lo - 1 is a crossing; from hi to lo is a touch at lo.
    expect(resolveBet(bet, ended(path({ 14_500: 101_000, 15_000: 99_999 }, [], ABOVE)))).toMatchObject({ status: "won", at: 15_000, reason: "cross" });
    expect(resolveBet(bet, ended(path({ 14_500: 101_000, 15_000: 100_000 }, [], ABOVE)))).toMatchObject({ status: "won", at: 15_000, reason: "touch" });
  });

  it("loses when the window ended without a touch on a fresh feed", () => {
    expect(resolveBet(bet, ended(path()))).toEqual({ status: "lost", at: 20_000, priceCents: null, reason: "no_touch" });
  });

  it("is void when a recorded stale gap overlapped the window and nothing won", () => {
    expect(resolveBet(bet, ended(path(), [{ startAt: 15_000, endAt: 16_000 }]))).toEqual({ status: "void", at: 20_000, priceCents: null, reason: "stale" });
    expect(resolveBet(bet, ended(path(), [{ startAt: 19_999, endAt: null }]))).toMatchObject({ status: "void" });
    // Gaps that end at t0 or start at t1 do not overlap [t0, t1).
    expect(resolveBet(bet, ended(path(), [{ startAt: 5000, endAt: 10_000 }, { startAt: 20_000, endAt: 25_000 }]))).toMatchObject({ status: "lost" });
  });

  it("is void when ticks are missing for longer than staleMs, even with no gap recorded", () => {
    // 13 000 … 15 000 dropped: newest tick at 12 500, next at 15 500; at τ = 15 499 the index is 2 999 ms old.
    expect(resolveBet(bet, ended(path({}, [13_000, 13_500, 14_000, 14_500, 15_000])))).toMatchObject({ status: "void" });
    // No tick at all in or before the window (the server was down).
    expect(resolveBet(bet, ended([]))).toMatchObject({ status: "void" });
    // The feed stopped before the window ended.
    expect(resolveBet(bet, ended(path().filter((t) => t.t <= 17_500)))).toMatchObject({ status: "void" });
  });

  it("draws the staleness line exactly at staleMs (older than, not as old as)", () => {
    const ticks = (gapMs: number) => [{ t: 9000, priceCents: OUTSIDE }, { t: 12_000, priceCents: OUTSIDE }, { t: 12_000 + gapMs, priceCents: OUTSIDE }, { t: 12_000 + 2 * gapMs, priceCents: OUTSIDE }, { t: 12_000 + 3 * gapMs, priceCents: OUTSIDE }, { t: 12_000 + 4 * gapMs, priceCents: OUTSIDE }, { t: 21_000, priceCents: OUTSIDE }];
    const window = { windowStart: 12_000, windowEnd: 12_000 + 4 * 2001 };
    expect(staleDuring(window, ticks(2001), [], STALE_MS)).toBe(false); // oldest age seen: 2000 ms
    expect(staleDuring({ windowStart: 12_000, windowEnd: 12_000 + 4 * 2002 }, ticks(2002), [], STALE_MS)).toBe(true);
  });

  it("keeps a win that came before a later stale gap (and one after an earlier gap)", () => {
    const gap = [{ startAt: 16_000, endAt: 19_000 }];
    expect(resolveBet(bet, ended(path({ 12_000: 100_500 }), gap))).toMatchObject({ status: "won", at: 12_000 });
    const early = [{ startAt: 10_500, endAt: 12_000 }];
    expect(resolveBet(bet, ended(path({ 17_000: 100_500 }), early))).toMatchObject({ status: "won", at: 17_000 });
  });

  it("stays open while the window has not ended and nothing won yet", () => {
    expect(resolveBet(bet, { ...ended(path()), knownUntil: 15_000 })).toEqual({ status: "open" });
    expect(resolveBet(bet, { ...ended(path({ 14_000: 100_500 })), knownUntil: 15_000 })).toMatchObject({ status: "won" });
    // A touch at or after knownUntil is not known yet.
    expect(resolveBet(bet, { ...ended(path({ 15_000: 100_500 })), knownUntil: 15_000 })).toEqual({ status: "open" });
  });

  it("refuses ticks that are not strictly increasing", () => {
    expect(() => resolveBet(bet, ended([{ t: 11_000, priceCents: 1 }, { t: 11_000, priceCents: 2 }]))).toThrow(/strictly increasing/);
  });

  it("agrees with a literal, point-by-point reading of the rule on random paths", () => {
    const tickArb = fc.uniqueArray(fc.integer({ min: 0, max: 60 }), { maxLength: 30 }).chain((ts) =>
      fc.tuple(fc.constant([...ts].sort((a, b) => a - b)), fc.array(fc.integer({ min: 0, max: 9 }), { minLength: ts.length, maxLength: ts.length })),
    );
    const gapArb = fc.array(fc.tuple(fc.integer({ min: 0, max: 60 }), fc.option(fc.integer({ min: 1, max: 20 }))), { maxLength: 2 });
    fc.assert(
      fc.property(tickArb, gapArb, fc.integer({ min: 1, max: 12 }), fc.integer({ min: 0, max: 8 }), ([ts, ps], rawGaps, staleMs, lo) => {
        const ticks = ts.map((t, i) => ({ t, priceCents: ps[i]! }));
        const gaps = rawGaps.map(([s, len]) => ({ startAt: s, endAt: len === null ? null : s + len }));
        const terms = { windowStart: 20, windowEnd: 40, bandLowCents: lo, bandHighCents: lo + 2 };
        expect(resolveBet(terms, { ticks, staleGaps: gaps, staleMs, knownUntil: 40 })).toEqual(literal(terms, ticks, gaps, staleMs));
      }),
      { numRuns: 3000, seed: 6 },
    );
  });
});

/** SPEC §5 read word by word, checking every integer millisecond of the window. */
function literal(b: BetTerms, ticks: Tick[], gaps: StaleGap[], staleMs: number) {
  const inWindow = ticks.filter((t) => t.t >= b.windowStart && t.t < b.windowEnd);
  const inside = (p: number) => p >= b.bandLowCents && p < b.bandHighCents;
  for (let i = 0; i < inWindow.length; i++) {
    const cur = inWindow[i]!;
    if (inside(cur.priceCents)) return { status: "won", at: cur.t, priceCents: cur.priceCents, reason: "touch" };
    const prev = inWindow[i - 1];
    if (prev && !inside(prev.priceCents)) {
      const below = (p: number) => p < b.bandLowCents;
      if (below(prev.priceCents) !== below(cur.priceCents)) return { status: "won", at: cur.t, priceCents: cur.priceCents, reason: "cross" };
    }
  }
  for (let tau = b.windowStart; tau < b.windowEnd; tau++) {
    const newest = ticks.filter((t) => t.t <= tau).at(-1);
    const gap = gaps.some((g) => g.startAt <= tau && (g.endAt === null || tau < g.endAt));
    if (gap || !newest || tau - newest.t > staleMs) return { status: "void", at: b.windowEnd, priceCents: null, reason: "stale" };
  }
  return { status: "lost", at: b.windowEnd, priceCents: null, reason: "no_touch" };
}
