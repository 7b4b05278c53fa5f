import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SeededRandom } from "../domain/pricing/simulation.ts";
import { annualFromSigma, sigmaFromAnnual } from "../domain/pricing/volatility.ts";
import { startTestServer, type TestServer } from "./helpers/server.ts";

/** The pricing service (quote, grid, volatility) on a real server fed by manual ticks. */

const T0 = 1_764_000_002_963;
const SPOT = 9_500_437;
const FIRST_COL = Math.ceil((T0 + 5_000) / 10_000);
const SPOT_ROW = 9_500;

/** Feeds `count` ticks of a GBM path (σ annual) every `gapMs`, moving the clock with them. */
function feed(server: TestServer, clock: { now: number }, count: number, annual: number, gapMs = 100, seed = 1): void {
  const z = new Float64Array(count);
  new SeededRandom(seed).fillNormals(z);
  let logPrice = Math.log(SPOT);
  const sigma = sigmaFromAnnual(annual);
  for (let i = 0; i < count; i++) {
    clock.now += gapMs;
    logPrice += sigma * Math.sqrt(gapMs) * z[i]!;
    server.ctx.services.price.ingest("manual", Math.round(Math.exp(logPrice)), clock.now);
  }
}

describe("pricing service: quote()", () => {
  let server: TestServer;
  const clock = { now: T0 };
  beforeAll(async () => {
    server = await startTestServer({}, { now: () => clock.now });
  });
  afterAll(async () => {
    await server.stop();
  });

  it("refuses locked cells even before a price, and has no price before the first tick", () => {
    const { pricing } = server.ctx.services;
    expect(pricing.quote(FIRST_COL - 1, SPOT_ROW, clock.now)).toEqual({ ok: false, reason: "cell_locked" });
    expect(pricing.quote(FIRST_COL, SPOT_ROW, clock.now)).toEqual({ ok: false, reason: "price_unavailable" });
    expect(pricing.grid(12, 21, clock.now)).toBeUndefined();
  });

  it("locks the current and past columns and those beyond the horizon", () => {
    const { pricing, price } = server.ctx.services;
    price.ingest("manual", SPOT, clock.now);
    const now = clock.now;
    expect(pricing.quote(FIRST_COL, SPOT_ROW, now).ok).toBe(true);
    expect(pricing.quote(FIRST_COL + 59, SPOT_ROW, now).ok).toBe(true);
    for (const col of [FIRST_COL - 1, FIRST_COL - 100, FIRST_COL + 60, FIRST_COL + 10_000]) {
      expect(pricing.quote(col, SPOT_ROW, now)).toEqual({ ok: false, reason: "cell_locked" });
    }
    // The same column locks once its start is closer than LOCK_MS: at now = start − 5000 + 1
    // (with a fresh tick then: an index older than QUOTE_MAX_AGE_MS would pause quotes anyway).
    clock.now = FIRST_COL * 10_000 - 5_000;
    price.ingest("manual", SPOT, clock.now);
    expect(pricing.quote(FIRST_COL, SPOT_ROW, FIRST_COL * 10_000 - 5_000).ok).toBe(true);
    expect(pricing.quote(FIRST_COL, SPOT_ROW, FIRST_COL * 10_000 - 4_999)).toEqual({ ok: false, reason: "cell_locked" });
  });

  it("refuses cells outside the offered range with cell_not_offered and the quote", () => {
    const { pricing } = server.ctx.services;
    const far = pricing.quote(FIRST_COL, SPOT_ROW + 200, clock.now); // $2000 away in 15 s: P ≈ 0
    expect(far.ok).toBe(false);
    if (far.ok) return;
    expect(far.reason).toBe("cell_not_offered");
    expect(far.quote).toMatchObject({ col: FIRST_COL, row: SPOT_ROW + 200, multiplierHundredths: null });
    expect(far.quote!.pTouch).toBeLessThan(0.0095);
    // Rows whose band cannot hold a price are not offered either, and never throw.
    expect(pricing.quote(FIRST_COL, -5, clock.now)).toMatchObject({ ok: false, reason: "cell_not_offered" });
    expect(pricing.quote(FIRST_COL, 2 ** 60, clock.now)).toMatchObject({ ok: false, reason: "cell_not_offered" });
    expect(pricing.quote(FIRST_COL, 1.5, clock.now)).toMatchObject({ ok: false, reason: "cell_not_offered" });
  });

  it("gives the same quote until the next tick, then reprices", () => {
    const { pricing, price } = server.ctx.services;
    const first = pricing.quote(FIRST_COL + 1, SPOT_ROW + 3, clock.now);
    const again = pricing.quote(FIRST_COL + 1, SPOT_ROW + 3, clock.now + 50);
    expect(again).toEqual(first);
    clock.now += 100;
    price.ingest("manual", SPOT + 2_000, clock.now); // +$20 towards the band
    const after = pricing.quote(FIRST_COL + 1, SPOT_ROW + 3, clock.now);
    expect(after.ok && first.ok).toBe(true);
    if (after.ok && first.ok) expect(after.quote.multiplierHundredths!).toBeLessThan(first.quote.multiplierHundredths!);
  });

  it("counts quotes by result in /metrics", async () => {
    const text = await (await server.request("/metrics")).text();
    expect(text).toMatch(/pricing_quotes_total\{result="ok"\} [1-9]/);
    expect(text).toMatch(/pricing_quotes_total\{result="cell_locked"\} [1-9]/);
    expect(text).toMatch(/pricing_volatility_annualized 0\.6/); // still the fallback
  });
});

