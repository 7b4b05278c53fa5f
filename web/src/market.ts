import { quoteMultiplierHundredths, type QuoteInputs, type QuoteTerms } from "../../domain/pricing/quote.ts";

/**
 * What the page knows of the market: the index ticks, the pricing inputs of the latest tick (the
 * WebSocket `price` message's `quote`, opaque here) and the quote terms of `hello`, and from them the
 * cells to offer with the multiplier the server will quote for them until the next tick.
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
  #quote: QuoteInputs | undefined;
  /** The server's own 1/s grid: used only while no tick carried pricing inputs. */
  #gridFallback = new Map<string, number>();
  #quoteCache = new Map<string, number | null>();
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

  onPrice(message: Record<string, unknown>): void {
    const { priceCents, at, quote } = message;
    if (typeof priceCents !== "number" || typeof at !== "number") return;
    const last = this.lastPrice;
    if (last && at <= last.t) return;
    this.ticks.push({ t: at, priceCents });
    if (this.ticks.length > TICKS_MAX) this.ticks.splice(0, this.ticks.length - TICKS_MAX);
    // Only fields t and priceCents are read here; the rest belongs to domain/pricing/quote.ts.
    const inputs = quote as QuoteInputs | undefined;
    this.#quote = inputs && inputs.t === at && inputs.priceCents === priceCents ? inputs : undefined;
    this.#quoteCache.clear();
    const row = Math.floor(priceCents / this.rowCents);
    if (this.centreRow === undefined || Math.abs(row - this.centreRow) >= RECENTRE_ROWS) this.centreRow = row;
    this.#changed();
  }

  onGrid(message: Record<string, unknown>): void {
    if (!Array.isArray(message.cells)) return;
    this.#gridFallback = new Map();
    for (const cell of message.cells as { col: number; row: number; multiplier: number }[]) {
      this.#gridFallback.set(cellKey(cell.col, cell.row), Math.round(cell.multiplier * 100));
    }
    if (this.#quote === undefined) this.#changed();
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
    if (quote === undefined || this.terms === undefined) return this.#gridFallback.get(key) ?? null;
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
