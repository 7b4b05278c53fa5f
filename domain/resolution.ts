/**
 * The resolution rule of SPEC §5, pure: the same function decides a bet live (resolver), after a
 * restart (from stored ticks), in the proof endpoint and in the integrity check, so the outcome a
 * player is paid on can always be recomputed from stored data.
 *
 * A bet on band [lo, hi) and window [t0, t1):
 * - WINS at the first tick with t0 ≤ t < t1 and lo ≤ price < hi, or at the first pair of consecutive
 *   ticks, both inside the window, whose prices lie on opposite sides of the band (the path crossed it
 *   between ticks). A win is final: staleness later (or earlier) in the window does not undo it.
 * - otherwise, once the window has ended, is VOID (refund) when the feed was stale at any time in the
 *   window, and LOST when it was fresh throughout.
 *
 * "Stale at time τ" (ADR-008) means the index was older than `staleMs` at τ, i.e. τ − t(last tick at
 * or before τ) > staleMs, or a stale gap recorded by the price monitor covers τ. Deriving staleness
 * from the ticks as well as from the recorded gaps matters when nothing was recording: a server that
 * was down for part of the window left no ticks and no gap, and such a bet must be void, not lost.
 * Times are integer milliseconds, so τ ranges over t0 … t1 − 1.
 */

export interface Tick {
  t: number;
  priceCents: number;
}

export interface StaleGap {
  startAt: number;
  /** null while the gap is still open. */
  endAt: number | null;
}

export interface BetTerms {
  windowStart: number;
  windowEnd: number;
  bandLowCents: number;
  bandHighCents: number;
}

export type Verdict =
  | { status: "open" }
  | { status: "won"; at: number; priceCents: number; reason: "touch" | "cross" }
  | { status: "lost"; at: number; priceCents: null; reason: "no_touch" }
  | { status: "void"; at: number; priceCents: null; reason: "stale" };

export type Win = Extract<Verdict, { status: "won" }>;

export interface Evidence {
  /** Index ticks sorted by strictly increasing t; ticks outside [t0 − staleMs, t1) are ignored. */
  ticks: readonly Tick[];
  staleGaps: readonly StaleGap[];
  /** PRICE_STALE_MS: the index is stale when older than this. */
  staleMs: number;
  /** Every tick with t < knownUntil is in `ticks` (the data is complete up to there). */
  knownUntil: number;
}

export const RULE_TEXT =
  "A bet on band [lo, hi) and window [t0, t1) wins at the first index tick with t0 <= t < t1 and lo <= price < hi, " +
  "or at the first pair of consecutive ticks, both inside the window, on opposite sides of the band (crossed between ticks). " +
  "Without a win, once the window has ended it is void (stake refunded) if the feed was stale at any time in the window " +
  "(a recorded stale gap overlaps [t0, t1), or at some time the newest tick was older than staleMs), and lost otherwise.";

export function inBand(priceCents: number, bet: BetTerms): boolean {
  return priceCents >= bet.bandLowCents && priceCents < bet.bandHighCents;
}

/** Whether consecutive prices a then b lie on opposite sides of the band. */
export function crossesBand(a: number, b: number, bet: BetTerms): boolean {
  return (a < bet.bandLowCents && b >= bet.bandHighCents) || (a >= bet.bandHighCents && b < bet.bandLowCents);
}

/** The first win of the rule among ticks with t < untilMs (defaults to the window end). */
export function firstWin(bet: BetTerms, ticks: readonly Tick[], untilMs = bet.windowEnd): Win | undefined {
  const end = Math.min(untilMs, bet.windowEnd);
  let previous: Tick | undefined;
  for (const tick of ticks) {
    if (tick.t < bet.windowStart) continue;
    if (tick.t >= end) break;
    if (inBand(tick.priceCents, bet)) return { status: "won", at: tick.t, priceCents: tick.priceCents, reason: "touch" };
    if (previous && crossesBand(previous.priceCents, tick.priceCents, bet)) {
      return { status: "won", at: tick.t, priceCents: tick.priceCents, reason: "cross" };
    }
    previous = tick;
  }
  return undefined;
}

/** Whether a recorded gap [startAt, endAt) overlaps the window [t0, t1). */
export function gapOverlaps(gap: StaleGap, windowStart: number, windowEnd: number): boolean {
  return gap.startAt < windowEnd && (gap.endAt === null || gap.endAt > windowStart);
}

/**
 * Whether the feed was stale at any integer time τ in [t0, t1): by a recorded gap, or because the
 * newest tick at or before τ was older than staleMs (or there was none).
 */
export function staleDuring(window: Pick<BetTerms, "windowStart" | "windowEnd">, ticks: readonly Tick[], gaps: readonly StaleGap[], staleMs: number): boolean {
  const { windowStart: t0, windowEnd: t1 } = window;
  if (t1 <= t0) return false;
  if (gaps.some((gap) => gapOverlaps(gap, t0, t1))) return true;
  let newestT: number | undefined; // t of the newest tick at or before the point examined
  for (const tick of ticks) {
    if (tick.t <= t0) {
      newestT = tick.t;
      continue;
    }
    if (tick.t >= t1) break;
    // Points τ in [max(newest, t0), tick.t − 1] see `newestT` as the newest tick; the oldest is τ = tick.t − 1.
    if (newestT === undefined || tick.t - 1 - newestT > staleMs) return true;
    newestT = tick.t;
  }
  return newestT === undefined || t1 - 1 - newestT > staleMs;
}

/** The verdict of the rule on the evidence: "open" while the window has not ended and no win is known. */
export function resolveBet(bet: BetTerms, evidence: Evidence): Verdict {
  assertSorted(evidence.ticks);
  const win = firstWin(bet, evidence.ticks, evidence.knownUntil);
  if (win) return win;
  if (evidence.knownUntil < bet.windowEnd) return { status: "open" };
  if (staleDuring(bet, evidence.ticks, evidence.staleGaps, evidence.staleMs)) {
    return { status: "void", at: bet.windowEnd, priceCents: null, reason: "stale" };
  }
  return { status: "lost", at: bet.windowEnd, priceCents: null, reason: "no_touch" };
}

/** Precondition of the rule: "consecutive ticks" only means something on a strictly increasing sequence. */
export function assertSorted(ticks: readonly Tick[]): void {
  for (let i = 1; i < ticks.length; i++) {
    if (ticks[i]!.t <= ticks[i - 1]!.t) throw new Error(`ticks must be strictly increasing in t (index ${i})`);
  }
}

/**
 * Merges tick lists (e.g. the current and the historical database, or stored and live ticks) into
 * one strictly increasing sequence; a t present in several lists is kept once (the first list wins).
 */
export function mergeTicks(...lists: readonly (readonly Tick[])[]): Tick[] {
  const byT = new Map<number, Tick>();
  for (const list of lists) for (const tick of list) if (!byT.has(tick.t)) byT.set(tick.t, tick);
  return [...byT.values()].sort((a, b) => a.t - b.t);
}
