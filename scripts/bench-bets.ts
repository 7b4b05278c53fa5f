/**
 * Bet placement benchmark (SPEC §10: 3 000 bets/s for 60 s, p99 ≤ 100 ms, through nginx).
 *
 *   npx tsx scripts/bench-bets.ts --url http://127.0.0.1:8080 --admin-token $ADMIN_TOKEN \
 *     [--rate 3000] [--duration 60] [--players 1000] [--connections 512] [--auth-url <app url>]
 *     [--tool paced|autocannon] [--warmup 0]
 *
 * `--warmup S` first runs the same paced load for S seconds and prints it on its own line, outside
 * the figures (a fresh process is slow while the JIT warms up); its bets count in the data check.
 *
 * The default load tool is the open-loop generator of scripts/lib/paced.ts: requests leave at the
 * offered rate and latency counts from when each was due. `--tool autocannon` uses autocannon,
 * whose rate option sends each second's budget in a burst at full speed (a harsher, burstier load).
 *
 * 1. Signs in `players` wallets with real SIWE (viem signs the server's EIP-4361 message); many
 *    players keep each under the per-player limits (20 bets/s, 200 open bets).
 * 2. Keeps a list of offered cells from GET /api/grid (refreshed every second; only columns that
 *    stay unlocked for a few more seconds, so a bet does not hit the lock while in flight).
 * 3. Drives POST /api/bets with autocannon at a fixed offered rate, every request with its own
 *    player token, cell and idempotency key.
 * 4. Prints offered and achieved rate, p50/p99/max latency, statuses and refusal codes; then checks
 *    the data: 201 answers = new bets in the database (integrity report's checkedBets, before vs
 *    after), and the integrity check passes.
 *
 * Against the minimal server of `npm run bench` (scripts/minimal-bet-server.ts, the same load as a
 * reference): `--tokens-file F --cells-file F --ids-file F` take its players' tokens and a list of
 * cells ("col row" per line) instead of signing in and reading the grid, and write every 201's bet id
 * to `--ids-file`; the data check is the caller's (it has no integrity route to ask).
 */
import autocannon from "autocannon";
import { runPaced } from "./lib/paced.ts";
import { randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { signInPlayers } from "./lib/players.ts";

const args = parseArgs(process.argv.slice(2));
const url = (args.url ?? "http://127.0.0.1:3000").replace(/\/$/, "");
const authUrl = (args["auth-url"] ?? url).replace(/\/$/, "");
const adminToken = args["admin-token"] ?? process.env.ADMIN_TOKEN;
const ratePerSec = Number(args.rate ?? 3000);
const durationSec = Number(args.duration ?? 15);
const warmupSec = Number(args.warmup ?? 0);
// Players each hold their own connection; 512 keeps the client from becoming the queue. By Little's
// law 3 000/s at 40 ms is 120 requests in flight, so 128 connections would add the client's own wait
// to every latency as soon as the server slows down a little.
const connections = Number(args.connections ?? 512);
/** Base stake; each request adds seq mod 1e6 micro-USD (see `sent` below). */
const stakeMicroUsd = Number(args.stake ?? 100_000);
// Keep every player under 20 bets/s and under 200 open bets even if nothing settles meanwhile.
const players = Number(args.players ?? Math.max(500, Math.ceil((ratePerSec * (durationSec + warmupSec)) / 150), Math.ceil(ratePerSec / 10)));
const SAFETY_MS = 3000;
const tool = args.tool ?? "paced";
/** The minimal server's mode (see above): given players and cells, acknowledged ids to a file. */
const given = args["tokens-file"] ? { tokensFile: args["tokens-file"], cellsFile: args["cells-file"] ?? "", idsFile: args["ids-file"] ?? "" } : undefined;

function parseArgs(argv: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const m = /^--([\w-]+)(?:=(.*))?$/.exec(argv[i]!);
    if (!m) throw new Error(`unexpected argument ${argv[i]}`);
    out[m[1]!] = m[2] ?? argv[++i] ?? "";
  }
  return out;
}

