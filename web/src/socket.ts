import { backoffDelayMs } from "../../domain/price/backoff.ts";

/**
 * The page's WebSocket to `/ws`: reconnects with capped, jittered backoff, pings to keep the clock
 * offset fresh, and tells the page whether it is open or reconnecting.
 */
export interface SocketEvents {
  onMessage(message: Record<string, unknown>): void;
  onState(state: "open" | "reconnecting", retryInMs?: number): void;
}

const BACKOFF = { baseMs: 500, capMs: 15_000 };
const PING_INTERVAL_MS = 10_000;
/** No frame (ticks, grid, pong) for this long and the socket is treated as dead. */
const SILENCE_MAX_MS = 25_000;
/** Frames larger than this are not JSON-parsed (the server's largest, the grid, is ~40 KiB). */
const FRAME_BYTES_MAX = 1_048_576;

export class PageSocket {
  #ws: WebSocket | undefined;
  #attempt = 0;
  #token: string | undefined;
  #retryTimer: number | undefined;
  #pingTimer: number | undefined;
  #lastFrameAt = 0;
  #stopped = false;

  constructor(private readonly events: SocketEvents) {}

  /** (Re)connects, with the session token when there is one. */
  connect(token: string | undefined): void {
    this.#token = token;
    this.#stopped = false;
    this.#closeCurrent();
    this.#open();
  }

  send(message: object): void {
    if (this.#ws?.readyState === WebSocket.OPEN) this.#ws.send(JSON.stringify(message));
  }

  #open(): void {
    const url = new URL("/ws", location.href);
    url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
    if (this.#token) url.searchParams.set("token", this.#token);
    const ws = new WebSocket(url);
    this.#ws = ws;
    ws.onopen = () => {
      this.#attempt = 0;
      this.#lastFrameAt = Date.now();
      this.events.onState("open");
      this.#pingTimer = window.setInterval(() => this.#ping(), PING_INTERVAL_MS);
      this.#ping();
    };
    ws.onmessage = (event) => {
      this.#lastFrameAt = Date.now();
      if (typeof event.data !== "string" || event.data.length > FRAME_BYTES_MAX) return;
      try {
        const message = JSON.parse(event.data) as unknown;
        if (typeof message === "object" && message !== null) this.events.onMessage(message as Record<string, unknown>);
      } catch {
        // not ours to judge: the server only sends JSON
      }
    };
    ws.onclose = (event) => {
      if (this.#ws !== ws) return;
      this.#clearPing();
      this.#ws = undefined;
      // 4401: the token is no longer valid; keep the market stream without it.
      if (event.code === 4401) this.#token = undefined;
      this.#scheduleRetry();
    };
  }

  #ping(): void {
    if (Date.now() - this.#lastFrameAt > SILENCE_MAX_MS) {
      this.#ws?.close();
      return;
    }
    this.send({ type: "ping" });
  }

  #scheduleRetry(): void {
    if (this.#stopped) return;
    const delayMs = backoffDelayMs(this.#attempt++, BACKOFF);
    this.events.onState("reconnecting", delayMs);
    this.#retryTimer = window.setTimeout(() => this.#open(), delayMs);
  }

  #clearPing(): void {
    if (this.#pingTimer !== undefined) window.clearInterval(this.#pingTimer);
    this.#pingTimer = undefined;
  }

  #closeCurrent(): void {
    if (this.#retryTimer !== undefined) window.clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    this.#clearPing();
    const ws = this.#ws;
    this.#ws = undefined;
    if (ws) {
      ws.onclose = null;
      ws.close();
    }
  }
}
