import type { Peer } from "crossws";

/**
 * Fast path for fan-out. A broadcast goes to thousands of sockets ten times a second, and the cost
 * per socket is what limits SPEC §10's 5 000 subscribers: so the WebSocket frame (header + JSON) is
 * built once per broadcast and written to each socket as one buffer, instead of every send framing
 * the same payload again through crossws and ws.
 *
 * This reaches into the Node adapter's `ws` WebSocket and its socket. It is safe because the server
 * runs without permessage-deflate (runtime/server.ts) and never fragments, so ws writes whole frames
 * synchronously in call order and our frames cannot interleave with its own (pong, close). Anything
 * that does not look like that falls back to `peer.send`.
 *
 * The private fields read here (`_internal.ws` of crossws's Node peer, `_socket` and `_extensions` of
 * ws's WebSocket) are those of the exact versions package.json pins (ws 8.23.0, crossws 0.4.17);
 * tests/ws.wire.test.ts fails when the installed versions differ or when a connection no longer gets
 * this path. `WS_RAW_FRAMES=false` turns it off (every send through crossws's public `peer.send`).
 */
export interface RawSocket {
  write(frame: Buffer): void;
  /** Bytes accepted but not yet handed to the kernel (ws's bufferedAmount). */
  readonly bufferedAmount: number;
  readonly open: boolean;
}

interface NodeWs {
  readyState: number;
  bufferedAmount: number;
  _socket?: { write(data: Buffer): boolean; writable: boolean };
  _extensions?: Record<string, unknown>;
}

export function rawSocketOf(peer: Peer): RawSocket | undefined {
  const ws = (peer as unknown as { _internal?: { ws?: NodeWs } })._internal?.ws;
  const socket = ws?._socket;
  if (!ws || !socket || typeof socket.write !== "function" || typeof ws.bufferedAmount !== "number") return undefined;
  // A negotiated extension (compression) would change framing: use the library's path then.
  if (ws._extensions && Object.keys(ws._extensions).length > 0) return undefined;
  return {
    write: (frame) => void socket.write(frame),
    get bufferedAmount() {
      return ws.bufferedAmount;
    },
    get open() {
      return ws.readyState === 1 && socket.writable;
    },
  };
}

/** One unmasked, final text frame (RFC 6455 §5.2) holding `payload`. */
export function textFrame(payload: Buffer): Buffer {
  const length = payload.length;
  let header: Buffer;
  if (length < 126) {
    header = Buffer.from([0x81, length]);
  } else if (length < 65_536) {
    header = Buffer.from([0x81, 126, length >> 8, length & 0xff]);
  } else {
    header = Buffer.alloc(10);
    header[0] = 0x81;
    header[1] = 127;
    header.writeBigUInt64BE(BigInt(length), 2);
  }
  return Buffer.concat([header, payload]);
}
