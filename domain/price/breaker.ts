/**
 * The stale-price circuit breaker of ADR-008 as a pure state machine. The price module feeds it
 * observations (on every index tick and every health check); it answers with the new state and,
 * on a change, the transition to act on (record a stale gap, tell clients).
 *
 * closed → open   when the index is older than `staleMs`, or no source is healthy.
 * open   → closed when fresh ticks have kept coming for `recoveryMs` (a short recovery period so a
 *                  flapping feed does not flap the circuit). An open circuit at start-up, before
 *                  this process saw any tick, closes on the first fresh tick: there is nothing to
 *                  recover from, and waiting would only refuse bets for no reason.
 */
export type CircuitState = "open" | "closed";
export type OpenReason = "starting" | "stale" | "no_healthy_source";

export interface BreakerState {
  circuit: CircuitState;
  reason?: OpenReason;
  /** When the data gap began (for stale gaps); set while open. */
  gapStartAt?: number;
  /** First moment of the current fresh run while open; undefined while still stale. */
  freshSince?: number;
  /** How long the fresh run must last before closing. */
  requiredFreshMs: number;
}

export interface BreakerInput {
  nowMs: number;
  /** Time of the newest index tick, undefined before the first one. */
  lastTickAt: number | undefined;
  /**
   * The exchange event time (on our clock) of the newest price any source has, when known: the
   * data runs out PRICE_STALE_MS after it, which can be before the arrival-stamped last tick does.
   */
  lastDataAt?: number;
  healthySources: number;
  staleMs: number;
  recoveryMs: number;
}

export type Transition =
  | { kind: "opened"; at: number; gapStartAt: number; reason: OpenReason }
  | { kind: "closed"; at: number; gapStartAt: number | undefined };

/**
 * The state at start-up: open until the first fresh tick. `gapStartAt` is set when earlier ticks
 * exist (a restart): the process was down, so the data has a gap from then until ticks resume.
 */
export function initialBreaker(gapStartAt?: number): BreakerState {
  return { circuit: "open", reason: "starting", gapStartAt, requiredFreshMs: 0 };
}

/** Is the feed healthy right now? The one definition both directions use. */
export function isFresh(input: BreakerInput): boolean {
  return input.lastTickAt !== undefined && input.nowMs - input.lastTickAt <= input.staleMs && input.healthySources > 0;
}

export function stepBreaker(state: BreakerState, input: BreakerInput): { state: BreakerState; transition?: Transition } {
  const fresh = isFresh(input);
  if (state.circuit === "closed") {
    if (fresh) return { state };
    const reason: OpenReason = input.healthySources === 0 && !isAged(input) ? "no_healthy_source" : "stale";
    // The data ran out when the last tick aged past staleMs, which the periodic check may notice a
    // little later; a gap that starts at detection would under-report it.
    const dataEndAt = input.lastDataAt !== undefined ? input.lastDataAt + input.staleMs : undefined;
    const tickEndAt = reason === "stale" && input.lastTickAt !== undefined ? input.lastTickAt + input.staleMs : undefined;
    const gapStartAt = Math.min(input.nowMs, dataEndAt ?? Number.POSITIVE_INFINITY, tickEndAt ?? Number.POSITIVE_INFINITY);
    return {
      state: { circuit: "open", reason, gapStartAt, requiredFreshMs: input.recoveryMs },
      transition: { kind: "opened", at: input.nowMs, gapStartAt, reason },
    };
  }
  if (!fresh) return state.freshSince === undefined ? { state } : { state: { ...state, freshSince: undefined } };
  const freshSince = state.freshSince ?? input.nowMs;
  if (input.nowMs - freshSince >= state.requiredFreshMs) {
    return {
      state: { circuit: "closed", requiredFreshMs: 0 },
      transition: { kind: "closed", at: input.nowMs, gapStartAt: state.gapStartAt },
    };
  }
  return state.freshSince === freshSince ? { state } : { state: { ...state, freshSince } };
}

function isAged(input: BreakerInput): boolean {
  return input.lastTickAt === undefined || input.nowMs - input.lastTickAt > input.staleMs;
}

/** Seconds a refused client should wait before retrying (Retry-After), at least 1. */
export function retryAfterSeconds(state: BreakerState, nowMs: number, checkIntervalMs: number): number {
  const remainingMs =
    state.freshSince !== undefined ? state.requiredFreshMs - (nowMs - state.freshSince) : state.requiredFreshMs + checkIntervalMs;
  return Math.max(1, Math.ceil(Math.max(remainingMs, checkIntervalMs) / 1000));
}