describe("pricing service: a cell that is nearly sure to be touched is not offered", () => {
  it("answers cell_not_offered for a $1000 band around the price (multiplier < 1.10)", async () => {
    const clock = { now: T0 };
    const server = await startTestServer({ ROW_CENTS: 100_000 }, { now: () => clock.now });
    try {
      server.ctx.services.price.ingest("manual", 9_550_000, clock.now); // mid-band
      const result = server.ctx.services.pricing.quote(FIRST_COL, 95, clock.now);
      expect(result).toMatchObject({ ok: false, reason: "cell_not_offered", quote: { multiplierHundredths: null } });
      if (!result.ok) expect(result.quote!.pTouch).toBeGreaterThan(0.95 / 1.1);
    } finally {
      await server.stop();
    }
  });
});

describe("pricing service: volatility from the feed", () => {
  it("estimates σ from the index ticks and prices far cells cheaper when the market is wilder", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "tap-pricing-"));
    const clock = { now: T0 };
    /** A far cell (12 bands up, second column) against the latest tick, after 5 minutes of a market at `annual`. */
    const farCellAfter = async (annual: number) => {
      const calmClock = { now: T0 };
      const other = await startTestServer({}, { now: () => calmClock.now });
      try {
        other.ctx.services.price.ingest("manual", SPOT, calmClock.now);
        feed(other, calmClock, 3_000, annual);
        const latest = other.ctx.services.price.latest()!;
        return other.ctx.services.pricing.quote(Math.ceil((latest.t + 5_000) / 10_000) + 1, Math.floor(latest.priceCents / 1_000) + 12, latest.t);
      } finally {
        await other.stop();
      }
    };
    let server = await startTestServer({}, { now: () => clock.now, dataDir });
    try {
      server.ctx.services.price.ingest("manual", SPOT, clock.now);
      feed(server, clock, 3_000, 1.5); // 5 minutes of a 150 %/year market
      const vol = server.ctx.services.pricing.volatility();
      // samples = the coarse (≥ 500 ms) returns the estimate rests on: 3 000 ticks 100 ms apart → 600
      expect(vol.samples).toBe(600);
      expect(vol.tickIntervalMs).toBeCloseTo(100, 6);
      expect(annualFromSigma(vol.sigmaPerSqrtMs)).toBeGreaterThan(1.5 * 0.9);
      expect(annualFromSigma(vol.sigmaPerSqrtMs)).toBeLessThan(1.5 * 1.1);

      // Same distance from the price, same lead time, same time watched: a wilder market makes the touch likelier.
      const latest = server.ctx.services.price.latest()!;
      const wild = server.ctx.services.pricing.quote(Math.ceil((latest.t + 5_000) / 10_000) + 1, Math.floor(latest.priceCents / 1_000) + 12, latest.t);
      const calm = await farCellAfter(0.5);
      expect(calm.ok && wild.ok).toBe(true);
      if (calm.ok && wild.ok) expect(wild.quote.pTouch).toBeGreaterThan(calm.quote.pTouch);

      // A restart keeps the estimate: the stored ticks of the last minutes warm it up.
      await server.stop();
      server = await startTestServer({}, { now: () => clock.now, dataDir });
      const warmed = server.ctx.services.pricing.volatility();
      expect(warmed.samples).toBeGreaterThan(580);
      expect(warmed.sigmaPerSqrtMs).toBeCloseTo(vol.sigmaPerSqrtMs, 12);

      // A restart whose stored ticks are all older than the warm-up window starts from the prior
      // (issue 21): nothing of another market is taken for today's, and the quotes warm up again.
      await server.stop();
      clock.now += 31 * 60_000;
      server = await startTestServer({}, { now: () => clock.now, dataDir });
      expect(server.ctx.services.pricing.volatility().samples).toBe(0);
      expect(server.ctx.services.pricing.warmUp().state).toBe("warming");
    } finally {
      await server.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
