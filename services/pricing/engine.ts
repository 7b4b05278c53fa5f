import { bandOf, centredRows, firstUnlockedColumn, isColumnOpen, isPricedBand, windowOf, type GridGeometry } from "../../domain/grid.ts";
import { isOffered, multiplierHundredths } from "../../domain/pricing/multiplier.ts";
import { touchProbability } from "../../domain/pricing/touch.ts";
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
  private cacheEstimate: VolatilityEstimate | undefined;
  private readonly cache = new Map<number, Map<number, CellQuote>>();

  constructor(
    private readonly options: PricingEngineOptions,
    private readonly latest: () => IndexTick | undefined,
  ) {}

  /** Feeds one index tick to the volatility estimator. */
  observe(tick: IndexTick): void {
    observeTick(this.volState, tick.t, tick.priceCents, this.options.volatility);
  }

  volatility(): VolatilityEstimate {
    return estimateVolatility(this.volState, this.options.volatility);
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
    if (this.cacheTickT !== tick.t || this.cachePriceCents !== tick.priceCents) {
      this.cache.clear();
      this.cacheTickT = tick.t;
      this.cachePriceCents = tick.priceCents;
      this.cacheEstimate = this.volatility();
    }
    let byRow = this.cache.get(col);
    const hit = byRow?.get(row);
    if (hit !== undefined) return hit;
    const quote = this.price(col, row, tick, this.cacheEstimate!);
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

  private price(col: number, row: number, tick: IndexTick, estimate: VolatilityEstimate): CellQuote | undefined {
    if (!Number.isSafeInteger(row)) return undefined;
    const { columnMs, rowCents } = this.options;
    const window = windowOf(col, columnMs);
    const band = bandOf(row, rowCents);
    if (!isPricedBand(band) || !Number.isSafeInteger(window.endMs)) return undefined;
    const pTouch = touchProbability({
      spotCents: tick.priceCents,
      bandLowCents: band.lowCents,
      bandHighCents: band.highCents,
      startInMs: window.startMs - tick.t,
      windowMs: columnMs,
      sigmaPerSqrtMs: estimate.sigmaPerSqrtMs,
      tickIntervalMs: estimate.tickIntervalMs,
    });
    const hundredths = multiplierHundredths(pTouch, this.options.houseEdgeBp);
    const offered = isOffered(hundredths, this.options.minMultiplierHundredths, this.options.maxMultiplierHundredths);
    return Object.freeze({
      col,
      row,
      windowStart: window.startMs,
      windowEnd: window.endMs,
      bandLowCents: band.lowCents,
      bandHighCents: band.highCents,
      multiplierHundredths: offered ? hundredths : null,
      pTouch,
    });
  }
}
