/**
 * The bet load of `npm run bench:audience`, in a process of its own (forked by
 * scripts/bench-audience.ts): paced, open-loop POST /api/bets (scripts/lib/paced.ts) at the offered
 * rate over a fixed number of keep-alive connections. Against the app, real players signed in with
 * SIWE bet on offered cells (GET /api/grid, refreshed every second); against the minimal server, the
 * same requests without a token.
 *
 *   fork(audience-bets.ts, [baseUrl, "app" | "minimal", rate, connections])
 * Messages: parent → {go: {warmupMs, durationMs}}; child → {ready: {players}} and {report: BetsReport}.
 */
import { randomBytes } from "node:crypto";
import { runPaced, type PacedRequest } from "./paced.ts";
import { signIn } from "../../tests/helpers/siwe.ts";
import { nextGo, report, runAsChild } from "./bench-child.ts";

export interface BetsReport {
  offeredPerSec: number;
  acceptedPerSec: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Answers other than 201, by status and code. */
  refusals: Record<string, number>;
  errors: number;
  notSent: number;
  generatorDelayP99Ms: number;
}

/** Columns at least this far past the lock, so a bet does not hit the lock while in flight. */
const SAFETY_MS = 3000;
const SIGN_IN_PARALLEL = 16;

interface Cell {
  col: number;
  row: number;
  windowStart: number;
  multiplier: number;
}

const request = (base: string) => ({
  request: (path: string, init: RequestInit & { json?: unknown } = {}) =>
    fetch(base + path, { ...init, headers: { "content-type": "application/json" }, body: init.json !== undefined ? JSON.stringify(init.json) : init.body }),
});

async function signInPlayers(base: string, count: number): Promise<string[]> {
  const tokens: string[] = [];
  let next = 0;
  const worker = async () => {
    while (next++ < count) tokens.push((await signIn(request(base))).token);
  };
  await Promise.all(Array.from({ length: SIGN_IN_PARALLEL }, worker));
  return tokens;
}

/** Offered cells that stay open a few more seconds, refreshed every second. */
function cellFeed(base: string) {
  let cells: Cell[] = [];
  const refresh = async () => {
    const res = await fetch(`${base}/api/grid?cols=6&rows=21`);
    if (res.status !== 200) return;
    const grid = (await res.json()) as { at: number; lockMs: number; cells: Cell[] };
    const fresh = grid.cells.filter((c) => c.multiplier <= 50 && c.windowStart - grid.at >= grid.lockMs + SAFETY_MS);
    if (fresh.length > 0) cells = fresh;
  };
  const timer = setInterval(() => void refresh().catch(() => undefined), 1000);
  /** Until the first offered cells (a fresh server has no price for a moment). */
  const ready = async () => {
    for (let attempt = 0; cells.length === 0; attempt++) {
      if (attempt > 100) throw new Error(`no offered cells at ${base}/api/grid`);
      await refresh().catch(() => undefined);
      if (cells.length === 0) await new Promise((r) => setTimeout(r, 200));
    }
  };
  return { ready, pick: () => cells[Math.floor(Math.random() * cells.length)], stop: () => clearInterval(timer) };
}

async function main(): Promise<void> {
  const [base, mode, rateText, connectionsText] = process.argv.slice(2) as [string, "app" | "minimal", string, string];
  const rate = Number(rateText);
  const connections = Number(connectionsText);
  const go = nextGo();
  // Enough players that none reaches the per-player limits (20 bets/s, 200 open bets) in a run.
  const players = mode === "app" ? await signInPlayers(base, Math.max(200, Math.ceil(rate / 6))) : [];
  const cells = mode === "app" ? cellFeed(base) : undefined;
  await cells?.ready();
  process.send!({ ready: { players: players.length } });
  const { warmupMs, durationMs } = await go;
  let seq = 0;
  const next = (): PacedRequest => {
    const n = seq++;
    const stakeMicroUsd = 100_000 + (n % 1000);
    if (mode === "minimal") return { method: "POST", path: "/api/bets", headers: { "content-type": "application/json" }, body: JSON.stringify({ account: n, stakeMicroUsd }) };
    const cell = cells!.pick();
    const body = cell
      ? { col: cell.col, row: cell.row, stakeMicroUsd, idempotencyKey: randomBytes(12).toString("base64url") }
      : { col: 0, row: 0, stakeMicroUsd, idempotencyKey: randomBytes(12).toString("base64url") };
    return { method: "POST", path: "/api/bets", headers: { "content-type": "application/json", authorization: `Bearer ${players[n % players.length]}` }, body: JSON.stringify(body) };
  };
  const refusals: Record<string, number> = {};
  const paced = (ms: number, count: boolean) =>
    runPaced({
      baseUrl: base,
      ratePerSec: rate,
      durationSec: ms / 1000,
      connectionsMax: connections,
      next,
      onResponse: (_seq, status, text) => {
        if (!count || status === 201) return;
        let code = "";
        try {
          code = (JSON.parse(text) as { error?: { code?: string } }).error?.code ?? "";
        } catch {
          // not JSON: an nginx page
        }
        const key = `${status} ${code}`.trim();
        refusals[key] = (refusals[key] ?? 0) + 1;
      },
    });
  if (warmupMs > 0) await paced(warmupMs, false);
  const measured = await paced(durationMs, true);
  cells?.stop();
  const result: BetsReport = {
    offeredPerSec: rate,
    acceptedPerSec: (measured.statusCounts["201"] ?? 0) / measured.durationSec,
    p50Ms: measured.p50Ms,
    p99Ms: measured.p99Ms,
    maxMs: measured.maxMs,
    refusals,
    errors: measured.errors,
    notSent: measured.notSent,
    generatorDelayP99Ms: measured.generatorDelayP99Ms,
  };
  report(result);
}

runAsChild(main);
