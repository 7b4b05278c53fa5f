/**
 * `npm run bench`: bet placement on this machine (SPEC §10, issue 23), in one run:
 *
 * 1. Closed loop (wrk, `--connections` 64, straight to the server, `--players` 1 000, every request
 *    its own idempotency key, `--warmup` 5 s then `--duration` 20 s): first the minimal server
 *    (scripts/minimal-bet-server.ts: the same durable work per bet and nothing else), then the
 *    product; bets/s of each, their ratio, p50/p99/max, and the CPU per bet of the event loop, of the
 *    writer thread and of the whole process. `--rounds N` repeats the pair (the machine is noisy; every other round measures the product first) and prints the median ratio.
 *    The product runs with its limits raised out of reach (open bets, rate, exposure caps), so that
 *    every request is a 201: each limit is still checked on every bet.
 * 2. Open loop at `--rate` 3 000 bets/s (scripts/bench-bets.ts, its own process): first the minimal
 *    server (the reference: the p99 this machine allows at that rate this hour, with the same
 *    generator), straight and through nginx (the repository's config), then the product the same two
 *    ways; offered and achieved rate, p50/p99/max, and the product's p99 as a multiple of the
 *    reference's on the same route. `--paced-duration` 60 s as in SPEC §10: bets go to columns up to
 *    a minute ahead, so the second half of a run is the steady state in which the product also
 *    settles bets as fast as they are placed; how many it settled, and how far behind it was when the
 *    load stopped, are printed with each product run.
 *
 * The product runs from its build (dist/, as in production; bench.sh builds it first).
 * Every load is followed by the data check: every 201 is a row with its ledger entries (and the
 * rows without a 201 are at most the requests in flight when the load stopped), and the integrity
 * check passes. Every server started here is stopped, also on failure or Ctrl-C.
 *
 *   npm run bench -- [--duration 20] [--warmup 5] [--connections 64] [--players 1000] [--threads 2]
 *                    [--rounds 1] [--rate 3000] [--paced-duration 60] [--no-closed] [--no-paced]
 *                    [--direct] [--keep] [--fresh]
 *   (--direct: the open loop straight to the app only, no nginx; TAP_<NAME>=v sets <NAME> for the product)
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "libsql";
import { renderNginx, startNginx } from "./lib/nginx.ts";
import { acknowledgedBetIds, runClosedLoop, type ClosedLoopResult } from "./lib/closed-loop.ts";
import { signInPlayers } from "./lib/players.ts";
import { BUILT_SERVER_ARGS, startChildServer } from "../tests/helpers/child.ts";
import { freePort } from "../tests/helpers/services.ts";
import { processCpuSeconds, threadCpuSeconds } from "../storage/thread-cpu.ts";
import { flag, option } from "./lib/args.ts";
import { seedRunningServerTicks } from "./lib/warm-ticks.ts";

const durationSec = Number(option("duration", "20"));
const warmupSec = Number(option("warmup", "5"));
const connections = Number(option("connections", "64"));
const players = Number(option("players", "1000"));
const threads = Number(option("threads", "2"));
const rounds = Number(option("rounds", "1"));
const rate = option("rate", "3000");
/** SPEC §10: 3 000 bets/s for 60 s. Long enough that the first bets' windows end and settle while bets still arrive. */
const pacedDuration = option("paced-duration", "60");
/** Enough players for the open loop that none reaches 200 open bets even if nothing settled (bench-bets.ts's own rule). */
const pacedPlayers = Math.max(players, Math.ceil((Number(rate) * (Number(pacedDuration) + warmupSec)) / 150));
/** The open loop's routes (--direct: straight to the server only). */
const OPEN_LOOP_ROUTES = flag("direct") ? ["direct"] : ["direct", "through nginx"];
/** Measure the product as a server that has been running (its pricing warmed up from 30 minutes of stored ticks); --fresh: as one just started on an empty DATA_DIR. */
const fresh = flag("fresh");
const STAKE_MICRO_USD = 100_000;
/** Raised out of reach for the closed loop, where a player bets far beyond 20/s and 200 open bets. */
const LIMITS_OUT_OF_REACH = {
  OPEN_BETS_MAX: "100000",
  BET_RATE_PER_SEC: "1000000",
  BET_RATE_BURST: "1000000",
  CELL_EXPOSURE_MAX_MICRO_USD: "1000000000000000",
  COLUMN_EXPOSURE_MAX_MICRO_USD: "1000000000000000",
};

