import { randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { Pool } from "undici";
import { parseArgs } from "node:util";

/**
 * The deploy and kill -9 drills' bet load (issue 24 part 1; tests/deploy.failover.test.ts), in a
 * process of its own: bets offered open-loop at --rate per second through nginx for --seconds (or
 * until SIGINT), each
 * with its own idempotency key, on cells whose window ends within ~20 s (so the drill sees them
 * settled), spread over the signed-in players of --tokens. Every answer is recorded: HTTP status and
 * error code, or the network error; the records go to --out as JSON, with a summary:
 * - failures by kind (5xx by code, network errors by code; intended refusals — 409, 429 — apart),
 * - the longest gap between two successful (2xx) answers,
 * - the bets acknowledged (2xx) with their ids, for the caller to look up in the database.
 */
const { values } = parseArgs({
  options: {
    base: { type: "string" },
    tokens: { type: "string" },
    rate: { type: "string", default: "1000" },
    seconds: { type: "string", default: "10" },
    out: { type: "string" },
    connections: { type: "string", default: "64" },
    "in-flight-max": { type: "string", default: "2000" },
  },
});
if (!values.base || !values.tokens || !values.out) throw new Error("usage: drill-load --base URL --tokens FILE --out FILE [--rate N] [--seconds S]");
const base = values.base;
const tokens = JSON.parse(readFileSync(values.tokens, "utf8")) as string[];
const rate = Number(values.rate);
const seconds = Number(values.seconds);
const TIMEOUT_MS = 20_000;

interface Cell {
  col: number;
  row: number;
  windowStart: number;
  multiplier: number | null;
}

/**
 * Cells of the first two columns still open for at least 2.5 s more (a bet answered later than that
 * is refused `cell_locked`; the margin keeps most of them placed on a loaded machine), so the drill
 * sees them settle within seconds.
 */
let cells: Cell[] = [];
async function refreshCells(): Promise<void> {
  const res = await fetch(`${base}/api/grid?cols=6&rows=21`, { signal: AbortSignal.timeout(5000) });
  if (res.status !== 200) return;
  const grid = (await res.json()) as { at: number; lockMs: number; columnMs: number; cells: Cell[] };
  const open = grid.cells.filter((c) => c.multiplier !== null && c.multiplier <= 50 && c.windowStart - grid.at >= grid.lockMs + 2500);
  const first = Math.min(...open.map((c) => c.col));
  const fresh = open.filter((c) => c.col <= first + 1);
  if (fresh.length > 0) cells = fresh;
}

/** [sentAtMs, doneAtMs, status (0: no HTTP answer), error code or network error, bet id or 0, token index, key]. */
type Record_ = [number, number, number, string, number, number, string];

async function main() {
  for (let i = 0; i < 100 && cells.length === 0; i++) {
    await refreshCells().catch(() => {});
    if (cells.length === 0) await new Promise((r) => setTimeout(r, 200));
  }
  if (cells.length === 0) throw new Error("no open cells in the grid");
  const refresher = setInterval(() => void refreshCells().catch(() => {}), 500);
  const pool = new Pool(base, { connections: Number(values.connections), pipelining: 1, headersTimeout: TIMEOUT_MS, bodyTimeout: TIMEOUT_MS, keepAliveTimeout: 60_000 });
  const total = Math.round(rate * seconds);
  const records: Record_[] = [];
  const t0 = performance.now();
  let sent = 0;
  let done = 0;
  /**
   * Bets due while this many are waiting or in flight are not sent (counted): a server that falls
   * behind would otherwise build a queue in this client that outlives the drill (every later bet
   * then arrives seconds late and is refused `cell_locked`), and measure the queue, not the service.
   */
  const inFlightMax = Number(values["in-flight-max"]);
  let notSent = 0;
  const fire = (seq: number) => {
    const cell = cells[seq % cells.length]!;
    const player = seq % tokens.length;
    const key = randomBytes(12).toString("base64url");
    const sentAt = performance.now() - t0;
    const body = JSON.stringify({ col: cell.col, row: cell.row, stakeMicroUsd: 100_000, idempotencyKey: key });
    pool
      .request({ method: "POST", path: "/api/bets", headers: { "content-type": "application/json", authorization: `Bearer ${tokens[player]}` }, body })
      .then(async (res) => {
        const text = await res.body.text();
        let code = "";
        let id = 0;
        try {
          const parsed = JSON.parse(text) as { id?: number; bet?: { id?: number }; error?: { code?: string; message?: string; details?: { dependency?: string } } };
          code = parsed.error?.code ?? "";
          // A 5xx says who answered: nginx ("not reachable") or the app (which dependency).
          if (res.statusCode >= 500) code += parsed.error?.details?.dependency ? `(${parsed.error.details.dependency})` : parsed.error?.message?.includes("not reachable") ? "(nginx: upstream failed)" : "";
          id = parsed.id ?? parsed.bet?.id ?? 0;
        } catch {
          code = "not_json";
        }
        records.push([sentAt, performance.now() - t0, res.statusCode, code, id, player, key]);
      })
      .catch((error: { code?: string; name?: string }) => {
        records.push([sentAt, performance.now() - t0, 0, error.code ?? error.name ?? "error", 0, player, key]);
      })
      .finally(() => done++);
  };
  const intervalMs = 1000 / rate;
  // SIGINT: stop offering now (the drill is over), wait for the answers, write the records.
  let stopped = false;
  process.once("SIGINT", () => (stopped = true));
  process.stdout.write("offering\n");
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const due = Math.min(total, Math.floor((performance.now() - t0) / intervalMs) + 1);
      while (sent + notSent < due && !stopped) {
        if (sent - done >= inFlightMax) notSent++;
        else fire(sent++);
      }
      if (sent + notSent >= total || stopped) {
        clearInterval(timer);
        resolve();
      }
    }, 1);
  });
  const deadline = performance.now() + TIMEOUT_MS + 1000;
  while (done < sent && performance.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  clearInterval(refresher);
  await pool.destroy();
  const summary = { ...summarize(records, sent), notSent };
  writeFileSync(values.out!, JSON.stringify({ summary, records }));
  process.stdout.write(`${JSON.stringify(summary)}\n`);
}

