/**
 * Pricing benchmark: the cost of `pricing.quote()` on the bet-placement hot path and of `grid()`.
 * Runs the real price + pricing modules (manual feed, temp DATA_DIR, no HTTP) and prints:
 *   - cold: pricing one cell from scratch (the quadrature), µs per cell, with many and with few ticks per window;
 *   - grid: a full default 12 × 21 grid right after a tick (all cells cold), ms;
 *   - hot: quotes of random cells of the grid between ticks (cache hits), quotes/s;
 *   - mixed: a tick every `quotesPerTick` quotes (e.g. 3 000 bets/s against 10 ticks/s = 300), quotes/s.
 *   - cold: the full quote of one cell (domain/pricing/quote.ts: the regime mixture, noise, term structure), µs per cell,
 *     with steady and with bursty regimes;
 *   - then (unless --no-adversaries) the adversary table of issue 12: every strategy × market regime →
 *     return per $1 with its 95 % CI, over `--seeds` seeds × `--minutes` simulated minutes each; with
 *     `--truth [paths]` also each strategy's EXPECTED return under the true conditional law of the
 *     simulated market (market-truth.ts: multiplier × P_true, no outcome noise; `paths` Monte Carlo
 *     paths per decision, default 400, a decision every 5 s and after every silence).
 * Each timing phase is bounded in time (1.5 s). Figures are noisy on a shared 2-core machine.
 *   npm run bench:pricing -- [quotesPerTick=300] [--seeds 4] [--first-seed 1] [--minutes 20] [--regimes calm,bursty,…] [--truth [paths]] [--truth-every ms]
 *     [--warm-up 30] [--life fresh,restart,outage] [--no-adversaries]
 * (`--warm-up`: minutes the warm server watched before the first decision; `--life`: the server's life of
 *  issue 21 instead of a warm server: decisions from a fresh start, after a 1-minute restart that warms up
 *  from stored ticks, or after a 10-minute feed outage, each after --warm-up minutes watched; --minutes defaults to 5)
 * (the README's tables: --seeds 8 --minutes 30, about 15 minutes of CPU for all regimes, and
 *  --seeds 4 --minutes 15 --truth, about 40; split the regimes over two runs with --regimes to use both cores)
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { testConfig } from "../runtime/config.ts";
import { createContext } from "../runtime/context.ts";
import { installPrice } from "../services/price/index.ts";
import { installPricing } from "../services/pricing/index.ts";
import { touchProbability } from "../domain/pricing/touch.ts";
import { sigmaFromAnnual } from "../domain/pricing/volatility.ts";
import { quoteCell, regimeFields } from "../domain/pricing/quote.ts";
import { MARKET_REGIMES } from "../domain/pricing/market-sim.ts";
import { newTallies, runAdversaries, summarize, type ServerLife, type StrategyReturn } from "../services/pricing/adversary.ts";
import { flag, option } from "./lib/args.ts";

const args = process.argv.slice(2);
const quotesPerTick = Number(args[0] !== undefined && !args[0].startsWith("--") ? args[0] : 300);
const PHASE_MS = 1_500;

function timed(label: string, body: () => number, unit: (count: number, ms: number) => string): void {
  const started = performance.now();
  let count = 0;
  while (performance.now() - started < PHASE_MS) count += body();
  const ms = performance.now() - started;
  console.log(`${label.padEnd(52)} ${unit(count, ms)}`);
}

async function main() {
  const dataDir = mkdtempSync(join(tmpdir(), "tap-bench-pricing-"));
  let clock = 1_764_000_002_963;
  const booted = await createContext(testConfig({ DATA_DIR: dataDir, PRICE_SOURCES: "manual" }), {
    now: () => clock,
    modules: [installPrice, installPricing],
  });
  try {
    await booted.start();
    const { price, pricing } = booted.ctx.services;
    let priceCents = 9_500_437;
    const tick = () => {
      clock += 100;
      priceCents += Math.round((Math.random() - 0.5) * 400);
      price.ingest("manual", priceCents, clock);
    };
    tick();
    // Cells as offsets from the first unlocked column and the price's row: the clock moves 100 ms per
    // tick, so absolute cells would soon be in the past (and refused cheaply, which measures nothing).
    const offsets: Array<readonly [number, number]> = [];
    for (let dc = 0; dc < 12; dc++) for (let dr = -10; dr <= 10; dr++) offsets.push([dc, dr]);
    const cellsNow = () => {
      const firstCol = Math.ceil((clock + 5_000) / 10_000);
      const row = Math.floor(priceCents / 1_000);
      return offsets.map(([dc, dr]) => [firstCol + dc, row + dr] as const);
    };
    let cells = cellsNow();
    let sink = 0;
    let ok = 0;
    let asked = 0;
    const refused = new Map<string, number>();
    const count = (result: ReturnType<typeof pricing.quote>) => {
      asked++;
      if (result.ok) {
        ok++;
        sink += result.quote.multiplierHundredths!;
      } else refused.set(result.reason, (refused.get(result.reason) ?? 0) + 1);
    };

    console.log(`pricing benchmark (${cells.length} cells in the default grid, node ${process.version})`);
    const sigma = sigmaFromAnnual(0.6);
    let k = 0;
    for (const tickIntervalMs of [100, 1_000]) {
      const label = `cold: touchProbability, one cell, ${tickIntervalMs} ms ticks${tickIntervalMs >= 1_000 ? " (table)" : " (BGK)"}`;
      timed(label, () => {
        for (let i = 0; i < 1_000; i++) {
          if (k % cells.length === 0) cells = cellsNow();
          const [col, row] = cells[k++ % cells.length]!;
          sink += touchProbability({
            spotCents: priceCents,
            bandLowCents: row * 1_000,
            bandHighCents: row * 1_000 + 1_000,
            startInMs: col * 10_000 - clock,
            windowMs: 10_000,
            sigmaPerSqrtMs: sigma,
            tickIntervalMs,
          });
        }
        return 1_000;
      }, (n, ms) => `${((ms * 1_000) / n).toFixed(2)} µs/cell (${Math.round((n / ms) * 1_000).toLocaleString("en")} cells/s)`);
    }

    const steadyVar = sigmaFromAnnual(0.6) ** 2;
    const inputs = {
      t: clock,
      priceCents,
      fastVarPerMs: sigmaFromAnnual(0.9) ** 2,
      slowVarPerMs: steadyVar,
      fastVarSdPerMs: 0.3 * sigmaFromAnnual(0.9) ** 2,
      noiseVar: (200 / priceCents) ** 2,
      tickIntervalMs: 100,
      ...regimeFields([steadyVar, steadyVar, steadyVar, steadyVar]),
      jumpRatePerMs: 0,
      jumpVar: 0,
      staleGapRatePerMs: 0,
      rateSpreadLog: 0,
      jumpPriorPerMs: 0,
    };
    const terms = { columnMs: 10_000, rowCents: 1_000, houseEdgeBp: 500, minMultiplierHundredths: 110, maxMultiplierHundredths: 10_000 };
    // Two markets: steady regimes (the start spread is negligible: 5 evaluations per cell) and bursty
    // ones (a calm/burst mixture: 9 evaluations per cell, the most the model does).
    const bursty = { ...inputs, ...regimeFields([0.4, 0.5, 0.7, 2.4].map((k) => k * steadyVar)) };
    // Jumps (about one a minute, 6 bp) price up to three jump counts per cell.
    const jumpy = { ...inputs, jumpRatePerMs: 1 / 60_000, jumpVar: 6e-4 ** 2 };
    const both = { ...bursty, jumpRatePerMs: 1 / 60_000, jumpVar: 6e-4 ** 2 };
    // A young estimate (issue 21): the variances within a factor e^0.5 and the jump rate all prior: each
    // cell priced at three corners of that range.
    const young = { ...jumpy, rateSpreadLog: 0.5, jumpPriorPerMs: 1 / 60_000 };
    const markets = [["steady regimes", inputs], ["bursty regimes", bursty], ["steady with jumps", jumpy], ["bursty with jumps", both], ["young estimate, steady", young]] as const;
    for (const [label, market] of markets) {
      timed(`cold: quoteCell, one cell, ${label}`, () => {
        for (let i = 0; i < 1_000; i++) {
          if (k % cells.length === 0) cells = cellsNow();
          const [col, row] = cells[k++ % cells.length]!;
          sink += quoteCell({ ...market, t: clock, priceCents }, terms, col, row).pTouch;
        }
        return 1_000;
      }, (n, ms) => `${((ms * 1_000) / n).toFixed(2)} µs/cell (${Math.round((n / ms) * 1_000).toLocaleString("en")} cells/s)`);
    }

    const gridPhase = (when: string) =>
      timed(`grid: 12 × 21 after each tick (all cells cold), ${when}`, () => {
        tick();
        sink += pricing.grid(12, 21, clock)!.cells.length;
        return 1;
      }, (n, ms) => `${(ms / n).toFixed(3)} ms/grid`);
    gridPhase("fresh server");
    // 30 simulated minutes of ticks: the estimate is warm (issue 21: a young one prices its own uncertainty, at up to 3× the cost).
    const warm = pricing.warmUp();
    for (let i = 0; i < 18_000; i++) tick();
    console.log(`(fed 30 simulated minutes of ticks: warm-up ${JSON.stringify(warm)} → ${JSON.stringify(pricing.warmUp())})`);
    gridPhase("after 30 min");

    tick();
    cells = cellsNow();
    timed("hot: quote() between ticks (cache hits)", () => {
      for (let i = 0; i < 10_000; i++) {
        const [col, row] = cells[(i * 7919) % cells.length]!;
        count(pricing.quote(col, row, clock));
      }
      return 10_000;
    }, (n, ms) => `${Math.round((n / ms) * 1_000).toLocaleString("en")} quotes/s`);

    timed(`mixed: a tick every ${quotesPerTick} quotes, random cells`, () => {
      tick();
      cells = cellsNow();
      for (let i = 0; i < quotesPerTick; i++) {
        const [col, row] = cells[Math.floor(Math.random() * cells.length)]!;
        count(pricing.quote(col, row, clock));
      }
      return quotesPerTick;
    }, (n, ms) => `${Math.round((n / ms) * 1_000).toLocaleString("en")} quotes/s`);

    const reasons = [...refused].map(([reason, n]) => `${reason} ${((n / asked) * 100).toFixed(1)} %`).join(", ");
    console.log(`hot and mixed phases: ${asked.toLocaleString("en")} quotes, ${((ok / asked) * 100).toFixed(1)} % priced ok; refused: ${reasons || "none"}`);
    console.log(`volatility at the end: ${JSON.stringify(pricing.volatility())}`);
    if (sink === Number.MIN_VALUE) console.log(sink); // keep the work observable
  } finally {
    // Closing awaits the context's threads ending, which holds no handle of its own: without one the
    // loop empties first and the process ends under this pending await (exit code 13).
    const keepAlive = setInterval(() => {}, 1_000);
    try {
      await booted.close();
    } finally {
      clearInterval(keepAlive);
    }
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** The server lives of `--life` (issue 21): decisions from the (re)start; a restart or outage comes after `--warm-up` minutes watched. */
const LIVES: Record<string, ServerLife> = {
  fresh: { kind: "fresh" },
  restart: { kind: "restart", downMs: 60_000 },
  outage: { kind: "outage", outageMs: 10 * 60_000 },
};

