import { describe, expect, it } from "vitest";
import { MARKET_REGIMES } from "../domain/pricing/market-sim.ts";
import { ALL_OFFERED, newTallies, runAdversaries, summarize, type StrategyReturn } from "../services/pricing/adversary.ts";

/**
 * Issue 12 / SPEC §4 "Robust to the real market": on the seeded market simulator, in every regime
 * (calm, bursty, jumpy, noisy, mean-reverting noise, pausing, mixed) and pooled over several seeds,
 * players using only public information bet through the REAL pricing engine, settled by the SPEC §5
 * rule (services/pricing/adversary.ts). Targets: every strategy ≤ 0.97 per $1, all offered cells
 * ≥ 0.88. The table (return, 95 % CI) is printed for every regime.
 *
 * Sample sizes are bounded for CI on 2 cores (3 seeds × 7 simulated minutes per regime after a
 * 30-minute warm-up); at that size one strategy's 95 % interval is typically ±0.05–0.2 wide (far
 * cells with 20–100× multipliers the widest), so the assertions are statistical:
 * - a strategy FAILS when it beats 0.97 significantly (its CI's lower end above 0.97);
 * - all-offered FAILS when its return is below 0.88 (the point estimate: with the regime mixture it
 *   sits at 0.90–0.97 in every regime on these seeds and on fresh ones, so this is not a coin flip).
 * The same bets are also scored by their EXPECTED payout under the true conditional law of the
 * simulated market (domain/pricing/market-truth.ts, a decision every 10 s and after each silence):
 * no outcome noise, so its intervals are several times narrower: the same two assertions hold for
 * it, and its return itself (not only its interval's lower end) must be at most 0.97.
 * `npm run bench:pricing` runs the same suite bigger and prints the table of the README.
 */

const SEEDS = [11, 12, 13];
/**
 * A warm server: 30 minutes watched, so that the young estimate's own uncertainty (issue 21) has faded;
 * the first minutes of a server's life are tests/pricing.adversary-life.test.ts.
 */
const WARM_UP_MS = 30 * 60_000;
const EVAL_MS = 7 * 60_000;
const MIN_BETS = 200;
/** Expected payouts: fewer bets (a decision every 10 s), each without outcome noise. */
const MIN_EXPECTED_BETS = 40;
const TRUTH = { everyMs: 10_000, paths: 300 };

function table(regime: string, rows: StrategyReturn[]): string {
  return [`regime ${regime}`, ...rows.map((r) => `  ${r.ret.toFixed(3)}  CI [${r.ciLow.toFixed(3)}, ${r.ciHigh.toFixed(3)}]  n=${r.bets}  ${r.name}`)].join("\n");
}

describe("pricing against public-information adversaries (market simulator)", () => {
  for (const regime of MARKET_REGIMES) {
    it(`${regime.name}: no strategy above 0.97 by expected payout nor significantly by settled outcome, all offered at least 0.88`, { timeout: 420_000 }, () => {
      const tallies = newTallies();
      const expected = newTallies();
      for (const seed of SEEDS) {
        runAdversaries({ regime, seed, warmUpMs: WARM_UP_MS, evalMs: EVAL_MS, decisionEveryMs: 1_000, allOfferedEveryMs: 5_000, truth: { ...TRUTH, expected } }, tallies);
      }
      for (const [label, byName, minBets] of [["realised", tallies, MIN_BETS], ["expected", expected, MIN_EXPECTED_BETS]] as const) {
        const rows = [...byName].map(([name, tally]) => summarize(name, tally));
        console.log(table(`${regime.name} (${label})`, rows));
        const all = rows.find((r) => r.name === ALL_OFFERED)!;
        expect(all.bets).toBeGreaterThan(label === "realised" ? 10_000 : 5_000);
        expect(all.ret, `all offered in ${regime.name} (${label}): ${all.ret.toFixed(3)}`).toBeGreaterThanOrEqual(0.88);
        for (const r of rows) {
          if (r.bets < minBets) continue;
          const what = `${r.name} in ${regime.name} (${label}): ${r.ret.toFixed(3)} [${r.ciLow.toFixed(3)}, ${r.ciHigh.toFixed(3)}]`;
          expect(r.ciLow, what).toBeLessThanOrEqual(0.97);
          // Without outcome noise the return itself is the measure: it must not exceed 0.97.
          if (label === "expected") expect(r.ret, what).toBeLessThanOrEqual(0.97);
        }
      }
    });
  }
});
