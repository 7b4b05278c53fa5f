import type { z } from "zod";
import { assetFileParam, betIdParam, betsQuery, creditBody, gridQuery, ledgerQuery, nonceBody, placeBetBody, verifyBody, wsQuery } from "./requests.ts";
import * as R from "./responses.ts";

/**
 * The route → schema registry: every HTTP route the server mounts, with its auth, its inputs, its
 * answers and the error codes of API.md. ./openapi.ts renders it as the OpenAPI document and
 * tests/openapi.coverage.test.ts checks it against the runtime's route table, both ways.
 *
 * Errors every route of a kind shares are added by `errorsOf` (./errors.ts), so they are stated once:
 * a JSON body → 400/413/415, a player or admin route → 401 (admin also 404 while ADMIN_TOKEN is unset),
 * `storage` → 503 `unavailable`, `perIpLimited` → 429 `rate_limited`.
 */

export type RouteAuth = "public" | "player" | "admin";

export interface ResponseDoc {
  description: string;
  /** JSON body; absent for an empty answer. */
  schema?: z.ZodType;
  /** Non-JSON answers: the media type(s) of a text body (alongside `schema`'s application/json, if any). */
  text?: { contentType: string | readonly string[] };
  headers?: Record<string, string>;
}

export interface ErrorDoc {
  status: number;
  codes: readonly [string, ...string[]];
  when: string;
  /** Retry-After is sent. */
  retryAfter?: boolean;
}

export interface RouteDoc {
  method: "GET" | "POST";
  /** The route as runtime/routes.ts spells it: `/api/bets/:id`. */
  route: string;
  summary: string;
  description?: string;
  tag: "health" | "docs" | "auth" | "market" | "bets" | "ledger" | "admin" | "realtime" | "web";
  auth: RouteAuth;
  body?: z.ZodType;
  query?: z.ZodObject;
  params?: Record<string, z.ZodType>;
  responses: Record<number, ResponseDoc>;
  errors?: ErrorDoc[];
  /** Reads or writes the database or the session/nonce store (Redis): 503 `unavailable` when they fail. */
  storage?: boolean;
  /**
   * Rate-limited per client IP: 429 `rate_limited` with Retry-After. Every GET but /healthz, /readyz,
   * /metrics and /ws passes the app's per-IP read limit (runtime/rate-limit.ts; with or without a
   * token); `POST /api/auth/nonce` has its own per-IP nonce rate; sign-in is limited per IP by nginx
   * in front, in the same error shape.
   */
  perIpLimited?: boolean;
  /** The WebSocket upgrade: its frames are the Ws* components. */
  websocket?: boolean;
}

const priceUnavailable: ErrorDoc = { status: 503, codes: ["price_unavailable"], when: "no index price yet", retryAfter: true };
const notBuilt: ErrorDoc = { status: 503, codes: ["unavailable"], when: "the file is missing: the page is not built (`npm run build:web`)", retryAfter: true };
/** Static files are revalidated: ETag / Last-Modified, `cache-control: no-cache`. */
const staticHeaders = {
  ETag: "weak validator of the file (size and mtime)",
  "Last-Modified": "the file's modification time",
  "Cache-Control": "`no-cache`: revalidate every time",
  "X-Content-Type-Options": "`nosniff`",
};
const notModified: ResponseDoc = { description: "not modified: the `If-None-Match` / `If-Modified-Since` validators still match (no body)" };
const unknownBet: ErrorDoc = { status: 404, codes: ["not_found"], when: "an unknown bet, or another player's" };

