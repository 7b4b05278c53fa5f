import type { CellQuote } from "../pricing/types.ts";

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
}

export function frame(message: object): Buffer {
  return Buffer.from(JSON.stringify(message));
}

export function priceFrame(priceCents: number, at: number): Buffer {
  return frame({ type: "price", priceCents, at });
}

export function circuitFrame(state: "open" | "closed", at: number): Buffer {
  return frame({ type: "circuit", state, at });
}

/** A grid cell as API.md's JSON: the multiplier as a number with two decimals (347 → 3.47). */
export function cellJson(cell: CellQuote) {
  return {
    col: cell.col,
    row: cell.row,
    windowStart: cell.windowStart,
    windowEnd: cell.windowEnd,
    bandLowCents: cell.bandLowCents,
    bandHighCents: cell.bandHighCents,
    multiplier: cell.multiplierHundredths === null ? null : cell.multiplierHundredths / 100,
  };
}

export function gridFrame(at: number, cells: readonly CellQuote[]): Buffer {
  return frame({ type: "grid", at, cells: cells.map(cellJson) });
}

export function pongFrame(serverTime: number): Buffer {
  return frame({ type: "pong", serverTime });
}
