import { defineHandler, getQuery } from "h3";
import { useApp, type AppContext } from "../../runtime/context.ts";
import { apiError } from "../../runtime/errors.ts";
import { validate } from "../../runtime/body.ts";
import { gridQuery } from "../../services/api-docs/requests.ts";
import { GridJsonCache, gridSourceOf } from "../../services/pricing/grid-json.ts";

/** Sizes whose serialised answer is kept at once (60 × 61 is about 500 KB). */
const CACHED_SIZES_MAX = 32;
/** Sizes built at once; more distinct sizes at the same moment are told to retry (503 overloaded). */
const BUILDS_MAX = 4;
/** About 2–3 ms of pricing per turn of the event loop on the reference VM (bench-pricing: ~6 µs a cell). */
const CELLS_PER_SLICE = 400;
const caches = new WeakMap<AppContext, GridJsonCache>();

function cacheOf(ctx: AppContext): GridJsonCache {
  let cache = caches.get(ctx);
  if (!cache) {
    const { config, services } = ctx;
    cache = new GridJsonCache(gridSourceOf(services.pricing, services.price), {
      symbol: "BTC-USD",
      columnMs: config.COLUMN_MS,
      rowCents: config.ROW_CENTS,
      lockMs: config.LOCK_MS,
      refreshMs: config.GRID_REFRESH_MS,
      entriesMax: CACHED_SIZES_MAX,
      buildsMax: BUILDS_MAX,
      cellsPerSlice: CELLS_PER_SLICE,
      now: ctx.now,
    });
    caches.set(ctx, cache);
  }
  return cache;
}

/**
 * GET /api/grid?cols=&rows= — the offerable cells (API.md § Market): columns from the first unlocked
 * one, rows centred on the current price; cells priced outside the offered range are left out. While
 * the circuit is open the cells are empty and `circuit`/`quotes` say why. Answers come serialised
 * from a per-size cache (services/pricing/grid-json.ts).
 */
export default defineHandler(async (event) => {
  const ctx = useApp(event);
  const { cols, rows } = validate(gridQuery, getQuery(event), "query");
  const answer = await cacheOf(ctx).answer(cols, rows);
  if (answer.status === "no_price") throw apiError(503, "price_unavailable", "no index price yet", undefined, { "retry-after": "1" });
  if (answer.status === "busy") throw apiError(503, "overloaded", "grid answers are being built; retry shortly", undefined, { "retry-after": "1" });
  return new Response(answer.body, { headers: { "content-type": "application/json; charset=utf-8" } });
});
