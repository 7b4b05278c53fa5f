import { bandOf, centredRows, firstUnlockedColumn, isColumnOpen, isPricedBand, windowOf, type GridGeometry } from "../../domain/grid.ts";
import {
  createHorizonState,
  DEFAULT_HORIZON_OPTIONS,
  estimateHorizons,
  observeHorizonTick,
  type HorizonEstimate,
  type HorizonState,
  type HorizonOptions,
} from "../../domain/pricing/horizons.ts";
import { quoteCell, regimeFields, type QuoteInputs, type QuoteTerms } from "../../domain/pricing/quote.ts";
import { roundQuoteInputs } from "../../domain/pricing/quote-wire.ts";
import type { VolatilityEstimate, VolatilityOptions } from "../../domain/pricing/volatility.ts";
import type { IndexTick } from "../price/types.ts";
import type { CellQuote, QuoteResult } from "./types.ts";

export interface PricingEngineOptions extends GridGeometry {
  houseEdgeBp: number;
  minMultiplierHundredths: number;
  maxMultiplierHundredths: number;
  /**
   * Legacy single-horizon options: their fallback σ, clamps and fallback tick interval seed the
   * multi-horizon estimator (so existing callers keep their meaning).
   */
  volatility: VolatilityOptions;
  /** Multi-horizon estimator options (defaults: DEFAULT_HORIZON_OPTIONS with the fields above). */
  horizons?: Partial<HorizonOptions>;
  /** No quotes on an index older than this (QUOTE_MAX_AGE_MS); Infinity = never refuse. */
  quoteMaxAgeMs?: number;
  /**
   * Where a tick's quote inputs come from. Absent (the core): this engine's own estimate from the
   * ticks it observed. An edge (ROLE=edge) passes the inputs the core published with the tick, so it
   * quotes the core's numbers without estimating anything; undefined → no quotes on that tick.
   */
  inputsOf?: (tick: IndexTick) => QuoteInputs | undefined;
}

export type QuoteState = "live" | "paused";

/**
 * Whether the quotes still price the estimate's own uncertainty (issue 21): "warming" while the
 * variances' credible range is wider than WARM_SPREAD_LOG_MAX (multipliers are then lower than a warm
 * market's: far cells priced at the upper end of the range, cells at the price at the lower end),
 * "warm" after. `rateSpreadLog` is the range itself (ln upper/lower).
 */
export interface WarmUpState {
  state: "warming" | "warm";
  rateSpreadLog: number;
}

/** 5 %: far cells' P moves ~3 times the variance, so a warm estimate's quotes are within ~15 % of its own. */
export const WARM_SPREAD_LOG_MAX = 0.05;

/**
 * How far back stored ticks warm the estimators up at start-up: 30 minutes, six half-lives of the slow
 * level (an older tick would weigh under 1/64), three of the rare events' and three regime windows.
 * Older ticks describe another market and are ignored; the ones read are aged by the time since (the
 * first live tick decays them), so a restart after a long downtime is priced as the young estimate it is.
 * (With 10 minutes a one-minute restart still priced a 0.2 range for minutes: all offered cells 0.87.)
 */
export const WARM_UP_WINDOW_MS = 30 * 60_000;

/** Rows priced per column per tick before the cache stops growing (a bound, far above any grid). */
const CACHED_ROWS_PER_COLUMN_MAX = 4096;
/** Cells of a pinned grid kept (a 60 × 61 grid is 3 660). */
const PINNED_CELLS_MAX = 8_192;

/**
 * The pricing engine without I/O: folds index ticks into the volatility estimate and prices cells
 * against the latest tick. Quotes are cached per (tick, column, row): every quote between two ticks
 * is the same number, so bet placement (thousands per second) pays for a map lookup, not a
 * quadrature. The cache is dropped when the tick changes and is bounded per column and in columns
 * (only open columns are cached).
 */
export class PricingEngine {
  private readonly horizonOptions: HorizonOptions;
  private readonly horizonState: HorizonState;
  private readonly terms: QuoteTerms;
  private readonly quoteMaxAgeMs: number;
  private cacheTickT: number | undefined;
  private cachePriceCents = 0;
  private cacheInputs: QuoteInputs | undefined;
  private readonly cache = new Map<number, Map<number, CellQuote>>();
  private pinT: number | undefined;
  private pinPriceCents = 0;
  private readonly pinCache = new Map<string, CellQuote | undefined>();

