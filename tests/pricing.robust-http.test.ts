import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { regimeByName, simulateMarket, type MarketPath } from "../domain/pricing/market-sim.ts";
import { quoteMultiplierHundredths, type QuoteTerms } from "../domain/pricing/quote.ts";
import { resolveBet, type Tick } from "../domain/resolution.ts";
import { ADMIN_TOKEN, getJson, gridCells, newKey, postBet } from "./helpers/bets-fixture.ts";
import { createPlayer, type TestPlayer } from "./helpers/players.ts";
import { startTestServer, type TestServer } from "./helpers/server.ts";

/**
 * Issue 12 through the real HTTP API on a fake feed (PRICE_SOURCES=manual, injected clock): the
 * "mixed" market regime is fed tick by tick; bets go through POST /api/bets; the accepted multipliers
 * are the pure client function's (domain/pricing/quote.ts) on the tick's published inputs; bets are
 * settled by the SPEC §5 rule on the fed ticks. Plus QUOTE_MAX_AGE_MS: an index older than 500 ms
 * pauses quotes (empty grid, 503 price_stale with Retry-After).
 */

const TERMS: QuoteTerms = { columnMs: 10_000, rowCents: 1_000, houseEdgeBp: 500, minMultiplierHundredths: 110, maxMultiplierHundredths: 10_000 };
const START = 1_764_000_000_000;

describe("pricing on a realistic feed through the HTTP API", () => {
  let server: TestServer;
  let path: MarketPath;
  let player: TestPlayer;
  let clock = START;
  let fed = 0;
  const feedUntil = (t: number) => {
    while (fed < path.length && path.t[fed]! <= t) {
      clock = path.t[fed]!;
      server.ctx.services.price.ingest("manual", path.priceCents[fed]!, clock);
      fed++;
    }
  };

  beforeAll(async () => {
    path = simulateMarket({ regime: regimeByName("mixed"), seed: 7, startMs: START, durationMs: 8 * 60_000, startCents: 9_500_000 });
    server = await startTestServer({ ADMIN_TOKEN, PRICE_SOURCES: "manual" }, { now: () => clock });
    player = await createPlayer(server.ctx);
    feedUntil(START + 3 * 60_000); // warm the estimators
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("publishes the tick's quote inputs, and every grid multiplier is the client function's result on them", async () => {
    const inputs = server.ctx.services.pricing.quoteInputs()!;
    expect(inputs).toMatchObject({ t: clock, priceCents: path.priceCents[fed - 1] });
    expect(JSON.parse(JSON.stringify(inputs))).toEqual(inputs);
    const cells = await gridCells(server);
    expect(cells.length).toBeGreaterThan(100);
    for (const c of cells) expect(quoteMultiplierHundredths(inputs, TERMS, c.col, c.row), `${c.col},${c.row}`).toBe(Math.round(c.multiplier * 100));
    // Multi-horizon estimates are live and sane for a ~50 %/year market with bursts.
    const h = server.ctx.services.pricing.horizons();
    expect(h.samples).toBeGreaterThan(100);
    for (const v of [h.fastVarPerMs, h.slowVarPerMs]) expect(Math.sqrt(v * 365.25 * 86_400_000)).toBeGreaterThan(0.2);
  });

  it("pauses quotes on an index older than QUOTE_MAX_AGE_MS: empty grid, 503 price_stale with Retry-After", async () => {
    const last = clock;
    clock = last + 501;
    expect(server.ctx.services.pricing.quoteState(clock)).toBe("paused");
    const grid = await getJson(server, "/api/grid");
    expect(grid.status).toBe(200);
    expect(grid.body.cells).toEqual([]);
    const firstCol = Math.ceil((clock + 5_000) / 10_000);
    const res = await postBet(server, player.token, { col: firstCol, row: Math.floor(path.priceCents[fed - 1]! / 1_000), stakeMicroUsd: 1_000_000, idempotencyKey: newKey() });
    expect(res.status).toBe(503);
    expect(res.body.error.code).toBe("price_stale");
    expect(Number(res.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    clock = last + 500;
    expect(server.ctx.services.pricing.quoteState(clock)).toBe("live");
    const metrics = await (await server.request("/metrics")).text();
    expect(metrics).toMatch(/pricing_volatility_horizon_annualized\{horizon="fast"\} \d/);
    expect(metrics).toMatch(/pricing_volatility_horizon_annualized\{horizon="regime_q4"\} \d/);
    expect(metrics).toMatch(/\npricing_jump_rate_per_minute [\d.e+-]+\n/);
    expect(metrics).toMatch(/\npricing_jump_size_cents [\d.e+-]+\n/);
    expect(metrics).toMatch(/pricing_quote_requests_total\{state="paused"\} [1-9]/);
    clock = last;
  });

  it("a sample of bets on the price's own cell through POST /api/bets: quoted by the client function, settled by SPEC §5", async () => {
    const placed: Array<{ col: number; row: number; multiplier: number }> = [];
    const end = START + 7 * 60_000;
    for (let t = clock + 1_000; t < end - 30_000; t += 1_000) {
      feedUntil(t);
      const inputs = server.ctx.services.pricing.quoteInputs()!;
      if (clock - inputs.t > 500) continue; // a feed pause: quotes are paused, the player waits
      const row = Math.floor(inputs.priceCents / 1_000);
      const col = Math.ceil((clock + 5_000) / 10_000);
      const res = await postBet(server, player.token, { col, row, stakeMicroUsd: 1_000_000, idempotencyKey: newKey() });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      const multiplier = Math.round(res.body.bet.multiplier * 100);
      expect(multiplier).toBe(quoteMultiplierHundredths(inputs, TERMS, col, row));
      placed.push({ col, row, multiplier });
    }
    feedUntil(end);
    expect(placed.length).toBeGreaterThan(150);
    const ticks: Tick[] = Array.from({ length: fed }, (_, k) => ({ t: path.t[k]!, priceCents: path.priceCents[k]! }));
    let paid = 0;
    for (const b of placed) {
      const verdict = resolveBet(
        { windowStart: b.col * 10_000, windowEnd: (b.col + 1) * 10_000, bandLowCents: b.row * 1_000, bandHighCents: (b.row + 1) * 1_000 },
        { ticks, staleGaps: [], staleMs: 2_000, knownUntil: end },
      );
      expect(verdict.status).not.toBe("open");
      paid += verdict.status === "won" ? b.multiplier / 100 : verdict.status === "void" ? 1 : 0;
    }
    const ret = paid / placed.length;
    console.log(`HTTP sample, mixed regime, own cell of the first column: ${placed.length} bets, return ${ret.toFixed(3)} per $1`);
    // ~190 correlated bets: a loose band only (the statistical targets are in pricing.adversary.test.ts).
    expect(ret).toBeGreaterThan(0.6);
    expect(ret).toBeLessThan(1.15);
  });
});