const work = mkdtempSync(join(tmpdir(), "tap-bench-"));
const adminToken = randomBytes(24).toString("hex");
const cleanups: (() => Promise<void> | void)[] = [];
let cleaning: Promise<void> | undefined;
const cleanUp = () =>
  (cleaning ??= (async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
    if (!flag("keep")) rmSync(work, { recursive: true, force: true });
  })());
process.once("SIGINT", () => void cleanUp().then(() => process.exit(130)));

const productEnv = (dataDir: string, extra: Record<string, string> = {}) => ({
  DATA_DIR: dataDir,
  ADMIN_TOKEN: adminToken,
  PRICE_SOURCES: "synthetic",
  LOG_LEVEL: "info", // the "listening" line tells the URL; requests log at debug
  NODE_ENV: "production",
  DEMO_BALANCE_MICRO_USD: "1000000000",
  ...extra,
  ...Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith("TAP_")).map(([k, v]) => [k.slice(4), v!])),
});

interface Measured {
  load: ClosedLoopResult;
  /** CPU seconds per 201, by thread: event loop, writer (product only), whole process. */
  cpuPerBet: { eventLoop: number; writer?: number; process: number };
  /** Commands per writer transaction during the load (product only; batch_queue_batch_size). */
  opsPerTransaction?: number;
  data: string;
  dataOk: boolean;
}

interface CpuSample {
  eventLoop: number;
  writer?: number;
  process: number;
  /** Writer transactions and the commands in them so far (product only). */
  transactions?: number;
  transactionOps?: number;
}

try {
  const closed: { minimal: Measured; product: Measured }[] = [];
  if (!flag("no-closed")) {
    console.log(
      `closed loop: wrk -t${threads} -c${connections}, straight to the server, ${players} players, distinct idempotency keys, ` +
        `${warmupSec} s warm-up then ${durationSec} s; the product ${fresh ? "freshly started (--fresh)" : "warmed up from 30 minutes of stored ticks"}`,
    );
    for (let round = 1; round <= rounds; round++) {
      // The machine's speed drifts within minutes: every other round measures the product first, so a
      // drift in one direction does not favour the same server in every round.
      let minimal: Measured | undefined;
      if (round % 2 === 1) {
        minimal = await closedLoopMinimal(round);
        printMeasured("minimal server", minimal);
      }
      const product = await closedLoopProduct(round);
      printMeasured("product", product);
      if (!minimal) {
        minimal = await closedLoopMinimal(round);
        printMeasured("minimal server", minimal);
      }
      console.log(`  round ${round}: product / minimal = ${(product.load.createdPerSec / minimal.load.createdPerSec).toFixed(2)} (bets/s)`);
      closed.push({ minimal, product });
    }
  }
  const paced = flag("no-paced") ? [] : await openLoop();

  console.log("\n== summary (this run) ==");
  for (const [i, { minimal, product }] of closed.entries()) {
    const ratio = product.load.createdPerSec / minimal.load.createdPerSec;
    console.log(
      `closed loop round ${i + 1}: product ${product.load.createdPerSec.toFixed(0)}/s, minimal ${minimal.load.createdPerSec.toFixed(0)}/s → ` +
        `${ratio.toFixed(2)} × (bar ≥ 0.70: ${ratio >= 0.7 ? "met" : "NOT met"}); CPU per bet product ${us(product.cpuPerBet.process)} ` +
        `(event loop ${us(product.cpuPerBet.eventLoop)}, writer ${us(product.cpuPerBet.writer ?? NaN)}), minimal ${us(minimal.cpuPerBet.process)}`,
    );
  }
  if (closed.length > 1) {
    const ratios = closed.map(({ minimal, product }) => product.load.createdPerSec / minimal.load.createdPerSec).sort((a, b) => a - b);
    const mid = ratios.length / 2;
    const median = ratios.length % 2 ? ratios[Math.floor(mid)]! : (ratios[mid - 1]! + ratios[mid]!) / 2;
    console.log(
      `closed loop, ${ratios.length} rounds: median product / minimal ${median.toFixed(2)} × (bar ≥ 0.70: ${median >= 0.7 ? "met" : "NOT met"}); ` +
        `${ratios.filter((r) => r >= 0.7).length} of ${ratios.length} rounds at or above 0.70`,
    );
  }
  for (const p of paced) {
    const reference = paced.find((r) => r.server === "minimal server" && r.route === p.route);
    const verdict =
      p.barMs === undefined
        ? "the reference"
        : `bar p99 ≤ ${p.barMs} ms: ${Number(p.p99) <= p.barMs ? "met" : "NOT met"}; ${(Number(p.p99) / Number(reference?.p99)).toFixed(1)} × the minimal server's p99 on this route`;
    console.log(
      `open loop, ${p.server} ${p.route}: offered ${rate}/s achieved ${p.achieved}/s p50 ${p.p50} ms p99 ${p.p99} ms max ${p.max} ms ` +
        `(${verdict}); data ${p.dataOk ? "ok" : "FAILED"}` +
        (p.settlement ? `\n  settlement: ${p.settlement}` : ""),
    );
  }
  const dataOk = closed.every((c) => c.minimal.dataOk && c.product.dataOk) && paced.every((p) => p.dataOk);
  console.log(`data checks: ${dataOk ? "all passed" : "FAILED"}`);
  process.exitCode = dataOk ? 0 : 1;
} finally {
  await cleanUp();
}

