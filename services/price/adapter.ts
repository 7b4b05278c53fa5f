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
  /**
   * No message (a text frame: price, heartbeat, app-level pong, status …) for this long → drop the
   * connection and redial. Protocol ping/pong frames do not count: a server that answers pings but
   * sends nothing on a subscribed feed is stuck.
   */
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
 * - Any message (heartbeats included) proves the link alive; none for idleTimeoutMs → close and
 *   redial. Protocol pings are still sent and answered (the exchanges require it).
 *   Liveness never refreshes a price: freshness is the feed's, from the exchange's event time.
 * - `serverShutdown` and the exchange's connection age limit (maxConnectionMs) → renew at once,
 *   make before break: a replacement connection is dialled and subscribed while the current one
 *   keeps serving, then takes over (if the current one dies first, the replacement carries on).
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
  /** A replacement being subscribed while the current connection still serves (see #renew). */
  #standby: Connection | undefined;
  #attempt = 0;
  #everConnected = false;
  #stopped = true;
  #lastMessageAt = 0;
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
    this.#conn = this.#dial();
  }

  /** A new socket; its events go to the current connection's or the standby's handling. */
  #dial(): Connection {
    const ws = new WebSocket(this.#protocol.url, {
      perMessageDeflate: false,
      handshakeTimeout: this.#timing.connectTimeoutMs,
      maxPayload: FRAME_BYTES_MAX,
    });
    const conn: Connection = { ws, openedAt: undefined, subscribed: false, subscribeTries: 0, subscribeTimer: undefined, timers: new Set() };
    ws.on("open", () => {
      if (this.#conn === conn) this.#onOpen(conn, true);
      else if (this.#standby === conn) this.#subscribe(conn);
    });
    ws.on("message", (data, isBinary) => {
      if (this.#conn === conn) this.#onMessage(conn, data, isBinary);
      else if (this.#standby === conn) this.#onStandbyMessage(conn, data, isBinary);
    });
    ws.on("error", (error) => this.#log.debug({ err: error.message }, "exchange socket error"));
    ws.on("close", (code) => {
      if (this.#conn === conn) this.#onCurrentClosed(code);
      else if (this.#standby === conn) this.#discardStandby(`replacement connection closed (code ${code})`);
    });
    return conn;
  }

  #onOpen(conn: Connection, subscribe: boolean): void {
    conn.openedAt = this.#now();
    this.#lastMessageAt = conn.openedAt;
    if (this.#everConnected) this.#source.reconnected();
    this.#everConnected = true;
    this.#source.link("open", `connected to ${this.#protocol.url}`);
    if (subscribe) this.#subscribe(conn);
    this.#armTimers(conn);
  }

  /** The watchdog, and the renewal before the exchange's connection age limit. */
  #armTimers(conn: Connection): void {
    const interval = Math.min(this.#timing.pingIntervalMs, this.#timing.idleTimeoutMs);
    const watchdog = setInterval(() => this.#keepAlive(conn), interval);
    watchdog.unref();
    conn.timers.add(watchdog);
    const maxMs = this.#protocol.maxConnectionMs;
    if (maxMs !== undefined) this.#after(conn, maxMs, () => this.#renew(`connection ${maxMs} ms old: renewing it before the exchange drops it`));
  }

  #onCurrentClosed(code: number): void {
    const standby = this.#standby;
    this.#standby = undefined;
    this.#close(`closed by the exchange (code ${code})`, standby ? undefined : this.#nextBackoffMs());
    if (!standby || this.#stopped) return;
    // A replacement was already dialled: carry on with it instead of waiting for a backoff.
    this.#conn = standby;
    this.#source.link("redial", "continuing on the connection dialled to replace it");
    if (standby.ws.readyState === WebSocket.OPEN) this.#onOpen(standby, false);
  }

  /**
   * Make before break (serverShutdown, connection age): dial a replacement and subscribe it while
   * the current connection keeps serving prices; the replacement takes over once subscribed, so the
   * index sees no gap. The source's state does not change.
   */
  #renew(why: string): void {
    if (this.#stopped || this.#standby || !this.#conn) return;
    this.#log.info({ why }, "price source renewing its connection");
    this.#standby = this.#dial();
  }

  #onStandbyMessage(conn: Connection, data: WebSocket.RawData, isBinary: boolean): void {
    if (isBinary) return;
    const message = this.#protocol.parse(Array.isArray(data) ? Buffer.concat(data).toString("utf8") : Buffer.from(data as Buffer).toString("utf8"));
    if (message.kind === "subscribed" || message.kind === "price") {
      this.#promote(conn);
      if (message.kind === "price") this.#onMessage(conn, data, isBinary);
    } else if (message.kind === "refused") {
      this.#source.refusedSubscription();
      this.#subscribeFailed(conn, `subscription refused: ${message.message}`);
    }
  }

  #promote(standby: Connection): void {
    const old = this.#conn;
    this.#standby = undefined;
    if (old) this.#release(old);
    this.#conn = standby;
    standby.subscribed = true;
    if (standby.subscribeTimer) clearTimeout(standby.subscribeTimer);
    standby.subscribeTimer = undefined;
    standby.openedAt = this.#now();
    this.#lastMessageAt = standby.openedAt;
    this.#source.reconnected();
    this.#armTimers(standby);
    this.#log.info("price source connection renewed");
  }

  #discardStandby(why: string): void {
    const standby = this.#standby;
    if (!standby) return;
    this.#standby = undefined;
    this.#release(standby);
    this.#log.warn({ why }, "replacement connection failed; the current one keeps serving");
    const current = this.#conn;
    if (current && !this.#stopped) this.#after(current, this.#nextBackoffMs(), () => this.#renew(`retrying the renewal after: ${why}`));
  }

  /** Timers cleared, listeners gone, socket terminated; no state change. */
  #release(conn: Connection): void {
    for (const t of conn.timers) clearTimeout(t);
    conn.timers.clear();
    const ws = conn.ws;
    ws.removeAllListeners("close");
    ws.removeAllListeners("message");
    ws.on("error", () => {});
    if (ws.readyState !== WebSocket.CLOSED) ws.terminate();
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
    const standby = conn === this.#standby;
    if (!hasSubscribe || conn.subscribeTries >= SUBSCRIBE_TRIES_MAX) {
      if (standby) this.#discardStandby(why);
      else this.#close(`${why}; reconnecting`, this.#nextBackoffMs());
      return;
    }
    const delayMs = this.#nextBackoffMs();
    if (!standby) this.#source.link("resubscribe", `${why}; subscribing again in ${delayMs} ms`);
    conn.subscribeTimer = this.#after(conn, delayMs, () => this.#subscribe(conn));
  }

  #onMessage(conn: Connection, data: WebSocket.RawData, isBinary: boolean): void {
    this.#lastMessageAt = this.#now();
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
        this.#renew("the exchange announced a server shutdown: reconnecting now");
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
    const idleMs = this.#now() - this.#lastMessageAt;
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
      if (this.#conn === conn || this.#standby === conn) fn();
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
    const standby = this.#standby;
    this.#standby = undefined;
    if (standby) this.#release(standby);
    this.#release(conn);
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
