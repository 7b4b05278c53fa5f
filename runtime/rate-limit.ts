import type { H3Event, Middleware } from "h3";
import { Counter } from "prom-client";
import { TokenBuckets } from "../domain/token-bucket.ts";
import { clientIp, ipSet } from "./client-ip.ts";
import type { Config } from "./config.ts";
import { apiError } from "./errors.ts";
import { GRID_SIZE } from "../services/api-docs/requests.ts";
import type { Metrics } from "./metrics.ts";

/** Routes never limited here: health checks, Prometheus (nginx lets only the host reach it) and /ws (own limits). */
const UNLIMITED_PATHS = new Set(["/healthz", "/readyz", "/metrics", "/ws"]);

/** The default grid (12 × 21 cells, SPEC §4): one read's worth of work. */
const GRID_CELLS_PER_READ = GRID_SIZE.cols.default * GRID_SIZE.rows.default;

/**
 * What a read costs in tokens: 1, except `GET /api/grid`, which costs one per default grid's worth of
 * cells (a 60 × 61 grid, ~500 KB, costs 15): abuse costs the abuser, a player's page costs 1. The
 * query is read leniently here (the handler validates it); anything unreadable costs 1.
 */
export function readCost(url: URL): number {
  if (url.pathname !== "/api/grid") return 1;
  const size = (name: keyof typeof GRID_SIZE) => {
    const value = Number(url.searchParams.get(name) ?? GRID_SIZE[name].default);
    return Number.isInteger(value) && value >= 1 ? Math.min(value, GRID_SIZE[name].max) : 1;
  };
  return Math.max(1, Math.ceil((size("cols") * size("rows")) / GRID_CELLS_PER_READ));
}

/**
 * Per-IP limit on reads (GET/HEAD), in the app as well as in nginx: a client looping on a public
 * route such as `GET /api/grid` gets `429 rate_limited` with `Retry-After` once its bucket is empty
 * (a large grid takes more of the bucket: `readCost`),
 * before any handler runs. The client address is the socket peer, or the address a trusted proxy
 * forwarded (runtime/client-ip.ts). Addresses in READ_RATE_EXEMPT (loopback: local tools and the
 * host's own checks) are not limited. Every read counts, with or without a bearer token: a header is
 * no proof of a session until the handler checked it, and an unchecked header must not buy a bypass.
 */
export function readRateLimit(config: Config, metrics: Metrics): Middleware {
  const buckets = new TokenBuckets({ ratePerSec: config.READ_RATE_PER_SEC, burst: config.READ_RATE_BURST, keysMax: config.READ_RATE_CLIENTS_MAX });
  const trusted = ipSet(config.TRUSTED_PROXIES);
  const exempt = ipSet(config.READ_RATE_EXEMPT);
  const limited = new Counter({ name: "http_read_rate_limited_total", help: "Reads refused with 429 by the per-IP read limit", registers: [metrics.registry] });
  return (event: H3Event) => {
    const method = event.req.method;
    if (method !== "GET" && method !== "HEAD") return;
    if (UNLIMITED_PATHS.has(event.url.pathname)) return;
    const ip = clientIp((event.req as { ip?: string }).ip, event.req.headers.get("x-forwarded-for"), trusted);
    if (exempt.has(ip)) return;
    const result = buckets.take(ip, Date.now(), readCost(event.url));
    if (result.ok) return;
    limited.inc();
    const retryAfterSec = Math.max(1, Math.ceil(result.retryAfterMs / 1000));
    throw apiError(429, "rate_limited", "too many reads from this address; slow down", { retryAfterSec }, { "retry-after": String(retryAfterSec) });
  };
}
