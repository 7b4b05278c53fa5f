import { defineHandler } from "h3";
import { useApp } from "../../runtime/context.ts";
import { apiError } from "../../runtime/errors.ts";

/** GET /api/price — the index price, its age, the circuit and each source's health (API.md § Market). */
export default defineHandler((event) => {
  const ctx = useApp(event);
  const { price, pricing } = ctx.services;
  const latest = price.latest();
  if (!latest) throw apiError(503, "price_unavailable", "no index price yet", undefined, { "retry-after": "1" });
  const now = ctx.now();
  return {
    symbol: "BTC-USD",
    priceCents: latest.priceCents,
    at: latest.t,
    ageMs: Math.max(0, now - latest.t),
    circuit: price.circuit(),
    // Whether quotes still price the estimate's own uncertainty (a fresh start, a long outage): issue 21.
    ...(pricing === undefined ? {} : { warmUp: pricing.warmUp() }),
    // ageMs from the exchange's event time of the last accepted price; eventLagMs event→arrival.
    sources: price.sources().map((s) => ({
      name: s.name,
      priceCents: s.priceCents,
      ageMs: s.ageMs,
      healthy: s.healthy,
      state: s.state,
      eventLagMs: s.eventLagMs,
      ...(s.reason === undefined ? {} : { reason: s.reason }),
    })),
  };
});
