import type { AppContext } from "../types.ts";
import { parseBusObject } from "../../storage/bus/index.ts";
import type { CircuitState, IndexTick, PriceService, SourceHealth } from "../price/types.ts";
import type { PricingService } from "../pricing/types.ts";
import type { QuoteInputs } from "../../domain/pricing/quote.ts";
import { decodeQuote } from "../../domain/pricing/quote-wire.ts";
import { PricingEngine } from "../pricing/engine.ts";
import { pricingEngineOptions, pricingServiceOf } from "../pricing/index.ts";
import { StreamListeners } from "./listeners.ts";
import { CORE_STATE_CHANNEL, CORE_STATE_INTERVAL_MS, PRICE_FRAMES_CHANNEL, type CoreState, type MarketStream, type MarketTerms, type StreamListener, type StreamState } from "./types.ts";

/** No word from the core for this long (its state comes every second): the stream is interrupted. */
export const CORE_SILENCE_MS = 3 * CORE_STATE_INTERVAL_MS;
const SILENCE_CHECK_MS = 250;
const LISTENERS_MAX = 100;

/**
 * An edge's view of the market (ROLE=edge, SPEC §11): the core's price frames, circuit changes and
 * state from the bus, served through the same interfaces the core's own modules offer — `price`
 * (latest tick, circuit, sources), `pricing` (quotes from the inputs the core published with each tick,
 * by the same engine and quote function: the multipliers of GET /api/grid are the core's) and `stream`
 * (the frames as bytes, for the WebSocket hub). It holds no database and no feed, and nothing a
 * restart would lose.
 *
 * Frames of one epoch are taken in `seq` order: a repeated or older one is dropped (the hub never
 * sends a tick twice); a gap is left for clients to see. A frame of an epoch whose state has not
 * arrived yet (its quote keys are unknown) is dropped too: the core publishes its state before its
 * first quoted frame, on the same connection, so this happens only when the edge joins mid-stream.
 * No word from the core for CORE_SILENCE_MS makes the stream "interrupted" until the next one.
 */
export class StreamMirror implements MarketStream {
  readonly #ctx: AppContext;
  readonly #listeners: StreamListeners;
  readonly #tickListeners = new Set<(tick: IndexTick) => void>();
  readonly #circuitListeners = new Set<(state: CircuitState, at: number) => void>();
  readonly #off: (() => void)[] = [];
  #terms: MarketTerms | undefined;
  /** Why the core's terms cannot be served here (they differ from this edge's configuration). */
  #mismatch: string | undefined;
  #seq = 0;
  #latestTick: IndexTick | undefined;
  #latestInputs: QuoteInputs | undefined;
  #latestFrame: Buffer | undefined;
  #circuit: CircuitState = "open";
  #sources: SourceHealth[] = [];
  #lastHeardAt = Number.NEGATIVE_INFINITY;
  #state: StreamState = "interrupted";
  #timer: NodeJS.Timeout | undefined;
  readonly price: PriceService;
  readonly pricing: PricingService;

