import { describe, expect, it } from "vitest";
import { createHorizonState, DEFAULT_HORIZON_OPTIONS, estimateHorizons, observeHorizonTick, type HorizonOptions } from "../domain/pricing/horizons.ts";
import { regimeByName, simulateMarket } from "../domain/pricing/market-sim.ts";
import { multiplierHundredths } from "../domain/pricing/multiplier.ts";
import { NEAR_BASE, NEAR_COLUMNS, NEAR_EXTRA, NEAR_ROWS, nearLoading, noiseLoading, quoteCell, quoteMultiplierHundredths, quoteTouchProbability, refundAdjusted, refundProbability, regimeFields, type QuoteInputs, type QuoteTerms } from "../domain/pricing/quote.ts";
import { SeededRandom } from "../domain/pricing/simulation.ts";
import { touchProbability } from "../domain/pricing/touch.ts";
import { createVolatilityState, DEFAULT_VOLATILITY_OPTIONS, estimateVolatility, observeTick, sigmaFromAnnual } from "../domain/pricing/volatility.ts";

/** The client-computable quote (domain/pricing/quote.ts) and the multi-horizon estimator (horizons.ts). */

const TERMS: QuoteTerms = { columnMs: 10_000, rowCents: 1_000, houseEdgeBp: 500, minMultiplierHundredths: 110, maxMultiplierHundredths: 10_000 };
const SIGMA = sigmaFromAnnual(0.5);
const T = 1_764_000_002_963;
const SPOT = 9_500_437;
const FIRST_COL = Math.ceil((T + 5_000) / 10_000);
const steady: QuoteInputs = { t: T, priceCents: SPOT, fastVarPerMs: SIGMA ** 2, slowVarPerMs: SIGMA ** 2, fastVarSdPerMs: 0, noiseVar: 0, tickIntervalMs: 100, ...regimeFields([1, 1, 1, 1].map((k) => k * SIGMA ** 2)), jumpRatePerMs: 0, jumpVar: 0, staleGapRatePerMs: 0, rateSpreadLog: 0, jumpPriorPerMs: 0 };
/** The same mean variance as `steady`, in bursts: three calm quarters and one at 4.6× (the bursty market's shape). */
const burstyRegimes: QuoteInputs = { ...steady, ...regimeFields([0.4, 0.4, 0.4, 2.8].map((k) => k * SIGMA ** 2)) };

/** The near loading the model adds for a cell (quote.ts): full inside the price's band, fading over NEAR_ROWS bands and NEAR_COLUMNS columns. */
function nearness(inputs: QuoteInputs, col: number, row: number): number {
  const gap = Math.max(row * 1_000 - inputs.priceCents, inputs.priceCents - (row + 1) * 1_000, 0);
  const tau = Math.max(col * 10_000 - inputs.t, 0);
  return Math.max(0, 1 - gap / (NEAR_ROWS * 1_000)) * Math.max(0, 1 - tau / (NEAR_COLUMNS * 10_000));
}

