import type { Hooks, Peer } from "crossws";
import type { AppContext } from "../types.ts";
import { hashToken } from "../auth/sessions.ts";
import { createRealtimeMetrics, type RealtimeMetrics } from "./metrics.ts";
import { circuitFrame, frame, gridFrame, pongFrame, priceFrame, type HelloMessage } from "./messages.ts";
import { gridSnapshot, gridSourceOf } from "../pricing/grid-json.ts";
import type { QuoteInputs, QuoteTerms } from "../../domain/pricing/quote.ts";
import { PLAYER_EVENTS_CHANNEL } from "./player-events.ts";
import { rawSocketOf, textFrame, type RawSocket } from "./wire.ts";
import { GRID_SIZE } from "../api-docs/requests.ts";

/** WebSocket close codes we use (4xxx are application codes). */
export const CLOSE_UNAUTHORIZED = 4401;
export const CLOSE_POLICY = 1008; // flooding
export const CLOSE_TRY_AGAIN = 1013; // server full
export const CLOSE_GOING_AWAY = 1001;

/** Where SessionManager announces revoked sessions (sha256 of the token); see services/auth/sessions.ts. */
const SESSION_REVOKED_CHANNEL = "session:revoked";
/** The grid pushed to every client is the HTTP grid's default size. */
const GRID_COLS = GRID_SIZE.cols.default;
const GRID_ROWS = GRID_SIZE.rows.default;
const GRID_INTERVAL_MS = 1000;
/** Ticks whose pricing inputs are kept until their bus message arrives (a burst of ticks fits). */
const QUOTE_INPUTS_KEPT_MAX = 64;
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
  windowStartMs: number;
  messagesInWindow: number;
}

type UpgradeContext = {
  address?: string;
  tokenHash?: string;
  authFailed?: boolean;
};

/**
 * The WebSocket server (crossws on h3): every connection gets hello, index ticks, the grid about
 * once a second and circuit changes; authenticated ones also get their own bet and balance events
 * from the bus channel "user". Each broadcast is serialised once. A connection whose send buffer
 * exceeds WS_MAX_BUFFERED_BYTES is cut rather than buffered without bound; a client sending more
 * than WS_MAX_MESSAGES_PER_SEC frames is disconnected.
 */
export class RealtimeHub {
  readonly #ctx: AppContext;
  readonly #clients = new Map<Peer, Client>();
  readonly #byAddress = new Map<string, Set<Client>>();
  readonly #metrics: RealtimeMetrics;
  readonly #unsubscribe: (() => void)[] = [];
  #upgrading = 0;
  #lastPriceT = Number.NEGATIVE_INFINITY;
  /** Pricing inputs of this process's recent ticks by tick time, taken when each tick happened. */
  readonly #quoteInputsByT = new Map<number, QuoteInputs>();
  #lastCircuit: "open" | "closed" | undefined;
  #gridTimer: NodeJS.Timeout | undefined;
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

