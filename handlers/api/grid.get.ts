import { defineHandler, getQuery } from "h3";
import { useApp } from "../../runtime/context.ts";
import { apiError } from "../../runtime/errors.ts";
import { validate } from "../../runtime/body.ts";
import { gridQuery } from "../../services/api-docs/requests.ts";
import { offeredCellsJson } from "../../services/pricing/grid-json.ts";

/**
 * GET /api/grid?cols=&rows= — the offerable cells (API.md § Market): columns from the first unlocked
 * one, rows centred on the current price; cells priced outside the offered range are left out.
 */
export default defineHandler((event) => {
  const ctx = useApp(event);
  const { cols, rows } = validate(gridQuery, getQuery(event), "query");
  const grid = ctx.services.pricing.grid(cols, rows, ctx.now());
  if (!grid) throw apiError(503, "price_unavailable", "no index price yet", undefined, { "retry-after": "1" });
  return {
    symbol: "BTC-USD",
    columnMs: ctx.config.COLUMN_MS,
    rowCents: ctx.config.ROW_CENTS,
    lockMs: ctx.config.LOCK_MS,
    priceCents: grid.priceCents,
    at: grid.at,
    cells: offeredCellsJson(grid.cells),
  };
});
