import { Counter, Gauge } from "prom-client";
import type { AppContext } from "../types.ts";
import type { Config } from "../../runtime/config.ts";
import { annualFromSigma, DEFAULT_VOLATILITY_OPTIONS } from "../../domain/pricing/volatility.ts";
import type { InstallModule } from "../types.ts";
import type { IndexTick } from "../price/types.ts";
import { PricingEngine, WARM_UP_WINDOW_MS, type PricingEngineOptions } from "./engine.ts";
import type { PricingService, QuoteResult } from "./types.ts";

declare module "../types.ts" {
  interface Services {
    pricing: PricingService;
  }
}

/** The most stored ticks read at start-up (a bound: WARM_UP_WINDOW_MS of ticks every 45 ms). */
const WARM_UP_TICKS_MAX = 40_000;

/** The engine options of the running server (the core's engine, an edge's, which quotes the core's inputs, and what tests drive a bare engine with). */
export function pricingEngineOptions(config: Config): PricingEngineOptions {
  return {
    columnMs: config.COLUMN_MS,
    rowCents: config.ROW_CENTS,
    lockMs: config.LOCK_MS,
    horizonColumns: config.HORIZON_COLUMNS,
    houseEdgeBp: config.HOUSE_EDGE_BP,
    minMultiplierHundredths: config.MIN_MULTIPLIER_HUNDREDTHS,
    maxMultiplierHundredths: config.MAX_MULTIPLIER_HUNDREDTHS,
    volatility: DEFAULT_VOLATILITY_OPTIONS,
    quoteMaxAgeMs: config.QUOTE_MAX_AGE_MS,
    horizons: { staleGapMs: config.PRICE_STALE_MS },
  };
}

/** The pricing service of an engine; `quote` may wrap the engine's (the core counts every result). */
export function pricingServiceOf(engine: PricingEngine, quote: PricingService["quote"] = (col, row, now) => engine.quote(col, row, now)): PricingService {
  return {
    quote,
    grid: (cols, rows, now, pin) => engine.grid(cols, rows, now, pin),
    volatility: () => engine.volatility(),
    quoteState: (now) => engine.quoteState(now),
    quoteInputs: () => engine.quoteInputs(),
    horizons: () => engine.horizons(),
    quoteTerms: () => engine.quoteTerms(),
    warmUp: () => engine.warmUpState(),
  };
}

/**
 * The pricing module: prices cells from the index (services/price) with the model of
 * domain/pricing/touch.ts. It listens to every index tick for the volatility estimate and prices
 * against `price.latest()`; see PricingEngine for the per-tick quote cache.
 */
export const installPricing: InstallModule = (ctx) => {
  const engine = new PricingEngine(pricingEngineOptions(ctx.config), () => ctx.services.price?.latest());
  const { quoteCounter } = registerMetrics(ctx, engine);
  const counted = {
    ok: quoteCounter.labels("ok"),
    cell_locked: quoteCounter.labels("cell_locked"),
    cell_not_offered: quoteCounter.labels("cell_not_offered"),
    price_unavailable: quoteCounter.labels("price_unavailable"),
    price_stale: quoteCounter.labels("price_stale"),
  };

  ctx.services.pricing = pricingServiceOf(engine, (col, row, now): QuoteResult => {
    const result = engine.quote(col, row, now);
    counted[result.ok ? "ok" : result.reason].inc();
    return result;
  });

  let unsubscribe: (() => void) | undefined;
  return {
    start() {
      warmUp(ctx, engine);
      const price = ctx.services.price;
      if (price === undefined) {
        ctx.log.warn("pricing: no price service installed; no quotes until it exists");
        return;
      }
      unsubscribe = price.onTick((tick) => engine.observe(tick));
    },
    stop() {
      unsubscribe?.();
      unsubscribe = undefined;
    },
  };
};

/** Feeds the stored ticks of the last minutes to the estimator, so a restart keeps its volatility. */
function warmUp(ctx: AppContext, engine: PricingEngine): void {
  try {
    const now = ctx.now();
    const rows = ctx.db
      .prepare("SELECT t, price_cents FROM price_ticks WHERE t >= ? ORDER BY t DESC LIMIT ?")
      .all(now - WARM_UP_WINDOW_MS, WARM_UP_TICKS_MAX) as Array<{ t: number; price_cents: number }>;
    const ticks: IndexTick[] = rows.map((row) => ({ t: Number(row.t), priceCents: Number(row.price_cents) })).reverse();
    const used = engine.warmUp(ticks, now);
    if (used > 0) ctx.log.info({ ticks: used, ...engine.volatility() }, "pricing: volatility warmed up from stored ticks");
  } catch (error) {
    ctx.log.warn({ err: error }, "pricing: could not read stored ticks; starting from the fallback volatility");
  }
}