  start(): void {
    const { bus } = this.#ctx;
    this.#unsubscribe.push(
      bus.subscribe("price", (m) => this.#onPrice(m)),
      bus.subscribe("circuit", (m) => this.#onCircuit(m)),
      bus.subscribe(PLAYER_EVENTS_CHANNEL, (m) => this.#onUser(m)),
      bus.subscribe(SESSION_REVOKED_CHANNEL, (hash) => this.#onRevoked(hash)),
    );
    // Realtime starts after pricing, so this listener runs after the engine has seen the tick.
    const price = this.#ctx.services.price as AppContext["services"]["price"] | undefined;
    if (typeof price?.onTick === "function") this.#unsubscribe.push(price.onTick((tick) => this.#rememberQuoteInputs(tick.t)));
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
    if (this.#closing || this.#clients.size >= config.WS_MAX_CLIENTS) {
      this.#metrics.dropped.inc({ reason: "full" });
      peer.close(CLOSE_TRY_AGAIN, "too many clients");
      return;
    }
    const address = context.address?.toLowerCase();
    const client: Client = {
      peer,
      raw: config.WS_RAW_FRAMES ? rawSocketOf(peer) : undefined,
      address,
      tokenHash: context.tokenHash,
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
    const hello: HelloMessage = { type: "hello", serverTime: now, columnMs: config.COLUMN_MS, rowCents: config.ROW_CENTS, lockMs: config.LOCK_MS, authenticated: Boolean(address) };
    const quoteTerms = this.#quoteTerms();
    if (quoteTerms) hello.quoteTerms = quoteTerms;
    this.#send(client, frame(hello));
    // A new client should not wait for the next tick to know the price and whether bets are paused.
    const latest = services.price.latest();
    if (latest) this.#send(client, priceFrame(latest.priceCents, latest.t, this.#quoteInputsOf(latest.t, latest.priceCents)));
    if (services.price.circuit() === "open") this.#send(client, circuitFrame("open", now));
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
    if (isPing(text)) this.#send(client, pongFrame(now));
    else this.#metrics.badFrames.inc();
  }

  #remove(peer: Peer): void {
    const client = this.#clients.get(peer);
    if (!client) return;
    this.#clients.delete(peer);
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

  /** Sends one serialised message to every connection, framed once; returns how many it reached. */
  broadcast(data: Buffer): number {
    const started = performance.now();
    const framed = textFrame(data);
    let reached = 0;
    // Deleting the current entry while iterating a Map is safe: slow clients drop out in the loop.
    for (const client of this.#clients.values()) {
      const raw = client.raw;
      if (!raw) {
        if (this.#send(client, data)) reached++;
      } else if (raw.open) {
        raw.write(framed);
        if (this.#checkBuffered(client, raw.bufferedAmount)) reached++;
      }
    }
    this.#metrics.sent.inc(reached);
    this.#metrics.broadcastSeconds.observe((performance.now() - started) / 1000);
    return reached;
  }

  #onPrice(message: string): void {
    const tick = parseObject(message) as { t?: unknown; priceCents?: unknown } | undefined;
    if (!tick || typeof tick.t !== "number" || typeof tick.priceCents !== "number") return;
    // Several processes may publish the same index; a client sees each instant once, in order.
    if (tick.t <= this.#lastPriceT) return;
    this.#lastPriceT = tick.t;
    const inputs = this.#quoteInputsOf(tick.t, tick.priceCents);
    // Older ticks' inputs are no longer needed: clients see ticks in order.
    for (const t of this.#quoteInputsByT.keys()) {
      if (t > tick.t) break;
      this.#quoteInputsByT.delete(t);
    }
    if (this.#clients.size > 0) this.broadcast(priceFrame(tick.priceCents, tick.t, inputs));
  }

  /** Pricing is another module and may be absent (some tests): then hello carries no terms. */
  #quoteTerms(): QuoteTerms | undefined {
    const pricing = this.#ctx.services.pricing as AppContext["services"]["pricing"] | undefined;
    return typeof pricing?.quoteTerms === "function" ? pricing.quoteTerms() : undefined;
  }

  #currentQuoteInputs(): QuoteInputs | undefined {
    const pricing = this.#ctx.services.pricing as AppContext["services"]["pricing"] | undefined;
    return typeof pricing?.quoteInputs === "function" ? pricing.quoteInputs() : undefined;
  }

  /**
   * Taken synchronously when the tick happens: the bus delivers the tick later, when a burst of
   * ticks may already have moved the engine on.
   */
  #rememberQuoteInputs(t: number): void {
    const inputs = this.#currentQuoteInputs();
    if (inputs === undefined || inputs.t !== t) return;
    this.#quoteInputsByT.set(t, inputs);
    if (this.#quoteInputsByT.size > QUOTE_INPUTS_KEPT_MAX) {
      const oldest = this.#quoteInputsByT.keys().next().value as number;
      this.#quoteInputsByT.delete(oldest);
    }
  }

  /**
   * The pricing inputs of exactly this tick, or nothing: a tick from another process (Redis bus) or
   * one already dropped has none here, and inputs of another tick would make a client show
   * multipliers the server does not quote.
   */
  #quoteInputsOf(t: number, priceCents: number): QuoteInputs | undefined {
    const inputs = this.#quoteInputsByT.get(t) ?? this.#currentQuoteInputs();
    return inputs !== undefined && inputs.t === t && inputs.priceCents === priceCents ? inputs : undefined;
  }

  #onCircuit(message: string): void {
    const event = parseObject(message) as { state?: unknown; at?: unknown } | undefined;
    if (!event || (event.state !== "open" && event.state !== "closed") || typeof event.at !== "number") return;
    if (event.state === this.#lastCircuit) return;
    this.#lastCircuit = event.state;
    this.broadcast(circuitFrame(event.state, event.at));
    // The grid follows at once: empty while the circuit is open, offered again when it closes.
    this.#sendGrid();
  }

  #onUser(message: string): void {
    // Every bet and settlement publishes here; most players are not connected. Skip the JSON.parse
    // when nobody could receive it, or when the address our publishers put first is not connected.
    if (this.#byAddress.size === 0) return;
    const head = USER_MESSAGE_HEAD.exec(message);
    if (head && !this.#byAddress.has(head[1]!.toLowerCase())) return;
    const parsed = parseObject(message) as { address?: unknown; event?: unknown } | undefined;
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

  #sendGrid(): void {
    if (this.#clients.size === 0) return;
    // Pricing is another module; until it is installed (or while it has no price) there is no grid.
    const pricing = this.#ctx.services.pricing as AppContext["services"]["pricing"] | undefined;
    if (typeof pricing?.grid !== "function") return;
    try {
      const grid = gridSnapshot(gridSourceOf(pricing, this.#ctx.services.price), GRID_COLS, GRID_ROWS, this.#ctx.now());
      if (grid) this.broadcast(gridFrame(grid));
    } catch (error) {
      this.#ctx.log.error({ err: error }, "grid broadcast failed");
    }
  }
}

function parseObject(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** The only client frame of API.md: {"type":"ping"}. Anything else is a bad frame. */
function isPing(text: string): boolean {
  if (text.length > 256) return false;
  const value = parseObject(text);
  return value?.type === "ping";
}
