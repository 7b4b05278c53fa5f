import WebSocket from "ws";
import { backoffDelayMs, type BackoffPolicy } from "../../domain/price/backoff.ts";
import type { ExchangeMessage } from "../../domain/price/exchange-message.ts";
import type { Logger } from "../../runtime/logger.ts";
import type { SourceHandle } from "./feed.ts";

/** What differs between exchanges: where, what to say after connecting, how to read frames. */
export interface ExchangeProtocol {
  name: string;
  url: string;
  subscribeMessages(url: string): string[];
  parse(text: string): ExchangeMessage;
  /** An application-level ping (Kraken's {"method":"ping"}); otherwise a protocol ping frame. */
  appPing?(reqId: number): string;
}

export interface AdapterTiming {
  backoff: BackoffPolicy;
  /** How often we ping the exchange to prove the connection is alive. */
  pingIntervalMs: number;
  /** Nothing heard (no frame, no pong) for this long → drop the connection and reconnect. */
  idleTimeoutMs: number;
  connectTimeoutMs: number;
}

export const DEFAULT_TIMING: AdapterTiming = {
  backoff: { baseMs: 250, capMs: 30_000 },
  pingIntervalMs: 5_000,
  idleTimeoutMs: 15_000,
  connectTimeoutMs: 10_000,
};

const FRAME_BYTES_MAX = 1 << 20;

/**
 * One exchange feed over a `ws` client (Node 20 has no global WebSocket): connects, subscribes,
 * feeds each valid price to the index, answers the exchange's pings (the `ws` client pongs
 * automatically), pings it in turn, and reconnects with capped exponential backoff and jitter
 * whenever the connection closes, errors or goes silent. The attempt counter resets only once a
 * connection has delivered a price, so a server that accepts and immediately drops us still backs off.
 */
export class ExchangeAdapter {
  readonly #protocol: ExchangeProtocol;
  readonly #timing: AdapterTiming;
  readonly #source: SourceHandle;
  readonly #log: Logger;
  readonly #now: () => number;
  #ws: WebSocket | undefined;
  #attempt = 0;
  #everConnected = false;
  #stopped = true;
  #lastHeardAt = 0;
  #pingSeq = 0;
  #reconnectTimer: NodeJS.Timeout | undefined;
  #watchdog: NodeJS.Timeout | undefined;

  constructor(protocol: ExchangeProtocol, source: SourceHandle, log: Logger, now: () => number, timing: AdapterTiming = DEFAULT_TIMING) {
    this.#protocol = protocol;
    this.#source = source;
    this.#log = log.child({ source: protocol.name });
    this.#now = now;
    this.#timing = timing;
  }

  get name(): string {
    return this.#protocol.name;
  }

  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#connect();
  }

  stop(): void {
    this.#stopped = true;
    if (this.#reconnectTimer) clearTimeout(this.#reconnectTimer);
    this.#reconnectTimer = undefined;
    this.#teardown();
  }

  #connect(): void {
    const ws = new WebSocket(this.#protocol.url, {
      perMessageDeflate: false,
      handshakeTimeout: this.#timing.connectTimeoutMs,
      maxPayload: FRAME_BYTES_MAX,
    });
    this.#ws = ws;
    ws.on("open", () => this.#onOpen(ws));
    ws.on("message", (data, isBinary) => this.#onMessage(data, isBinary));
    ws.on("pong", () => (this.#lastHeardAt = this.#now()));
    ws.on("ping", () => (this.#lastHeardAt = this.#now()));
    ws.on("error", (error) => this.#log.debug({ err: error.message }, "exchange socket error"));
    ws.on("close", (code) => {
      if (this.#ws !== ws) return;
      this.#teardown();
      if (this.#stopped) return;
      this.#log.warn({ code }, "price source disconnected");
      this.#scheduleReconnect();
    });
  }

  #onOpen(ws: WebSocket): void {
    this.#lastHeardAt = this.#now();
    if (this.#everConnected) this.#source.reconnected();
    this.#everConnected = true;
    this.#source.connected(true);
    this.#log.info({ url: this.#protocol.url }, "price source live");
    for (const message of this.#protocol.subscribeMessages(this.#protocol.url)) ws.send(message);
    const interval = Math.min(this.#timing.pingIntervalMs, this.#timing.idleTimeoutMs);
    this.#watchdog = setInterval(() => this.#keepAlive(ws), interval);
    this.#watchdog.unref();
  }

  #onMessage(data: WebSocket.RawData, isBinary: boolean): void {
    this.#lastHeardAt = this.#now();
    if (isBinary) {
      this.#source.parseError();
      return;
    }
    const text = Array.isArray(data) ? Buffer.concat(data).toString("utf8") : Buffer.from(data as Buffer).toString("utf8");
    const message = this.#protocol.parse(text);
    switch (message.kind) {
      case "price":
        this.#attempt = 0;
        this.#source.price(message.priceCents, this.#now());
        return;
      case "invalid":
        this.#source.parseError();
        this.#log.debug({ issue: message.issue }, "exchange frame failed its schema");
        return;
      case "error":
        this.#log.warn({ message: message.message }, "exchange reported an error");
        return;
      default:
        return;
    }
  }

  #keepAlive(ws: WebSocket): void {
    if (this.#now() - this.#lastHeardAt > this.#timing.idleTimeoutMs) {
      this.#log.warn({ idleMs: this.#now() - this.#lastHeardAt }, "price source silent, reconnecting");
      ws.terminate();
      return;
    }
    if (ws.readyState !== WebSocket.OPEN) return;
    if (this.#protocol.appPing) ws.send(this.#protocol.appPing(++this.#pingSeq));
    else ws.ping();
  }

  #scheduleReconnect(): void {
    const delayMs = backoffDelayMs(this.#attempt++, this.#timing.backoff);
    this.#log.info({ delayMs, attempt: this.#attempt }, "price source reconnecting");
    this.#reconnectTimer = setTimeout(() => {
      this.#reconnectTimer = undefined;
      if (!this.#stopped) this.#connect();
    }, delayMs);
    this.#reconnectTimer.unref();
  }

  #teardown(): void {
    if (this.#watchdog) clearInterval(this.#watchdog);
    this.#watchdog = undefined;
    const ws = this.#ws;
    this.#ws = undefined;
    this.#source.connected(false);
    if (ws && ws.readyState !== WebSocket.CLOSED) {
      ws.removeAllListeners("close");
      ws.on("error", () => {});
      ws.terminate();
    }
  }
}