function registerMetrics(ctx: AppContext, engine: PricingEngine) {
  const registers = [ctx.metrics.registry];
  /** A log-price variance as a standard deviation in cents at the current index (0 without one). */
  const centsAtPrice = (logVar: number) => {
    const tick = ctx.services.price?.latest();
    return tick ? Math.sqrt(logVar) * tick.priceCents : 0;
  };
  new Gauge({
    name: "pricing_volatility_annualized",
    help: "Volatility estimate (the slow level's point estimate), annualised (0.6 = 60%/year); a young estimate is priced at the upper end of its range, see pricing_volatility_horizon_annualized",
    registers,
    collect() {
      this.set(annualFromSigma(engine.volatility().sigmaPerSqrtMs));
    },
  });
  new Gauge({
    name: "pricing_volatility_horizon_annualized",
    help:
      "Volatility per horizon as the quotes use it (fast: 6 s half-life, slow: 5 min), tick noise removed, annualised, at the upper end of the estimate's credible range while it is young (pricing_rate_spread_log > 0); regime_q1..q4: the four equally likely column-block volatilities of the regime distribution the quotes mix (lowest first)",
    labelNames: ["horizon"] as const,
    registers,
    collect() {
      const h = engine.horizons();
      this.labels("fast").set(annualFromSigma(Math.sqrt(h.fastVarPerMs)));
      this.labels("slow").set(annualFromSigma(Math.sqrt(h.slowVarPerMs)));
      h.regimeVarsPerMs.forEach((v, k) => this.labels(`regime_q${k + 1}`).set(annualFromSigma(Math.sqrt(v))));
    },
  });
  new Gauge({
    name: "pricing_jump_rate_per_minute",
    help: "Jumps of the index per minute the quotes price (isolated returns beyond 5 sigma; upper end of the count's one-sigma interval, with the prior a young server assumes before it has watched the market)",
    registers,
    collect() {
      this.set(engine.horizons().jumpRatePerMs * 60_000);
    },
  });
  new Gauge({
    name: "pricing_jump_size_cents",
    help: "Standard deviation of one jump of the index at the current price, cents",
    registers,
    collect() {
      this.set(centsAtPrice(engine.horizons().jumpVar));
    },
  });
  new Gauge({
    name: "pricing_tick_noise_cents",
    help: "Estimated tick-noise standard deviation of the index at the current price, cents",
    registers,
    collect() {
      this.set(centsAtPrice(engine.horizons().noiseVar));
    },
  });
  new Gauge({
    name: "pricing_rate_spread_log",
    help: "How unsure the volatility estimate still is: ln(upper/lower) of the variances' credible range the quotes price (0 once warm; quotes count as warming up above 0.05)",
    registers,
    collect() {
      this.set(engine.warmUpState().rateSpreadLog);
    },
  });
  new Gauge({
    name: "pricing_quotes_paused",
    help: "1 while quotes are paused (index older than QUOTE_MAX_AGE_MS or absent), else 0",
    registers,
    collect() {
      this.set(engine.quoteState(ctx.now()) === "paused" ? 1 : 0);
    },
  });
  new Gauge({
    name: "pricing_volatility_samples",
    help: "Index returns the volatility estimate rests on (0 = fallback)",
    registers,
    collect() {
      this.set(engine.volatility().samples);
    },
  });
  new Gauge({
    name: "pricing_tick_interval_ms",
    help: "Mean index tick interval used by the discrete-monitoring correction",
    registers,
    collect() {
      this.set(engine.volatility().tickIntervalMs);
    },
  });
  const quoteCounter = new Counter({
    name: "pricing_quotes_total",
    help: "Cell quotes by result (price_stale = refused because the index was older than QUOTE_MAX_AGE_MS)",
    labelNames: ["result"] as const,
    registers,
  });
  return { quoteCounter };
}
