import { firstWin, type Tick, type Win } from "../../domain/resolution.ts";
import type { OpenBet } from "./types.ts";

/** The open bets of one band in one window: they all win together, at the same tick. */
export interface BandBucket {
  bandLowCents: number;
  bandHighCents: number;
  bets: Map<number, OpenBet>;
}

/** The open bets of one window, their bands sorted by low edge (then high edge). */
export interface ColumnBucket {
  windowStart: number;
  windowEnd: number;
  bands: BandBucket[];
  /** Widest band in the column: bounds the binary search for bands that can contain a price. */
  widthMaxCents: number;
}

export interface Hit {
  column: ColumnBucket;
  band: BandBucket;
  win: Win;
}

/**
 * Open bets indexed by window (column) and band, so that a tick only looks at the bands it can
 * settle: the columns whose window contains the tick (one, with aligned columns) and, inside each,
 * a binary search for the bands that meet the price range [min, max] of the tick and the previous
 * in-window tick. Nothing here scans all open bets; the cost per tick is
 * O(active columns · (log bands + bands hit)) plus the bets that actually win.
 */
export class OpenIndex {
  readonly #columns = new Map<string, ColumnBucket>();
  /** Columns sorted by window start, then end. */
  readonly #order: ColumnBucket[] = [];
  readonly #byId = new Map<number, OpenBet>();

  get size(): number {
    return this.#byId.size;
  }

  has(betId: number): boolean {
    return this.#byId.has(betId);
  }

  get(betId: number): OpenBet | undefined {
    return this.#byId.get(betId);
  }