function summarize(records: Record_[], sent: number) {
  const byKind: Record<string, number> = {};
  let ok = 0;
  let serverErrors = 0;
  const refusals: Record<string, number> = {};
  const okTimes: number[] = [];
  for (const [, doneAt, status, code] of records) {
    if (status >= 200 && status < 300) {
      ok++;
      okTimes.push(doneAt);
    } else if (status === 0) byKind[`network:${code}`] = (byKind[`network:${code}`] ?? 0) + 1;
    else if (status >= 500) {
      serverErrors++;
      byKind[`${status}:${code}`] = (byKind[`${status}:${code}`] ?? 0) + 1;
    } else if (status === 409 || status === 429) refusals[code] = (refusals[code] ?? 0) + 1;
    else byKind[`${status}:${code}`] = (byKind[`${status}:${code}`] ?? 0) + 1;
  }
  okTimes.sort((a, b) => a - b);
  let longestGapMs = 0;
  let gapEndsAtMs = 0;
  for (let i = 1; i < okTimes.length; i++) {
    if (okTimes[i]! - okTimes[i - 1]! > longestGapMs) {
      longestGapMs = okTimes[i]! - okTimes[i - 1]!;
      gapEndsAtMs = okTimes[i]!;
    }
  }
  // Any answer from the app (placed or refused): a gap here is the service not answering at all,
  // while a gap in the 2xx alone may be bets answered too late for their cell (cell_locked).
  const answerTimes = records.filter((r) => r[2] !== 0 && r[2] < 500).map((r) => r[1]).sort((a, b) => a - b);
  let longestAnswerGapMs = 0;
  for (let i = 1; i < answerTimes.length; i++) longestAnswerGapMs = Math.max(longestAnswerGapMs, answerTimes[i]! - answerTimes[i - 1]!);
  // Per second of the run (by when each bet was sent): placed / refused / failed, and the slowest answer.
  const bySecond: string[] = [];
  for (const [sentAt, doneAt, status] of records) {
    const second = Math.floor(sentAt / 1000);
    while (bySecond.length <= second) bySecond.push("0/0/0/0");
    const [placed, refused, failed, slowest] = bySecond[second]!.split("/").map(Number) as [number, number, number, number];
    const ok = status >= 200 && status < 300;
    const refusal = status >= 400 && status < 500;
    bySecond[second] = `${placed + (ok ? 1 : 0)}/${refused + (refusal ? 1 : 0)}/${failed + (!ok && !refusal ? 1 : 0)}/${Math.max(slowest, Math.round(doneAt - sentAt))}`;
  }
  const latencies = records.filter((r) => r[2] !== 0).map((r) => r[1] - r[0]).sort((a, b) => a - b);
  return {
    offered: sent,
    answered: records.length,
    acknowledged: ok,
    intendedRefusals: refusals,
    serverErrors,
    failuresByKind: byKind,
    longestGapMs: Math.round(longestGapMs),
    gapEndsAtMs: Math.round(gapEndsAtMs),
    longestAnswerGapMs: Math.round(longestAnswerGapMs),
    /** "placed/refused/failed/slowest ms" for the bets sent in each second. */
    bySecond,
    p99Ms: Math.round(latencies[Math.floor(0.99 * (latencies.length - 1))] ?? 0),
    maxMs: Math.round(latencies.at(-1) ?? 0),
  };
}

main().catch((error) => {
  process.stderr.write(`drill-load failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
