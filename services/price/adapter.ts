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
  /** The exchange ends connections after this long (Binance: 24 h); we reconnect before. */
  maxConnectionMs?: number;
}

export interface AdapterTiming {
  backoff: BackoffPolicy;
  /** How often we ping the exchange to prove the connection is alive. */
  pingIntervalMs: number;
  /** Nothing heard (no frame, no pong) for this long → drop the connection and reconnect. */
  idleTimeoutMs: number;
  connectTimeoutMs: number;
  /** No subscribe ack (or, without acks, no price) this long after subscribing → retry. */
  subscribeTimeoutMs: number;
}

export const DEFAULT_TIMING: AdapterTiming = {
  backoff: { baseMs: 250, capMs: 30_000 },
  pingIntervalMs: 5_000,
  idleTimeoutMs: 15_000,
  connectTimeoutMs: 10_000,
  subscribeTimeoutMs: 5_000,
};

const FRAME_BYTES_MAX = 1 << 20;
/** Subscribe attempts on one connection (the first and one resubscribe) before reconnecting. */
const SUBSCRIBE_TRIES_MAX = 2;

interface Connection {
  ws: WebSocket;
  openedAt: number | undefined;
  subscribed: boolean;
  subscribeTries: number;
  /** The pending subscribe timeout or resubscribe delay. */
  subscribeTimer: NodeJS.Timeout | undefined;
  timers: Set<NodeJS.Timeout>;
}

/**
 * One exchange feed over a `ws` client (Node 20 has no global WebSocket). It drives the source's
 * state machine (domain/price/source-machine.ts) through the feed's handle:
 *
 * - connect → `open` → send the subscribe (subscribing); the ack — or, for a stream named in the
 *   URL, the first price — makes it `subscribed` (live).
 * - A refused subscription, or none answered within subscribeTimeoutMs, is sent again once after a
 *   backoff delay (`resubscribe`); a second failure closes the connection and redials after the
 *   next backoff delay. Recovery therefore takes at most two backoff periods, never a restart.
 * - Any frame, ping or pong proves the link alive; nothing for idleTimeoutMs → close and redial.
 *   Liveness never refreshes a price: freshness is the feed's, from the exchange's event time.
 * - `serverShutdown` and the exchange's connection age limit (maxConnectionMs) → reconnect now.
 * - Every close goes through backoff; the attempt counter resets only once a subscribed
 *   connection delivered a price, so a server that accepts and immediately drops us still backs off.
 */
export class ExchangeAdapter {
  readonly #protocol: ExchangeProtocol;
  readonly #timing: AdapterTiming;
  readonly #source: SourceHandle;
  readonly #log: Logger;
  readonly #now: () => number;
  #conn: Connection | undefined;
  #attempt = 0;
  #everConnected = false;
  #stopped = true;
  #lastHeardAt = 0;
  #pingSeq = 0;
  #reconnectTimer: NodeJS.Timeout | undefined;

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
    if (this.#conn) this.#close("stopped", undefined);
  }

