import type { AppContext } from "../types.ts";
import { computeIndex, type Observation } from "../../domain/price/index-price.ts";
import type { Transition } from "../../domain/price/breaker.ts";
import type { CircuitState, IndexTick, PriceService, SourceHealth, StaleGap } from "./types.ts";
import { createPriceMetrics, type PriceMetrics } from "./metrics.ts";
import { loadLastTick, loadRecentGaps } from "./persistence.ts";
import { StaleGapLog } from "./stale-gaps.ts";
import { CircuitMonitor } from "./monitor.ts";
import { isUp, newSourceState, toHealth, type SourceState } from "./source-state.ts";
import { addLagSample, judgePrice, measuredSkewMs } from "../../domain/price/freshness.ts";
import { healthEvent, isSubscribed, nextSourceState, type SourceEvent, type SourceStateName } from "../../domain/price/source-machine.ts";
import type { ExchangeMessageKind } from "../../domain/price/exchange-message.ts";

/** Exchanges can send hundreds of trades a second; the index ticks at most this often from them. */
export const EXCHANGE_TICK_INTERVAL_MIN_MS = 100;
const SOURCES_MAX = 32;
const LISTENERS_MAX = 1000;
const GAP_MEMORY_MS = 8 * 86_400_000;
const WARN_EVERY_MS = 10_000;

/** A price as an exchange adapter saw it; the feed stamps the arrival time. */
export interface ExchangePrice {
  priceCents: number;
  /** The exchange's event time, undefined when the frame carries none. */
  eventAtMs: number | undefined;
  sequence?: number;
  snapshot?: boolean;
}

/** Link events an adapter reports; the feed drives the source's state machine with them. */
export type LinkEvent = Extract<SourceEvent, "open" | "subscribed" | "resubscribe" | "closed" | "redial">;

/** How an adapter reports to the feed. */
export interface SourceHandle {
  readonly name: string;
  readonly state: SourceStateName;
  /** A price observed at `at` on our clock (synthetic and manual sources: event = arrival). */
  price(priceCents: number, at: number): void;
  /** A price from an exchange, judged on its event time (old, out of order, lagging). */
  observe(price: ExchangePrice): void;
  link(event: LinkEvent, why: string): void;
  /** The exchange's trading status; `healthy` false keeps the source out of the index. */
  status(healthy: boolean, reason: string): void;
  message(kind: ExchangeMessageKind): void;
  refusedSubscription(): void;
  reconnected(): void;
  parseError(): void;
}

/**
 * The price index and its health (SPEC §4, ADR-008): sources report prices, each observation
 * recomputes the median index, and every index tick is told to listeners, published on the bus
 * and persisted through the batch queue without waiting for it. A periodic check drives the
 * circuit breaker even when no tick arrives (which is exactly when it matters).
 */
export class PriceFeed implements PriceService {
  readonly #ctx: AppContext;
  readonly #sources = new Map<string, SourceState>();
  readonly #tickListeners = new Set<(tick: IndexTick) => void>();
  readonly #circuitListeners = new Set<(state: CircuitState, at: number) => void>();
  #gaps!: StaleGapLog;
  #monitor!: CircuitMonitor;
  /** Whether the stored state (last tick, recent gaps) was read: once, see #loadStored. */
  #storedLoaded = false;
  readonly #metrics: PriceMetrics;
  #latest: IndexTick | undefined;
  /** The index price of the last evaluation, undefined when no source qualified. */
  #lastResult: number | undefined;
  #lastStoredT = Number.NEGATIVE_INFINITY;
  #trailing: NodeJS.Timeout | undefined;
  #checkTimer: NodeJS.Timeout | undefined;
  readonly #lastWarnAt = new Map<string, number>();

  constructor(ctx: AppContext) {
    this.#ctx = ctx;
    const { config } = ctx;
    this.#metrics = createPriceMetrics(ctx.metrics, () => this, ctx.now);
    // A process that writes from its start reads the stored state now, as always. A standby
    // (LEASE=on) reads it when it takes over (startMonitor): read at install, the last tick would be
    // that of minutes before, and the monitor would take the whole standby time for a stale gap
    // (voiding every bet whose window overlapped it) and try to write it from a process that may not.
    if (config.LEASE === "on") this.#loadEmpty();
    else this.#loadStored();
  }