  constructor(
    private readonly options: PricingEngineOptions,
    private readonly latest: () => IndexTick | undefined,
  ) {
    const v = options.volatility;
    this.horizonOptions = {
      ...DEFAULT_HORIZON_OPTIONS,
      fallbackSigmaPerSqrtMs: v.fallbackSigmaPerSqrtMs,
      minSigmaPerSqrtMs: v.minSigmaPerSqrtMs,
      maxSigmaPerSqrtMs: v.maxSigmaPerSqrtMs,
      fallbackTickIntervalMs: v.fallbackTickIntervalMs,
      maxTickIntervalMs: v.maxTickIntervalMs,
      ...options.horizons,
    };
    this.horizonState = createHorizonState(this.horizonOptions);
    this.terms = {
      columnMs: options.columnMs,
      rowCents: options.rowCents,
      houseEdgeBp: options.houseEdgeBp,
      minMultiplierHundredths: options.minMultiplierHundredths,
      maxMultiplierHundredths: options.maxMultiplierHundredths,
    };
    this.quoteMaxAgeMs = options.quoteMaxAgeMs ?? Number.POSITIVE_INFINITY;
  }

  /** Feeds one index tick to the volatility estimators. */
  observe(tick: IndexTick): void {
    observeHorizonTick(this.horizonState, tick.t, tick.priceCents, this.horizonOptions);
  }

  /**
   * Warms the estimators up from stored ticks (oldest first) at start-up: only those of the last
   * WARM_UP_WINDOW_MS before `now` are observed. Returns how many were.
   */
  warmUp(ticks: readonly IndexTick[], now: number): number {
    let used = 0;
    for (const tick of ticks) {
      if (tick.t < now - WARM_UP_WINDOW_MS || tick.t > now) continue;
      this.observe(tick);
      used++;
    }
    return used;
  }

  /** The estimates at every horizon, the noise variance and the tick interval. */
  horizons(): HorizonEstimate {
    return estimateHorizons(this.horizonState, this.horizonOptions);
  }

  /**
   * Single-σ summary (backward compatible): the slow (5 min) level's point estimate (the quotes price
   * the upper end of its range while it is young, see `warmUpState()`); `horizons()` has every horizon.
   */
  volatility(): VolatilityEstimate {
    const h = this.horizons();
    return { sigmaPerSqrtMs: Math.sqrt(h.levelVarPerMs), samples: h.samples, tickIntervalMs: h.tickIntervalMs };
  }

  /** The pricing inputs of the latest tick (what a client needs to compute the same quotes). */
  quoteInputs(): QuoteInputs | undefined {
    const tick = this.latest();
    if (tick === undefined) return undefined;
    this.syncCache(tick);
    return this.cacheInputs;
  }

  /** Whether the quotes are still warming up (see WarmUpState): from the latest tick's cached inputs. */
  warmUpState(): WarmUpState {
    const rateSpreadLog = (this.quoteInputs() ?? this.horizons()).rateSpreadLog;
    return { state: rateSpreadLog > WARM_SPREAD_LOG_MAX ? "warming" : "warm", rateSpreadLog };
  }

  /** The fixed terms of every quote (pushed once to clients in the WebSocket `hello`). */
  quoteTerms(): QuoteTerms {
    return this.terms;
  }

  /** "paused" while there is no index or it is older than QUOTE_MAX_AGE_MS at `now`. */
  quoteState(now: number): QuoteState {
    const tick = this.latest();
    return tick !== undefined && now - tick.t <= this.quoteMaxAgeMs ? "live" : "paused";
  }

  /**
   * Prices one cell at `now`. Checks, in order: the column is open (window starts ≥ lockMs after now,
   * within the horizon) → else cell_locked; a price exists → else price_unavailable; the multiplier
   * lies in the offered range → else cell_not_offered (with the quote, when the band is priceable).
   */
  quote(col: number, row: number, now: number): QuoteResult {
    if (!isColumnOpen(col, now, this.options)) return { ok: false, reason: "cell_locked" };
    const tick = this.latest();
    if (tick === undefined) return { ok: false, reason: "price_unavailable" };
    if (now - tick.t > this.quoteMaxAgeMs) return { ok: false, reason: "price_stale" };
    const quote = this.cellQuote(col, row, tick);
    if (quote === undefined) return { ok: false, reason: "cell_not_offered" };
    if (quote.multiplierHundredths === null) return { ok: false, reason: "cell_not_offered", quote };
    return { ok: true, quote };
  }

