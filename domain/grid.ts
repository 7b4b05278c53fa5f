/**
 * Grid geometry (SPEC §2): absolute, stable cells that every client computes the same way.
 *
 * - column `col = floor(t / columnMs)`, window `[col·columnMs, (col+1)·columnMs)`;
 * - row `row = floor(priceCents / rowCents)`, band `[row·rowCents, (row+1)·rowCents)` (low inclusive,
 *   high exclusive);
 * - a cell is open for bets when its window starts at least `lockMs` after `now` and it lies within
 *   `horizonColumns` columns of the first such column (SPEC §4 lock-ahead and horizon).
 *
 * Pure functions over integers: floor division is used for negative inputs too, so the geometry is
 * one formula everywhere (negative times or prices never occur in practice, but must not break it).
 */

export interface GridGeometry {
  columnMs: number;
  rowCents: number;
  lockMs: number;
  horizonColumns: number;
}

export interface Window {
  startMs: number;
  endMs: number;
}

export interface Band {
  lowCents: number;
  highCents: number;
}

export function columnOf(tMs: number, columnMs: number): number {
  return Math.floor(tMs / columnMs);
}

export function rowOf(priceCents: number, rowCents: number): number {
  return Math.floor(priceCents / rowCents);
}

/** `[col·columnMs, (col+1)·columnMs)`. */
export function windowOf(col: number, columnMs: number): Window {
  return { startMs: col * columnMs, endMs: (col + 1) * columnMs };
}

/** `[row·rowCents, (row+1)·rowCents)`. */
export function bandOf(row: number, rowCents: number): Band {
  return { lowCents: row * rowCents, highCents: (row + 1) * rowCents };
}

/** True when `lowCents ≤ priceCents < highCents`. */
export function inBand(priceCents: number, band: Band): boolean {
  return priceCents >= band.lowCents && priceCents < band.highCents;
}

/** The first column whose window starts at least `lockMs` after `now`: `ceil((now + lockMs) / columnMs)`. */
export function firstUnlockedColumn(nowMs: number, g: Pick<GridGeometry, "columnMs" | "lockMs">): number {
  return Math.ceil((nowMs + g.lockMs) / g.columnMs);
}

/** The last column a bet may target now: `horizonColumns` columns counted from the first unlocked one. */
export function lastOfferedColumn(nowMs: number, g: GridGeometry): number {
  return firstUnlockedColumn(nowMs, g) + g.horizonColumns - 1;
}

/**
 * Whether a bet on column `col` may be accepted at `now`: its window starts no sooner than `lockMs`
 * from now (so never in the past) and no further than the horizon.
 */
export function isColumnOpen(col: number, nowMs: number, g: GridGeometry): boolean {
  if (!Number.isSafeInteger(col)) return false;
  return col >= firstUnlockedColumn(nowMs, g) && col <= lastOfferedColumn(nowMs, g);
}

/**
 * The rows of a grid of `rows` rows centred on the price's row: `floor(rows/2)` rows below it and
 * `rows − 1 − floor(rows/2)` above (an odd count is symmetric; an even one has one more row below).
 */
export function centredRows(priceCents: number, rows: number, rowCents: number): { firstRow: number; lastRow: number } {
  const centre = rowOf(priceCents, rowCents);
  const firstRow = centre - Math.floor(rows / 2);
  return { firstRow, lastRow: firstRow + rows - 1 };
}

/** Whether a band's edges are safe integers with a positive upper edge (a price can be in it). */
export function isPricedBand(band: Band): boolean {
  return Number.isSafeInteger(band.lowCents) && Number.isSafeInteger(band.highCents) && band.highCents > 0;
}
