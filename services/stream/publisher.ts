import { randomBytes } from "node:crypto";
import type { AppContext } from "../types.ts";
import type { IndexTick } from "../price/types.ts";
import { encodeQuote, quoteKeysOf } from "../../domain/pricing/quote-wire.ts";
import { StreamListeners, throttledWarn } from "./listeners.ts";
import { CORE_STATE_CHANNEL, CORE_STATE_INTERVAL_MS, PRICE_FRAMES_CHANNEL, type CoreState, type MarketStream, type MarketTerms, type StreamListener } from "./types.ts";

/**
 * The core's side of the market stream (ROLE=core and ROLE=all). Every index tick gets the next
 * `seq` of this process's epoch and becomes the client's `price` frame — its quote inputs encoded by
 * domain/pricing/quote-wire.ts — serialised once: handed as bytes to this process's WebSocket hub
 * (ROLE=all) and published as the same text on the bus for edges. The core's state (terms, circuit,
 * sources) follows every second and at once when it changes: edges serve `hello` and
 * `GET /api/price` from it, and its silence tells them the core or the bus is gone.
 */
export class StreamPublisher implements MarketStream {
  readonly #ctx: AppContext;
  readonly #epoch: string;
  readonly #listeners: StreamListeners;
  readonly #warn: ReturnType<typeof throttledWarn>;
  readonly #off: (() => void)[] = [];
  #seq = 0;
  #quoteKeys: string[] | undefined;
  #latest: Buffer | undefined;
  #timer: NodeJS.Timeout | undefined;

  constructor(ctx: AppContext) {
    this.#ctx = ctx;
    this.#epoch = newEpoch(ctx.now());
    this.#listeners = new StreamListeners(ctx.log);
    this.#warn = throttledWarn(ctx.log, ctx.now);
  }

  /** Runs after pricing started, so the engine has seen each tick before its frame is made. */
  start(): void {
    const { price } = this.#ctx.services;
    this.#off.push(
      price.onTick((tick) => this.#onTick(tick)),
      price.onCircuit(() => this.#publishState()),
    );
    this.#publishState();
    this.#timer = setInterval(() => this.#publishState(), CORE_STATE_INTERVAL_MS);
    this.#timer.unref();
  }

  stop(): void {
    for (const off of this.#off.splice(0)) off();
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  terms(): MarketTerms {
    const { config, services } = this.#ctx;
    const pricing = services.pricing as AppContext["services"]["pricing"] | undefined;
    const terms: MarketTerms = {
      epoch: this.#epoch,
      columnMs: config.COLUMN_MS,
      rowCents: config.ROW_CENTS,
      lockMs: config.LOCK_MS,
      horizonColumns: config.HORIZON_COLUMNS,
      quoteMaxAgeMs: config.QUOTE_MAX_AGE_MS,
    };
    if (typeof pricing?.quoteTerms === "function") terms.quoteTerms = pricing.quoteTerms();
    if (this.#quoteKeys) terms.quoteKeys = this.#quoteKeys;
    return terms;
  }

  latestFrame(): Buffer | undefined {
    return this.#latest;
  }

  state(): "live" {
    return "live";
  }

  listen(listener: StreamListener): () => void {
    return this.#listeners.add(listener);
  }

  #onTick(tick: IndexTick): void {
    const pricing = this.#ctx.services.pricing as AppContext["services"]["pricing"] | undefined;
    const inputs = typeof pricing?.quoteInputs === "function" ? pricing.quoteInputs() : undefined;
    const own = inputs !== undefined && inputs.t === tick.t && inputs.priceCents === tick.priceCents ? inputs : undefined;
    if (own !== undefined && this.#quoteKeys === undefined) {
      // The field order is the engine's and fixed for the life of the process (and so of the epoch).
      this.#quoteKeys = quoteKeysOf(own);
      this.#publishState();
      this.#listeners.terms();
    }
    const frame = { type: "price", seq: ++this.#seq, epoch: this.#epoch, priceCents: tick.priceCents, at: tick.t };
    const text = JSON.stringify(own !== undefined && this.#quoteKeys !== undefined ? { ...frame, quote: encodeQuote(own, this.#quoteKeys) } : frame);
    this.#latest = Buffer.from(text);
    this.#listeners.frame(this.#latest);
    this.#ctx.bus.publish(PRICE_FRAMES_CHANNEL, text).catch((error: unknown) => this.#warn("price", "price frame publish failed", error));
  }

  #publishState(): void {
    const { price } = this.#ctx.services;
    const state: CoreState = { terms: this.terms(), seq: this.#seq, at: this.#ctx.now(), circuit: price.circuit(), sources: price.sources() };
    this.#ctx.bus.publish(CORE_STATE_CHANNEL, JSON.stringify(state)).catch((error: unknown) => this.#warn("state", "core state publish failed", error));
  }
}

/** A new epoch: the start time in base 36 and two random characters (two cores starting in the same ms differ). */
function newEpoch(nowMs: number): string {
  return `${Math.max(0, Math.floor(nowMs)).toString(36)}${(randomBytes(2).readUInt16BE(0) % 1296).toString(36).padStart(2, "0")}`;
}