describe("quoteMultiplierHundredths", () => {
  it("in a steady, noise-free market is exactly the single-σ model of touch.ts (no loading: the promised 0.95)", () => {
    for (let dc = 0; dc < 12; dc++) {
      for (let dr = -10; dr <= 10; dr++) {
        const col = FIRST_COL + dc;
        const row = Math.floor(SPOT / 1_000) + dr;
        const p = touchProbability({ spotCents: SPOT, bandLowCents: row * 1_000, bandHighCents: row * 1_000 + 1_000, startInMs: col * 10_000 - T, windowMs: 10_000, sigmaPerSqrtMs: SIGMA, tickIntervalMs: 100 });
        expect(quoteTouchProbability(steady, TERMS, col, row), `${dc},${dr}`).toBeCloseTo(p, 12);
        const m = multiplierHundredths(p, 500);
        expect(quoteMultiplierHundredths(steady, TERMS, col, row), `${dc},${dr}`).toBe(m !== null && m >= 110 && m <= 10_000 ? m : null);
      }
    }
  });

  it("loads cells near the price in the next minute in proportion to the tick noise, fading with distance and time", () => {
    const tickMove = SIGMA * 10; // σ·√(100 ms)
    expect(noiseLoading(steady)).toBe(0);
    expect(noiseLoading({ ...steady, noiseVar: (0.5 * tickMove) ** 2 })).toBeCloseTo(0.5 * NEAR_BASE, 12);
    expect(noiseLoading({ ...steady, noiseVar: (3 * tickMove) ** 2 })).toBeCloseTo(NEAR_BASE, 12);
    const noisy = { ...steady, noiseVar: tickMove ** 2 };
    const own = Math.floor(SPOT / 1_000);
    // Same widening with and without the loading: compare a near cell with the same cell seen from far away in time.
    const ratioNear = quoteTouchProbability(noisy, TERMS, FIRST_COL, own) / quoteTouchProbability({ ...noisy, noiseVar: 0 }, TERMS, FIRST_COL, own);
    const ratioFar = quoteTouchProbability(noisy, TERMS, FIRST_COL, own + 5) / quoteTouchProbability({ ...noisy, noiseVar: 0 }, TERMS, FIRST_COL, own + 5);
    expect(ratioNear).toBeGreaterThan(1 + 0.5 * NEAR_BASE * nearness(noisy, FIRST_COL, own));
    expect(nearness(noisy, FIRST_COL, own + 5)).toBe(0);
    expect(ratioFar).toBeLessThan(ratioNear);
    expect(nearness(noisy, FIRST_COL + NEAR_COLUMNS, own)).toBe(0);
    expect(NEAR_ROWS).toBe(2);
  });

  it("never jumps when the price crosses into the next band (the near loading is continuous)", () => {
    const edge = Math.floor(SPOT / 1_000) * 1_000 + 1_000;
    const noisyInputs = { ...steady, noiseVar: (SIGMA * 10) ** 2, fastVarPerMs: 3 * SIGMA ** 2 }; // full loading, both parts
    for (const dr of [-1, 0, 1, 2]) {
      const row = Math.floor(SPOT / 1_000) + dr;
      const below = quoteTouchProbability({ ...noisyInputs, priceCents: edge - 1 }, TERMS, FIRST_COL, row);
      const above = quoteTouchProbability({ ...noisyInputs, priceCents: edge }, TERMS, FIRST_COL, row);
      expect(Math.abs(above - below) / below, `row ${dr}`).toBeLessThan(0.01);
    }
  });

  it("prices a bursty market by its regimes, not by one Gaussian at the mean variance: far columns cheaper to touch, far-away bands of the next columns dearer", () => {
    const ownRow = Math.floor(SPOT / 1_000);
    // A window two minutes ahead is reached through its range, which grows like σ: E[σ] < √E[σ²].
    for (const dr of [0, 3, 6]) expect(quoteTouchProbability(burstyRegimes, TERMS, FIRST_COL + 11, ownRow + dr)).toBeLessThan(0.95 * quoteTouchProbability(steady, TERMS, FIRST_COL + 11, ownRow + dr));
    // A band far from the price in the next columns is mostly reached in a burst: the mixture pays for it.
    expect(quoteTouchProbability(burstyRegimes, TERMS, FIRST_COL + 1, ownRow + 12)).toBeGreaterThan(1.2 * quoteTouchProbability(steady, TERMS, FIRST_COL + 1, ownRow + 12));
  });

  it("is pure and JSON-safe: the same inputs after a JSON round trip give the same multipliers", () => {
    const inputs: QuoteInputs = { ...steady, fastVarPerMs: SIGMA ** 2 * 3.7, noiseVar: (213 / SPOT) ** 2 };
    const copy = JSON.parse(JSON.stringify(inputs)) as QuoteInputs;
    for (let dr = -8; dr <= 8; dr++) {
      const row = Math.floor(SPOT / 1_000) + dr;
      expect(quoteMultiplierHundredths(copy, TERMS, FIRST_COL, row)).toBe(quoteMultiplierHundredths(inputs, TERMS, FIRST_COL, row));
    }
  });

  it("prices a burst (fast ≫ slow) dearer away from the price in the first columns (the persisting regime) and in far columns (the term structure)", () => {
    const ownRow = Math.floor(SPOT / 1_000);
    const burst = { ...steady, fastVarPerMs: 25 * SIGMA ** 2 };
    expect(quoteTouchProbability(burst, TERMS, FIRST_COL, ownRow + 6)).toBeGreaterThan(2 * quoteTouchProbability(steady, TERMS, FIRST_COL, ownRow + 6));
    for (const dr of [-8, -6, 6, 8]) {
      for (const dc of [0, 1]) {
        expect(quoteTouchProbability(burst, TERMS, FIRST_COL + dc, ownRow + dr)).toBeGreaterThan(quoteTouchProbability(steady, TERMS, FIRST_COL + dc, ownRow + dr));
      }
    }
    // A burst that ends soon still prices a far column's tail (≈ 3σ away) above the steady level.
    expect(quoteTouchProbability(burst, TERMS, FIRST_COL + 10, ownRow + 25)).toBeGreaterThan(quoteTouchProbability(steady, TERMS, FIRST_COL + 10, ownRow + 25));
  });

  it("tick noise makes cells near the price likelier (the observed index touches more easily)", () => {
    const noisy = { ...steady, noiseVar: (300 / SPOT) ** 2 };
    const row = Math.floor(SPOT / 1_000) + 1;
    expect(quoteTouchProbability(noisy, TERMS, FIRST_COL, row)).toBeGreaterThan(quoteTouchProbability(steady, TERMS, FIRST_COL, row));
  });

  it("loads near cells more when the horizons disagree (a burst starting or ending)", () => {
    expect(nearLoading(SIGMA ** 2, SIGMA ** 2)).toBe(0);
    expect(nearLoading(4 * SIGMA ** 2, SIGMA ** 2)).toBeCloseTo(NEAR_EXTRA, 10);
    expect(nearLoading(1.2 * SIGMA ** 2, SIGMA ** 2)).toBeGreaterThan(0);
  });

  it("offers nothing for rows that cannot hold a price or cells beyond safe integers", () => {
    expect(quoteMultiplierHundredths(steady, TERMS, FIRST_COL, -1)).toBeNull();
    expect(quoteMultiplierHundredths(steady, TERMS, FIRST_COL, 1.5)).toBeNull();
    expect(quoteMultiplierHundredths(steady, TERMS, 2 ** 60, 9_500)).toBeNull();
  });
});

