import { describe, expect, it } from "vitest";
import { SeededRandom } from "../domain/pricing/simulation.ts";
import {
  annualFromSigma,
  createVolatilityState,
  DEFAULT_VOLATILITY_OPTIONS,
  estimateVolatility,
  observeTick,
  sigmaFromAnnual,
  type VolatilityOptions,
} from "../domain/pricing/volatility.ts";

const NO_DECAY: VolatilityOptions = { ...DEFAULT_VOLATILITY_OPTIONS, halfLifeMs: 1e15 };

/** Feeds a GBM path (σ per √ms) observed at the given gaps; returns the state. */
function feedPath(gapsMs: number[], sigma: number, options: VolatilityOptions, seed = 1, state = createVolatilityState(), startT = 1_764_000_000_000) {
  const rng = new SeededRandom(seed);
  const z = new Float64Array(gapsMs.length);
  rng.fillNormals(z);
  let t = state.lastT ?? startT;
  let logPrice = state.lastT === undefined ? Math.log(9_500_000) : state.lastLogPrice;
  if (state.lastT === undefined) observeTick(state, t, 9_500_000, options);
  gapsMs.forEach((gap, i) => {
    t += gap;
    logPrice += sigma * Math.sqrt(gap) * z[i]!;
    observeTick(state, t, Math.round(Math.exp(logPrice)), options);
  });
  return state;
}

describe("volatility estimator (σ² per ms from returns over their real time)", () => {
  it("computes Σr² / Σdt exactly on a small irregular example", () => {
    const options = { ...NO_DECAY, minReturns: 2, minObservedMs: 0 };
    const state = createVolatilityState();
    observeTick(state, 0, 10_000_000, options);
    observeTick(state, 100, 10_000_300, options);
    observeTick(state, 1_100, 10_000_000, options);
    const r1 = Math.log(10_000_300 / 10_000_000);
    const r2 = Math.log(10_000_000 / 10_000_300);
    const est = estimateVolatility(state, options);
    expect(est.sigmaPerSqrtMs).toBeCloseTo(Math.sqrt((r1 * r1 + r2 * r2) / 1_100), 15);
    expect(est.sigmaPerSqrtMs).toBeLessThan(DEFAULT_VOLATILITY_OPTIONS.maxSigmaPerSqrtMs); // not the clamp
    expect(est.samples).toBe(2);
    expect(est.tickIntervalMs).toBeCloseTo(550, 6);
  });

  it("recovers σ from ticks at very irregular spacing (10 ms … 3 s gaps mixed)", () => {
    const sigma = sigmaFromAnnual(0.6);
    const rng = new SeededRandom(7);
    const choices = [10, 100, 250, 1_000, 3_000];
    const gaps = Array.from({ length: 20_000 }, () => choices[Math.floor(rng.next() * choices.length)]!);
    const est = estimateVolatility(feedPath(gaps, sigma, NO_DECAY), NO_DECAY);
    expect(est.samples).toBe(20_000);
    expect(annualFromSigma(est.sigmaPerSqrtMs)).toBeGreaterThan(0.6 * 0.95);
    expect(annualFromSigma(est.sigmaPerSqrtMs)).toBeLessThan(0.6 * 1.05);
  });

  it("falls back to the default before enough returns and enough observed time", () => {
    const state = createVolatilityState();
    expect(estimateVolatility(state, DEFAULT_VOLATILITY_OPTIONS)).toEqual({
      sigmaPerSqrtMs: DEFAULT_VOLATILITY_OPTIONS.fallbackSigmaPerSqrtMs,
      samples: 0,
      tickIntervalMs: DEFAULT_VOLATILITY_OPTIONS.fallbackTickIntervalMs,
    });
    // 50 returns but only 5 s of data (minObservedMs 10 s): still the fallback, however wild.
    feedPath(Array(50).fill(100), sigmaFromAnnual(3), DEFAULT_VOLATILITY_OPTIONS, 3, state);
    expect(estimateVolatility(state, DEFAULT_VOLATILITY_OPTIONS).samples).toBe(0);
    expect(estimateVolatility(state, DEFAULT_VOLATILITY_OPTIONS).sigmaPerSqrtMs).toBe(DEFAULT_VOLATILITY_OPTIONS.fallbackSigmaPerSqrtMs);
    feedPath(Array(60).fill(100), sigmaFromAnnual(3), DEFAULT_VOLATILITY_OPTIONS, 4, state);
    expect(estimateVolatility(state, DEFAULT_VOLATILITY_OPTIONS).samples).toBe(110);
  });

  it("clamps: a flat feed gives the minimum, a wildly jumping one the maximum", () => {
    const options = { ...DEFAULT_VOLATILITY_OPTIONS, minObservedMs: 0 };
    const flat = createVolatilityState();
    for (let i = 0; i < 100; i++) observeTick(flat, i * 100, 9_500_000, options);
    expect(estimateVolatility(flat, options).sigmaPerSqrtMs).toBe(options.minSigmaPerSqrtMs);
    const wild = createVolatilityState();
    for (let i = 0; i < 100; i++) observeTick(wild, i * 100, i % 2 === 0 ? 9_500_000 : 10_500_000, options);
    expect(estimateVolatility(wild, options).sigmaPerSqrtMs).toBe(options.maxSigmaPerSqrtMs);
  });

  it("ignores ticks that are not later than the previous one and prices that are not positive", () => {
    const options = { ...NO_DECAY, minReturns: 1, minObservedMs: 0 };
    const state = createVolatilityState();
    observeTick(state, 1_000, 10_000_000, options);
    observeTick(state, 1_000, 20_000_000, options); // same t
    observeTick(state, 900, 20_000_000, options); // earlier
    observeTick(state, 1_100, 0, options);
    observeTick(state, 1_100, -5, options);
    observeTick(state, 1_100, Number.NaN, options);
    observeTick(state, Number.NaN, 10_000_000, options);
    expect(state.returns).toBe(0);
    observeTick(state, 1_100, 10_001_000, options);
    expect(state.returns).toBe(1);
    expect(estimateVolatility(state, options).sigmaPerSqrtMs).toBeCloseTo(Math.abs(Math.log(1.0001)) / 10, 15);
  });

  it("tracks the mean tick interval, counting a stale gap at most maxTickIntervalMs", () => {
    const options = DEFAULT_VOLATILITY_OPTIONS;
    const state = feedPath(Array(200).fill(250), sigmaFromAnnual(0.6), options);
    expect(estimateVolatility(state, options).tickIntervalMs).toBeCloseTo(250, 6);
    feedPath([60_000], sigmaFromAnnual(0.6), options, 2, state);
    const after = estimateVolatility(state, options).tickIntervalMs;
    expect(after).toBeGreaterThan(250);
    expect(after).toBeLessThan(270); // one 2 s gap among ~200 ticks, not a 60 s one
  });

  it("follows a change of regime within a few half-lives (EWMA in time)", () => {
    const options = { ...DEFAULT_VOLATILITY_OPTIONS, halfLifeMs: 60_000 };
    const state = feedPath(Array(18_000).fill(100), sigmaFromAnnual(0.3), options, 5);
    expect(annualFromSigma(estimateVolatility(state, options).sigmaPerSqrtMs)).toBeCloseTo(0.3, 1);
    feedPath(Array(6_000).fill(100), sigmaFromAnnual(1.2), options, 6, state); // 10 min = 10 half-lives
    const annual = annualFromSigma(estimateVolatility(state, options).sigmaPerSqrtMs);
    expect(annual).toBeGreaterThan(1.2 * 0.9);
    expect(annual).toBeLessThan(1.2 * 1.1);
  });
});
