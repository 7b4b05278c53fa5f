import type { CellQuote } from "./types.ts";

/** One cell of `GET /api/grid` and of the WebSocket `grid` message (API.md § Market). */
export interface GridCellJson {
  col: number;
  row: number;
  windowStart: number;
  windowEnd: number;
  bandLowCents: number;
  bandHighCents: number;
  /** 2-decimal multiplier (3.47). */
  multiplier: number;
}

/**
 * The offerable cells of a grid as API.md's JSON: cells priced outside the offered range
 * (multiplier null in the quote) are left out, as the contract lists only cells one can bet on.
 */
export function offeredCellsJson(quotes: readonly CellQuote[]): GridCellJson[] {
  const cells: GridCellJson[] = [];
  for (const quote of quotes) if (quote.multiplierHundredths !== null) cells.push(toGridCellJson(quote, quote.multiplierHundredths));
  return cells;
}

function toGridCellJson(quote: CellQuote, multiplierHundredths: number): GridCellJson {
  return {
    col: quote.col,
    row: quote.row,
    windowStart: quote.windowStart,
    windowEnd: quote.windowEnd,
    bandLowCents: quote.bandLowCents,
    bandHighCents: quote.bandHighCents,
    multiplier: multiplierHundredths / 100,
  };
}