function feed(priceAt: (i: number) => number, count: number, dtMs = 100) {
  const horizon = createHorizonState();
  const naive = createVolatilityState();
  for (let i = 0; i < count; i++) {
    observeHorizonTick(horizon, T + i * dtMs, priceAt(i), DEFAULT_HORIZON_OPTIONS);
    observeTick(naive, T + i * dtMs, priceAt(i), DEFAULT_VOLATILITY_OPTIONS);
  }
  return { h: estimateHorizons(horizon, DEFAULT_HORIZON_OPTIONS), naive: estimateVolatility(naive, DEFAULT_VOLATILITY_OPTIONS) };
}

/**
 * Five minutes of a calm noise-free market (seed `pathSeed`), then `steps` ticks 100 ms apart whose log
 * returns are `logReturn(k, z_k)` (z from `zSeed`): the estimates before and after those ticks.
 */
function afterCalm(pathSeed: number, zSeed: number, steps: number, logReturn: (k: number, z: number) => number, o: HorizonOptions = DEFAULT_HORIZON_OPTIONS) {
  const path = simulateMarket({ regime: { ...regimeByName("calm"), iidNoiseCents: 0 }, seed: pathSeed, startMs: T, durationMs: 400_000, startCents: SPOT });
  const state = createHorizonState();
  let i = 0;
  for (; i < path.length && path.t[i]! < T + 300_000; i++) observeHorizonTick(state, path.t[i]!, path.priceCents[i]!, o);
  const before = estimateHorizons(state, o);
  const z = new Float64Array(steps);
  new SeededRandom(zSeed).fillNormals(z);
  let price = path.priceCents[i - 1]!;
  for (let k = 0; k < steps; k++) {
    price = Math.round(price * Math.exp(logReturn(k, z[k]!)));
    observeHorizonTick(state, path.t[i - 1]! + (k + 1) * 100, price, o);
  }
  return { before, after: estimateHorizons(state, o) };
}

