import { defineHandler } from "h3";
import { requireFreshPrice } from "../../../../services/price/breaker.ts";

/** A stand-in for POST /api/bets: guarded by the stale-price breaker exactly as bet placement is. */
export default defineHandler((event) => {
  requireFreshPrice(event);
  return { accepted: true };
});
