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

export function gridFrame(at: number, cells: readonly CellQuote[]): Buffer {
  return frame({ type: "grid", at, cells: offeredCellsJson(cells) });
}

export function pongFrame(serverTime: number): Buffer {
  return frame({ type: "pong", serverTime });
}