describe("multi-horizon volatility", () => {
  it("sees through iid tick noise that fools a 100 ms estimator, and measures the noise", () => {
    const n = 6_000;
    const z = new Float64Array(2 * n);
    new SeededRandom(9).fillNormals(z);
    const path: number[] = [];
    let x = 0;
    for (let i = 0; i < n; i++) {
      x += SIGMA * 10 * z[i]!;
      path.push(Math.round(SPOT * Math.exp(x) + 250 * z[n + i]!)); // $2.50 of bounce
    }
    const { h, naive } = feed((i) => path[i]!, n);
    expect(naive.sigmaPerSqrtMs / SIGMA).toBeGreaterThan(1.5);
    expect(Math.sqrt(h.slowVarPerMs) / SIGMA).toBeGreaterThan(0.85);
    expect(Math.sqrt(h.slowVarPerMs) / SIGMA).toBeLessThan(1.15);
    const noiseCents = Math.sqrt(h.noiseVar) * SPOT;
    expect(noiseCents).toBeGreaterThan(180);
    expect(noiseCents).toBeLessThan(330);
  });

  it("the fast horizon sees a burst within seconds, far more than the slow one", () => {
    // After five calm minutes, 10 s at 5× the volatility.
    const { before, after } = afterCalm(4, 5, 100, (_, z) => 5 * SIGMA * 10 * z);
    expect(after.fastVarPerMs).toBeGreaterThan(5 * before.fastVarPerMs);
    expect(after.fastVarPerMs / after.slowVarPerMs).toBeGreaterThan(3);
  });

  it("measures the regime distribution: narrow in a steady market (sampling scatter removed), calm quarters and a burst quarter in a bursty one, mean = the slow level", () => {
    const groupsOf = (name: string) => {
      const path = simulateMarket({ regime: regimeByName(name), seed: 21, startMs: T, durationMs: 900_000, startCents: SPOT });
      const state = createHorizonState();
      for (let i = 0; i < path.length; i++) observeHorizonTick(state, path.t[i]!, path.priceCents[i]!, DEFAULT_HORIZON_OPTIONS);
      return estimateHorizons(state, DEFAULT_HORIZON_OPTIONS);
    };
    const calm = groupsOf("calm");
    expect(calm.regimeVarsPerMs).toHaveLength(4);
    // Ten returns per 5 s block scatter a steady rate by a factor ~3.5 between the lowest and highest
    // quarter; de-noised, what is left is within a factor 2.
    expect(calm.regimeVarsPerMs[3]! / calm.regimeVarsPerMs[0]!).toBeLessThan(2);
    const bursty = groupsOf("bursty");
    expect(bursty.regimeVarsPerMs[3]! / bursty.regimeVarsPerMs[0]!).toBeGreaterThan(10);
    const mean = bursty.regimeVarsPerMs.reduce((a, b) => a + b, 0) / 4;
    expect(mean / bursty.slowVarPerMs).toBeCloseTo(1, 6);
  });

  it("files an isolated jump as a jump (out of the diffusion) and a burst as a burst", () => {
    // Without the young server's jump prior (issue 21; tested below): the jumps filed alone.
    const run = (shock: (k: number) => number) => afterCalm(8, 6, 200, (k, z) => SIGMA * 10 * z + shock(k), { ...DEFAULT_HORIZON_OPTIONS, jumpPriorPerMinute: 0 });
    // One print 8 bp ($76) away, then calm: a jump. The fast horizon does not read it as a burst.
    const jump = run((k) => (k === 50 ? 8e-4 : 0));
    expect(jump.after.jumpRatePerMs).toBeGreaterThan(1.5 * jump.before.jumpRatePerMs);
    expect(Math.sqrt(jump.after.jumpVar)).toBeGreaterThan(6e-4);
    expect(Math.sqrt(jump.after.jumpVar)).toBeLessThan(9e-4);
    expect(jump.after.fastVarPerMs / jump.after.slowVarPerMs).toBeLessThan(2);
    // Ten seconds of returns ~3.5× the calm ones from the same start: no new jump, and the fast horizon sees it.
    const burst = run((k) => (k >= 50 && k < 150 ? 5 * SIGMA * 10 * Math.sin(k * 2.1) : 0));
    expect(burst.after.jumpRatePerMs).toBeLessThanOrEqual(burst.before.jumpRatePerMs);
    expect(burst.after.fastVarPerMs / burst.after.slowVarPerMs).toBeGreaterThan(2);
  });
});