  /** Adds a bet; false when it is already indexed. */
  add(bet: OpenBet): boolean {
    if (this.#byId.has(bet.id)) return false;
    if (!(bet.windowEnd > bet.windowStart) || !(bet.bandHighCents > bet.bandLowCents)) {
      throw new Error(`bet ${bet.id} has an empty window or band`);
    }
    this.#byId.set(bet.id, bet);
    const column = this.#column(bet.windowStart, bet.windowEnd);
    const band = this.#band(column, bet.bandLowCents, bet.bandHighCents);
    band.bets.set(bet.id, bet);
    return true;
  }

  /** Removes one bet (e.g. settled elsewhere); false when it was not indexed. */
  remove(betId: number): boolean {
    const bet = this.#byId.get(betId);
    if (!bet) return false;
    this.#byId.delete(betId);
    const column = this.#columns.get(columnKey(bet.windowStart, bet.windowEnd));
    if (!column) return true;
    const i = column.bands.findIndex((b) => b.bandLowCents === bet.bandLowCents && b.bandHighCents === bet.bandHighCents);
    const band = column.bands[i];
    if (band) {
      band.bets.delete(betId);
      if (band.bets.size === 0) column.bands.splice(i, 1);
    }
    if (column.bands.length === 0) this.#dropColumn(column);
    return true;
  }

  /**
   * Applies one tick: finds every band that wins at `tick` (touch, or crossing since `previous` when
   * that tick was in the same window), removes those bands from the index and returns them.
   */
  takeWins(tick: Tick, previous: Tick | undefined): Hit[] {
    const hits: Hit[] = [];
    for (let c = 0; c < this.#order.length; c++) {
      const column = this.#order[c]!;
      if (column.windowStart > tick.t) break;
      if (tick.t >= column.windowEnd) continue;
      const pair = previous && previous.t >= column.windowStart ? [previous, tick] : [tick];
      const minCents = Math.min(pair[0]!.priceCents, tick.priceCents);
      const maxCents = Math.max(pair[0]!.priceCents, tick.priceCents);
      // Bands meeting [min, max]: lo ≤ max and hi > min; hi ≤ lo + widthMax gives lo > min − widthMax.
      let i = firstBandAbove(column.bands, minCents - column.widthMaxCents);
      while (i < column.bands.length && column.bands[i]!.bandLowCents <= maxCents) {
        const band = column.bands[i]!;
        const win = band.bandHighCents > minCents ? firstWin({ ...band, windowStart: column.windowStart, windowEnd: column.windowEnd }, pair) : undefined;
        if (!win) {
          i++;
          continue;
        }
        column.bands.splice(i, 1);
        for (const id of band.bets.keys()) this.#byId.delete(id);
        hits.push({ column, band, win });
      }
      if (column.bands.length === 0) {
        this.#dropColumn(column);
        c--;
      }
    }
    return hits;
  }

  /** Whether some column's window ended at or before `endedByMs`. */
  hasEndedBy(endedByMs: number): boolean {
    for (const column of this.#order) {
      if (column.windowStart >= endedByMs) return false;
      if (column.windowEnd <= endedByMs) return true;
    }
    return false;
  }

  /** Removes and returns the columns whose window ended at or before `endedByMs`. */
  takeEnded(endedByMs: number): ColumnBucket[] {
    const ended: ColumnBucket[] = [];
    for (let c = 0; c < this.#order.length; c++) {
      const column = this.#order[c]!;
      if (column.windowStart >= endedByMs) break;
      if (column.windowEnd > endedByMs) continue;
      ended.push(column);
      this.#dropColumn(column);
      c--;
    }
    for (const column of ended) for (const band of column.bands) for (const id of band.bets.keys()) this.#byId.delete(id);
    return ended;
  }

  /** Columns whose window has started by `t` (in window order); they stay in the index. */
  startedBy(t: number): ColumnBucket[] {
    const started: ColumnBucket[] = [];
    for (const column of this.#order) {
      if (column.windowStart > t) break;
      started.push(column);
    }
    return started;
  }

  /** Removes one band of a column (it was decided by a catch-up) and returns its bets. */
  takeBand(column: ColumnBucket, band: BandBucket): OpenBet[] {
    const i = column.bands.indexOf(band);
    if (i < 0) return [];
    column.bands.splice(i, 1);
    for (const id of band.bets.keys()) this.#byId.delete(id);
    if (column.bands.length === 0) this.#dropColumn(column);
    return [...band.bets.values()];
  }

  #column(windowStart: number, windowEnd: number): ColumnBucket {
    const key = columnKey(windowStart, windowEnd);
    let column = this.#columns.get(key);
    if (column) return column;
    column = { windowStart, windowEnd, bands: [], widthMaxCents: 0 };
    this.#columns.set(key, column);
    let lo = 0;
    let hi = this.#order.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const m = this.#order[mid]!;
      if (m.windowStart < windowStart || (m.windowStart === windowStart && m.windowEnd < windowEnd)) lo = mid + 1;
      else hi = mid;
    }
    this.#order.splice(lo, 0, column);
    return column;
  }

  #band(column: ColumnBucket, low: number, high: number): BandBucket {
    const bands = column.bands;
    let lo = 0;
    let hi = bands.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const b = bands[mid]!;
      if (b.bandLowCents < low || (b.bandLowCents === low && b.bandHighCents < high)) lo = mid + 1;
      else hi = mid;
    }
    const found = bands[lo];
    if (found && found.bandLowCents === low && found.bandHighCents === high) return found;
    const band: BandBucket = { bandLowCents: low, bandHighCents: high, bets: new Map() };
    bands.splice(lo, 0, band);
    column.widthMaxCents = Math.max(column.widthMaxCents, high - low);
    return band;
  }

  #dropColumn(column: ColumnBucket): void {
    const key = columnKey(column.windowStart, column.windowEnd);
    if (this.#columns.get(key) !== column) return;
    this.#columns.delete(key);
    const i = this.#order.indexOf(column);
    if (i >= 0) this.#order.splice(i, 1);
  }
}

function columnKey(windowStart: number, windowEnd: number): string {
  return `${windowStart}:${windowEnd}`;
}

/** Index of the first band whose low edge is > `cents` (bands sorted by low edge). */
function firstBandAbove(bands: BandBucket[], cents: number): number {
  let lo = 0;
  let hi = bands.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (bands[mid]!.bandLowCents <= cents) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
