import type { Hooks, Peer } from "crossws";
import { parseBusObject } from "../../storage/bus/index.ts";
import type { AppContext } from "../types.ts";
import { hashToken } from "../auth/sessions.ts";
import { createRealtimeMetrics, type RealtimeMetrics } from "./metrics.ts";
import { circuitFrame, frame, gridFrame, helloFrame, pongFrame, streamFrame } from "./messages.ts";
import { parseClientMessage } from "./client-messages.ts";
import { gridSnapshot, gridSourceOf } from "../pricing/grid-json.ts";
import { PLAYER_EVENTS_CHANNEL } from "./player-events.ts";
import { rawSocketOf, textFrame, type RawSocket } from "./wire.ts";
import { GRID_SIZE } from "../api-docs/requests.ts";
import type { MarketStream, StreamState } from "../stream/index.ts";

/** WebSocket close codes we use (4xxx are application codes). */
export const CLOSE_UNAUTHORIZED = 4401;
export const CLOSE_POLICY = 1008; // flooding
export const CLOSE_TRY_AGAIN = 1013; // server full
export const CLOSE_GOING_AWAY = 1001;

/** Where SessionManager announces revoked sessions (sha256 of the token); see services/auth/sessions.ts. */
const SESSION_REVOKED_CHANNEL = "session:revoked";
/** The grid pushed to subscribers is the HTTP grid's default size. */
const GRID_COLS = GRID_SIZE.cols.default;
const GRID_ROWS = GRID_SIZE.rows.default;
const GRID_INTERVAL_MS = 1000;
/** `{"address":"0x…",` as publishPlayerEvent (player-events.ts) writes every player event. */
const USER_MESSAGE_HEAD = /^\{"address":"(0x[0-9a-fA-F]{40})",/;

interface Client {
  peer: Peer;
  /** The fast path for broadcasts; undefined → peer.send. */
  raw: RawSocket | undefined;
  /** Lower-case address of an authenticated connection. */
  address: string | undefined;
  /** sha256 of its session token, to cut the connection when the session is revoked (logout). */
  tokenHash: string | undefined;
  /** Subscribed to the 1/s `grid` (API.md: only sockets that ask for it get it). */
  grid: boolean;
  windowStartMs: number;
  messagesInWindow: number;
}

type UpgradeContext = {
  address?: string;
  tokenHash?: string;
  authFailed?: boolean;
};

/** Frames waiting for the end of the turn: each payload, and all of them framed once. */
interface Pending {
  payloads: Buffer[];
  framed: Buffer[];
}

/**
 * The WebSocket server (crossws on h3). Every connection gets the default stream of API.md: hello,
 * the market stream's price frames (services/stream: serialised once per tick, on the core or
 * relayed by an edge), circuit changes and, with a token, the player's own bet and balance events
 * from the bus channel "user". The 1/s grid goes only to connections that subscribe to it.
 *
 * Fan-out: a broadcast is framed once (wire.ts) and queued; at the end of the turn the queued frames
 * go to every connection as one write, so a burst of ticks and a circuit change cost one write per
 * socket. A connection whose send buffer exceeds WS_MAX_BUFFERED_BYTES is cut rather than buffered
 * without bound; a client sending more than WS_MAX_MESSAGES_PER_SEC frames is disconnected.
 */
export class RealtimeHub {
  readonly #ctx: AppContext;
  readonly #clients = new Map<Peer, Client>();
  readonly #byAddress = new Map<string, Set<Client>>();
  readonly #metrics: RealtimeMetrics;
  readonly #unsubscribe: (() => void)[] = [];
  #upgrading = 0;
  #gridSubscribers = 0;
  #lastCircuit: "open" | "closed" | undefined;
  #gridTimer: NodeJS.Timeout | undefined;
  #pending: Pending = { payloads: [], framed: [] };
  #flushScheduled = false;
  #closing = false;
  readonly hooks: Partial<Hooks>;

  constructor(ctx: AppContext) {
    this.#ctx = ctx;
    this.#metrics = createRealtimeMetrics(ctx.metrics, () => this.#clients.size);
    this.hooks = {
      upgrade: (request) => this.#upgrade(request),
      open: (peer) => this.#open(peer),
      message: (peer, message) => this.#message(peer, message.text()),
      close: (peer) => this.#remove(peer),
      error: (peer) => this.#remove(peer),
    };
  }

  get clients(): number {
    return this.#clients.size;
  }

  /** Connections served by the framed-once fast path (wire.ts); the others go through `peer.send`. */
  get rawFrameClients(): number {
    let count = 0;
    for (const client of this.#clients.values()) if (client.raw) count++;
    return count;
  }

  get #stream(): MarketStream {
    return this.#ctx.services.stream;
  }

  start(): void {
    const { bus, services } = this.#ctx;
    this.#unsubscribe.push(
      this.#stream.listen({
        frame: (data) => this.broadcast(data),
        terms: () => this.#resendHello(),
        state: (state, at) => this.#onStreamState(state, at),
      }),
      services.price.onCircuit((state, at) => this.#onCircuit(state, at)),
      bus.subscribe(PLAYER_EVENTS_CHANNEL, (m) => this.#onUser(m)),
      bus.subscribe(SESSION_REVOKED_CHANNEL, (hash) => this.#onRevoked(hash)),
    );
    this.#gridTimer = setInterval(() => this.#sendGrid(), GRID_INTERVAL_MS);
    this.#gridTimer.unref();
  }

  /**
   * Shutdown: stops fan-out and closes every connection with 1001; whoever has not completed the
   * closing handshake within `graceMs` (a client that stopped reading) is cut.
   */
  async stop(graceMs = 1000): Promise<void> {
    this.#closing = true;
    for (const off of this.#unsubscribe.splice(0)) off();
    if (this.#gridTimer) clearInterval(this.#gridTimer);
    this.#gridTimer = undefined;
    this.#pending = { payloads: [], framed: [] };
    const peers = [...this.#clients.keys()];
    for (const peer of peers) peer.close(CLOSE_GOING_AWAY, "server shutting down");
    // Wall-clock on purpose: a test's frozen ctx.now() would make this wait forever.
    const deadline = Date.now() + graceMs;
    while (this.#clients.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    for (const peer of this.#clients.keys()) peer.terminate();
    this.#clients.clear();
    this.#byAddress.clear();
  }

  async #upgrade(request: Request): Promise<Response | { context: UpgradeContext }> {
    const { config, services } = this.#ctx;
    if (this.#closing || this.#clients.size + this.#upgrading >= config.WS_MAX_CLIENTS) {
      this.#metrics.dropped.inc({ reason: "full" });
      return new Response("too many WebSocket clients", { status: 503, headers: { "retry-after": "5" } });
    }
    // An edge that has not heard from the core has no hello to give (nginx tries another edge).
    if (this.#stream.terms() === undefined) {
      this.#metrics.dropped.inc({ reason: "not_ready" });
      return new Response("waiting for the market stream", { status: 503, headers: { "retry-after": "1" } });
    }
    const token = new URL(request.url).searchParams.get("token");
    if (token === null) return { context: {} };
    this.#upgrading++;
    try {
      const session = await services.auth.sessions.authenticate(token);
      // Refused after the handshake so the client sees close code 4401, not an opaque HTTP error.
      return { context: session ? { address: session.address, tokenHash: hashToken(token) } : { authFailed: true } };
    } catch (error) {
      // The session store is unreachable: that is our failure, not a bad token.
      this.#ctx.log.warn({ err: error instanceof Error ? error.message : String(error) }, "ws session check failed");
      return new Response("session store unavailable", { status: 503, headers: { "retry-after": "5" } });
    } finally {
      this.#upgrading--;
    }
  }

  #open(peer: Peer): void {
    const context = peer.context as UpgradeContext;
    if (context.authFailed) {
      this.#metrics.dropped.inc({ reason: "unauthorized" });
      peer.close(CLOSE_UNAUTHORIZED, "invalid token");
      return;
    }
    const { config, services } = this.#ctx;
    const terms = this.#stream.terms();
    if (this.#closing || this.#clients.size >= config.WS_MAX_CLIENTS || terms === undefined) {
      this.#metrics.dropped.inc({ reason: terms === undefined ? "not_ready" : "full" });
      peer.close(CLOSE_TRY_AGAIN, terms === undefined ? "waiting for the market stream" : "too many clients");
      return;
    }
    // Frames queued this turn go to the connections that were there: this one starts with the latest.
    this.#flush();
    const address = context.address?.toLowerCase();
    const client: Client = {
      peer,
      raw: config.WS_RAW_FRAMES ? rawSocketOf(peer) : undefined,
      address,
      tokenHash: context.tokenHash,
      grid: false,
      windowStartMs: this.#ctx.now(),
      messagesInWindow: 0,
    };
    this.#clients.set(peer, client);
    if (address) {
      let set = this.#byAddress.get(address);
      if (!set) this.#byAddress.set(address, (set = new Set()));
      set.add(client);
    }
    const now = this.#ctx.now();
    this.#send(client, helloFrame(terms, now, Boolean(address)));
    // A new client should not wait for the next tick to know the price and whether bets are paused.
    const latest = this.#stream.latestFrame();
    if (latest) this.#send(client, latest);
    if (services.price.circuit() === "open") this.#send(client, circuitFrame("open", now));
    if (this.#stream.state() === "interrupted") this.#send(client, streamFrame("interrupted", now));
  }

  #message(peer: Peer, text: string): void {
    const client = this.#clients.get(peer);
    if (!client) return;
    const now = this.#ctx.now();
    if (now - client.windowStartMs >= 1000) {
      client.windowStartMs = now;
      client.messagesInWindow = 0;
    }
    if (++client.messagesInWindow > this.#ctx.config.WS_MAX_MESSAGES_PER_SEC) {
      this.#metrics.dropped.inc({ reason: "flood" });
      this.#remove(peer);
      peer.close(CLOSE_POLICY, "too many messages");
      return;
    }
    const message = parseClientMessage(text);
    if (message === undefined) this.#metrics.badFrames.inc();
    else if (message.type === "ping") this.#send(client, pongFrame(now));
    else this.#setGrid(client, message.type === "subscribe");
  }

  #setGrid(client: Client, on: boolean): void {
    if (client.grid === on) return;
    client.grid = on;
    this.#gridSubscribers += on ? 1 : -1;
  }

  #remove(peer: Peer): void {
    const client = this.#clients.get(peer);
    if (!client) return;
    this.#clients.delete(peer);
    this.#setGrid(client, false);
    if (client.address) {
      const set = this.#byAddress.get(client.address);
      set?.delete(client);
      if (set?.size === 0) this.#byAddress.delete(client.address);
    }
  }

  /** Writes one message; a connection whose unsent bytes pass the bound is cut at once. */
  #send(client: Client, data: Buffer): boolean {
    const buffered = client.peer.send(data, { compress: false, binary: false } as { compress?: boolean });
    return this.#checkBuffered(client, typeof buffered === "number" ? buffered : client.peer.bufferedAmount);
  }

  #checkBuffered(client: Client, bufferedBytes: number): boolean {
    if (bufferedBytes <= this.#ctx.config.WS_MAX_BUFFERED_BYTES) return true;
    this.#metrics.dropped.inc({ reason: "slow" });
    this.#remove(client.peer);
    // terminate, not close: a close frame would queue behind the very bytes that are stuck.
    client.peer.terminate();
    return false;
  }

  /** Queues one serialised message for every connection: framed once now, written at the end of the turn. */
  broadcast(data: Buffer): void {
    if (this.#clients.size === 0 || this.#closing) return;
    this.#pending.payloads.push(data);
    this.#pending.framed.push(textFrame(data));
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    setImmediate(() => this.#flush());
  }

  #flush(): void {
    this.#flushScheduled = false;
    const { payloads, framed } = this.#pending;
    if (payloads.length === 0) return;
    this.#pending = { payloads: [], framed: [] };
    const started = performance.now();
    const reached = this.#fanOut(payloads, framed.length === 1 ? framed[0]! : Buffer.concat(framed));
    this.#metrics.sent.inc(reached * payloads.length);
    this.#metrics.broadcastSeconds.observe((performance.now() - started) / 1000);
  }

  /** Writes `framed` (the frames of `payloads`, back to back) to every connection that `only` admits. */
  #fanOut(payloads: readonly Buffer[], framed: Buffer, only?: (client: Client) => boolean): number {
    let reached = 0;
    // Deleting the current entry while iterating a Map is safe: slow clients drop out in the loop.
    for (const client of this.#clients.values()) {
      if (only && !only(client)) continue;
      const raw = client.raw;
      if (!raw) {
        if (payloads.every((data) => this.#send(client, data))) reached++;
      } else if (raw.open) {
        raw.write(framed);
        if (this.#checkBuffered(client, raw.bufferedAmount)) reached++;
      }
    }
    return reached;
  }

  /** A new epoch or the first quote keys: every connection gets the hello it would get now. */
  #resendHello(): void {
    const terms = this.#stream.terms();
    if (terms === undefined || this.#clients.size === 0) return;
    const now = this.#ctx.now();
    const hellos = { anonymous: helloFrame(terms, now, false), player: helloFrame(terms, now, true) };
    this.#flush(); // frames queued before the change belong before the new hello
    for (const client of [...this.#clients.values()]) this.#send(client, client.address ? hellos.player : hellos.anonymous);
  }

  #onStreamState(state: StreamState, at: number): void {
    this.broadcast(streamFrame(state, at));
  }

  #onCircuit(state: "open" | "closed", at: number): void {
    if (state === this.#lastCircuit) return;
    this.#lastCircuit = state;
    this.broadcast(circuitFrame(state, at));
    // The grid follows at once: empty while the circuit is open, offered again when it closes.
    this.#sendGrid();
  }

  #onUser(message: string): void {
    // Every bet and settlement publishes here; most players are not connected. Skip the JSON.parse
    // when nobody could receive it, or when the address our publishers put first is not connected.
    if (this.#byAddress.size === 0) return;
    const head = USER_MESSAGE_HEAD.exec(message);
    if (head && !this.#byAddress.has(head[1]!.toLowerCase())) return;
    const parsed = parseBusObject(message) as { address?: unknown; event?: unknown } | undefined;
    if (!parsed || typeof parsed.address !== "string" || typeof parsed.event !== "object" || parsed.event === null) return;
    const set = this.#byAddress.get(parsed.address.toLowerCase());
    if (!set) return;
    const data = frame(parsed.event);
    for (const client of [...set]) this.#send(client, data);
    this.#metrics.sent.inc(set.size);
  }

  /** Logout ends private delivery at once: the connection of a revoked session is closed. */
  #onRevoked(tokenHash: string): void {
    for (const client of this.#clients.values()) {
      if (client.tokenHash !== tokenHash) continue;
      this.#remove(client.peer);
      client.peer.close(CLOSE_UNAUTHORIZED, "session ended");
    }
  }

  /** The grid to the connections that subscribed to it (none: nothing is built). */
  #sendGrid(): void {
    if (this.#gridSubscribers === 0) return;
    // Pricing is another module; until it is installed (or while it has no price) there is no grid.
    const pricing = this.#ctx.services.pricing as AppContext["services"]["pricing"] | undefined;
    if (typeof pricing?.grid !== "function") return;
    try {
      const grid = gridSnapshot(gridSourceOf(pricing, this.#ctx.services.price), GRID_COLS, GRID_ROWS, this.#ctx.now());
      if (!grid) return;
      this.#flush(); // a circuit change queued just now goes first
      const data = gridFrame(grid);
      const reached = this.#fanOut([data], textFrame(data), (client) => client.grid);
      this.#metrics.sent.inc(reached);
    } catch (error) {
      this.#ctx.log.error({ err: error }, "grid broadcast failed");
    }
  }
}