  /**
   * `cols` open columns from the first unlocked one (at most the horizon), `rows` rows centred on the
   * price. With `pin` (the inputs of an earlier tick, from `quoteInputs()`) the cells are priced
   * against that tick — rows centred on its price — from a cache of their own, so that a caller can
   * build a large grid in parts while ticks arrive; whether quotes are live is still decided by the
   * latest tick (a pin does not revive a stale feed).
   */
  grid(cols: number, rows: number, now: number, pin?: QuoteInputs): { priceCents: number; at: number; cells: CellQuote[]; quotes: QuoteState } | undefined {
    const tick = this.latest();
    if (tick === undefined) return undefined;
    if (now - tick.t > this.quoteMaxAgeMs) return { priceCents: tick.priceCents, at: tick.t, cells: [], quotes: "paused" };
    const pinned = pin !== undefined && (pin.t !== tick.t || pin.priceCents !== tick.priceCents) ? pin : undefined;
    const priceCents = pinned ? pinned.priceCents : tick.priceCents;
    const firstCol = firstUnlockedColumn(now, this.options);
    const colCount = Math.max(0, Math.min(cols, this.options.horizonColumns));
    const { firstRow, lastRow } = centredRows(priceCents, Math.max(0, rows), this.options.rowCents);
    const cells: CellQuote[] = [];
    for (let col = firstCol; col < firstCol + colCount; col++) {
      for (let row = firstRow; row <= lastRow; row++) {
        const quote = pinned ? this.pinnedQuote(col, row, pinned) : this.cellQuote(col, row, tick);
        if (quote !== undefined) cells.push(quote);
      }
    }
    return { priceCents, at: pinned ? pinned.t : tick.t, cells, quotes: "live" };
  }

  /** A cell priced against pinned inputs (one pinned tick cached at a time, bounded). */
  private pinnedQuote(col: number, row: number, pin: QuoteInputs): CellQuote | undefined {
    if (this.pinT !== pin.t || this.pinPriceCents !== pin.priceCents) {
      this.pinCache.clear();
      this.pinT = pin.t;
      this.pinPriceCents = pin.priceCents;
    }
    const key = `${col}:${row}`;
    if (this.pinCache.has(key)) return this.pinCache.get(key);
    const quote = this.price(col, row, pin);
    if (this.pinCache.size < PINNED_CELLS_MAX) this.pinCache.set(key, quote);
    return quote;
  }

  /** The (cached) quote of a cell against `tick`; undefined when the band is not a priceable range. */
  private syncCache(tick: IndexTick): void {
    if (this.cacheTickT === tick.t && this.cachePriceCents === tick.priceCents) return;
    this.cache.clear();
    this.cacheTickT = tick.t;
    this.cachePriceCents = tick.priceCents;
    if (this.options.inputsOf) {
      this.cacheInputs = this.options.inputsOf(tick);
      return;
    }
    const h = this.horizons();
    // Rounded as they travel to clients (domain/pricing/quote-wire.ts): what the engine quotes from
    // is exactly what a client decodes from the tick's price frame.
    this.cacheInputs = Object.freeze(roundQuoteInputs({
      t: tick.t,
      priceCents: tick.priceCents,
      fastVarPerMs: h.fastVarPerMs,
      slowVarPerMs: h.slowVarPerMs,
      fastVarSdPerMs: h.fastVarSdPerMs,
      noiseVar: h.noiseVar,
      tickIntervalMs: h.tickIntervalMs,
      ...regimeFields(h.regimeVarsPerMs),
      jumpRatePerMs: h.jumpRatePerMs,
      jumpPriorPerMs: h.jumpPriorPerMs,
      jumpVar: h.jumpVar,
      staleGapRatePerMs: h.staleGapRatePerMs,
      rateSpreadLog: h.rateSpreadLog,
    }));
  }

  private cellQuote(col: number, row: number, tick: IndexTick): CellQuote | undefined {
    this.syncCache(tick);
    let byRow = this.cache.get(col);
    const hit = byRow?.get(row);
    if (hit !== undefined) return hit;
    // No inputs for this tick (an edge that has the tick but not yet its inputs): nothing to quote.
    if (this.cacheInputs === undefined) return undefined;
    const quote = this.price(col, row, this.cacheInputs);
    if (quote === undefined) return undefined;
    if (byRow === undefined) {
      // Columns cached are open ones (quote/grid check that), so at most horizon + 2 per tick.
      if (this.cache.size > this.options.horizonColumns + 2) this.cache.clear();
      byRow = new Map();
      this.cache.set(col, byRow);
    }
    if (byRow.size < CACHED_ROWS_PER_COLUMN_MAX) byRow.set(row, quote);
    return quote;
  }

  private price(col: number, row: number, inputs: QuoteInputs): CellQuote | undefined {
    if (!Number.isSafeInteger(row)) return undefined;
    const { columnMs, rowCents } = this.options;
    const window = windowOf(col, columnMs);
    const band = bandOf(row, rowCents);
    if (!isPricedBand(band) || !Number.isSafeInteger(window.endMs)) return undefined;
    // The one quote function a client also runs (domain/pricing/quote.ts): same inputs, same multiplier.
    const { pTouch, multiplierHundredths } = quoteCell(inputs, this.terms, col, row);
    return Object.freeze({
      col,
      row,
      windowStart: window.startMs,
      windowEnd: window.endMs,
      bandLowCents: band.lowCents,
      bandHighCents: band.highCents,
      multiplierHundredths,
      pTouch,
    });
  }
}