describe("jumps in the quote", () => {
  const jumpy: QuoteInputs = { ...steady, jumpRatePerMs: 1 / 60_000, jumpVar: 6e-4 ** 2 };
  it("prices far cells up (a jump reaches them) and the price's own cell a little down (a jump moves the price away)", () => {
    const p = (inputs: QuoteInputs, dRow: number) => quoteTouchProbability(inputs, TERMS, FIRST_COL, Math.floor(SPOT / 1_000) + dRow);
    expect(p(jumpy, 8) / p(steady, 8)).toBeGreaterThan(2);
    expect(p(jumpy, -8) / p(steady, -8)).toBeGreaterThan(2);
    expect(p(jumpy, 0)).toBeLessThan(p(steady, 0));
    expect(p(jumpy, 0) / p(steady, 0)).toBeGreaterThan(0.85);
  });
  it("keeps pricing jumps seen long ago on far cells: a small jump weight still counts", () => {
    const p = (inputs: QuoteInputs) => quoteTouchProbability(inputs, TERMS, FIRST_COL, Math.floor(SPOT / 1_000) + 8);
    // About 3e-4 chance of a jump before the first window ends: its component's weight.
    const rare: QuoteInputs = { ...jumpy, jumpRatePerMs: 1.5e-8 };
    expect(p(rare) / p(steady)).toBeGreaterThan(1.001);
    expect(p(rare)).toBeLessThan(p(jumpy));
  });
  it("prices nothing for jumps when none were seen (the same quote as before jumps existed)", () => {
    for (const dRow of [-8, 0, 3]) {
      const row = Math.floor(SPOT / 1_000) + dRow;
      expect(quoteTouchProbability({ ...steady, jumpRatePerMs: 0, jumpVar: 1e-6 }, TERMS, FIRST_COL + 2, row)).toBe(quoteTouchProbability(steady, TERMS, FIRST_COL + 2, row));
    }
  });
});

describe("what the model is unsure of, and refunds", () => {
  const row = (d: number) => Math.floor(SPOT / 1_000) + d;
  it("prices the fast level's sampling error: far cells of the first columns dearer, the model unchanged without it", () => {
    const unsure: QuoteInputs = { ...steady, fastVarSdPerMs: 0.3 * SIGMA ** 2 };
    expect(quoteTouchProbability(unsure, TERMS, FIRST_COL, row(8)) / quoteTouchProbability(steady, TERMS, FIRST_COL, row(8))).toBeGreaterThan(1.02);
    expect(quoteTouchProbability(unsure, TERMS, FIRST_COL, row(0)) / quoteTouchProbability(steady, TERMS, FIRST_COL, row(0))).toBeGreaterThan(0.97);
  });

  it("the fast horizon's sampling error grows when a feed pause makes one return long", () => {
    const steadyEnd = afterCalm(3, 4, 20, (_, z) => SIGMA * 10 * z);
    const relative = steadyEnd.after.fastVarSdPerMs / steadyEnd.after.fastVarPerMs;
    expect(relative).toBeGreaterThan(0.15);
    expect(relative).toBeLessThan(0.6);
  });

  it("pays for the refund of a void window: m·P + P(void)·(1 − P) is the promised 0.95", () => {
    for (const [p, v] of [[0.04, 0.02], [0.3, 0.02], [0.9, 0.05]] as const) {
      const m = 0.95 / refundAdjusted(p, v, 500);
      expect(m * p + v * (1 - p)).toBeCloseTo(0.95, 12);
    }
    expect(refundAdjusted(0.2, 0, 500)).toBe(0.2);
    expect(refundAdjusted(0.01, 0.99, 500)).toBe(Number.POSITIVE_INFINITY);
    // Silences over PRICE_STALE_MS twice a minute: a 10 s window is void with P = 1 − e^(−1/3).
    const silent: QuoteInputs = { ...steady, staleGapRatePerMs: 2 / 60_000 };
    expect(refundProbability(silent, TERMS)).toBeCloseTo(-Math.expm1(-1 / 3), 12);
    const far = (inputs: QuoteInputs) => quoteCell(inputs, TERMS, FIRST_COL, row(6)).multiplierHundredths!;
    const near = (inputs: QuoteInputs) => quoteCell(inputs, TERMS, FIRST_COL, row(0)).multiplierHundredths!;
    expect(far(silent) / far(steady)).toBeLessThan(0.8);
    expect(near(silent) / near(steady)).toBeGreaterThan(0.85);
  });

  it("counts silences longer than the stale threshold", () => {
    const state = createHorizonState();
    let price = SPOT;
    const z = new Float64Array(20_000);
    new SeededRandom(12).fillNormals(z);
    let t = T;
    for (let i = 0; i < 6_000; i++) {
      t += i % 600 === 599 ? 2_500 : 100; // a 2.5 s silence once a minute
      price = Math.round(price * Math.exp(SIGMA * 10 * z[i]!));
      observeHorizonTick(state, t, price, DEFAULT_HORIZON_OPTIONS);
    }
    const perMinute = estimateHorizons(state, DEFAULT_HORIZON_OPTIONS).staleGapRatePerMs * 60_000;
    // Ten silences in ~10.4 minutes (a 10-minute half-life weighs the recent ones more): about one a minute.
    expect(perMinute).toBeGreaterThan(0.8);
    expect(perMinute).toBeLessThan(1.25);
    // Five quiet minutes: what is left is the young server's prior (one silence in 5 minutes, fading as the span fills).
    const quiet = afterCalm(3, 4, 20, (_, zk) => SIGMA * 10 * zk);
    expect(quiet.after.staleGapRatePerMs * 60_000).toBeGreaterThan(0);
    expect(quiet.after.staleGapRatePerMs * 60_000).toBeLessThan(0.15);
    // One silence seconds after a start is not a rate of one per few seconds (that would price a
    // refund worth the whole stake): it counts against the prior's five minutes.
    const fresh = createHorizonState();
    observeHorizonTick(fresh, T, SPOT, DEFAULT_HORIZON_OPTIONS);
    observeHorizonTick(fresh, T + 3_000, SPOT + 100, DEFAULT_HORIZON_OPTIONS);
    expect(estimateHorizons(fresh, DEFAULT_HORIZON_OPTIONS).staleGapRatePerMs * 60_000).toBeLessThanOrEqual(0.41);
  });
});

