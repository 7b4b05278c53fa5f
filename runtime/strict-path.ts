import type { H3Event, Middleware } from "h3";
import { apiError } from "./errors.ts";

/**
 * One path, one route: `POST /api/bets/` (or `/metrics/`) is not an alias of `/api/bets`. The
 * router would otherwise match the trailing slash, and nginx's per-path limits and allow lists are
 * written for the exact paths, so an alias would bypass them. 404 `not_found` like any unknown path.
 */
export const refuseTrailingSlash: Middleware = (event: H3Event) => {
  const path = event.url.pathname;
  if (path.length > 1 && path.endsWith("/")) throw apiError(404, "not_found", "no such route");
};
