import { quoteMultiplierHundredths, type QuoteInputs, type QuoteTerms } from "../../domain/pricing/quote.ts";
import { decodeQuote } from "../../domain/pricing/quote-wire.ts";

/**
 * What the page knows of the market: the index ticks, the pricing inputs of the latest tick (the
 * WebSocket `price` message's `quote`, decoded with `hello`'s `quoteKeys`) and the quote terms of
 * `hello`, and from them the cells to offer with the multiplier the server will quote for them until
 * the next tick. It needs no `grid` frames.
 *
 * Ticks are numbered (`seq` within an `epoch`): a tick seen again (after a reconnect) is ignored, and
 * a jump in `seq` or a new `epoch` means ticks — and perhaps the player's events — were missed while
 * the page was away: `onPrice` says "gap", and the page re-reads what it shows from the API.
 */
export interface OfferedCell {
  key: string;
  col: number;
  row: number;
  windowStart: number;
  windowEnd: number;
  bandLowCents: number;
  bandHighCents: number;
  multiplierHundredths: number;
}

export const GRID_COLUMNS = 12;
export const GRID_ROWS = 21;
/** Columns whose window starts within lockMs plus this margin are not shown: a tap must arrive in time. */
export const LOCK_MARGIN_MS = 600;
/** Ticks kept for the line (10 minutes at 10 ticks/s). */
const TICKS_MAX = 6000;
/** The centre row follows the price once it is this many rows away (the grid does not jitter). */
const RECENTRE_ROWS = 3;

export const cellKey = (col: number, row: number) => `${col}:${row}`;

export class Market {
  columnMs = 10_000;
  rowCents = 1000;
  lockMs = 5000;
  terms: QuoteTerms | undefined;
  circuit: "open" | "closed" = "closed";
  /** serverTime − Date.now(), from hello and pongs. */
  clockOffsetMs = 0;
  centreRow: number | undefined;
  readonly ticks: { t: number; priceCents: number }[] = [];
  #quoteKeys: string[] | undefined;
  #quote: QuoteInputs | undefined;
  #quoteCache = new Map<string, number | null>();
  /** Position in the stream: the last tick's epoch and seq. */
  #epoch: string | undefined;
  #seq = 0;
  #bestRttMs = Number.POSITIVE_INFINITY;
  /** Bumped on every change that can change the offered cells. */
  version = 0;

  now(): number {
    return Date.now() + this.clockOffsetMs;
  }

  get lastPrice(): { t: number; priceCents: number } | undefined {
    return this.ticks[this.ticks.length - 1];
  }

  onHello(message: Record<string, unknown>): void {
    if (typeof message.serverTime === "number") this.clockOffsetMs = message.serverTime - Date.now();
    if (typeof message.columnMs === "number") this.columnMs = message.columnMs;
    if (typeof message.rowCents === "number") this.rowCents = message.rowCents;
    if (typeof message.lockMs === "number") this.lockMs = message.lockMs;
    this.terms = isTerms(message.quoteTerms) ? message.quoteTerms : undefined;
    this.#quoteKeys = Array.isArray(message.quoteKeys) && message.quoteKeys.every((k) => typeof k === "string") ? (message.quoteKeys as string[]) : undefined;
    this.#bestRttMs = Number.POSITIVE_INFINITY;
    this.#changed();
  }

  /** A pong answering a ping sent at `sentAt` (Date.now()): the shortest round trip sets the offset. */
  onPong(serverTime: number, sentAt: number): void {
    const receivedAt = Date.now();
    const rttMs = receivedAt - sentAt;
    if (rttMs < 0 || rttMs > this.#bestRttMs) return;
    this.#bestRttMs = rttMs;
    this.clockOffsetMs = serverTime - (sentAt + receivedAt) / 2;
  }

  /** A price frame; "gap" when ticks were missed since the last one this page saw (re-read the rest). */
  onPrice(message: Record<string, unknown>): "ok" | "gap" | "ignored" {
    const { priceCents, at, quote, seq, epoch } = message;
    if (typeof priceCents !== "number" || typeof at !== "number" || typeof seq !== "number" || typeof epoch !== "string") return "ignored";
    const sameEpoch = epoch === this.#epoch;
    if (sameEpoch && seq <= this.#seq) return "ignored";
    const gap = this.#epoch !== undefined && (!sameEpoch || seq !== this.#seq + 1);
    this.#epoch = epoch;
    this.#seq = seq;
    const last = this.lastPrice;
    if (!last || at > last.t) {
      this.ticks.push({ t: at, priceCents });
      if (this.ticks.length > TICKS_MAX) this.ticks.splice(0, this.ticks.length - TICKS_MAX);
    }
    // The inputs are exactly the server's (domain/pricing/quote-wire.ts); the rest is quote.ts's business.
    this.#quote = typeof quote === "string" && this.#quoteKeys ? decodeQuote(quote, this.#quoteKeys, at, priceCents) : undefined;
    this.#quoteCache.clear();
    const row = Math.floor(priceCents / this.rowCents);
    if (this.centreRow === undefined || Math.abs(row - this.centreRow) >= RECENTRE_ROWS) this.centreRow = row;
    this.#changed();
    return gap ? "gap" : "ok";
  }

  onCircuit(state: unknown): void {
    if (state !== "open" && state !== "closed") return;
    if (state === this.circuit) return;
    this.circuit = state;
    this.#changed();
  }

  /** The first column still shown (and tappable) at `now`. */
  firstOfferedColumn(now: number): number {
    return Math.ceil((now + this.lockMs + LOCK_MARGIN_MS) / this.columnMs);
  }

  /** The multiplier the server quotes for a cell until the next tick; null when not offered. */
  multiplierOf(col: number, row: number): number | null {
    const key = cellKey(col, row);
    const quote = this.#quote;
    if (quote === undefined || this.terms === undefined) return null;
    let hundredths = this.#quoteCache.get(key);
    if (hundredths === undefined) {
      hundredths = quoteMultiplierHundredths(quote, this.terms, col, row);
      this.#quoteCache.set(key, hundredths);
    }
    return hundredths;
  }

  /** The cells to show now: GRID_COLUMNS columns from the first one that can still be tapped, GRID_ROWS rows. */
  offeredCells(now: number): OfferedCell[] {
    if (this.centreRow === undefined || this.lastPrice === undefined) return [];
    const cells: OfferedCell[] = [];
    const firstCol = this.firstOfferedColumn(now);
    const firstRow = this.centreRow - Math.floor(GRID_ROWS / 2);
    for (let col = firstCol; col < firstCol + GRID_COLUMNS; col++) {
      for (let row = firstRow; row < firstRow + GRID_ROWS; row++) {
        const hundredths = this.multiplierOf(col, row);
        if (hundredths === null) continue;
        cells.push({
          key: cellKey(col, row),
          col,
          row,
          windowStart: col * this.columnMs,
          windowEnd: (col + 1) * this.columnMs,
          bandLowCents: row * this.rowCents,
          bandHighCents: (row + 1) * this.rowCents,
          multiplierHundredths: hundredths,
        });
      }
    }
    return cells;
  }

  #changed(): void {
    this.version++;
  }
}

function isTerms(value: unknown): value is QuoteTerms {
  if (typeof value !== "object" || value === null) return false;
  const t = value as Record<string, unknown>;
  return ["columnMs", "rowCents", "houseEdgeBp", "minMultiplierHundredths", "maxMultiplierHundredths"].every((k) => typeof t[k] === "number");
}
