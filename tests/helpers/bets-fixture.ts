import { randomBytes } from "node:crypto";
import { startTestServer, type TestServer } from "./server.ts";

/** Helpers for the bets, ledger and integrity suites (owned by the bets module). */

export const ADMIN_TOKEN = "admin-token-for-tests-0123456789";
export const START_PRICE_CENTS = 9_500_000;

export interface Clock {
  nowMs: number;
}

export interface BetServer extends TestServer {
  clock: Clock;
}

/**
 * A test server with a frozen, injectable clock (rate limits and lock-ahead are deterministic) and a
 * manual price: a few ticks at the clock's time, so the circuit is closed and cells are priced.
 */
export async function startBetServer(overrides: Record<string, string | number | boolean> = {}): Promise<BetServer> {
  const clock: Clock = { nowMs: Date.UTC(2030, 0, 7, 12, 0, 0) };
  const server = await startTestServer({ ADMIN_TOKEN, ...overrides }, { now: () => clock.nowMs });
  feedPrice(server, START_PRICE_CENTS);
  return Object.assign(server, { clock });
}

/** One manual index tick at the clock's current time. */
export function feedPrice(server: TestServer, priceCents: number): void {
  server.ctx.services.price.ingest("manual", priceCents, server.ctx.now());
}

export interface GridCell {
  col: number;
  row: number;
  multiplier: number;
  windowStart: number;
}

/** The offered cells of GET /api/grid. */
export async function gridCells(server: Pick<TestServer, "request">, cols = 12, rows = 21): Promise<GridCell[]> {
  const res = await server.request(`/api/grid?cols=${cols}&rows=${rows}`);
  if (res.status !== 200) throw new Error(`grid: ${res.status} ${await res.text()}`);
  const body = (await res.json()) as { cells: GridCell[] };
  return body.cells.filter((c) => typeof c.multiplier === "number");
}

/** An offered cell with a modest multiplier in the `k`-th offered column. */
export async function pickCell(server: Pick<TestServer, "request">, k = 0): Promise<GridCell> {
  const cells = await gridCells(server);
  const cols = [...new Set(cells.map((c) => c.col))].sort((a, b) => a - b);
  const col = cols[k];
  if (col === undefined) throw new Error(`no offered column #${k}`);
  const inCol = cells.filter((c) => c.col === col).sort((a, b) => a.multiplier - b.multiplier);
  const cell = inCol.find((c) => c.multiplier >= 1.5) ?? inCol[0];
  if (!cell) throw new Error("no offered cell");
  return cell;
}

export function newKey(): string {
  return `k-${randomBytes(9).toString("base64url")}`;
}

export interface BetBody {
  col: number;
  row: number;
  stakeMicroUsd: number;
  idempotencyKey: string;
  minMultiplier?: number;
}

export async function postBet(server: Pick<TestServer, "request">, token: string, body: unknown): Promise<{ status: number; body: any; headers: Headers }> {
  const res = await server.request("/api/bets", { method: "POST", token, json: body });
  return { status: res.status, body: await res.json(), headers: res.headers };
}

export async function getJson(server: Pick<TestServer, "request">, path: string, token?: string): Promise<{ status: number; body: any }> {
  const res = await server.request(path, token ? { token } : {});
  return { status: res.status, body: await res.json() };
}

export async function integrity(server: Pick<TestServer, "request">): Promise<{ ok: boolean; problems: unknown[]; [k: string]: unknown }> {
  const res = await server.request("/api/admin/integrity", { token: ADMIN_TOKEN });
  if (res.status !== 200) throw new Error(`integrity: ${res.status} ${await res.text()}`);
  return (await res.json()) as { ok: boolean; problems: unknown[] };
}
