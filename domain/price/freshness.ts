/**
 * Exchange time vs. our time. Each price carries the exchange's event time next to its arrival
 * time; the difference (lag) is transport delay plus the two clocks' offset. We cannot tell those
 * apart, so the clock-skew allowance is *measured*: the smallest lag among the recent prices (the
 * best-case delivery, dominated by the clock offset), clamped to ±skewMaxMs. A price's corrected
 * time is `eventAtMs + skewMs`, never later than its arrival.
 *
 * With that, a price is
 * - out_of_order when its event time is before the last accepted one's, or its sequence (Coinbase)
 *   is not above the last accepted one's: dropped, it would move the price backwards;
 * - old when its corrected age at arrival exceeds staleMs (the trade an exchange replays on
 *   subscribe, a burst delivered after a network stall): dropped, it does not refresh the source;
 * - accepted otherwise, and `lagging` when its corrected lag exceeds lagMaxMs (the source is
 *   degraded and taken out of the index until a timely price arrives).
 */
export const SKEW_SAMPLES_MAX = 64;

export interface SkewWindow {
  /** Recent lags (arrival − event), oldest first, at most SKEW_SAMPLES_MAX. */
  lagsMs: number[];
}

export function addLagSample(window: SkewWindow, lagMs: number): void {
  window.lagsMs.push(lagMs);
  if (window.lagsMs.length > SKEW_SAMPLES_MAX) window.lagsMs.shift();
}

/** The measured allowance: the smallest recent lag, clamped to ±skewMaxMs; 0 without samples. */
export function measuredSkewMs(window: SkewWindow, skewMaxMs: number): number {
  if (window.lagsMs.length === 0) return 0;
  const min = Math.min(...window.lagsMs);
  return Math.max(-skewMaxMs, Math.min(skewMaxMs, min));
}

export interface LastAccepted {
  eventAtMs: number;
  sequence: number | undefined;
}

export interface PriceJudgement {
  verdict: "accepted" | "old" | "out_of_order";
  /** Event time on our clock: eventAtMs + skew, at most the arrival time. */
  correctedAtMs: number;
  /** Raw event→arrival lag as received (what /api/price shows as eventLagMs). */
  lagMs: number;
  lagging: boolean;
}

export function judgePrice(input: {
  eventAtMs: number;
  arrivalAtMs: number;
  sequence: number | undefined;
  last: LastAccepted | undefined;
  skewMs: number;
  staleMs: number;
  lagMaxMs: number;
}): PriceJudgement {
  const lagMs = input.arrivalAtMs - input.eventAtMs;
  const correctedAtMs = Math.min(input.arrivalAtMs, input.eventAtMs + input.skewMs);
  const correctedLagMs = input.arrivalAtMs - correctedAtMs;
  const base = { correctedAtMs, lagMs, lagging: correctedLagMs > input.lagMaxMs };
  const last = input.last;
  if (last !== undefined) {
    if (input.eventAtMs < last.eventAtMs) return { ...base, verdict: "out_of_order" };
    if (input.sequence !== undefined && last.sequence !== undefined && input.sequence <= last.sequence) return { ...base, verdict: "out_of_order" };
  }
  if (correctedLagMs > input.staleMs) return { ...base, verdict: "old" };
  return { ...base, verdict: "accepted" };
}
