import type { GridSnapshot } from "../pricing/grid-json.ts";

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

/** `{"type":"grid","at","circuit","quotes","cells"}`: cells empty while the circuit is open or quotes are paused. */
export function gridFrame(grid: GridSnapshot): Buffer {
  return frame({ type: "grid", at: grid.at, circuit: grid.circuit, quotes: grid.quotes, cells: grid.cells });
}

export function pongFrame(serverTime: number): Buffer {
  return frame({ type: "pong", serverTime });
}