async function json(path: string, init: RequestInit = {}, base = url): Promise<{ status: number; body: any }> {
  const res = await fetch(base + path, { ...init, headers: { "content-type": "application/json", ...(init.headers ?? {}) } });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

interface Cell {
  col: number;
  row: number;
  windowStart: number;
  multiplier: number;
}

/** Offered cells that stay unlocked for at least SAFETY_MS more, refreshed every second. */
function cellFeed() {
  let cells: Cell[] = [];
  let lockMs = 5000;
  const refresh = async () => {
    const grid = await json("/api/grid?cols=6&rows=21");
    if (grid.status !== 200) return;
    lockMs = grid.body.lockMs;
    const serverNow = grid.body.at as number;
    const fresh = (grid.body.cells as Cell[]).filter((c) => c.multiplier !== null && c.multiplier <= 50 && c.windowStart - serverNow >= lockMs + SAFETY_MS);
    if (fresh.length > 0) cells = fresh;
  };
  const timer = setInterval(() => void refresh().catch(() => {}), 1000);
  return {
    ready: refresh,
    pick: () => cells[Math.floor(Math.random() * cells.length)]!,
    stop: () => clearInterval(timer),
    get size() {
      return cells.length;
    },
  };
}

/** A fixed list of cells ("col row" per line), for the minimal server, which has no grid. */
function givenCells(file: string) {
  const cells = readFileSync(file, "utf8")
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => {
      const [col, row] = line.split(" ").map(Number) as [number, number];
      return { col, row, windowStart: 0, multiplier: 0 };
    });
  return { ready: async () => {}, pick: () => cells[Math.floor(Math.random() * cells.length)]!, stop: () => {}, size: cells.length };
}

async function retryUnanswered(sent: Map<number, { token: string; body: string }>) {
  const out = { committedBefore: 0, createdNow: 0, refused: 0 };
  for (const { token, body } of sent.values()) {
    const res = await json("/api/bets", { method: "POST", body, headers: { authorization: `Bearer ${token}` } });
    if (res.status === 200) out.committedBefore++;
    else if (res.status === 201) out.createdNow++;
    else out.refused++;
  }
  return out;
}

async function integrityReport(): Promise<{ ok: boolean; checkedBets: number; problems: unknown[]; durationMs: number }> {
  const res = await json("/api/admin/integrity", { headers: { authorization: `Bearer ${adminToken}` } });
  if (res.status !== 200) throw new Error(`integrity: ${res.status} ${JSON.stringify(res.body)} (pass --admin-token)`);
  return res.body;
}

