import type { GridSnapshot } from "../pricing/grid-json.ts";
import type { QuoteInputs, QuoteTerms } from "../../domain/pricing/quote.ts";
import type { CellQuote } from "../pricing/types.ts";
import { offeredCellsJson } from "../pricing/grid-json.ts";

/**
 * Server → client frames of API.md § WebSocket. Each broadcast is serialised once into a Buffer
 * that every connection writes as is.
 */
export interface HelloMessage {
  type: "hello";
  serverTime: number;
  columnMs: number;
  rowCents: number;
  lockMs: number;
  authenticated: boolean;
  /** The fixed terms of domain/pricing/quote.ts, when pricing is installed. */
  quoteTerms?: QuoteTerms;
}

export function frame(message: object): Buffer {
  return Buffer.from(JSON.stringify(message));
}

/**
 * An index tick; `quote` carries the pricing inputs as of that tick (opaque to clients), so that
 * `quoteMultiplierHundredths(quote, hello.quoteTerms, col, row)` gives the multiplier the server
 * quotes until the next tick.
 */
export function priceFrame(priceCents: number, at: number, quote?: QuoteInputs): Buffer {
  return frame(quote === undefined ? { type: "price", priceCents, at } : { type: "price", priceCents, at, quote });
}

export function circuitFrame(state: "open" | "closed", at: number): Buffer {
  return frame({ type: "circuit", state, at });
}

/** `{"type":"grid","at","circuit","quotes","cells"}`: cells empty while the circuit is open or quotes are paused. */
export function gridFrame(grid: GridSnapshot): Buffer {
  return frame({ type: "grid", at: grid.at, circuit: grid.circuit, quotes: grid.quotes, cells: grid.cells });
}

export function pongFrame(serverTime: number): Buffer {
  return frame({ type: "pong", serverTime });
}
