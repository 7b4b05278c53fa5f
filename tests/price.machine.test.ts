import { describe, expect, it } from "vitest";
import { healthEvent, isSubscribed, nextSourceState, SOURCE_STATES, type SourceEvent } from "../domain/price/source-machine.ts";
import { addLagSample, judgePrice, measuredSkewMs, SKEW_SAMPLES_MAX, type SkewWindow } from "../domain/price/freshness.ts";

/** The source state machine and the event-time freshness rules, as pure functions. */
describe("source state machine", () => {
  const walk = (events: SourceEvent[]) => events.reduce<string>((state, e) => nextSourceState(state as never, e) ?? state, "connecting");

  it("goes connecting → subscribing → live, and through backoff to reconnecting on a close", () => {
    expect(walk(["open"])).toBe("subscribing");
    expect(walk(["open", "subscribed"])).toBe("live");
    expect(walk(["open", "subscribed", "closed"])).toBe("backoff");
    expect(walk(["open", "subscribed", "closed", "redial"])).toBe("reconnecting");
    expect(walk(["open", "subscribed", "closed", "redial", "open", "subscribed"])).toBe("live");
  });

  it("moves a subscribed source between live, stale and unhealthy only", () => {
    expect(walk(["open", "subscribed", "stale"])).toBe("stale");
    expect(walk(["open", "subscribed", "stale", "fresh"])).toBe("live");
    expect(walk(["open", "subscribed", "unhealthy"])).toBe("unhealthy");
    expect(walk(["open", "subscribed", "unhealthy", "stale"])).toBe("stale");
    // Health events mean nothing while not subscribed: a disconnected source cannot be "live".
    for (const state of ["connecting", "reconnecting", "subscribing", "backoff"] as const) {
      for (const e of ["fresh", "stale", "unhealthy"] as const) expect(nextSourceState(state, e)).toBeUndefined();
    }
  });

  it("a refused subscription stays subscribing (resubscribe) until it is accepted or the connection closes", () => {
    expect(walk(["open", "resubscribe"])).toBe("subscribing");
    expect(walk(["open", "resubscribe", "closed"])).toBe("backoff");
    expect(nextSourceState("live", "resubscribe")).toBeUndefined();
  });

  it("every state can leave: no state is a dead end, and only backoff redials", () => {
    for (const state of SOURCE_STATES) {
      const exits = (["open", "subscribed", "resubscribe", "fresh", "stale", "unhealthy", "closed", "redial"] as const).filter((e) => {
        const next = nextSourceState(state, e);
        return next !== undefined && next !== state;
      });
      expect(exits.length).toBeGreaterThan(0);
      expect(nextSourceState(state, "redial") !== undefined).toBe(state === "backoff");
    }
    expect(SOURCE_STATES.filter(isSubscribed)).toEqual(["live", "stale", "unhealthy"]);
  });

  it("an unhealthy exchange or a lagging feed wins over a fresh price", () => {
    expect(healthEvent({ statusReason: "exchange_maintenance", lagging: false, fresh: true })).toBe("unhealthy");
    expect(healthEvent({ statusReason: undefined, lagging: true, fresh: true })).toBe("unhealthy");
    expect(healthEvent({ statusReason: undefined, lagging: false, fresh: false })).toBe("stale");
    expect(healthEvent({ statusReason: undefined, lagging: false, fresh: true })).toBe("fresh");
  });
});