async function closedLoopMinimal(round: number): Promise<Measured> {
  const dir = mkdtempSync(join(work, `minimal-${round}-`));
  const tokensFile = join(dir, "tokens.txt");
  const server = await startMinimal(dir, tokensFile);
  const cellsFile = writeMinimalCells(dir);
  const sample = (): CpuSample => ({ eventLoop: threadCpuSeconds(server.pid, server.pid) ?? NaN, process: processCpuSeconds(server.pid) ?? NaN });
  try {
    const m = await measure(server.url, tokensFile, cellsFile, dir, `m${round}`, sample);
    await server.stop();
    const check = checkMinimalData(join(dir, "minimal.db"), acknowledgedBetIds([join(dir, "warm"), join(dir, "run")]));
    return { ...m, data: check.text, dataOk: check.ok };
  } finally {
    await server.stop();
  }
}

/** What the product's /api/price says of its pricing: "warm", or "warming" (rateSpreadLog > 0). */
async function warmUpState(url: string): Promise<string> {
  for (let i = 0; i < 50; i++) {
    const res = await fetch(`${url}/api/price`);
    if (res.ok) {
      const body = (await res.json()) as { warmUp?: { state: string; rateSpreadLog: number } };
      return body.warmUp ? `${body.warmUp.state} (rateSpreadLog ${body.warmUp.rateSpreadLog.toFixed(3)})` : "unknown";
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return "no price";
}

/** A DATA_DIR for the product: empty with --fresh, else holding 30 minutes of ticks to warm its pricing up from. */
function productDataDir(name: string): string {
  const dir = mkdtempSync(join(work, name));
  if (!fresh) seedRunningServerTicks(dir);
  return dir;
}

async function closedLoopProduct(round: number): Promise<Measured> {
  const dir = productDataDir(`product-${round}-`);
  const app = await startChildServer(productEnv(dir, LIMITS_OUT_OF_REACH), 60_000, BUILT_SERVER_ARGS);
  const stop = once(async () => {
    app.child.kill("SIGTERM");
    await app.exited;
  });
  cleanups.push(stop);
  try {
    console.log(`  product's pricing at start: ${await warmUpState(app.url)}`);
    const tokensFile = join(dir, "tokens.txt");
    writeFileSync(tokensFile, (await signInPlayers(app.url, players)).join("\n") + "\n");
    const cellsFile = join(dir, "cells.txt");
    writeFileSync(cellsFile, (await longLivedCells(app.url, (warmupSec + durationSec + 10) * 1000)).join("\n") + "\n");
    const pid = app.child.pid!;
    const sample = async (): Promise<CpuSample> => {
      const threadsCpu = await productThreadCpu(app.url);
      return { ...threadsCpu, process: processCpuSeconds(pid) ?? NaN };
    };
    const m = await measure(app.url, tokensFile, cellsFile, dir, `p${round}`, sample);
    const report = await integrityReport(app.url);
    await stop();
    const check = checkProductData(join(dir, "current.db"), acknowledgedBetIds([join(dir, "warm"), join(dir, "run")]));
    const integrityText = `integrity ok=${report.ok} problems=${report.problems.length} checkedBets=${report.checkedBets}`;
    return { ...m, data: `${check.text}; ${integrityText}`, dataOk: check.ok && report.ok };
  } finally {
    await stop();
  }
}

/** Warm-up, then the measured run with a CPU sample on either side. */
async function measure(
  url: string,
  tokensFile: string,
  cellsFile: string,
  dir: string,
  tag: string,
  sample: () => CpuSample | Promise<CpuSample>,
): Promise<Omit<Measured, "data" | "dataOk">> {
  const common = { url, tokensFile, cellsFile, connections, threads, stakeMicroUsd: STAKE_MICRO_USD };
  if (warmupSec > 0) await runClosedLoop({ ...common, outDir: join(dir, "warm"), tag: `${tag}w`, durationSec: warmupSec });
  const before = await sample();
  const load = await runClosedLoop({ ...common, outDir: join(dir, "run"), tag, durationSec });
  const after = await sample();
  const per = (a: number | undefined, b: number | undefined) => (a === undefined || b === undefined ? NaN : (b - a) / load.created);
  const transactions = (after.transactions ?? NaN) - (before.transactions ?? NaN);
  return {
    load,
    cpuPerBet: { eventLoop: per(before.eventLoop, after.eventLoop), writer: per(before.writer, after.writer), process: per(before.process, after.process) },
    opsPerTransaction: ((after.transactionOps ?? NaN) - (before.transactionOps ?? NaN)) / transactions,
  };
}

interface OpenLoopResult {
  /** "minimal server" or "product". */
  server: string;
  /** "direct" or "through nginx". */
  route: string;
  achieved: string;
  p50: string;
  p99: string;
  max: string;
  /** The bar for the product on this route. */
  barMs?: number;
  dataOk: boolean;
  /** The product's settlements during the load (the minimal server settles nothing). */
  settlement?: string;
}

/**
 * The open loop: first the minimal server (the reference: what p99 this machine allows at this rate
 * this hour, with the same generator in the same run), straight and through nginx, then the product
 * the same two ways. Each product run has a product of its own: one run leaves a minute of open bets
 * whose settlements would fall into the next run.
 */
async function openLoop(): Promise<OpenLoopResult[]> {
  const results = await openLoopMinimal();
  for (const [i, route] of OPEN_LOOP_ROUTES.entries()) {
    const dir = productDataDir(`paced-${i}-`);
    const app = await startChildServer(productEnv(dir), 60_000, BUILT_SERVER_ARGS);
    const stop = once(async () => {
      app.child.kill("SIGTERM");
      await app.exited;
    });
    cleanups.push(stop);
    try {
      const url = route === "direct" ? app.url : await nginxInFront(app.url);
      console.log(`\nopen loop, product ${route}: ${rate} bets/s for ${pacedDuration} s (scripts/bench-bets.ts, ${pacedPlayers} players)`);
      const before = await settlementState(app.url);
      const { code, out } = await runPacedLoad(url, ["--admin-token", adminToken]);
      const after = await settlementState(app.url);
      const settlement =
        `${after.settled - before.settled} bets settled during the load (${after.placed - before.placed} placed); when it stopped ` +
        `${after.endedOpen} bets of ended windows were still open (${after.stuckOpen} past the integrity check's grace), ${after.pending} settlements queued`;
      console.log(`  settlement: ${settlement}`);
      results.push({ server: "product", route, ...pacedFigures(out), barMs: route === "direct" ? 20 : 50, dataOk: code === 0, settlement });
    } finally {
      await stop();
    }
  }
  return results;
}

/** The same paced loads at the minimal server, then its data check (every 201 a row with its entries, balances). */
async function openLoopMinimal(): Promise<OpenLoopResult[]> {
  const dir = mkdtempSync(join(work, "paced-minimal-"));
  const tokensFile = join(dir, "tokens.txt");
  const server = await startMinimal(dir, tokensFile, pacedPlayers);
  const cellsFile = writeMinimalCells(dir);
  const idsDir = mkdtempSync(join(dir, "ids-"));
  const results: OpenLoopResult[] = [];
  try {
    for (const [i, route] of OPEN_LOOP_ROUTES.entries()) {
      const url = route === "direct" ? server.url : await nginxInFront(server.url);
      console.log(`\nopen loop, minimal server ${route} (the reference): ${rate} bets/s for ${pacedDuration} s (scripts/bench-bets.ts, ${pacedPlayers} players)`);
      const ids = ["--tokens-file", tokensFile, "--cells-file", cellsFile, "--ids-file", join(idsDir, `ids-paced-${i}.txt`)];
      const { code, out } = await runPacedLoad(url, ids);
      results.push({ server: "minimal server", route, ...pacedFigures(out), dataOk: code === 0 });
    }
    await server.stop();
    const check = checkMinimalData(join(dir, "minimal.db"), acknowledgedBetIds([idsDir]));
    console.log(`  minimal server's data: ${check.text}`);
    return results.map((r) => ({ ...r, dataOk: r.dataOk && check.ok }));
  } finally {
    await server.stop();
  }
}

/** An nginx of the repository's config in front of `appUrl` (stopped at the end): its address. */
async function nginxInFront(appUrl: string): Promise<string> {
  const nginxDir = mkdtempSync(join(work, "nginx-"));
  const plainPort = await freePort();
  const conf = renderNginx({ prefixDir: nginxDir, appPort: Number(new URL(appUrl).port), plainPort, tlsPort: await freePort(), redirectPort: await freePort() });
  const nginx = await startNginx(conf, nginxDir, plainPort);
  cleanups.push(once(() => nginx.stop()));
  return `http://127.0.0.1:${plainPort}`;
}

/** scripts/bench-bets.ts in its own process at `--rate` over 512 connections, after `--warmup` seconds of the same. */
function runPacedLoad(url: string, extra: string[]): Promise<{ code: number; out: string }> {
  const args = ["--import", "tsx", join(import.meta.dirname, "bench-bets.ts"), "--url", url, ...extra];
  args.push("--rate", rate, "--duration", pacedDuration, "--warmup", String(warmupSec), "--players", String(pacedPlayers), "--connections", "512");
  return runEchoed(process.execPath, args);
}

function pacedFigures(out: string): Pick<OpenLoopResult, "achieved" | "p50" | "p99" | "max"> {
  const latency = /latency p50=([\d.]+)ms p90=[\d.]+ms p99=([\d.]+)ms max=([\d.]+)ms/.exec(out);
  const achieved = /achieved=(\d+)\/s/.exec(out.slice(out.indexOf("offered=")));
  return { achieved: achieved?.[1] ?? "?", p50: latency?.[1] ?? "NaN", p99: latency?.[2] ?? "NaN", max: latency?.[3] ?? "NaN" };
}

/** The minimal server's cells (any two integers are a cell there): 160 of 8 columns, one "col row" per line. Returns the file. */
function writeMinimalCells(dir: string): string {
  const cellsFile = join(dir, "cells.txt");
  writeFileSync(cellsFile, Array.from({ length: 160 }, (_, i) => `${1000 + (i % 8)} ${9500 + Math.floor(i / 8)}`).join("\n") + "\n");
  return cellsFile;
}

async function startMinimal(dir: string, tokensFile: string, accounts = players): Promise<{ url: string; pid: number; stop(): Promise<void> }> {
  const child = spawn(process.execPath, ["--import", "tsx", join(import.meta.dirname, "minimal-bet-server.ts"), dir, String(accounts), tokensFile], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const stop = once(() => stopChild(child));
  cleanups.push(stop);
  const port = await new Promise<number>((resolve, reject) => {
    let out = "";
    child.stdout!.on("data", (d) => {
      out += d;
      const m = /listening (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.once("exit", (code) => reject(new Error(`the minimal server exited (${code}) before listening`)));
  });
  return { url: `http://127.0.0.1:${port}`, pid: child.pid!, stop };
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill("SIGKILL"), 10_000);
    child.once("exit", () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill("SIGTERM");
  });
}

/** Offered cells whose window starts at least `forMs` after the lock: they stay open for the whole load. */
async function longLivedCells(url: string, forMs: number): Promise<string[]> {
  const grid = (await (await fetch(`${url}/api/grid?cols=12&rows=21`)).json()) as {
    at: number;
    lockMs: number;
    cells: { col: number; row: number; windowStart: number; multiplier: number }[];
  };
  const cells = grid.cells.filter((c) => c.windowStart - grid.at >= grid.lockMs + forMs && c.multiplier <= 20);
  if (cells.length < 20) throw new Error(`only ${cells.length} offered cells stay open for ${forMs} ms`);
  return cells.map((c) => `${c.col} ${c.row}`);
}

/** The product's bets placed and settled so far, and its settlements behind (runtime metrics of services/bets and services/resolver). */
async function settlementState(url: string): Promise<{ placed: number; settled: number; pending: number; endedOpen: number; stuckOpen: number }> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const sum = (name: string, filter = "") => {
    let total = 0;
    for (const line of text.split("\n")) if ((line.startsWith(`${name} `) || line.startsWith(`${name}{`)) && line.includes(filter)) total += Number(line.split(" ").at(-1));
    return total;
  };
  return {
    placed: sum("bets_placed_total", 'outcome="created"'),
    settled: sum("resolver_settlements_total"),
    pending: sum("resolver_pending_settlements"),
    endedOpen: sum("resolver_ended_open_bets"),
    stuckOpen: sum("resolver_stuck_open_bets"),
  };
}

/** The product's thread CPU counters (runtime/metrics.ts `thread_cpu_seconds_total`). */
async function productThreadCpu(url: string): Promise<Omit<CpuSample, "process">> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const read = (thread: string) => {
    const m = new RegExp(`^thread_cpu_seconds_total\\{thread="${thread}"\\} ([\\d.e+-]+)$`, "m").exec(text);
    return m ? Number(m[1]) : undefined;
  };
  const batches = (suffix: string) => Number(new RegExp(`^batch_queue_batch_size_${suffix} ([\\d.e+-]+)$`, "m").exec(text)?.[1] ?? NaN);
  return { eventLoop: read("event_loop") ?? NaN, writer: read("writer"), transactions: batches("count"), transactionOps: batches("sum") };
}

async function integrityReport(url: string): Promise<{ ok: boolean; problems: unknown[]; checkedBets: number }> {
  const res = await fetch(`${url}/api/admin/integrity`, { headers: { authorization: `Bearer ${adminToken}` } });
  if (res.status !== 200) throw new Error(`integrity: ${res.status} ${await res.text()}`);
  return (await res.json()) as { ok: boolean; problems: unknown[]; checkedBets: number };
}

/**
 * Every acknowledged bet is a row with its stake entries; rows that got no 201 are at most the
 * requests in flight when a load stopped (two loads per server: warm-up and run).
 */
function checkAcknowledged(dbFile: string, ids: number[], stakeEntriesPerBet: number): { ok: boolean; text: string } {
  const db = new Database(dbFile);
  try {
    db.exec("CREATE TEMP TABLE acked (id INTEGER PRIMARY KEY)");
    const add = db.prepare("INSERT INTO acked (id) VALUES (?)");
    db.exec("BEGIN");
    for (const id of ids) add.run(id);
    db.exec("COMMIT");
    const count = (sql: string) => (db.prepare(sql).get() as { n: number }).n;
    const distinct = count("SELECT count(*) AS n FROM acked");
    const missing = count("SELECT count(*) AS n FROM acked WHERE id NOT IN (SELECT id FROM bets)");
    const unpaid = count(
      `SELECT count(*) AS n FROM acked a WHERE (SELECT count(*) FROM ledger_entries e WHERE e.bet_id = a.id AND e.kind = 'stake') <> ${stakeEntriesPerBet}`,
    );
    const rows = count("SELECT count(*) AS n FROM bets");
    const unacked = rows - (distinct - missing);
    const ok = distinct === ids.length && missing === 0 && unpaid === 0 && unacked >= 0 && unacked <= 2 * connections;
    const text =
      `${ids.length} × 201 (${distinct} distinct ids), ${rows} rows: ${missing} acknowledged bets missing, ${unpaid} without their stake entries, ` +
      `${unacked} rows without a 201 (in flight at a stop, ≤ ${2 * connections}) → ${ok ? "MATCH" : "MISMATCH"}`;
    return { ok, text };
  } finally {
    db.close();
  }
}

function checkProductData(dbFile: string, ids: number[]): { ok: boolean; text: string } {
  return checkAcknowledged(dbFile, ids, 2);
}

/** The minimal server's own ledger check besides: every player's balance is $1000 less its stakes. */
function checkMinimalData(dbFile: string, ids: number[]): { ok: boolean; text: string } {
  const acked = checkAcknowledged(dbFile, ids, 2);
  const db = new Database(dbFile);
  try {
    const bad = (
      db
        .prepare(
          `SELECT count(*) AS n FROM accounts a WHERE a.id <> 0 AND a.balance_micro_usd <>
             1000000000 - COALESCE((SELECT SUM(stake_micro_usd) FROM bets b WHERE b.account_id = a.id), 0)`,
        )
        .get() as { n: number }
    ).n;
    const quick = (db.prepare("PRAGMA quick_check").get() as { quick_check: string }).quick_check;
    return { ok: acked.ok && bad === 0 && quick === "ok", text: `${acked.text}; balances off: ${bad}; quick_check ${quick}` };
  } finally {
    db.close();
  }
}

function printMeasured(label: string, m: Measured): void {
  const l = m.load;
  const other = Object.entries(l.statuses).filter(([s]) => s !== "201");
  console.log(
    `  ${label.padEnd(15)} ${l.createdPerSec.toFixed(0).padStart(6)} bets/s (201)  p50 ${l.p50Ms.toFixed(1)} ms  p99 ${l.p99Ms.toFixed(1)} ms  ` +
      `max ${l.maxMs.toFixed(1)} ms  other answers ${other.length ? JSON.stringify(Object.fromEntries(other)) : "none"}  socket errors ${l.socketErrors}\n` +
      `  ${"".padEnd(15)} CPU per bet: event loop ${us(m.cpuPerBet.eventLoop)}` +
      (m.cpuPerBet.writer !== undefined && !Number.isNaN(m.cpuPerBet.writer) ? `, writer thread ${us(m.cpuPerBet.writer)}` : "") +
      `, whole process ${us(m.cpuPerBet.process)}` +
      (m.opsPerTransaction !== undefined && !Number.isNaN(m.opsPerTransaction) ? `; ${m.opsPerTransaction.toFixed(1)} commands per writer transaction` : "") +
      `\n  ${"".padEnd(15)} data: ${m.data}`,
  );
}

function us(seconds: number): string {
  return `${(seconds * 1e6).toFixed(0)} µs`;
}

function once(f: () => Promise<void> | void): () => Promise<void> {
  let done: Promise<void> | undefined;
  return () => (done ??= Promise.resolve().then(f));
}

/** Runs a child with its output echoed, and returns the output too. */
function runEchoed(command: string, args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout!.on("data", (d) => {
      out += d;
      process.stdout.write(d);
    });
    child.once("exit", (code) => resolve({ code: code ?? 1, out }));
  });
}
