import type { CellQuote } from "./types.ts";

/** One cell of `GET /api/grid` and of the WebSocket `grid` message (API.md § Market). */
export interface GridCellJson {
  col: number;
  row: number;
  windowStart: number;
  windowEnd: number;
  bandLowCents: number;
  bandHighCents: number;
  /** 2-decimal multiplier (3.47), or null when the cell is outside the offered range. */
  multiplier: number | null;
}

export function toGridCellJson(quote: CellQuote): GridCellJson {
  return {
    col: quote.col,
    row: quote.row,
    windowStart: quote.windowStart,
    windowEnd: quote.windowEnd,
    bandLowCents: quote.bandLowCents,
    bandHighCents: quote.bandHighCents,
    multiplier: quote.multiplierHundredths === null ? null : quote.multiplierHundredths / 100,
  };
}