export const API_ROUTES: readonly RouteDoc[] = [
  {
    method: "GET",
    route: "/healthz",
    tag: "health",
    auth: "public",
    summary: "Liveness",
    responses: { 200: { description: "the process runs", schema: R.healthBody } },
  },
  {
    method: "GET",
    route: "/readyz",
    tag: "health",
    auth: "public",
    summary: "Readiness: database writable, Redis reachable when configured, price fresh",
    responses: {
      200: { description: "every check passed", schema: R.readyBody },
      503: { description: "degraded: `checks` says which check failed", schema: R.readyBody },
    },
  },
  {
    method: "GET",
    route: "/metrics",
    tag: "health",
    auth: "public",
    summary: "Prometheus metrics (text exposition format)",
    responses: { 200: { description: "Prometheus text format 0.0.4", text: { contentType: "text/plain" } } },
  },
  {
    method: "GET",
    route: "/openapi.json",
    tag: "docs",
    auth: "public",
    perIpLimited: true,
    summary: "This document",
    description: "OpenAPI 3.1, generated from the zod schemas the handlers validate with. The WebSocket frames are the `Ws*` schemas under `components.schemas`.",
    responses: { 200: { description: "the OpenAPI 3.1 document", schema: R.openApiBody } },
  },
  {
    method: "GET",
    route: "/asyncapi.json",
    tag: "docs",
    auth: "public",
    perIpLimited: true,
    summary: "The WebSocket frames as an AsyncAPI 3.0 document",
    description: "The same frame schemas as the `Ws*` components of this document, for AsyncAPI tooling.",
    responses: { 200: { description: "the AsyncAPI 3.0 document", schema: R.asyncApiBody } },
  },
  {
    method: "POST",
    route: "/api/auth/nonce",
    tag: "auth",
    auth: "public",
    storage: true,
    perIpLimited: true,
    summary: "A single-use nonce bound to the address, and the EIP-4361 message to sign",
    description: "Nonces are limited per client IP (429 `rate_limited` with Retry-After; nothing is stored then); clients on the host itself are not limited.",
    body: nonceBody,
    responses: { 200: { description: "the challenge; nonces expire after NONCE_TTL_MS", schema: R.challengeBody } },
  },
  {
    method: "POST",
    route: "/api/auth/verify",
    tag: "auth",
    auth: "public",
    storage: true,
    perIpLimited: true,
    summary: "Sign-In with Ethereum: a signed EIP-4361 message → a session token",
    description: "Checks run in a fixed order and the first failure answers. Creates the account on first sign-in with DEMO_BALANCE_MICRO_USD.",
    body: verifyBody,
    responses: { 200: { description: "signed in", schema: R.sessionBody } },
    errors: [
      { status: 400, codes: ["invalid_request"], when: "the message is not a well-formed EIP-4361 message" },
      {
        status: 401,
        codes: ["invalid_signature", "nonce_unknown", "nonce_expired", "domain_mismatch", "uri_mismatch", "chain_mismatch", "message_expired", "message_not_yet_valid"],
        when: "the first failed check; `nonce_unknown` also for a consumed nonce (a replay)",
      },
      { status: 503, codes: ["overloaded", "shutting_down"], when: "the write queue is full or closing", retryAfter: true },
    ],
  },
  {
    method: "POST",
    route: "/api/auth/logout",
    tag: "auth",
    auth: "player",
    storage: true,
    summary: "Revoke the session token in every process",
    responses: { 204: { description: "the token no longer works" } },
  },
  {
    method: "GET",
    route: "/api/me",
    perIpLimited: true,
    tag: "auth",
    auth: "player",
    storage: true,
    summary: "The signed-in player: address, balance, open bets",
    responses: { 200: { description: "the profile", schema: R.profileBody } },
  },
  {
    method: "GET",
    route: "/api/price",
    tag: "market",
    auth: "public",
    perIpLimited: true,
    summary: "Index price, its age, the circuit and each source's health",
    responses: { 200: { description: "the latest index tick", schema: R.priceBody } },
    errors: [priceUnavailable],
  },
  {
    method: "GET",
    route: "/api/grid",
    tag: "market",
    auth: "public",
    perIpLimited: true,
    summary: "Offerable cells with their multipliers",
    description: "Columns from the first unlocked one, rows centred on the current price; only cells whose multiplier is in the offered range.",
    query: gridQuery,
    responses: { 200: { description: "the grid", schema: R.gridBody } },
    errors: [{ status: 503, codes: ["price_unavailable", "overloaded"], when: "no index price yet; too many distinct grid sizes being built at once", retryAfter: true }],
  },
  {
    method: "POST",
    route: "/api/bets",
    tag: "bets",
    auth: "player",
    storage: true,
    summary: "Place a bet (tap a cell)",
    description:
      "Answered only after the bet, the debit and its ledger entries are committed. The same `idempotencyKey` with the same body → 200 with the same bet and no second debit; with a different body → 409 `idempotency_conflict`; both hold after the bet was archived, as long as its key is kept (IDEMPOTENCY_KEY_RETENTION_MS). A stake outside STAKE_MIN/MAX_MICRO_USD is 400 naming `stakeMicroUsd`.",
    body: placeBetBody,
    responses: {
      201: { description: "placed", schema: R.placeBetAnswer },
      200: { description: "a retry of a placed bet (same idempotency key and body)", schema: R.placeBetAnswer },
    },
    errors: [
      { status: 402, codes: ["insufficient_balance"], when: "balance < stake" },
      {
        status: 409,
        codes: ["cell_locked", "cell_not_offered", "multiplier_changed", "exposure_limit", "idempotency_conflict"],
        when: "the window starts sooner than lockMs, is past or beyond the horizon; the multiplier is outside the offered range; it is below `minMultiplier` (`details.multiplier` = current); a limit would be exceeded; the key was used for another body",
      },
      { status: 429, codes: ["too_many_open_bets", "rate_limited"], when: "per-player limits", retryAfter: true },
      { status: 503, codes: ["price_stale", "overloaded", "shutting_down"], when: "circuit open (ADR-008); batch queue full; shutting down", retryAfter: true },
    ],
  },
  {
    method: "GET",
    route: "/api/bets",
    perIpLimited: true,
    tag: "bets",
    auth: "player",
    storage: true,
    summary: "The player's bets, newest first, across the current and historical databases",
    query: betsQuery,
    responses: { 200: { description: "one page", schema: R.betPage } },
  },
  {
    method: "GET",
    route: "/api/bets/:id",
    perIpLimited: true,
    tag: "bets",
    auth: "player",
    storage: true,
    summary: "One of the player's own bets",
    params: { id: betIdParam },
    responses: { 200: { description: "the bet", schema: R.betBody } },
    errors: [unknownBet],
  },
  {
    method: "GET",
    route: "/api/bets/:id/proof",
    perIpLimited: true,
    tag: "bets",
    auth: "player",
    storage: true,
    summary: "Settlement proof: the stored ticks and stale gaps of the window and the outcome recomputed from them",
    params: { id: betIdParam },
    responses: { 200: { description: "the proof", schema: R.proofBody } },
    errors: [unknownBet],
  },
  {
    method: "GET",
    route: "/api/ledger",
    perIpLimited: true,
    tag: "ledger",
    auth: "player",
    storage: true,
    summary: "The player's ledger entries, newest first, across current and history",
    query: ledgerQuery,
    responses: { 200: { description: "one page", schema: R.ledgerPage } },
  },
  {
    method: "POST",
    route: "/api/admin/credit",
    tag: "admin",
    auth: "admin",
    storage: true,
    summary: "Credit (or adjust) a player's balance, idempotent on `reference`",
    body: creditBody,
    responses: { 200: { description: "credited, or the same request again", schema: R.creditAnswer } },
    errors: [
      {
        status: 400,
        codes: ["invalid_request"],
        when: "`address` is not an Ethereum address; |`amountMicroUsd`| is above CREDIT_MAX_MICRO_USD (`details.creditMaxMicroUsd`); the credit would take the balance above BALANCE_MAX_MICRO_USD (`details.balanceMicroUsd`, `details.balanceMaxMicroUsd`)",
      },
      { status: 402, codes: ["insufficient_balance"], when: "a negative adjustment larger than the balance" },
      { status: 409, codes: ["idempotency_conflict"], when: "the reference was used for a different credit" },
      { status: 503, codes: ["overloaded", "shutting_down"], when: "the write queue is full or closing", retryAfter: true },
    ],
  },
  {
    method: "GET",
    route: "/api/admin/exposure",
    perIpLimited: true,
    tag: "admin",
    auth: "admin",
    storage: true,
    summary: "Open exposure per column and cell, with the caps",
    responses: { 200: { description: "the report", schema: R.exposureBody } },
  },
  {
    method: "GET",
    route: "/api/admin/integrity",
    perIpLimited: true,
    tag: "admin",
    auth: "admin",
    storage: true,
    summary: "Ledger audit over current + history, run now",
    responses: { 200: { description: "the report; `ok` false lists the problems", schema: R.integrityBody } },
  },
  {
    method: "POST",
    route: "/api/admin/archive",
    tag: "admin",
    auth: "admin",
    storage: true,
    summary: "Run the weekly archiver now",
    responses: { 200: { description: "the archiver's report", schema: R.archiveReport } },
    errors: [{ status: 409, codes: ["archive_running"], when: "an archive run is in progress" }],
  },
  {
    method: "GET",
    route: "/",
    tag: "web",
    auth: "public",
    perIpLimited: true,
    summary: "The demo page (web/index.html)",
    description: "Static HTML; it loads only `/assets/*` and talks to its own origin (HTTP and `/ws`), as its Content-Security-Policy says.",
    responses: {
      200: {
        description: "the page",
        text: { contentType: "text/html" },
        headers: { ...staticHeaders, "Content-Security-Policy": "the page may load and connect to its own origin only" },
      },
      304: notModified,
    },
    errors: [notBuilt],
  },
  {
    method: "GET",
    route: "/assets/:file",
    tag: "web",
    auth: "public",
    perIpLimited: true,
    summary: "The demo page's bundle, its source map and its style sheet",
    description: "A fixed list of files; no request path reaches the file system. The bundle comes from `npm run build:web`.",
    params: { file: assetFileParam },
    responses: {
      200: {
        description: "`app.js` as text/javascript, `style.css` as text/css, `app.js.map` as application/json",
        schema: R.sourceMapBody,
        text: { contentType: ["text/javascript", "text/css"] },
        headers: staticHeaders,
      },
      304: notModified,
    },
    errors: [{ status: 404, codes: ["not_found"], when: "a file that is not in the list" }, notBuilt],
  },
  {
    method: "GET",
    route: "/ws",
    tag: "realtime",
    auth: "public",
    websocket: true,
    query: wsQuery,
    summary: "WebSocket stream: hello, price, grid, circuit; with ?token= also the player's bet and balance events",
    description:
      "Upgrade to a WebSocket. Server → client frames are `WsServerMessage`, client → server `WsClientMessage` (components.schemas). An invalid token is closed with code 4401 after the handshake.",
    responses: {
      101: { description: "switching protocols" },
      503: { description: "too many WebSocket clients, or the session store is unavailable", text: { contentType: "text/plain" }, headers: { "retry-after": "seconds" } },
    },
  },
];

/** `METHOD /route` — the key the coverage test compares with the runtime's route table. */
export const routeKey = (r: Pick<RouteDoc, "method" | "route">): string => `${r.method} ${r.route}`;
