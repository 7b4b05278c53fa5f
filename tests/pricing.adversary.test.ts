import { describe, expect, it } from "vitest";
import { MARKET_REGIMES } from "../domain/pricing/market-sim.ts";
import { ALL_OFFERED, newTallies, runAdversaries, summarize, type StrategyReturn } from "../services/pricing/adversary.ts";

/**
 * Issue 12 / SPEC §4 "Robust to the real market": on the seeded market simulator, in every regime
 * (calm, bursty, jumpy, noisy, mean-reverting noise, pausing, mixed) and pooled over several seeds,
 * players using only public information bet through the REAL pricing engine, settled by the SPEC §5
 * rule (services/pricing/adversary.ts). Targets: every strategy ≤ 0.97 per $1, all offered cells
 * ≥ 0.88 (calm ≥ 0.92). The table (return, 95 % CI) is printed for every regime, for both scorings.
 *
 * The bound is the EXPECTED scoring: the same players' bets (a decision every 10 s and after each
 * silence) worth multiplier × P_true(win) + P_true(void) under the simulated market's true conditional
 * law (domain/pricing/market-truth.ts). No outcome noise, only the market states sampled:
 * - all offered cells return at least 0.88 (calm 0.92): their point estimate (thousands of bets at
 *   every decision, an interval of ±0.01–0.02);
 * - every strategy with at least 40 bets returns at most 0.97 when its bets come from at least 10
 *   distinct minutes (its point estimate: the market moments it chose are many), and, with fewer
 *   minutes, not significantly more (its interval's lower end; a strategy that fires in a handful of
 *   moments, e.g. calm "≥ 4 bands after a 2-band move": 50 bets, ten cells a decision, at 0.98 [0.88, 1.08],
 *   is a handful of draws of the model's error, and a point bar on it is a coin flip).
 * The REALISED scoring (every decision, every second; bets settled on the simulated ticks) is heavy
 * tailed: far cells pay 20–100× on a rare touch, so a strategy's settled return on 21 minutes rests on
 * a few wins (calm all offered: 0.81 settled against 0.93 expected on the same grids, the difference
 * being the far wins that did not happen; mean-reverting noise "fade the last 1 s move" 1.10 settled
 * against 0.96 expected). Point bars on it fail on seeds, not on prices. It checks two things:
 * - no strategy with at least 200 bets returns significantly more than 0.97, at z = 3.3: about 100
 *   one-sided comparisons per run (7 regimes × 15 strategies), so z = 1.96 fails a fair price somewhere
 *   on most seed sets, and 3.3 keeps the family's false alarms near 5 %;
 * - all offered cells settle in agreement with their expected return (the difference within
 *   3.3 standard errors of both): the engine, the SPEC §5 rule and the true law agree. The blocks of a
 *   settled bet are the minutes of its window (adversary.ts), so that bets on one cell share a block.
 * `npm run bench:pricing` runs the same suite bigger and prints the table of the README.
 */

const SEEDS = [11, 12, 13];
/**
 * A warm server: 30 minutes watched, so that the young estimate's own uncertainty (issue 21) has faded;
 * the first minutes of a server's life are tests/pricing.adversary-life.test.ts.
 */
const WARM_UP_MS = 30 * 60_000;
const EVAL_MS = 7 * 60_000;
const TRUTH = { everyMs: 10_000, paths: 300 };
const STRATEGY_MAX = 0.97;
const allOfferedMin = (regime: string) => (regime === "calm" ? 0.92 : 0.88);
/** Expected payouts: fewer bets (a decision every 10 s), each without outcome noise. */
const MIN_EXPECTED_BETS = 40;
/** Distinct minutes of decisions for an expected point estimate to be a bar (see above). */
const MIN_EXPECTED_MINUTES = 10;
const MIN_REALISED_BETS = 200;
/** The realised scoring's z: ~100 one-sided comparisons per run, family-wise ~5 % (0.05 / 100 → 3.3). */
const Z_REALISED = 3.3;

function table(regime: string, rows: StrategyReturn[]): string {
  return [`regime ${regime}`, ...rows.map((r) => `  ${r.ret.toFixed(3)}  CI [${r.ciLow.toFixed(3)}, ${r.ciHigh.toFixed(3)}]  n=${r.bets}  ${r.name}`)].join("\n");
}

const fmt = (r: StrategyReturn) => `${r.ret.toFixed(3)} [${r.ciLow.toFixed(3)}, ${r.ciHigh.toFixed(3)}]`;

describe("pricing against public-information adversaries (market simulator)", () => {
  for (const regime of MARKET_REGIMES) {
    it(`${regime.name}: no strategy above 0.97 by expected payout nor significantly by settled outcome, all offered at least ${allOfferedMin(regime.name)}`, { timeout: 420_000 }, () => {
      const tallies = newTallies();
      const expected = newTallies();
      for (const seed of SEEDS) {
        runAdversaries({ regime, seed, warmUpMs: WARM_UP_MS, evalMs: EVAL_MS, decisionEveryMs: 1_000, allOfferedEveryMs: 5_000, truth: { ...TRUTH, expected } }, tallies);
      }
      const exp = [...expected].map(([name, tally]) => ({ row: summarize(name, tally), minutes: tally.stake.size }));
      const real = [...tallies].map(([name, tally]) => summarize(name, tally, Z_REALISED));
      console.log(table(`${regime.name} (expected)`, exp.map((e) => e.row)));
      console.log(table(`${regime.name} (realised, CI at z = ${Z_REALISED})`, real));

      const allExp = exp.find((e) => e.row.name === ALL_OFFERED)!.row;
      expect(allExp.bets).toBeGreaterThan(5_000);
      expect(allExp.ret, `all offered in ${regime.name} (expected): ${fmt(allExp)}`).toBeGreaterThanOrEqual(allOfferedMin(regime.name));
      for (const { row, minutes } of exp) {
        if (row.bets < MIN_EXPECTED_BETS) continue;
        const what = `${row.name} in ${regime.name} (expected, ${minutes} minutes): ${fmt(row)}`;
        expect(row.ciLow, what).toBeLessThanOrEqual(STRATEGY_MAX);
        if (minutes >= MIN_EXPECTED_MINUTES) expect(row.ret, what).toBeLessThanOrEqual(STRATEGY_MAX);
      }

      const allReal = real.find((r) => r.name === ALL_OFFERED)!;
      expect(allReal.bets).toBeGreaterThan(10_000);
      const se = Math.hypot((allReal.ciHigh - allReal.ret) / Z_REALISED, (allExp.ciHigh - allExp.ret) / 1.96);
      expect(Math.abs(allReal.ret - allExp.ret), `all offered in ${regime.name}: settled ${fmt(allReal)} against expected ${fmt(allExp)}`).toBeLessThanOrEqual(Z_REALISED * se);
      for (const r of real) {
        if (r.bets < MIN_REALISED_BETS) continue;
        expect(r.ciLow, `${r.name} in ${regime.name} (realised): ${fmt(r)}`).toBeLessThanOrEqual(STRATEGY_MAX);
      }
    });
  }
});
