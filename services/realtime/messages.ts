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

export function gridFrame(at: number, cells: readonly CellQuote[]): Buffer {
  return frame({ type: "grid", at, cells: offeredCellsJson(cells) });
}

export function pongFrame(serverTime: number): Buffer {
  return frame({ type: "pong", serverTime });
}
