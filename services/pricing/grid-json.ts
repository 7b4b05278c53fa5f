import { firstUnlockedColumn } from "../../domain/grid.ts";
import type { QuoteInputs } from "../../domain/pricing/quote.ts";
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

/** Why the grid offers nothing: the price circuit (ADR-008) and whether quotes are live. */
export type CircuitState = "open" | "closed";
export type QuotesState = "live" | "paused";

/** What a grid answer is built from: the pricing service and the price index's state. */
export interface GridSource {
  grid(cols: number, rows: number, now: number, pin?: QuoteInputs): { priceCents: number; at: number; cells: readonly CellQuote[] } | undefined;
  /** The pricing inputs of the latest tick, to pin a grid built in parts to one tick (absent: no pinning). */
  pin?: () => QuoteInputs | undefined;
  latest(): { t: number; priceCents: number } | undefined;
  circuit(): CircuitState;
  /** "paused" while the index is too old to quote (pricing service); absent = live unless the circuit is open. */
  quoteState?: (now: number) => QuotesState;
}

/**
 * The grid source of the running service: pricing for the cells, the price index for the circuit.
 * A pricing service that reports `quoteState(now)` (an index too old to quote) pauses the grid too.
 */
export function gridSourceOf(
  pricing: Pick<GridSource, "grid"> & { quoteState?: (now: number) => QuotesState; quoteInputs?: () => QuoteInputs | undefined },
  price: { latest(): { t: number; priceCents: number } | undefined; circuit(): CircuitState },
): GridSource {
  const source: GridSource = {
    grid: (cols, rows, now, pin) => pricing.grid(cols, rows, now, pin),
    latest: () => price.latest(),
    circuit: () => price.circuit(),
  };
  if (typeof pricing.quoteState === "function") source.quoteState = (now) => pricing.quoteState!(now);
  if (typeof pricing.quoteInputs === "function") source.pin = () => pricing.quoteInputs!();
  return source;
}

/** One grid as both answers carry it: empty, with `circuit`/`quotes` saying why, while bets are paused. */
export interface GridSnapshot {
  priceCents: number;
  at: number;
  circuit: CircuitState;
  quotes: QuotesState;
  cells: GridCellJson[];
}

/** The grid of `cols × rows` now; undefined before the first index price. */
export function gridSnapshot(source: GridSource, cols: number, rows: number, now: number, pin?: QuoteInputs): GridSnapshot | undefined {
  const circuit = source.circuit();
  const quotes: QuotesState = circuit === "open" ? "paused" : (source.quoteState?.(now) ?? "live");
  if (quotes === "paused") {
    const latest = source.latest();
    return latest ? { priceCents: latest.priceCents, at: latest.t, circuit, quotes, cells: [] } : undefined;
  }
  const grid = source.grid(cols, rows, now, pin);
  return grid ? { priceCents: grid.priceCents, at: grid.at, circuit, quotes, cells: offeredCellsJson(grid.cells) } : undefined;
}

export interface GridJsonCacheOptions {
  symbol: string;
  columnMs: number;
  rowCents: number;
  lockMs: number;
  /** An answer is rebuilt at most this often (0: whenever the index tick changes). */
  refreshMs: number;
  /** Sizes kept at once (each up to ~500 KB for 60 × 61); the oldest entry goes first. */
  entriesMax: number;
  /** Builds in progress at once (distinct sizes); beyond it a request is told to come back. */
  buildsMax: number;
  /** Cells priced per turn of the event loop while building a large grid. */
  cellsPerSlice: number;
  now: () => number;
}

export type GridAnswer = { status: "ok"; body: Uint8Array<ArrayBuffer>; quotes: QuotesState } | { status: "no_price" } | { status: "busy" };

const utf8 = new TextEncoder();
const WARM_ROUNDS_MAX = 3;
const yieldToIo = () => new Promise<void>((resolve) => setImmediate(resolve));

interface CacheEntry {
  builtAtMs: number;
  tickT: number;
  firstCol: number;
  circuit: CircuitState;
  quotes: QuotesState;
  body: Uint8Array<ArrayBuffer>;
}

