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

  constructor(options: MonitorOptions, restartGapStartAt: number | undefined) {
    this.#o = options;
    const open = options.gaps.open;
    // A restart continues the gap a crash left open, or opens one for the downtime itself.
    this.#state = initialBreaker(open?.startAt ?? restartGapStartAt);
    if (!open && restartGapStartAt !== undefined) options.gaps.start(restartGapStartAt);
  }

  get circuit(): CircuitState {
    return this.#state.circuit;
  }

  get reason(): string | undefined {
    return this.#state.reason;
  }

  observe(input: Omit<BreakerInput, "staleMs" | "recoveryMs">): void {
    const { state, transition } = stepBreaker(this.#state, {
      ...input,
      staleMs: this.#o.staleMs,
      recoveryMs: this.#o.recoveryMs,
    });
    this.#state = state;
    if (!transition) return;
    if (transition.kind === "opened") this.#o.gaps.start(transition.gapStartAt);
    else if (transition.gapStartAt !== undefined) this.#o.gaps.end(transition.at);
    this.#o.onTransition(transition);
  }

  retryAfterSeconds(nowMs: number): number {
    return retryAfterSeconds(this.#state, nowMs, this.#o.checkIntervalMs);
  }
}
