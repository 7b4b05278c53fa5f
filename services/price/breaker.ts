import type { H3Event } from "h3";
import { useApp } from "../types.ts";
import { apiError } from "../../runtime/errors.ts";

/**
 * The circuit breaker as a guard for bet placement (ADR-008): while the index is stale the request
 * is refused with 503 `price_stale` and a Retry-After header. Call it first in the handler:
 * `requireFreshPrice(event)`.
 */
export function requireFreshPrice(event: H3Event): void {
  const { price } = useApp(event).services;
  if (price.circuit() === "closed") return;
  const latest = price.latest();
  const retryAfter = price.retryAfterSeconds();
  throw apiError(
    503,
    "price_stale",
    "the price feed is stale; bets are paused until it recovers",
    { priceAt: latest?.t ?? null, retryAfterSeconds: retryAfter },
    { "retry-after": String(retryAfter) },
  );
}