async function main() {
  if (!adminToken && !given) throw new Error("--admin-token (or ADMIN_TOKEN) is needed for the data checks");
  const before = given ? undefined : await integrityReport();
  const t0 = performance.now();
  const tokens = given ? readFileSync(given.tokensFile, "utf8").split("\n").filter((t) => t !== "").slice(0, players) : await signInPlayers(authUrl, players);
  console.log(given ? `${tokens.length} players of the minimal server` : `signed in ${tokens.length} players via SIWE in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const feed = given ? givenCells(given.cellsFile) : cellFeed();
  await feed.ready();
  if (feed.size === 0) throw new Error("no offered cells (is the price fresh?)");

  const codes: Record<string, number> = {};
  let created = 0;
  let player = 0;
  // Requests still in flight when the load stops are retried with their idempotency key: the retry
  // tells whether the first attempt was committed (200) or never arrived (201 now, or a refusal).
  // To know which were answered, each request in a window of 1e6 carries a distinct stake
  // (stake + seq mod 1e6, at most +$1), echoed in the answer's bet — this survives nginx, which
  // replaces x-request-id. Unmatched answers (refusals without a stake) are retried too, which is
  // safe: a refused request stored nothing.
  const sent = new Map<number, { token: string; body: string }>();
  const ackedIds: string[] = [];
  let seq = 0;
  const makeBody = () => {
    const cell = feed.pick();
    const token = tokens[player++ % tokens.length]!;
    const stake = stakeMicroUsd + (seq++ % 1_000_000);
    const body = JSON.stringify({ col: cell.col, row: cell.row, stakeMicroUsd: stake, idempotencyKey: randomBytes(12).toString("base64url") });
    sent.set(stake, { token, body });
    return { token, body };
  };
  const onAnswer = (status: number, body: string) => {
    let parsed: any;
    try {
      parsed = JSON.parse(body);
    } catch {
      // not our JSON (e.g. an nginx page)
    }
    const stake = parsed?.bet?.stakeMicroUsd ?? parsed?.error?.details?.stakeMicroUsd;
    if (typeof stake === "number") sent.delete(stake);
    if (status === 201 && given) ackedIds.push(parsed?.bet?.id);
    if (status === 201) created++;
    else {
      const code = `${status} ${parsed?.error?.code ?? ""}`.trim();
      codes[code] = (codes[code] ?? 0) + 1;
    }
  };
  let summary: { achieved: number; duration: number; p50: number; p90: number; p99: number; max: number; errors: number; timeouts: number; extra: string };
  if (tool === "autocannon") {
    const result = await autocannon({
      url,
      connections,
      duration: durationSec,
      overallRate: ratePerSec,
      requests: [
        {
          method: "POST",
          path: "/api/bets",
          setupRequest: (req: any) => {
            const { token, body } = makeBody();
            req.headers = { "content-type": "application/json", authorization: `Bearer ${token}` };
            req.body = body;
            return req;
          },
          onResponse: (status: number, body: string) => onAnswer(status, body),
        },
      ],
    } as any);
    summary = {
      achieved: result.requests.total / result.duration,
      duration: result.duration,
      p50: result.latency.p50,
      p90: result.latency.p90,
      p99: result.latency.p99,
      max: result.latency.max,
      errors: result.errors,
      timeouts: result.timeouts,
      extra: `tool=autocannon non2xx=${result.non2xx}`,
    };
  } else {
    const paced = (seconds: number) =>
      runPaced({
        baseUrl: url,
        ratePerSec,
        durationSec: seconds,
        connectionsMax: connections,
        next: () => {
          const { token, body } = makeBody();
          return { method: "POST", path: "/api/bets", headers: { "content-type": "application/json", authorization: `Bearer ${token}` }, body };
        },
        onResponse: (_seq, status, body) => onAnswer(status, body),
      });
    if (warmupSec > 0) {
      const w = await paced(warmupSec);
      console.log(
        `warm-up (not in the figures below): ${warmupSec}s at ${ratePerSec}/s achieved=${w.achievedPerSec}/s ` +
          `p50=${w.p50Ms.toFixed(1)}ms p99=${w.p99Ms.toFixed(1)}ms max=${w.maxMs.toFixed(1)}ms`,
      );
    }
    const result = await runPaced({
      baseUrl: url,
      ratePerSec,
      durationSec,
      connectionsMax: connections,
      next: () => {
        const { token, body } = makeBody();
        return { method: "POST", path: "/api/bets", headers: { "content-type": "application/json", authorization: `Bearer ${token}` }, body };
      },
      onResponse: (_seq, status, body) => onAnswer(status, body),
    });
    summary = {
      achieved: result.achievedPerSec,
      duration: result.durationSec,
      p50: result.p50Ms,
      p90: result.p90Ms,
      p99: result.p99Ms,
      max: result.maxMs,
      errors: result.errors,
      timeouts: 0,
      extra: `tool=paced (open loop) sent=${result.sent} not-sent=${result.notSent}`,
    };
    console.log(`p99/max by second (ms): ${result.bySecond.map((b) => `${Math.round(b.p99Ms)}/${Math.round(b.maxMs)}`).join(" ")}`);
    console.log(`load generator's own event-loop delay (counted in the latencies): p99 ${result.generatorDelayP99Ms.toFixed(1)} ms, max ${result.generatorDelayMaxMs.toFixed(1)} ms`);
  }
  feed.stop();

  const ms = (v: number) => `${v.toFixed(1)}ms`;
  console.log(
    `offered=${ratePerSec}/s achieved=${summary.achieved.toFixed(0)}/s duration=${summary.duration.toFixed(1)}s connections=${connections} players=${players} ${summary.extra}\n` +
      `latency p50=${ms(summary.p50)} p90=${ms(summary.p90)} p99=${ms(summary.p99)} max=${ms(summary.max)}\n` +
      `201=${created} refusals=${JSON.stringify(codes)} socket-errors=${summary.errors} timeouts=${summary.timeouts}`,
  );

  if (given) {
    // The minimal server has no idempotent replay to ask about the unanswered; the caller counts rows.
    writeFileSync(given.idsFile, ackedIds.map((id) => `${id}\n`).join(""));
    console.log(`unanswered when the load stopped: ${sent.size}; ${ackedIds.length} acknowledged ids written for the caller's data check`);
    process.exit(summary.errors === 0 ? 0 : 1);
  }
  const unanswered = await retryUnanswered(sent);
  const after = await integrityReport();
  const newBets = after.checkedBets - before!.checkedBets;
  const expected = created + unanswered.committedBefore + unanswered.createdNow;
  console.log(
    `unanswered when the load stopped: ${sent.size} → retried: ${unanswered.committedBefore} had been committed (200), ` +
      `${unanswered.createdNow} placed now (201), ${unanswered.refused} refused`,
  );
  console.log(`bets in the database for this run: ${newBets}; 201 answers + committed retries: ${expected} → ${newBets === expected ? "MATCH" : "MISMATCH"}`);
  console.log(`integrity: ok=${after.ok} problems=${after.problems.length} checkedBets=${after.checkedBets} (${after.durationMs} ms)`);
  if (!after.ok) console.log(JSON.stringify(after.problems.slice(0, 5), null, 2));
  process.exit(newBets === expected && after.ok ? 0 : 1);
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
