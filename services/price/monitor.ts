import {
  initialBreaker,
  retryAfterSeconds,
  stepBreaker,
  type BreakerInput,
  type BreakerState,
  type Transition,
} from "../../domain/price/breaker.ts";
import type { StaleGapLog } from "./stale-gaps.ts";
import type { CircuitState } from "./types.ts";

export interface MonitorOptions {
  staleMs: number;
  recoveryMs: number;
  checkIntervalMs: number;
  gaps: StaleGapLog;
  onTransition: (transition: Transition) => void;
}

/**
 * The price health monitor's memory: drives the breaker state machine with what the feed
 * observes and turns its transitions into stale gaps and circuit events.
 */
export class CircuitMonitor {
  #state: BreakerState;
  readonly #o: MonitorOptions;
  /** After a restart: when the stored data goes stale, if no fresh tick has arrived by then. */
  #pendingGapStartAt: number | undefined;

  /**
   * `restartGapStartAt` is when the ticks stored by a previous run go stale. A gap is recorded
   * from then only if this process has not ticked by that time: a quick restart leaves no gap.
   */
  constructor(options: MonitorOptions, restartGapStartAt: number | undefined, nowMs: number) {
    this.#o = options;
    const open = options.gaps.open;
    // A crash while stale leaves the gap open: it simply continues.
    this.#state = initialBreaker(open?.startAt);
    if (!open) this.#pendingGapStartAt = restartGapStartAt;
    this.#materializeGap(nowMs);
  }

  #materializeGap(nowMs: number): void {
    const startAt = this.#pendingGapStartAt;
    if (startAt === undefined || nowMs <= startAt || this.#state.circuit !== "open") return;
    this.#pendingGapStartAt = undefined;
    this.#o.gaps.start(startAt);
    this.#state = { ...this.#state, gapStartAt: startAt };
  }

  get circuit(): CircuitState {
    return this.#state.circuit;
  }

  get reason(): string | undefined {
    return this.#state.reason;
  }

  observe(input: Omit<BreakerInput, "staleMs" | "recoveryMs">): void {
    this.#materializeGap(input.nowMs);
    const { state, transition } = stepBreaker(this.#state, {
      ...input,
      staleMs: this.#o.staleMs,
      recoveryMs: this.#o.recoveryMs,
    });
    this.#state = state;
    if (!transition) return;
    this.#pendingGapStartAt = undefined;
    if (transition.kind === "opened") this.#o.gaps.start(transition.gapStartAt);
    else if (transition.gapStartAt !== undefined) this.#o.gaps.end(transition.at);
    this.#o.onTransition(transition);
  }

  retryAfterSeconds(nowMs: number): number {
    return retryAfterSeconds(this.#state, nowMs, this.#o.checkIntervalMs);
  }
}
