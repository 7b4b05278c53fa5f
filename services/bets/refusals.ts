import { apiError } from "../../runtime/errors.ts";

/** The refusal codes of API.md § Bets and their HTTP statuses. */
export const REFUSAL_STATUS = {
  insufficient_balance: 402,
  cell_locked: 409,
  cell_not_offered: 409,
  multiplier_changed: 409,
  exposure_limit: 409,
  idempotency_conflict: 409,
  too_many_open_bets: 429,
  rate_limited: 429,
  price_stale: 503,
  overloaded: 503,
  shutting_down: 503,
} as const;

export type RefusalCode = keyof typeof REFUSAL_STATUS;

const MESSAGES: Record<RefusalCode, string> = {
  insufficient_balance: "your balance is lower than the stake",
  cell_locked: "this cell no longer accepts bets (too close, in the past, or beyond the horizon)",
  cell_not_offered: "this cell is not offered at the moment",
  multiplier_changed: "the multiplier is now below your minimum",
  exposure_limit: "a stake or exposure limit would be exceeded",
  idempotency_conflict: "this idempotency key was used with a different request",
  too_many_open_bets: "you have too many open bets",
  rate_limited: "too many bets per second",
  price_stale: "the price feed is stale; bets are paused",
  overloaded: "the server is busy, try again shortly",
  shutting_down: "the server is shutting down, try again shortly",
};

/**
 * A bet refused for a documented reason. Thrown inside a batch operation it rolls back only that
 * bet's savepoint; the handler turns it into the API error.
 */
export class BetRefusal extends Error {
  constructor(
    readonly code: RefusalCode,
    readonly details?: Record<string, unknown>,
    readonly retryAfterMs?: number,
  ) {
    super(MESSAGES[code]);
  }
}

export function refusalToHttp(refusal: BetRefusal) {
  const headers = refusal.retryAfterMs !== undefined ? { "retry-after": String(Math.max(1, Math.ceil(refusal.retryAfterMs / 1000))) } : undefined;
  return apiError(REFUSAL_STATUS[refusal.code], refusal.code, refusal.message, refusal.details, headers);
}