function adversaryTable(): void {
  const seeds = Number(option("seeds", "4"));
  const firstSeed = Number(option("first-seed", "1"));
  const lifeNames = option("life", "").split(",").filter(Boolean);
  const minutes = Number(option("minutes", lifeNames.length > 0 ? "5" : "20"));
  const truthPaths = flag("truth") ? Number(option("truth", "400")) || 400 : 0;
  const truthEveryMs = Number(option("truth-every", "5000"));
  // A warm server has watched the market for this long: the young estimate's own uncertainty has faded (issue 21).
  const warmMinutes = Number(option("warm-up", "30"));
  const lives = lifeNames.length > 0 ? lifeNames.map((name) => ({ name, life: LIVES[name] })) : [{ name: "warm", life: { kind: "warm" } as ServerLife }];
  for (const { name, life } of lives) if (life === undefined) throw new RangeError(`unknown --life ${name} (fresh, restart, outage)`);
  const only = option("regimes", "").split(",").filter(Boolean);
  for (const { name: lifeName, life } of lives as Array<{ name: string; life: ServerLife }>) {
    const watched = life.kind === "warm" ? `after ${warmMinutes} min warm-up` : life.kind === "fresh" ? "from a fresh start" : `after ${warmMinutes} min watched, then ${life.kind === "restart" ? `a restart (${life.downMs / 1_000} s down)` : `a feed outage of ${life.outageMs / 60_000} min`}`;
    console.log(`\nadversary table (${lifeName}): return per $1 [95 % CI], ${seeds} seeds from ${firstSeed} × ${minutes} simulated minutes per regime (${watched})`);
    if (truthPaths > 0) console.log(`expected: multiplier × P_true under the simulated market's own law (${truthPaths} paths per decision, a decision every ${truthEveryMs / 1_000} s and after each silence); realised: settled outcomes`);
    for (const regime of MARKET_REGIMES.filter((r) => only.length === 0 || only.includes(r.name))) {
      const started = performance.now();
      const tallies = newTallies();
      const expected = newTallies();
      for (let seed = firstSeed; seed < firstSeed + seeds; seed++) {
        const truth = truthPaths > 0 ? { everyMs: truthEveryMs, paths: truthPaths, expected } : undefined;
        const warmUpMs = warmMinutes * 60_000;
        runAdversaries({ regime, seed, life, warmUpMs, evalMs: minutes * 60_000, decisionEveryMs: 1_000, allOfferedEveryMs: 5_000, truth }, tallies);
      }
      console.log(`regime ${regime.name} (${((performance.now() - started) / 1_000).toFixed(1)} s)`);
      const cell = (r: StrategyReturn) => `${r.ret.toFixed(3)} [${r.ciLow.toFixed(3)}, ${r.ciHigh.toFixed(3)}] n=${String(r.bets).padStart(6)}`;
      for (const [name, tally] of tallies) {
        const r = summarize(name, tally);
        if (r.bets === 0) continue;
        const e = summarize(name, expected.get(name)!);
        const expectedCell = truthPaths > 0 ? (e.bets > 0 ? `expected ${cell(e)}  realised ` : `expected –${" ".repeat(31)}  realised `) : "";
        console.log(`  ${expectedCell}${cell(r)}  ${name}`);
      }
    }
  }
}

// The adversary table first, then the engine's costs on a server context of their own.
if (!flag("no-adversaries")) adversaryTable();
await main();
