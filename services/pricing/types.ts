import type { QuoteInputs, QuoteTerms } from "../../domain/pricing/quote.ts";

/** One priced cell of the grid (SPEC §2, §4). Money and prices are integers. */
export interface CellQuote {
  col: number;
  row: number;
  windowStart: number;
  windowEnd: number;
  bandLowCents: number;
  bandHighCents: number;
  /** Integer hundredths (347 = 3.47x), rounded down; null when outside the offered range. */
  multiplierHundredths: number | null;
  /** Model probability that the index touches the band inside the window. */
  pTouch: number;
}

export type QuoteRefusal = "cell_locked" | "cell_not_offered" | "price_unavailable";

export type QuoteResult = { ok: true; quote: CellQuote } | { ok: false; reason: QuoteRefusal; quote?: CellQuote };

/** The contract of the pricing module (services/pricing/), used by bets, the grid route and the WebSocket grid. */
export interface PricingService {
  /** Prices one cell now: refuses locked/past/beyond-horizon cells, cells outside the offered range, and no price. */
  quote(col: number, row: number, now: number): QuoteResult;
  /** The offerable cells: `cols` columns from the first unlocked one, `rows` rows centred on the price. */
  grid(cols: number, rows: number, now: number): { priceCents: number; at: number; cells: CellQuote[] } | undefined;
  /**
   * Current volatility estimate (σ of log-price per √ms), how many returns it rests on (0 while on
   * the fallback), and the mean tick interval used by the discrete-monitoring correction.
   */
  volatility(): { sigmaPerSqrtMs: number; samples: number; tickIntervalMs: number };
  /**
   * What every quote rests on until the next tick (the latest tick and the model's figures as of it):
   * `quoteMultiplierHundredths(quoteInputs(), quoteTerms(), col, row)` of domain/pricing/quote.ts is
   * the multiplier `quote` answers. Undefined before the first tick.
   */
  quoteInputs(): QuoteInputs | undefined;
  /** The fixed terms of every quote (geometry, house edge, offered range). */
  quoteTerms(): QuoteTerms;
}