  constructor(ctx: AppContext) {
    this.#ctx = ctx;
    this.#listeners = new StreamListeners(ctx.log);
    const engine = new PricingEngine({ ...pricingEngineOptions(ctx.config), inputsOf: (tick) => this.#inputsOf(tick) }, () => this.#tick());
    this.price = this.#priceService();
    this.pricing = pricingServiceOf(engine);
  }

  start(): void {
    const { bus } = this.#ctx;
    this.#off.push(
      bus.subscribe(CORE_STATE_CHANNEL, (m) => this.#onState(m)),
      bus.subscribe(PRICE_FRAMES_CHANNEL, (m) => this.#onFrame(m)),
      bus.subscribe("circuit", (m) => this.#onCircuitMessage(m)),
    );
    this.#timer = setInterval(() => this.#checkSilence(), SILENCE_CHECK_MS);
    this.#timer.unref();
  }

  stop(): void {
    for (const off of this.#off.splice(0)) off();
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  terms(): MarketTerms | undefined {
    return this.#mismatch === undefined ? this.#terms : undefined;
  }

  latestFrame(): Buffer | undefined {
    return this.#mismatch === undefined ? this.#latestFrame : undefined;
  }

  state(): StreamState {
    return this.#state;
  }

  listen(listener: StreamListener): () => void {
    return this.#listeners.add(listener);
  }

  /** Readiness of the edge ("ok", or why it cannot serve the audience). */
  readiness(): string {
    if (this.#terms === undefined) return "no word from the core yet";
    if (this.#mismatch !== undefined) return this.#mismatch;
    if (this.#state === "interrupted") return `no word from the core for ${Math.round(this.#ctx.now() - this.#lastHeardAt)} ms`;
    return "ok";
  }

  #tick(): IndexTick | undefined {
    return this.#mismatch === undefined && this.#latestTick ? { ...this.#latestTick } : undefined;
  }

  #inputsOf(tick: IndexTick): QuoteInputs | undefined {
    const inputs = this.#latestInputs;
    return inputs !== undefined && inputs.t === tick.t && inputs.priceCents === tick.priceCents ? inputs : undefined;
  }

  #heard(): void {
    this.#lastHeardAt = this.#ctx.now();
    if (this.#state === "live" || this.#terms === undefined) return;
    this.#state = "live";
    this.#ctx.log.info("market stream from the core: live");
    this.#listeners.state("live", this.#lastHeardAt);
  }

  #checkSilence(): void {
    const now = this.#ctx.now();
    if (this.#state !== "live" || now - this.#lastHeardAt <= CORE_SILENCE_MS) return;
    this.#state = "interrupted";
    this.#ctx.log.warn({ silentMs: now - this.#lastHeardAt }, "market stream from the core: interrupted (no word from the core)");
    this.#listeners.state("interrupted", now);
  }

  #onState(message: string): void {
    const state = parseBusObject(message) as Partial<CoreState> | undefined;
    if (!state || !isTerms(state.terms) || typeof state.seq !== "number" || (state.circuit !== "open" && state.circuit !== "closed")) return;
    const newTerms = !sameTerms(this.#terms, state.terms);
    if (state.terms.epoch !== this.#terms?.epoch) {
      // A new core (restart, or the standby taking over): a new count of ticks begins.
      this.#seq = 0;
      this.#ctx.log.info({ epoch: state.terms.epoch, seq: state.seq }, "market stream from the core: new epoch");
    }
    this.#terms = state.terms;
    this.#sources = Array.isArray(state.sources) ? state.sources : [];
    if (newTerms) this.#checkTerms(state.terms);
    this.#heard();
    if (newTerms) this.#listeners.terms();
    this.#setCircuit(state.circuit, state.at ?? this.#ctx.now());
  }

  #onFrame(message: string): void {
    const frame = parseBusObject(message) as { seq?: unknown; epoch?: unknown; priceCents?: unknown; at?: unknown; quote?: unknown } | undefined;
    const terms = this.#terms;
    if (!frame || typeof frame.seq !== "number" || typeof frame.priceCents !== "number" || typeof frame.at !== "number") return;
    if (terms === undefined || frame.epoch !== terms.epoch) return;
    this.#heard();
    if (frame.seq <= this.#seq) return;
    this.#seq = frame.seq;
    const tick = { t: frame.at, priceCents: frame.priceCents };
    this.#latestTick = tick;
    this.#latestInputs = typeof frame.quote === "string" && terms.quoteKeys ? decodeQuote(frame.quote, terms.quoteKeys, tick.t, tick.priceCents) : undefined;
    this.#latestFrame = Buffer.from(message);
    if (this.#mismatch !== undefined) return;
    for (const listener of this.#tickListeners) listener(tick);
    this.#listeners.frame(this.#latestFrame);
  }

  #onCircuitMessage(message: string): void {
    const event = parseBusObject(message) as { state?: unknown; at?: unknown } | undefined;
    if (!event || (event.state !== "open" && event.state !== "closed") || typeof event.at !== "number") return;
    this.#setCircuit(event.state, event.at);
  }

  #setCircuit(state: CircuitState, at: number): void {
    if (state === this.#circuit) return;
    this.#circuit = state;
    for (const listener of this.#circuitListeners) listener(state, at);
  }

  /** The core's terms must be this edge's own: it quotes with its own engine from the core's inputs. */
  #checkTerms(terms: MarketTerms): void {
    const { config } = this.#ctx;
    const own = pricingEngineOptions(config);
    const differ = [
      ["COLUMN_MS", terms.columnMs, config.COLUMN_MS],
      ["ROW_CENTS", terms.rowCents, config.ROW_CENTS],
      ["LOCK_MS", terms.lockMs, config.LOCK_MS],
      ["HORIZON_COLUMNS", terms.horizonColumns, config.HORIZON_COLUMNS],
      ["QUOTE_MAX_AGE_MS", terms.quoteMaxAgeMs, config.QUOTE_MAX_AGE_MS],
      ["HOUSE_EDGE_BP", terms.quoteTerms?.houseEdgeBp ?? own.houseEdgeBp, own.houseEdgeBp],
      ["MIN_MULTIPLIER_HUNDREDTHS", terms.quoteTerms?.minMultiplierHundredths ?? own.minMultiplierHundredths, own.minMultiplierHundredths],
      ["MAX_MULTIPLIER_HUNDREDTHS", terms.quoteTerms?.maxMultiplierHundredths ?? own.maxMultiplierHundredths, own.maxMultiplierHundredths],
    ].filter(([, core, edge]) => core !== edge);
    const mismatch = differ.length === 0 ? undefined : `configuration differs from the core's: ${differ.map(([name, core, edge]) => `${name} ${edge} here, ${core} there`).join(", ")}`;
    if (mismatch !== undefined && mismatch !== this.#mismatch) this.#ctx.log.error(mismatch + "; this edge serves nothing until they agree");
    this.#mismatch = mismatch;
  }

  #priceService(): PriceService {
    return {
      latest: () => this.#tick(),
      circuit: () => this.#circuit,
      // Ages as of now, from each source's price time (the core's clock; one host, or NTP).
      sources: () => {
        const now = this.#ctx.now();
        return this.#sources.map((s) => ({ ...s, ageMs: s.priceAtMs === null ? s.ageMs : Math.max(0, now - s.priceAtMs) }));
      },
      onTick: (listener) => addBounded(this.#tickListeners, listener),
      onCircuit: (listener) => addBounded(this.#circuitListeners, listener),
      // Settlement and proofs are the core's: an edge keeps no stale gaps.
      staleGaps: () => [],
      ingest: () => {
        throw new Error("an edge (ROLE=edge) has no price sources: ticks come from the core");
      },
      retryAfterSeconds: () => 1,
    };
  }
}

function sameTerms(a: MarketTerms | undefined, b: MarketTerms): boolean {
  return a !== undefined && JSON.stringify(a) === JSON.stringify(b);
}

function isTerms(value: unknown): value is MarketTerms {
  if (typeof value !== "object" || value === null) return false;
  const t = value as Record<string, unknown>;
  const numbers = ["columnMs", "rowCents", "lockMs", "horizonColumns", "quoteMaxAgeMs"].every((k) => typeof t[k] === "number");
  const keys = t.quoteKeys === undefined || (Array.isArray(t.quoteKeys) && t.quoteKeys.every((k) => typeof k === "string"));
  return typeof t.epoch === "string" && numbers && keys;
}


function addBounded<T>(set: Set<T>, listener: T): () => void {
  if (set.size >= LISTENERS_MAX) throw new Error("too many listeners");
  set.add(listener);
  return () => set.delete(listener);
}
