import { bandOf, centredRows, firstUnlockedColumn, isColumnOpen, windowOf, type GridGeometry } from "../../domain/grid.ts";
import {
  offeredMultiplierHundredths,
  quoteTouchProbability,
  type QuoteInputs,
  type QuoteTerms,
} from "../../domain/pricing/quote.ts";
import {
  createVolatilityState,
  estimateVolatility,
  observeTick,
  type VolatilityEstimate,
  type VolatilityOptions,
} from "../../domain/pricing/volatility.ts";
import type { IndexTick } from "../price/types.ts";
import type { CellQuote, QuoteResult } from "./types.ts";

export interface PricingEngineOptions extends GridGeometry {
  houseEdgeBp: number;
  minMultiplierHundredths: number;
  maxMultiplierHundredths: number;
  volatility: VolatilityOptions;
}

/** Rows priced per column per tick before the cache stops growing (a bound, far above any grid). */
const CACHED_ROWS_PER_COLUMN_MAX = 4096;

/**
 * The pricing engine without I/O: folds index ticks into the volatility estimate and prices cells
 * against the latest tick. Quotes are cached per (tick, column, row): every quote between two ticks
 * is the same number, so bet placement (thousands per second) pays for a map lookup, not a
 * quadrature. The cache is dropped when the tick changes and is bounded per column and in columns
 * (only open columns are cached).
 */
export class PricingEngine {
  private readonly volState = createVolatilityState();
  private cacheTickT: number | undefined;
  private cachePriceCents = 0;
  private cacheInputs: QuoteInputs | undefined;
  private readonly cache = new Map<number, Map<number, CellQuote>>();
  private readonly quoteTerms: QuoteTerms;

  constructor(
    private readonly options: PricingEngineOptions,
    private readonly latest: () => IndexTick | undefined,
  ) {
    const { columnMs, rowCents, houseEdgeBp, minMultiplierHundredths, maxMultiplierHundredths } = options;
    this.quoteTerms = Object.freeze({ columnMs, rowCents, houseEdgeBp, minMultiplierHundredths, maxMultiplierHundredths });
  }

  /** Feeds one index tick to the volatility estimator. */
  observe(tick: IndexTick): void {
    observeTick(this.volState, tick.t, tick.priceCents, this.options.volatility);
  }

  volatility(): VolatilityEstimate {
    return estimateVolatility(this.volState, this.options.volatility);
  }

  /** The fixed terms of every quote (pushed once to clients in the WebSocket `hello`). */
  terms(): QuoteTerms {
    return this.quoteTerms;
  }

  /**
   * What quotes rest on now: the latest tick and the volatility estimate as of it (pushed with every
   * WebSocket `price` message); undefined before the first tick.
   */
  quoteInputs(): QuoteInputs | undefined {
    const tick = this.latest();
    if (tick === undefined) return undefined;
    this.refreshCache(tick);
    return this.cacheInputs;
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
    const quote = this.cellQuote(col, row, tick);
    if (quote === undefined) return { ok: false, reason: "cell_not_offered" };
    if (quote.multiplierHundredths === null) return { ok: false, reason: "cell_not_offered", quote };
    return { ok: true, quote };
  }

  /** `cols` open columns from the first unlocked one (at most the horizon), `rows` rows centred on the price. */
  grid(cols: number, rows: number, now: number): { priceCents: number; at: number; cells: CellQuote[] } | undefined {
    const tick = this.latest();
    if (tick === undefined) return undefined;
    const firstCol = firstUnlockedColumn(now, this.options);
    const colCount = Math.max(0, Math.min(cols, this.options.horizonColumns));
    const { firstRow, lastRow } = centredRows(tick.priceCents, Math.max(0, rows), this.options.rowCents);
    const cells: CellQuote[] = [];
    for (let col = firstCol; col < firstCol + colCount; col++) {
      for (let row = firstRow; row <= lastRow; row++) {
        const quote = this.cellQuote(col, row, tick);
        if (quote !== undefined) cells.push(quote);
      }
    }
    return { priceCents: tick.priceCents, at: tick.t, cells };
  }

  /** The (cached) quote of a cell against `tick`; undefined when the band is not a priceable range. */
  private cellQuote(col: number, row: number, tick: IndexTick): CellQuote | undefined {
    this.refreshCache(tick);
    let byRow = this.cache.get(col);
    const hit = byRow?.get(row);
    if (hit !== undefined) return hit;
    const quote = this.price(col, row, this.cacheInputs!);
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

  /** A new tick (or a first one) drops the cached quotes and fixes the inputs they rest on. */
  private refreshCache(tick: IndexTick): void {
    if (this.cacheInputs !== undefined && this.cacheTickT === tick.t && this.cachePriceCents === tick.priceCents) return;
    this.cache.clear();
    this.cacheTickT = tick.t;
    this.cachePriceCents = tick.priceCents;
    const { sigmaPerSqrtMs, tickIntervalMs } = this.volatility();
    this.cacheInputs = Object.freeze({ t: tick.t, priceCents: tick.priceCents, sigmaPerSqrtMs, tickIntervalMs });
  }

  /** Prices one cell with the pure quote of domain/pricing/quote.ts (the same module clients run). */
  private price(col: number, row: number, inputs: QuoteInputs): CellQuote | undefined {
    const terms = this.quoteTerms;
    const pTouch = quoteTouchProbability(inputs, terms, col, row);
    if (pTouch === undefined) return undefined;
    const window = windowOf(col, terms.columnMs);
    const band = bandOf(row, terms.rowCents);
    const hundredths = offeredMultiplierHundredths(pTouch, terms);
    return Object.freeze({
      col,
      row,
      windowStart: window.startMs,
      windowEnd: window.endMs,
      bandLowCents: band.lowCents,
      bandHighCents: band.highCents,
      multiplierHundredths: hundredths,
      pTouch,
    });
  }
}