describe("event-time freshness", () => {
  const base = { sequence: undefined, last: undefined, skewMs: 0, staleMs: 2000, lagMaxMs: 1000 };

  it("measures the skew as the smallest recent lag, bounded, and forgets old samples", () => {
    const w: SkewWindow = { lagsMs: [] };
    expect(measuredSkewMs(w, 500)).toBe(0);
    for (const lag of [120, 80, 300_000, 95]) addLagSample(w, lag);
    expect(measuredSkewMs(w, 500)).toBe(80);
    addLagSample(w, -900); // exchange clock ahead
    expect(measuredSkewMs(w, 500)).toBe(-500);
    for (let i = 0; i < SKEW_SAMPLES_MAX; i++) addLagSample(w, 40);
    expect(w.lagsMs).toHaveLength(SKEW_SAMPLES_MAX);
    expect(measuredSkewMs(w, 500)).toBe(40);
    const behind: SkewWindow = { lagsMs: [5000, 5200] };
    expect(measuredSkewMs(behind, 500)).toBe(500); // a feed always 5 s late is not excused
  });

  it("an event older than staleMs (after the skew) is old; one just inside is accepted", () => {
    expect(judgePrice({ ...base, eventAtMs: 10_000, arrivalAtMs: 12_001 }).verdict).toBe("old");
    expect(judgePrice({ ...base, eventAtMs: 10_000, arrivalAtMs: 12_000 }).verdict).toBe("accepted");
    // A measured +300 ms offset (exchange clock behind) is allowed for…
    expect(judgePrice({ ...base, skewMs: 300, eventAtMs: 10_000, arrivalAtMs: 12_200 })).toMatchObject({ verdict: "accepted", correctedAtMs: 10_300, lagMs: 2200 });
    // …and an exchange clock ahead of ours never dates a price in our future.
    expect(judgePrice({ ...base, skewMs: -400, eventAtMs: 10_300, arrivalAtMs: 10_000 }).correctedAtMs).toBe(9_900);
    expect(judgePrice({ ...base, skewMs: 500, eventAtMs: 10_000, arrivalAtMs: 10_100 }).correctedAtMs).toBe(10_100);
  });

  it("older event times and lower or repeated sequences are out of order; equal times are not", () => {
    const last = { eventAtMs: 10_000, sequence: 50 };
    expect(judgePrice({ ...base, last, eventAtMs: 9_999, arrivalAtMs: 10_100 }).verdict).toBe("out_of_order");
    expect(judgePrice({ ...base, last: { eventAtMs: 10_000, sequence: undefined }, eventAtMs: 10_000, arrivalAtMs: 10_100 }).verdict).toBe("accepted");
    expect(judgePrice({ ...base, last, eventAtMs: 10_050, sequence: 50, arrivalAtMs: 10_100 }).verdict).toBe("out_of_order");
    expect(judgePrice({ ...base, last, eventAtMs: 10_050, sequence: 49, arrivalAtMs: 10_100 }).verdict).toBe("out_of_order");
    expect(judgePrice({ ...base, last, eventAtMs: 10_050, sequence: 51, arrivalAtMs: 10_100 }).verdict).toBe("accepted");
  });

  it("flags a lag beyond lagMaxMs (after the skew) as lagging", () => {
    expect(judgePrice({ ...base, eventAtMs: 10_000, arrivalAtMs: 11_001 }).lagging).toBe(true);
    expect(judgePrice({ ...base, eventAtMs: 10_000, arrivalAtMs: 11_000 }).lagging).toBe(false);
    expect(judgePrice({ ...base, skewMs: 200, eventAtMs: 10_000, arrivalAtMs: 11_150 }).lagging).toBe(false);
  });
});

describe("breaker gap start with exchange event times", () => {
  it("a gap starts when the newest exchange data ran out, even while the arrival-stamped tick is younger", async () => {
    const { stepBreaker } = await import("../domain/price/breaker.ts");
    const closed = { circuit: "closed" as const, requiredFreshMs: 0 };
    // Tick at 1000 (arrival), its price's event time 900: stale by data at 2900, noticed at 2950.
    const r = stepBreaker(closed, { nowMs: 2950, lastTickAt: 1000, lastDataAt: 900, healthySources: 0, staleMs: 2000, recoveryMs: 0 });
    expect(r.transition).toEqual({ kind: "opened", at: 2950, gapStartAt: 2900, reason: "no_healthy_source" });
    // Data still fresh (a source in maintenance): the gap starts when it was noticed.
    const m = stepBreaker(closed, { nowMs: 1500, lastTickAt: 1000, lastDataAt: 1400, healthySources: 0, staleMs: 2000, recoveryMs: 0 });
    expect(m.transition).toMatchObject({ gapStartAt: 1500 });
  });
});