  #connect(): void {
    const ws = new WebSocket(this.#protocol.url, {
      perMessageDeflate: false,
      handshakeTimeout: this.#timing.connectTimeoutMs,
      maxPayload: FRAME_BYTES_MAX,
    });
    const conn: Connection = { ws, openedAt: undefined, subscribed: false, subscribeTries: 0, subscribeTimer: undefined, timers: new Set() };
    this.#conn = conn;
    ws.on("open", () => this.#onOpen(conn));
    ws.on("message", (data, isBinary) => this.#conn === conn && this.#onMessage(conn, data, isBinary));
    ws.on("pong", () => (this.#lastHeardAt = this.#now()));
    ws.on("ping", () => (this.#lastHeardAt = this.#now()));
    ws.on("error", (error) => this.#log.debug({ err: error.message }, "exchange socket error"));
    ws.on("close", (code) => {
      if (this.#conn === conn) this.#close(`closed by the exchange (code ${code})`, this.#nextBackoffMs());
    });
  }

  #onOpen(conn: Connection): void {
    if (this.#conn !== conn) return;
    conn.openedAt = this.#now();
    this.#lastHeardAt = conn.openedAt;
    if (this.#everConnected) this.#source.reconnected();
    this.#everConnected = true;
    this.#source.link("open", `connected to ${this.#protocol.url}`);
    this.#subscribe(conn);
    const interval = Math.min(this.#timing.pingIntervalMs, this.#timing.idleTimeoutMs);
    const watchdog = setInterval(() => this.#keepAlive(conn), interval);
    watchdog.unref();
    conn.timers.add(watchdog);
    const maxMs = this.#protocol.maxConnectionMs;
    if (maxMs !== undefined) this.#after(conn, maxMs, () => this.#close(`connection ${maxMs} ms old: reconnecting before the exchange drops it`, 0));
  }

  #subscribe(conn: Connection): void {
    conn.subscribeTries++;
    for (const message of this.#protocol.subscribeMessages(this.#protocol.url)) conn.ws.send(message);
    conn.subscribeTimer = this.#after(conn, this.#timing.subscribeTimeoutMs, () => {
      if (!conn.subscribed) {
        this.#source.refusedSubscription();
        this.#subscribeFailed(conn, `no answer to the subscription within ${this.#timing.subscribeTimeoutMs} ms`);
      }
    });
  }

  /** Resubscribe once after a backoff delay, then reconnect (after the next backoff delay). */
  #subscribeFailed(conn: Connection, why: string): void {
    if (conn.subscribeTimer) clearTimeout(conn.subscribeTimer);
    conn.subscribeTimer = undefined;
    const hasSubscribe = this.#protocol.subscribeMessages(this.#protocol.url).length > 0;
    if (!hasSubscribe || conn.subscribeTries >= SUBSCRIBE_TRIES_MAX) {
      this.#close(`${why}; reconnecting`, this.#nextBackoffMs());
      return;
    }
    const delayMs = this.#nextBackoffMs();
    this.#source.link("resubscribe", `${why}; subscribing again in ${delayMs} ms`);
    conn.subscribeTimer = this.#after(conn, delayMs, () => this.#subscribe(conn));
  }

  #onMessage(conn: Connection, data: WebSocket.RawData, isBinary: boolean): void {
    this.#lastHeardAt = this.#now();
    if (isBinary) {
      this.#source.message("invalid");
      this.#source.parseError();
      return;
    }
    const text = Array.isArray(data) ? Buffer.concat(data).toString("utf8") : Buffer.from(data as Buffer).toString("utf8");
    const message = this.#protocol.parse(text);
    this.#source.message(message.kind);
    switch (message.kind) {
      case "price":
        if (!conn.subscribed) this.#subscribed(conn, "first price");
        this.#attempt = 0;
        this.#source.observe(message);
        return;
      case "subscribed":
        if (!conn.subscribed) this.#subscribed(conn, "subscription confirmed");
        return;
      case "refused":
        this.#log.warn({ message: message.message }, "exchange refused the subscription");
        this.#source.refusedSubscription();
        if (!conn.subscribed) this.#subscribeFailed(conn, `subscription refused: ${message.message}`);
        return;
      case "error":
        this.#log.warn({ message: message.message }, "exchange reported an error");
        return;
      case "status":
        this.#source.status(message.healthy, message.reason);
        return;
      case "shutdown":
        this.#close("the exchange announced a server shutdown: reconnecting now", 0);
        return;
      case "invalid":
        this.#source.parseError();
        this.#log.debug({ issue: message.issue }, "exchange frame failed its schema");
        return;
      case "alive":
        return;
    }
  }

  #subscribed(conn: Connection, why: string): void {
    conn.subscribed = true;
    if (conn.subscribeTimer) clearTimeout(conn.subscribeTimer);
    conn.subscribeTimer = undefined;
    this.#source.link("subscribed", why);
  }

  #keepAlive(conn: Connection): void {
    const ws = conn.ws;
    const idleMs = this.#now() - this.#lastHeardAt;
    if (idleMs > this.#timing.idleTimeoutMs) {
      this.#close(`silent for ${idleMs} ms: reconnecting`, this.#nextBackoffMs());
      return;
    }
    if (ws.readyState !== WebSocket.OPEN) return;
    if (this.#protocol.appPing) ws.send(this.#protocol.appPing(++this.#pingSeq));
    else ws.ping();
  }

  #after(conn: Connection, delayMs: number, fn: () => void): NodeJS.Timeout {
    const timer = setTimeout(() => {
      conn.timers.delete(timer);
      if (this.#conn === conn) fn();
    }, delayMs);
    timer.unref();
    conn.timers.add(timer);
    return timer;
  }

  #nextBackoffMs(): number {
    return backoffDelayMs(this.#attempt++, this.#timing.backoff);
  }

  /** The one way a connection ends: timers cleared, socket gone, state `backoff`, redial after `delayMs`. */
  #close(why: string, delayMs: number | undefined): void {
    const conn = this.#conn;
    if (!conn) return;
    this.#conn = undefined;
    for (const t of conn.timers) clearTimeout(t);
    conn.timers.clear();
    const ws = conn.ws;
    ws.removeAllListeners("close");
    ws.removeAllListeners("message");
    ws.on("error", () => {});
    if (ws.readyState !== WebSocket.CLOSED) ws.terminate();
    this.#source.link("closed", why);
    if (this.#stopped || delayMs === undefined) return;
    this.#log.info({ delayMs, attempt: this.#attempt }, "price source reconnecting");
    this.#reconnectTimer = setTimeout(() => {
      this.#reconnectTimer = undefined;
      if (this.#stopped) return;
      this.#source.link("redial", `redialling after ${delayMs} ms`);
      this.#connect();
    }, delayMs);
    this.#reconnectTimer.unref();
  }
}