describe("a young estimate prices its own uncertainty (issue 21)", () => {
  const row = (d: number) => Math.floor(SPOT / 1_000) + d;
  const p = (inputs: QuoteInputs, col: number, dRow: number) => quoteTouchProbability(inputs, TERMS, col, row(dRow));
  const scaled = (k: number): QuoteInputs => ({ ...steady, fastVarPerMs: k * SIGMA ** 2, slowVarPerMs: k * SIGMA ** 2, ...regimeFields([k, k, k, k].map((v) => v * SIGMA ** 2)) });

  it("prices each cell at the end of the variances' range that pays less: far cells at the upper end, cells at the price at the lower", () => {
    const young: QuoteInputs = { ...steady, rateSpreadLog: 1 };
    // Far from the price: P grows with the variance, so the upper end (the published rates) prices it.
    expect(p(young, FIRST_COL, 8)).toBe(p(steady, FIRST_COL, 8));
    // At the price: P falls with the variance, so it is priced at the lower end, e^−1 times the rates.
    expect(p(young, FIRST_COL, 0)).toBeCloseTo(p(scaled(Math.exp(-1)), FIRST_COL, 0), 12);
    expect(p(young, FIRST_COL, 0)).toBeGreaterThan(p(steady, FIRST_COL, 0));
    // Whatever the true variance inside the range, no cell's P is above the quoted one (beyond the
    // middle point's reach: a cell between the two kinds is likeliest at an intermediate variance).
    for (const dc of [0, 3, 8]) {
      for (const dRow of [0, 2, 4, 6, 9]) {
        for (const k of [0.37, 0.5, 0.61, 0.8, 1]) expect(p(young, FIRST_COL + dc, dRow) / p(scaled(k), FIRST_COL + dc, dRow), `${dc},${dRow},${k}`).toBeGreaterThan(0.995);
      }
    }
    // A warm estimate (a range under 1 %) is priced exactly as before.
    expect(p({ ...steady, rateSpreadLog: 0.005 }, FIRST_COL, 0)).toBe(p(steady, FIRST_COL, 0));
  });

  it("prices far cells with the jumps a young server assumes, and cells at the price without them", () => {
    const assumed: QuoteInputs = { ...steady, jumpRatePerMs: 2 / 60_000, jumpVar: 12e-4 ** 2, jumpPriorPerMs: 2 / 60_000 };
    const seen: QuoteInputs = { ...assumed, jumpPriorPerMs: 0 };
    expect(p(assumed, FIRST_COL, 8)).toBe(p(seen, FIRST_COL, 8));
    expect(p(assumed, FIRST_COL, 8) / p(steady, FIRST_COL, 8)).toBeGreaterThan(2);
    // A jump takes the price away from its own cell: priced as if none were to come.
    expect(p(assumed, FIRST_COL, 0)).toBe(p(steady, FIRST_COL, 0));
    expect(p(seen, FIRST_COL, 0)).toBeLessThan(p(steady, FIRST_COL, 0));
  });

  /** A calm noise-free market watched from its first tick: the estimate at each of `atMs` after the start. */
  function watched(atMs: number[], gap?: { atMs: number; ms: number; moveLog: number }) {
    const path = simulateMarket({ regime: { ...regimeByName("calm"), iidNoiseCents: 0 }, seed: 31, startMs: T, durationMs: Math.max(...atMs) + (gap?.ms ?? 0) + 1_000, startCents: SPOT });
    const state = createHorizonState();
    const out: ReturnType<typeof estimateHorizons>[] = [];
    let next = 0;
    for (let i = 0; i < path.length && next < atMs.length; i++) {
      const t = path.t[i]!;
      let price = path.priceCents[i]!;
      if (gap && t >= T + gap.atMs) {
        if (t < T + gap.atMs + gap.ms) continue; // the feed is silent
        price = Math.round(price * Math.exp(gap.moveLog));
      }
      if (t > T + atMs[next]!) {
        out.push(estimateHorizons(state, DEFAULT_HORIZON_OPTIONS));
        next++;
      }
      observeHorizonTick(state, t, price, DEFAULT_HORIZON_OPTIONS);
    }
    return out;
  }

  it("starts from a wide range around the prior, narrows it as returns accrue, and prices nothing extra once warm", () => {
    const [fresh, sec20, min5, min60] = watched([0, 20_000, 300_000, 3_600_000]);
    expect(fresh!.rateSpreadLog).toBeGreaterThan(3);
    expect(fresh!.levelVarPerMs).toBeCloseTo(DEFAULT_HORIZON_OPTIONS.fallbackSigmaPerSqrtMs ** 2, 20);
    expect(sec20!.rateSpreadLog).toBeGreaterThan(0.8);
    expect(min5!.rateSpreadLog).toBeLessThan(0.4);
    expect(min60!.rateSpreadLog).toBeLessThan(0.01);
    // The centre is the estimate (calm: 50 %/year); the quotes price the upper end while young.
    expect(Math.sqrt(min5!.levelVarPerMs) / SIGMA).toBeGreaterThan(0.9);
    expect(Math.sqrt(min5!.levelVarPerMs) / SIGMA).toBeLessThan(1.1);
    expect(min5!.slowVarPerMs).toBeGreaterThan(min5!.levelVarPerMs);
    expect(min60!.slowVarPerMs / min60!.levelVarPerMs).toBeLessThan(1.01);
    // Jumps not yet seen: the prior, all of it, fading as the regime window fills (gone after 10 minutes).
    expect(fresh!.jumpRatePerMs * 60_000).toBeCloseTo(DEFAULT_HORIZON_OPTIONS.jumpPriorPerMinute, 6);
    expect(fresh!.jumpPriorPerMs).toBe(fresh!.jumpRatePerMs);
    expect(min5!.jumpPriorPerMs).toBeGreaterThan(0);
    expect(min60!.jumpPriorPerMs).toBe(0);
  });

  it("after a feed outage longer than the horizons the estimate is cold again, and the move across the silence is no return", () => {
    // 15 minutes watched, then 10 minutes of silence across which the price moved 1 % (≈ 9 times a
    // 10-minute move at 50 %/year, one χ²₁ draw): then 5 s of ticks again.
    const gap = { atMs: 15 * 60_000, ms: 10 * 60_000, moveLog: 0.01 };
    const [before, after] = watched([15 * 60_000 - 1_000, 25 * 60_000 + 5_000], gap);
    expect(after!.rateSpreadLog).toBeGreaterThan(3 * before!.rateSpreadLog);
    expect(after!.levelVarPerMs / before!.levelVarPerMs).toBeGreaterThan(0.8);
    expect(after!.levelVarPerMs / before!.levelVarPerMs).toBeLessThan(1.25);
    expect(after!.staleGapRatePerMs).toBeGreaterThan(before!.staleGapRatePerMs);
    // A flat silence does not read as a calm market either.
    const [, flat] = watched([15 * 60_000 - 1_000, 25 * 60_000 + 5_000], { ...gap, moveLog: 0 });
    expect(flat!.levelVarPerMs / before!.levelVarPerMs).toBeGreaterThan(0.8);
  });
});
