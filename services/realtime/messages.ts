import type { GridSnapshot } from "../pricing/grid-json.ts";
import type { QuoteTerms } from "../../domain/pricing/quote.ts";
import type { MarketTerms, StreamState } from "../stream/index.ts";

/**
 * Server → client frames of API.md § WebSocket, other than `price` (made once per tick by the
 * market stream, services/stream/publisher.ts). Each broadcast is serialised once into a Buffer that
 * every connection writes as is.
 */
export function frame(message: object): Buffer {
  return Buffer.from(JSON.stringify(message));
}

/**
 * The first frame of a connection, and again when the stream's terms change (a new epoch, or the
 * first quoted tick's `quoteKeys`). `quoteTerms` and `quoteKeys` with a price frame's `quote` give
 * `quoteMultiplierHundredths(decodeQuote(quote, quoteKeys, at, priceCents), quoteTerms, col, row)`
 * (domain/pricing/quote-wire.ts, quote.ts): the multiplier the server quotes until the next tick.
 */
export interface HelloMessage {
  type: "hello";
  serverTime: number;
  columnMs: number;
  rowCents: number;
  lockMs: number;
  authenticated: boolean;
  /** The stream's epoch (a price frame's `epoch`). */
  epoch: string;
  /** The fixed terms of domain/pricing/quote.ts, when pricing is installed. */
  quoteTerms?: QuoteTerms;
  /** The fields of a price frame's `quote`, in order (domain/pricing/quote-wire.ts). */
  quoteKeys?: string[];
}

export function helloFrame(terms: MarketTerms, serverTime: number, authenticated: boolean): Buffer {
  const hello: HelloMessage = {
    type: "hello",
    serverTime,
    columnMs: terms.columnMs,
    rowCents: terms.rowCents,
    lockMs: terms.lockMs,
    authenticated,
    epoch: terms.epoch,
  };
  if (terms.quoteTerms) hello.quoteTerms = terms.quoteTerms;
  if (terms.quoteKeys) hello.quoteKeys = terms.quoteKeys;
  return frame(hello);
}

export function circuitFrame(state: "open" | "closed", at: number): Buffer {
  return frame({ type: "circuit", state, at });
}

/** An edge that hears nothing from the core says so (and again when the stream is back): ticks may be missing. */
export function streamFrame(state: StreamState, at: number): Buffer {
  return frame({ type: "stream", state, at });
}

/** `{"type":"grid","at","circuit","quotes","cells"}`: cells empty while the circuit is open or quotes are paused. */
export function gridFrame(grid: GridSnapshot): Buffer {
  return frame({ type: "grid", at: grid.at, circuit: grid.circuit, quotes: grid.quotes, cells: grid.cells });
}

export function pongFrame(serverTime: number): Buffer {
  return frame({ type: "pong", serverTime });
}
