import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { WebSocketServer, type WebSocket } from "ws";

/**
 * A local stand-in for an exchange's public WebSocket feed: real `ws` server on loopback, speaking
 * one exchange's protocol (see binance.ts, coinbase.ts, kraken.ts). Tests push prices, silence the
 * feed, kill the server and restart it on the same port.
 */
export interface FakeProtocol {
  /** Called for each new connection (greetings, e.g. Kraken's status message). */
  onConnect(client: FakeClient): void;
  /** Called for each text frame the client sends. */
  onMessage(client: FakeClient, text: string): void;
  /** The frame(s) announcing a trade at `price` (a decimal string like "97123.45"). */
  priceFrames(client: FakeClient, price: string, seq: number): string[];
  /** A heartbeat frame, sent every `heartbeatMs` while not silenced (undefined: protocol pings instead). */
  heartbeatFrame?(client: FakeClient, seq: number): string;
}

export interface FakeClient {
  ws: WebSocket;
  path: string;
  subscribed: boolean;
  received: string[];
  send(frame: string): void;
}

export interface FakeExchangeOptions {
  heartbeatMs?: number;
  /** Protocol-level ping frames (Binance pings every 20 s; faster here). */
  pingMs?: number;
  /** The exchange ends every connection this long after it opened (Binance: 24 h; seconds here). */
  maxConnectionMs?: number;
}

/**
 * A scenario's say over a client's message before the protocol sees it (refuse a subscribe, stay
 * silent, ...): return true when handled, false to let the protocol answer as usual.
 */
export type Intercept = (client: FakeClient, text: string) => boolean;

export class FakeExchange {
  readonly #protocol: FakeProtocol;
  readonly #options: FakeExchangeOptions;
  #http: Server | undefined;
  #wss: WebSocketServer | undefined;
  #port = 0;
  #seq = 0;
  #silenced = false;
  #timers: NodeJS.Timeout[] = [];
  #stream: NodeJS.Timeout | undefined;
  readonly clients = new Set<FakeClient>();
  /** Connections accepted since creation (a reconnect shows as a second one). */
  connectionsTotal = 0;
  /** Connections this fake ended itself because of maxConnectionMs. */
  droppedForAge = 0;
  /** Connections the client closed (the adapter hanging up). */
  closedByClient = 0;
  intercept: Intercept | undefined;
  #onConnection: (() => void)[] = [];

  constructor(protocol: FakeProtocol, options: FakeExchangeOptions = {}) {
    this.#protocol = protocol;
    this.#options = options;
  }

  get port(): number {
    return this.#port;
  }

  url(path: string): string {
    return `ws://127.0.0.1:${this.#port}${path}`;
  }

  async start(port = this.#port): Promise<void> {
    const http = createServer((_req, res) => res.writeHead(426).end());
    const wss = new WebSocketServer({ server: http });
    wss.on("connection", (ws, req) => this.#accept(ws, req.url ?? "/"));
    await new Promise<void>((resolve, reject) => {
      http.once("error", reject);
      http.listen(port, "127.0.0.1", () => resolve());
    });
    this.#http = http;
    this.#wss = wss;
    this.#port = (http.address() as AddressInfo).port;
    const beat = this.#protocol.heartbeatFrame;
    if (beat && this.#options.heartbeatMs) {
      this.#timers.push(setInterval(() => this.#each((c) => c.subscribed && c.send(beat(c, ++this.#seq))), this.#options.heartbeatMs));
    }
    if (this.#options.pingMs) this.#timers.push(setInterval(() => this.#each((c) => c.ws.ping()), this.#options.pingMs));
  }

  #accept(ws: WebSocket, path: string): void {
    const client: FakeClient = {
      ws,
      path,
      subscribed: false,
      received: [],
      send: (frame) => {
        if (!this.#silenced && ws.readyState === ws.OPEN) ws.send(frame);
      },
    };
    this.clients.add(client);
    this.connectionsTotal++;
    let droppedByUs = false;
    ws.on("message", (data) => {
      const text = data.toString();
      client.received.push(text);
      if (this.intercept?.(client, text)) return;
      this.#protocol.onMessage(client, text);
    });
    ws.on("close", () => {
      if (this.clients.delete(client) && !droppedByUs) this.closedByClient++;
    });
    const maxMs = this.#options.maxConnectionMs;
    if (maxMs !== undefined) {
      const timer = setTimeout(() => {
        if (ws.readyState !== ws.OPEN) return;
        droppedByUs = true;
        this.droppedForAge++;
        ws.close(1000, "connection too old");
      }, maxMs);
      ws.on("close", () => clearTimeout(timer));
    }
    ws.on("error", () => {});
    this.#protocol.onConnect(client);
    for (const waiter of this.#onConnection.splice(0)) waiter();
  }

  #each(fn: (c: FakeClient) => void): void {
    for (const c of this.clients) fn(c);
  }

  /** Sends one trade at `price` to every subscribed client. */
  trade(price: string | number): void {
    const text = typeof price === "number" ? price.toFixed(2) : price;
    this.#each((c) => {
      if (c.subscribed) for (const frame of this.#protocol.priceFrames(c, text, ++this.#seq)) c.send(frame);
    });
  }

  /** Sends a raw frame to every client (malformed input tests). */
  raw(frame: string): void {
    this.#each((c) => c.send(frame));
  }

  /** Trades at `price()` every `everyMs` until `stopStream()`. */
  stream(price: () => string | number, everyMs: number): void {
    this.stopStream();
    this.#stream = setInterval(() => this.trade(price()), everyMs);
  }

  stopStream(): void {
    if (this.#stream) clearInterval(this.#stream);
    this.#stream = undefined;
  }

  /** The feed goes quiet (no trades, no heartbeats) but connections stay open. */
  silence(on = true): void {
    this.#silenced = on;
  }

  /** Resolves once a client is connected and subscribed (or connected, for URL-subscribed streams). */
  async waitForSubscriber(timeoutMs = 10_000): Promise<FakeClient> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const ready = [...this.clients].find((c) => c.subscribed);
      if (ready) return ready;
      if (Date.now() > deadline) throw new Error("no subscriber in time");
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 20);
        this.#onConnection.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Kills every connection abruptly and stops listening (an exchange outage). */
  async kill(): Promise<void> {
    this.stopStream();
    for (const t of this.#timers) clearInterval(t);
    this.#timers = [];
    const clients = [...this.clients];
    this.clients.clear();
    for (const c of clients) c.ws.terminate();
    await new Promise<void>((resolve) => (this.#wss ? this.#wss.close(() => resolve()) : resolve()));
    await new Promise<void>((resolve) => (this.#http ? this.#http.close(() => resolve()) : resolve()));
    this.#http?.closeAllConnections();
    this.#http = undefined;
    this.#wss = undefined;
  }

  /** Listens again on the same port. */
  async restart(): Promise<void> {
    await this.start(this.#port);
  }
}