  /** Before the stored state is read: no tick, no gap (nothing is written from this state). */
  #loadEmpty(): void {
    this.#lastStoredT = Number.NEGATIVE_INFINITY;
    this.#resume([], undefined);
  }

  /** Reads the last stored tick and the recent stale gaps, and resumes the circuit from them (once). */
  #loadStored(): void {
    const ctx = this.#ctx;
    this.#storedLoaded = true;
    const stored = loadLastTick(ctx.db);
    // Ticks of this process continue after the stored ones: t stays strictly increasing.
    this.#lastStoredT = stored?.t ?? Number.NEGATIVE_INFINITY;
    this.#resume(loadRecentGaps(ctx.db, ctx.now() - GAP_MEMORY_MS, 1000), stored ? stored.t + ctx.config.PRICE_STALE_MS : undefined);
  }

  #resume(recentGaps: StaleGap[], restartGapStartAt: number | undefined): void {
    const { config } = this.#ctx;
    this.#gaps = new StaleGapLog(this.#ctx.queue, recentGaps, (error: unknown) => this.#persistFailed("gap", error));
    this.#monitor = new CircuitMonitor(
      {
        staleMs: config.PRICE_STALE_MS,
        recoveryMs: config.PRICE_RECOVERY_MS,
        checkIntervalMs: config.PRICE_CHECK_INTERVAL_MS,
        gaps: this.#gaps,
        onTransition: (t) => this.#onTransition(t),
      },
      restartGapStartAt,
      this.#ctx.now(),
    );
  }

  /** Registers a source so it shows in health before its first price. */
  register(name: string, kind: { connection: boolean; throttled: boolean }): SourceHandle {
    if (!this.#sources.has(name)) {
      if (this.#sources.size >= SOURCES_MAX) throw new Error(`more than ${SOURCES_MAX} price sources`);
      this.#sources.set(name, newSourceState(name, kind));
    }
    const s = this.#sources.get(name)!;
    const metrics = this.#metrics;
    return {
      name,
      get state() {
        return s.state;
      },
      price: (priceCents, at) => this.ingest(name, priceCents, at),
      observe: (price) => this.#observe(s, price),
      link: (event, why) => this.#link(s, event, why),
      status: (healthy, reason) => this.#status(s, healthy, reason),
      message: (kind) => metrics.messages.inc({ source: name, kind }),
      refusedSubscription: () => metrics.refusedSubscriptions.inc({ source: name }),
      reconnected: () => {
        s.reconnects++;
        metrics.reconnects.inc({ source: name });
      },
      parseError: () => {
        s.parseErrors++;
        metrics.parseErrors.inc({ source: name });
      },
    };
  }

  /** One transition of a source's state machine, logged and counted; inapplicable events are ignored. */
  #fire(s: SourceState, event: SourceEvent, why: string): void {
    const to = nextSourceState(s.state, event);
    if (to === undefined || (to === s.state && event !== "resubscribe")) return;
    const from = s.state;
    s.state = to;
    this.#metrics.sourceTransitions.inc({ source: s.name, from, to });
    const level = to === "live" || to === "subscribing" || to === "connecting" || to === "reconnecting" ? "info" : "warn";
    this.#ctx.log[level]({ source: s.name, from, to, event, why }, `price source ${s.name}: ${from} → ${to} (${why})`);
  }

  #link(s: SourceState, event: LinkEvent, why: string): void {
    const now = this.#ctx.now();
    if (event === "open") {
      // A new connection: sequences restart, and the exchange reports its status afresh.
      if (s.last) s.last = { eventAtMs: s.last.eventAtMs, sequence: undefined };
      s.statusReason = undefined;
    }
    if (event === "subscribed") s.subscribedAtMs = now;
    if (event === "closed") s.subscribedAtMs = null;
    this.#fire(s, event, why);
    if (event === "subscribed" || event === "closed") this.check();
  }

  #status(s: SourceState, healthy: boolean, reason: string): void {
    const next = healthy ? undefined : reason;
    if (next !== s.statusReason) {
      if (next) this.#ctx.log.warn({ source: s.name, status: reason }, `price source ${s.name}: exchange status ${reason}, out of the index`);
      else this.#ctx.log.info({ source: s.name, status: reason }, `price source ${s.name}: exchange status ${reason}`);
    }
    s.statusReason = next;
    this.check();
  }

  /** An exchange price: dropped when old or out of order, otherwise observed at its corrected event time. */
  #observe(s: SourceState, p: ExchangePrice): void {
    const arrivalAtMs = this.#ctx.now();
    if (p.eventAtMs === undefined && p.snapshot) {
      this.#drop(s, "no_event_time", p);
      return;
    }
    const eventAtMs = p.eventAtMs ?? arrivalAtMs;
    const { config } = this.#ctx;
    addLagSample(s.skew, arrivalAtMs - eventAtMs);
    s.skewMs = measuredSkewMs(s.skew, config.PRICE_CLOCK_SKEW_MAX_MS);
    const judged = judgePrice({
      eventAtMs,
      arrivalAtMs,
      sequence: p.sequence,
      last: s.last,
      skewMs: s.skewMs,
      staleMs: config.PRICE_STALE_MS,
      lagMaxMs: config.PRICE_LAG_MAX_MS,
    });
    if (judged.verdict !== "accepted") {
      this.#drop(s, judged.verdict, p, judged.lagMs);
      return;
    }
    s.last = { eventAtMs, sequence: p.sequence };
    s.eventLagMs = judged.lagMs;
    if (judged.lagging !== s.lagging) {
      this.#ctx.log.warn({ source: s.name, lagMs: judged.lagMs, skewMs: s.skewMs }, judged.lagging ? "price source lagging: out of the index" : "price source no longer lagging");
    }
    s.lagging = judged.lagging;
    this.#accept(s, p.priceCents, judged.correctedAtMs, arrivalAtMs);
  }

  #drop(s: SourceState, why: "old" | "out_of_order" | "no_event_time", p: ExchangePrice, lagMs?: number): void {
    this.#metrics.pricesDropped.inc({ source: s.name, why });
    this.#ctx.log.debug({ source: s.name, why, priceCents: p.priceCents, eventAtMs: p.eventAtMs, sequence: p.sequence, lagMs }, "exchange price dropped");
  }

  latest(): IndexTick | undefined {
    return this.#latest ? { ...this.#latest } : undefined;
  }

  circuit(): CircuitState {
    return this.#monitor.circuit;
  }

  sources(): SourceHealth[] {
    const now = this.#ctx.now();
    return [...this.#sources.values()].map((s) => toHealth(s, now));
  }

  onTick(listener: (tick: IndexTick) => void): () => void {
    return addBounded(this.#tickListeners, listener);
  }

  onCircuit(listener: (state: CircuitState, at: number) => void): () => void {
    return addBounded(this.#circuitListeners, listener);
  }

  staleGaps(fromMs: number, toMs: number): StaleGap[] {
    return this.#gaps.overlapping(fromMs, toMs);
  }

  /** Seconds a client refused by the breaker should wait (Retry-After). */
  retryAfterSeconds(): number {
    return this.#monitor.retryAfterSeconds(this.#ctx.now());
  }

  ingest(source: string, priceCents: number, at: number): void {
    if (!Number.isSafeInteger(priceCents) || priceCents <= 0) throw new TypeError(`price of ${source} must be positive integer cents`);
    if (!Number.isFinite(at)) throw new TypeError("observation time must be finite epoch ms");
    let s = this.#sources.get(source);
    if (!s) {
      this.register(source, { connection: false, throttled: false });
      s = this.#sources.get(source)!;
    }
    // An observation older than what we have says nothing new (reordered replays).
    if (s.atMs !== null && at < s.atMs) return;
    this.#accept(s, priceCents, at, at);
  }

  /** Records a source's price (observed at `atMs`, arrived at `arrivalAtMs`) and ticks the index. */
  #accept(s: SourceState, priceCents: number, atMs: number, arrivalAtMs: number): void {
    s.priceCents = priceCents;
    s.atMs = atMs;
    s.arrivalAtMs = arrivalAtMs;
    const at = arrivalAtMs;
    const last = this.#latest?.t ?? this.#lastStoredT;
    if (!s.throttled || at - last >= EXCHANGE_TICK_INTERVAL_MIN_MS) {
      this.#emitIndex(at);
      return;
    }
    // Coalesce: one trailing tick carries the newest prices once the interval has passed. It is
    // stamped with the newest observation's time, the instant its median describes.
    this.#trailing ??= setTimeout(() => {
      this.#trailing = undefined;
      this.#emitIndex(this.#newestObservationAt());
    }, Math.max(1, last + EXCHANGE_TICK_INTERVAL_MIN_MS - at));
  }

  /**
   * The newest (skew-corrected) exchange event time of the sources' last accepted prices, for the
   * stale gap's start; undefined when there are sources without exchange time (synthetic, manual),
   * whose observation time is their tick time already.
   */
  #newestDataAt(): number | undefined {
    let newest: number | undefined;
    for (const s of this.#sources.values()) {
      if (!s.connection) return undefined;
      if (s.atMs !== null && (newest === undefined || s.atMs > newest)) newest = s.atMs;
    }
    return newest;
  }

  #newestObservationAt(): number {
    let newest = Number.NEGATIVE_INFINITY;
    for (const s of this.#sources.values()) if (s.arrivalAtMs !== null && isUp(s) && s.arrivalAtMs > newest) newest = s.arrivalAtMs;
    return newest;
  }

  #emitIndex(at: number): void {
    if (!Number.isFinite(at)) return;
    const healthy = this.#evaluateSources(at);
    const result = this.#lastResult;
    if (healthy === 0 || result === undefined) return;
    const last = this.#latest?.t ?? this.#lastStoredT;
    const tick: IndexTick = { t: Math.max(at, last + 1), priceCents: result };
    this.#latest = tick;
    this.#metrics.ticks.inc();
    // Enqueued before listeners run: whatever a listener writes about this tick (a settlement)
    // commits in the same or a later batch than the tick itself.
    this.#ctx.queue.run("price.insertTick", tick.t, tick.priceCents).catch((error) => this.#persistFailed("tick", error));
    // Freshness is judged on the server clock, so a replayed old observation ticks but does not
    // make a stale feed look fresh.
    this.#monitor.observe({ nowMs: this.#ctx.now(), lastTickAt: tick.t, lastDataAt: this.#newestDataAt(), healthySources: healthy });
    for (const listener of this.#tickListeners) {
      try {
        listener(tick);
      } catch (error) {
        this.#ctx.log.error({ err: error }, "price tick listener failed");
      }
    }
    this.#ctx.bus.publish("price", JSON.stringify(tick)).catch((error) => this.#warn("bus", "price publish failed", error));
  }

  /**
   * Recomputes verdicts at `nowMs` and moves each subscribed source between live, stale and
   * unhealthy; returns how many sources are healthy (in the index).
   */
  #evaluateSources(nowMs: number): number {
    const observations: Observation[] = [];
    for (const s of this.#sources.values()) {
      if (!isUp(s)) s.reason = s.state === "subscribing" ? "subscribing" : "disconnected";
      else if (s.statusReason !== undefined) s.reason = s.statusReason as SourceState["reason"];
      else if (s.priceCents === null || s.atMs === null) s.reason = "no_data";
      else if (s.lagging) s.reason = "lagging";
      else observations.push({ name: s.name, priceCents: s.priceCents, atMs: s.atMs });
    }
    const { config } = this.#ctx;
    const result = computeIndex(observations, nowMs, config.PRICE_STALE_MS, config.PRICE_OUTLIER_BP);
    for (const [name, verdict] of result.verdicts) {
      const s = this.#sources.get(name)!;
      const reason = verdict === "ok" ? undefined : verdict;
      if (reason !== s.reason && reason === "outlier") this.#ctx.log.warn({ source: name, priceCents: s.priceCents }, "price source excluded as outlier");
      s.reason = reason;
    }
    for (const s of this.#sources.values()) {
      if (!isSubscribed(s.state)) continue;
      // No price yet: live for PRICE_STALE_MS after the subscription was confirmed, then stale.
      const fresh =
        s.reason === undefined || s.reason === "outlier" || (s.reason === "no_data" && s.subscribedAtMs !== null && nowMs - s.subscribedAtMs <= config.PRICE_STALE_MS);
      const event = healthEvent({ statusReason: s.statusReason, lagging: s.lagging, fresh });
      this.#fire(s, event, event === "unhealthy" ? (s.statusReason ?? "lagging") : event === "stale" ? (s.reason ?? "stale") : "fresh price");
    }
    this.#lastResult = result.priceCents;
    return result.included;
  }

  /** One health check: the breaker sees the index age and the healthy sources now. */
  check(): void {
    const now = this.#ctx.now();
    const healthy = this.#evaluateSources(now);
    this.#monitor.observe({ nowMs: now, lastTickAt: this.#latest?.t, lastDataAt: this.#newestDataAt(), healthySources: healthy });
  }

  #onTransition(transition: Transition): void {
    const state: CircuitState = transition.kind === "opened" ? "open" : "closed";
    const { log, bus } = this.#ctx;
    this.#metrics.transitions.inc({ state });
    if (transition.kind === "opened") log.warn({ reason: transition.reason, gapStartAt: transition.gapStartAt }, "price circuit OPEN: bets refused");
    else log.info({ gapStartAt: transition.gapStartAt, at: transition.at }, "price circuit closed: price fresh");
    for (const listener of this.#circuitListeners) {
      try {
        listener(state, transition.at);
      } catch (error) {
        log.error({ err: error }, "circuit listener failed");
      }
    }
    bus.publish("circuit", JSON.stringify({ state, at: transition.at })).catch((error) => this.#warn("bus", "circuit publish failed", error));
  }

  /** Readiness: "ok" while the circuit is closed, otherwise why not. */
  readiness(): string {
    if (this.circuit() === "closed") return "ok";
    if (!this.#latest) return "no price yet";
    const ageMs = this.#ctx.now() - this.#latest.t;
    return this.#monitor.reason === "no_healthy_source" ? "no healthy price source" : `price stale (${ageMs} ms old)`;
  }

  startMonitor(): void {
    if (!this.#storedLoaded) this.#loadStored();
    this.#checkTimer ??= setInterval(() => this.check(), this.#ctx.config.PRICE_CHECK_INTERVAL_MS);
    this.#checkTimer.unref();
  }

  stop(): void {
    if (this.#checkTimer) clearInterval(this.#checkTimer);
    if (this.#trailing) clearTimeout(this.#trailing);
    this.#checkTimer = undefined;
    this.#trailing = undefined;
  }

  #persistFailed(kind: "tick" | "gap", error: unknown): void {
    this.#metrics.persistFailures.inc({ kind });
    this.#warn(`persist-${kind}`, `could not store price ${kind}`, error);
  }

  /** Logs a repeated failure at most every few seconds instead of per tick. */
  #warn(key: string, message: string, error: unknown): void {
    const now = this.#ctx.now();
    if (now - (this.#lastWarnAt.get(key) ?? Number.NEGATIVE_INFINITY) < WARN_EVERY_MS) return;
    this.#lastWarnAt.set(key, now);
    this.#ctx.log.warn({ err: error instanceof Error ? error.message : String(error) }, message);
  }
}

function addBounded<T>(set: Set<T>, listener: T): () => void {
  if (set.size >= LISTENERS_MAX) throw new Error("too many price listeners");
  set.add(listener);
  return () => set.delete(listener);
}
