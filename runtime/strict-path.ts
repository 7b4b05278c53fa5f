import type { H3Event, Middleware } from "h3";
import { apiError } from "./errors.ts";

/**
 * A canonical path: `/`, or `/segment/segment` with no empty, `.` or `..` segment, no trailing
 * slash, and only characters our routes use (no `%`-escapes, no backslash).
 */
const SEGMENT = /^[A-Za-z0-9_~!$&'()*+,;=:@.-]+$/;

export function isCanonicalPath(path: string): boolean {
  if (path === "/") return true;
  if (!path.startsWith("/") || path.length > 2048) return false;
  const segments = path.slice(1).split("/");
  for (const segment of segments) if (!SEGMENT.test(segment) || segment === "." || segment === "..") return false;
  return true;
}

/**
 * One path, one route. The router would answer `POST /api/bets/`, `/api\bets`, `/x/../metrics` or
 * `/api/%62ets` like their canonical path, while nginx's per-path rate limits and allow lists are
 * written for the exact paths and see these as other paths: each alias would be a bypass. The path
 * as the client sent it (before URL normalisation) must be canonical, else 404 `not_found` like any
 * unknown path.
 */
export const refuseAliasPaths: Middleware = (event: H3Event) => {
  const target = (event.runtime?.node?.req as { url?: string } | undefined)?.url ?? event.url.pathname;
  const query = target.indexOf("?");
  const path = query < 0 ? target : target.slice(0, query);
  if (!isCanonicalPath(path)) throw apiError(404, "not_found", "no such route");
};