/**
 * `GET /api/grid` answers, serialised once and served as bytes to every caller of the same size:
 * an answer is rebuilt only when it is older than `refreshMs` (or, with 0, when the tick changed),
 * when the first unlocked column moved on (a cell that just locked must not be offered), or when
 * the circuit or quote state changed (an open circuit empties the grid at once). A flood of
 * `cols=60&rows=61` then costs one pricing pass and one serialisation per refresh, not per request.
 *
 * Pricing a 60 × 61 grid takes tens of milliseconds, too long to hold the event loop that places
 * bets: a build first warms the pricing engine's per-tick cell cache a few columns per turn of the
 * event loop (`cellsPerSlice` cells, then other I/O runs), then takes the whole grid from one
 * `grid()` call, which is mostly cache hits and always prices every cell against one tick.
 * Requests for a size being built wait for that build; at most `buildsMax` builds run at once.
 */
export class GridJsonCache {
  readonly #entries = new Map<string, CacheEntry>();
  readonly #building = new Map<string, Promise<GridAnswer>>();
  readonly #source: GridSource;
  readonly #options: GridJsonCacheOptions;
  builds = 0;

  constructor(source: GridSource, options: GridJsonCacheOptions) {
    this.#source = source;
    this.#options = options;
  }

  /** The JSON answer for `cols × rows` now (API.md § Market). */
  answer(cols: number, rows: number): GridAnswer | Promise<GridAnswer> {
    const key = `${cols}x${rows}`;
    const cached = this.#entries.get(key);
    if (cached && this.#fresh(cached, this.#options.now())) return { status: "ok", body: cached.body, quotes: cached.quotes };
    const pending = this.#building.get(key);
    if (pending) return pending;
    if (this.#building.size >= this.#options.buildsMax) return { status: "busy" };
    const build = this.#build(key, cols, rows).finally(() => this.#building.delete(key));
    this.#building.set(key, build);
    return build;
  }

  async #build(key: string, cols: number, rows: number): Promise<GridAnswer> {
    const step = Math.max(1, Math.floor(this.#options.cellsPerSlice / Math.max(1, rows)));
    // Pinned to the tick the build starts on (when the source can): parts priced on later turns of
    // the event loop belong to the same tick, so ticks arriving meanwhile never force the rest to be
    // priced in one go. Unpinned sources warm again (bounded) when a tick empties the cache.
    const pin = this.#source.pin?.();
    for (let round = 0; round < WARM_ROUNDS_MAX; round++) {
      const tickT = this.#source.latest()?.t;
      for (let warmCols = step; warmCols < cols; warmCols += step) {
        if (this.#state(this.#options.now()).quotes === "paused") break;
        this.#source.grid(warmCols, rows, this.#options.now(), pin);
        await yieldToIo();
      }
      if (pin !== undefined || this.#source.latest()?.t === tickT) break;
    }
    const now = this.#options.now();
    const snapshot = gridSnapshot(this.#source, cols, rows, now, pin);
    if (!snapshot) return { status: "no_price" };
    this.builds++;
    const { symbol, columnMs, rowCents, lockMs } = this.#options;
    const body = utf8.encode(JSON.stringify({ symbol, columnMs, rowCents, lockMs, ...snapshot }));
    this.#entries.delete(key);
    if (this.#entries.size >= this.#options.entriesMax) this.#entries.delete(this.#entries.keys().next().value!);
    const firstCol = firstUnlockedColumn(now, this.#options);
    this.#entries.set(key, { builtAtMs: now, tickT: snapshot.at, firstCol, circuit: snapshot.circuit, quotes: snapshot.quotes, body });
    return { status: "ok", body, quotes: snapshot.quotes };
  }

  #state(now: number): { circuit: CircuitState; quotes: QuotesState } {
    const circuit = this.#source.circuit();
    return { circuit, quotes: circuit === "open" ? "paused" : (this.#source.quoteState?.(now) ?? "live") };
  }

  #fresh(entry: CacheEntry, now: number): boolean {
    const { circuit, quotes } = this.#state(now);
    if (entry.firstCol !== firstUnlockedColumn(now, this.#options) || entry.circuit !== circuit || entry.quotes !== quotes) return false;
    if (now < entry.builtAtMs) return false; // a clock that went back: rebuild rather than guess
    if (this.#options.refreshMs > 0) return now - entry.builtAtMs < this.#options.refreshMs;
    return this.#source.latest()?.t === entry.tickT;
  }
}
