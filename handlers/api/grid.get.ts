import { defineHandler, getQuery } from "h3";
import { Counter } from "prom-client";
import { useApp, type AppContext } from "../../runtime/context.ts";
import { apiError } from "../../runtime/errors.ts";
import { validate } from "../../runtime/body.ts";
import { gridQuery } from "../../services/api-docs/requests.ts";
import { GridJsonCache, gridSourceOf } from "../../services/pricing/grid-json.ts";

/** Sizes whose serialised answer is kept at once (60 × 61 is about 500 KB). */
const CACHED_SIZES_MAX = 32;
/** Sizes built at once; more distinct sizes at the same moment are told to retry (503 overloaded). */
const BUILDS_MAX = 4;
/** About 1–5 ms of pricing per turn of the event loop (bench-pricing: 11 µs a cell in a steady market, 49 µs in a bursty one). */
const CELLS_PER_SLICE = 100;
const caches = new WeakMap<AppContext, GridAnswers>();

interface GridAnswers {
  cache: GridJsonCache;
  /** Answers by quote state: the share of quotes paused that players saw (paused / total). */
  answered: Counter<"state">;
}

function answersOf(ctx: AppContext): GridAnswers {
  let answers = caches.get(ctx);
  if (!answers) {
    const { config, services } = ctx;
    const cache = new GridJsonCache(gridSourceOf(services.pricing, services.price), {
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
    const answered = new Counter({
      name: "pricing_quote_requests_total",
      help: "GET /api/grid answers by quote state (live | paused: circuit open or index older than QUOTE_MAX_AGE_MS); for single quotes see pricing_quotes_total{result=\"price_stale\"}",
      labelNames: ["state"] as const,
      registers: [ctx.metrics.registry],
    });
    answers = { cache, answered };
    caches.set(ctx, answers);
  }
  return answers;
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
  const { cache, answered } = answersOf(ctx);
  const answer = await cache.answer(cols, rows);
  if (answer.status === "no_price") throw apiError(503, "price_unavailable", "no index price yet", undefined, { "retry-after": "1" });
  if (answer.status === "busy") throw apiError(503, "overloaded", "grid answers are being built; retry shortly", undefined, { "retry-after": "1" });
  answered.inc({ state: answer.quotes });
  return new Response(answer.body, { headers: { "content-type": "application/json; charset=utf-8" } });
});
