import type { ErrorDoc, RouteDoc } from "./routes.ts";

/**
 * Every error status a route can answer with, and the codes of each (API.md § Conventions): the
 * route's own errors plus those its kind implies. Statuses are merged; codes are listed once.
 */
export function errorsOf(route: RouteDoc): ErrorDoc[] {
  const implied: ErrorDoc[] = [];
  if (route.body) {
    implied.push(
      { status: 400, codes: ["invalid_request"], when: "malformed JSON or a schema failure (`details.fields` names the fields)" },
      { status: 413, codes: ["payload_too_large"], when: "a body over BODY_LIMIT_BYTES (16 KiB)" },
      { status: 415, codes: ["unsupported_media_type"], when: "a content type other than application/json" },
    );
  }
  // The upgrade does not validate its query: a bad token is told by close code 4401, not 400.
  if (route.query && !route.websocket) implied.push({ status: 400, codes: ["invalid_request"], when: "a query parameter out of range (`details.fields`)" });
  if (route.auth === "player") implied.push({ status: 401, codes: ["unauthorized"], when: "missing, unknown or expired bearer token" });
  if (route.auth === "admin") {
    implied.push(
      { status: 401, codes: ["unauthorized"], when: "missing or wrong admin token" },
      { status: 404, codes: ["not_found"], when: "ADMIN_TOKEN is not set: admin routes are off" },
    );
  }
  if (route.perIpLimited) {
    const when =
      route.method === "GET"
        ? "this address used up its per-IP read limit (READ_RATE_PER_SEC, READ_RATE_BURST; every read counts, with or without a token; a grid costs one per 12 × 21 cells it asks for, so 60 × 61 costs 15)"
        : "too many sign-in requests from this address (per-IP limits)";
    implied.push({ status: 429, codes: ["rate_limited"], when, retryAfter: true });
  }
  if (route.storage) {
    implied.push({ status: 503, codes: ["unavailable"], when: "the database or Redis failed or timed out; no money moved", retryAfter: true });
  }
  const byStatus = new Map<number, ErrorDoc>();
  for (const error of [...implied, ...(route.errors ?? [])]) {
    const known = byStatus.get(error.status);
    if (!known) {
      byStatus.set(error.status, { ...error });
      continue;
    }
    const codes = [...new Set([...known.codes, ...error.codes])] as [string, ...string[]];
    const when = known.when === error.when ? known.when : `${known.when}; ${error.when}`;
    byStatus.set(error.status, { status: error.status, codes, when, retryAfter: Boolean(known.retryAfter || error.retryAfter) });
  }
  return [...byStatus.values()].sort((a, b) => a.status - b.status);
}
