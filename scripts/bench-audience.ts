/**
 * `npm run bench:audience` (issue 22, SPEC §10/§11): an audience of watchers while bets flow.
 * For each watcher count, three setups run one after the other, each with the same load:
 *   minimal  — scripts/lib/minimal-server.ts: the same durable work per bet, a 200-byte price frame
 *              to the same sockets (the reference, measured in the same run);
 *   single   — the app as one process (ROLE=all), watchers and bets straight to it;
 *   edges    — Redis, a core (ROLE=core), two edges (ROLE=edge) and nginx in front (the repository's
 *              config): watchers and bets through nginx.
 * The watchers (scripts/lib/audience-watchers.ts) and the paced bet load (scripts/lib/audience-bets.ts)
 * run in processes of their own. Printed per run: bets accepted/s, bet p50/p99, tick→watcher lag
 * p50/p99, ticks per watcher per second (lowest and mean), bytes per watcher per second, the price
 * frame's size, and the CPU of each process (the bet load's too) and the bet load's own loop delay; then a table, and the verdicts of issue 22 at 5 000.
 *
 *   npm run bench:audience -- [--watchers 1000,5000,10000,20000] [--rate 3000] [--connections 128]
 *                             [--duration 20] [--warmup 5] [--setups minimal,single,edges]
 *                             [--baseline DIR] [--fresh]
 * The app runs as in production, from its build (dist/; bench-audience.sh builds it first), and as a
 * server that has been running: its data directory holds 30 minutes of stored ticks, so its pricing
 * starts warm, as in `npm run bench`; `--fresh` starts it on an empty data directory instead.
 * `--baseline DIR` adds a setup `baseline`: the single process run from another checkout (its
 * runtime/main.ts, under tsx), for an A/B against older code in the same run (e.g. a `git worktree`
 * of main before this change).
 *
 * Every process it starts is stopped at the end, also when a run fails or on Ctrl-C. Needs many
 * file descriptors: scripts/bench-audience.sh raises `ulimit -n` as far as it may; watchers are split
 * over processes and nginx over workers to stay under it, and a setup that would need one process to
 * hold more sockets than the limit (the single process and the minimal server at 20 000 where it is
 * 20 000) is reported as not run.
 */
import { fork, spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { renderNginx, startNginx } from "./lib/nginx.ts";
import { flag, option } from "./lib/args.ts";
import { withTimeout } from "../storage/unavailable.ts";
import { BUILT_SERVER_ARGS, startChildServer, type ChildServer } from "../tests/helpers/child.ts";
import { seedRunningServerTicks } from "./lib/warm-ticks.ts";
import { freePort, startRedis } from "../tests/helpers/services.ts";
import { mergeWatchers, SOURCES_PER_ADDRESS, WATCHERS_PER_PROCESS, type WatcherCounts, type WatchersReport } from "./lib/audience-watchers.ts";
import type { BetsReport } from "./lib/audience-bets.ts";

type Setup = "minimal" | "baseline" | "single" | "edges";
const watcherCounts = option("watchers", "1000,5000,10000,20000").split(",").map(Number);
const setups = option("setups", `minimal,${option("baseline", "") ? "baseline," : ""}single,edges`).split(",") as Setup[];
const rate = Number(option("rate", "3000"));
const connections = option("connections", "128");
const durationMs = Number(option("duration", "20")) * 1000;
const warmupMs = Number(option("warmup", "5")) * 1000;
/** Descriptors one process may hold here (`ulimit -n`, raised by scripts/bench-audience.sh as far as it may). */
const FD_LIMIT = Number(/^Max open files\s+(\d+)/m.exec(readFileSync("/proc/self/limits", "utf8"))?.[1] ?? 1024);
/** A process serving N sockets needs N descriptors and some of its own (databases, Redis, listeners). */
const fitsOneProcess = (watchers: number) => watchers + 1000 <= FD_LIMIT;
const baselineRoot = option("baseline", "");
/** The app on an empty data directory (a server just started) instead of one with 30 minutes of stored ticks. */
const fresh = flag("fresh");
const CLIENT_SCRIPTS = { watchers: join(import.meta.dirname, "lib", "audience-watchers.ts"), bets: join(import.meta.dirname, "lib", "audience-bets.ts") };

interface Running {
  /** Where watchers (ws) and bets (http) go. */
  base: string;
  /** The processes under test, by name, for their CPU. */
  pids: Record<string, number>;
  stop(): Promise<void>;
}

interface Result {
  setup: Setup;
  watchers: number;
  w: WatchersReport;
  b: BetsReport;
  cpu: Record<string, number>;
}

const stops: (() => Promise<void> | void)[] = [];
let stopping: Promise<void> | undefined;
/**
 * Stops everything started so far, newest first. Callers at the same time (a run's `finally` and
 * Ctrl-C) wait for the same pass, so that no caller goes on (or exits) before every process is stopped.
 */
function stopAll(): Promise<void> {
  stopping ??= (async () => {
    for (let stop = stops.pop(); stop; stop = stops.pop()) {
      await Promise.resolve(stop()).catch((error: unknown) => console.error(`cleanup: ${String(error)}`));
    }
  })().finally(() => (stopping = undefined));
  return stopping;
}

/**
 * Connecting the watchers, and their reports after the measured time, may take this long at most
 * (`deadline`): a run that hangs is reported and stopped, not waited for forever.
 */
const CONNECT_DEADLINE_MS = 180_000;
const REPORT_SLACK_MS = 60_000;
const deadline = <T>(promise: Promise<T>, ms: number, what: string) => withTimeout(promise, ms, () => new Error(`${what}: nothing after ${ms / 1000} s`));
for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => void stopAll().then(() => process.exit(130)));

const appEnv = (watchers: number, dataDir: string) => ({
  DATA_DIR: dataDir,
  PRICE_SOURCES: "synthetic",
  SYNTHETIC_TICK_MS: "100",
  NODE_ENV: "production",
  LOG_LEVEL: "info",
  DEMO_BALANCE_MICRO_USD: "1000000000",
  WS_MAX_CLIENTS: String(watchers + 1000),
  ...Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith("TAP_")).map(([k, v]) => [k.slice(4), v!])),
});

/** Starts a process, registering its stop first: whatever fails later, it is stopped. */
async function child(start: () => Promise<ChildServer>): Promise<ChildServer> {
  const server = await start();
  stops.push(async () => {
    if (server.child.exitCode !== null || server.child.signalCode !== null) return;
    server.child.kill("SIGTERM");
    const timer = setTimeout(() => server.child.kill("SIGKILL"), 10_000);
    await server.exited;
    clearTimeout(timer);
  });
  return server;
}

async function startMinimal(dataDir: string): Promise<Running> {
  const proc = spawn(process.execPath, ["--import", "tsx", join(import.meta.dirname, "lib", "minimal-server.ts"), dataDir], { stdio: ["ignore", "pipe", "inherit"] });
  const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
  stops.push(async () => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGTERM");
    await exited;
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = "";
    proc.stdout!.on("data", (d) => {
      out += d;
      const match = /"url":"([^"]+)"/.exec(out);
      if (match) resolve(match[1]!);
    });
    void exited.then(() => reject(new Error(`minimal server exited: ${out}`)));
  });
  return { base: url, pids: { minimal: proc.pid! }, stop: stopAll };
}

async function startSingle(watchers: number, dataDir: string, root?: string): Promise<Running> {
  const args = root ? ["--import", "tsx", join(root, "runtime", "main.ts")] : BUILT_SERVER_ARGS;
  const app = await child(() => startChildServer(appEnv(watchers, dataDir), 60_000, args));
  return { base: app.url, pids: { app: app.child.pid! }, stop: stopAll };
}

async function startEdges(watchers: number, dataDir: string): Promise<Running> {
  const redis = await startRedis();
  stops.push(() => redis.stop());
  const shared = { ...appEnv(watchers, dataDir), REDIS_URL: redis.url };
  const core = await child(() => startChildServer({ ...shared, ROLE: "core" }, 60_000, BUILT_SERVER_ARGS));
  const edges = await Promise.all([0, 1].map(() => child(() => startChildServer({ ...shared, ROLE: "edge" }, 60_000, BUILT_SERVER_ARGS))));
  const prefixDir = mkdtempSync(join(tmpdir(), "tap-bench-audience-nginx-"));
  stops.push(() => rmSync(prefixDir, { recursive: true, force: true }));
  const plainPort = await freePort();
  const conf = renderNginx({
    prefixDir,
    appPort: Number(new URL(core.url).port),
    edgePorts: edges.map((e) => Number(new URL(e.url).port)),
    plainPort,
    tlsPort: await freePort(),
    redirectPort: await freePort(),
    // Each watcher is two connections in nginx (client and edge), each one descriptor: enough
    // workers that none needs more than FD_LIMIT, with room for an uneven spread.
    workerProcesses: Math.max(2, Math.ceil((2 * watchers) / Math.floor((FD_LIMIT - 2048) / 2))),
    workerConnections: FD_LIMIT - 2048,
  });
  const nginx = await startNginx(conf, prefixDir, plainPort);
  stops.push(() => nginx.stop());
  return {
    base: `http://127.0.0.1:${plainPort}`,
    pids: { core: core.child.pid!, edge1: edges[0]!.child.pid!, edge2: edges[1]!.child.pid!, nginx: nginx.process.pid! },
    stop: stopAll,
  };
}

/** CPU seconds used so far by a process (and, for nginx's master, its workers). */
function cpuSeconds(pid: number): number {
  const ticks = (p: number) => {
    try {
      const fields = readFileSync(`/proc/${p}/stat`, "utf8").split(") ")[1]!.split(" ");
      return Number(fields[11]) + Number(fields[12]);
    } catch {
      return 0;
    }
  };
  let total = ticks(pid);
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/stat`, "utf8").split(") ")[1]!.split(" ")[1] === String(pid)) total += ticks(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return total / 100;
}

function forkClient<T>(script: string, args: string[]): { proc: ChildProcess; ready: Promise<unknown>; report: Promise<T> } {
  const proc = fork(script, args, { execArgv: ["--import", "tsx"], stdio: ["ignore", "inherit", "inherit", "ipc"] });
  const exited = new Promise<number>((resolve) => proc.once("exit", (code) => resolve(code ?? 1)));
  stops.push(async () => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGKILL");
    await exited;
  });
  const failed = exited.then((code) => Promise.reject(new Error(`${script} exited with ${code}`)));
  // Each promise below is awaited later (or never, when an earlier step failed): marked handled here so
  // that a client that dies, or is stopped at cleanup, fails the run instead of crashing the bench
  // with an unhandled rejection before everything is stopped.
  const message = <K extends string>(key: K) => {
    const answer = Promise.race([new Promise<unknown>((resolve) => proc.on("message", (m: Record<string, unknown>) => key in m && resolve(m[key]))), failed]);
    answer.catch(() => undefined);
    return answer;
  };
  return { proc, ready: message("ready"), report: message("report") as Promise<T> };
}

async function runOne(setup: Setup, watchers: number): Promise<Result> {
  const dataDir = mkdtempSync(join(tmpdir(), "tap-bench-audience-"));
  stops.push(() => rmSync(dataDir, { recursive: true, force: true }));
  if (setup !== "minimal" && !fresh) seedRunningServerTicks(dataDir);
  try {
    const running =
      setup === "minimal"
        ? await startMinimal(dataDir)
        : setup === "edges"
          ? await startEdges(watchers, dataDir)
          : await startSingle(watchers, dataDir, setup === "baseline" ? baselineRoot : undefined);
    const bets = forkClient<BetsReport>(CLIENT_SCRIPTS.bets, [running.base, setup === "minimal" ? "minimal" : "app", String(rate), connections]);
    // (The baseline's price frames may be another shape: the watchers count any frame of type price.)
    await bets.ready;
    // Watchers in processes of ≤ WATCHERS_PER_PROCESS sockets, each from source addresses of its own.
    const processes = Math.ceil(watchers / WATCHERS_PER_PROCESS);
    const addressesPerProcess = Math.ceil(WATCHERS_PER_PROCESS / SOURCES_PER_ADDRESS);
    const watching = Array.from({ length: processes }, (_, i) => {
      const count = Math.min(WATCHERS_PER_PROCESS, watchers - i * WATCHERS_PER_PROCESS);
      return forkClient<WatcherCounts>(CLIENT_SCRIPTS.watchers, [`${running.base.replace(/^http/, "ws")}/ws`, String(count), String(i * addressesPerProcess)]);
    });
    const failed = ((await deadline(Promise.all(watching.map((c) => c.ready)), CONNECT_DEADLINE_MS, "connecting the watchers")) as { failed: number }[]).reduce((a, r) => a + r.failed, 0);
    if (failed > 0) console.log(`  (${failed} of ${watchers} watchers could not connect)`);
    // Let the connection burst settle before the load starts.
    await new Promise((r) => setTimeout(r, 2000));
    for (const client of [bets, ...watching]) client.proc.send({ go: { warmupMs, durationMs } });
    await new Promise((r) => setTimeout(r, warmupMs));
    // The bet load's own CPU too: on two cores it competes with the servers it measures.
    const pids = { ...running.pids, "bet load": bets.proc.pid! };
    const cpuBefore = Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, cpuSeconds(pid)]));
    const measuredAt = performance.now();
    const w = mergeWatchers(await deadline(Promise.all(watching.map((c) => c.report)), durationMs + REPORT_SLACK_MS, "the watchers' reports"));
    const cpu = Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, (100 * (cpuSeconds(pid) - cpuBefore[name]!)) / ((performance.now() - measuredAt) / 1000)]));
    const b = await deadline(bets.report, REPORT_SLACK_MS, "the bets' report");
    return { setup, watchers, w, b, cpu };
  } finally {
    await stopAll();
  }
}

const f0 = (v: number) => (Number.isFinite(v) ? v.toFixed(0) : "–");
const f1 = (v: number) => (Number.isFinite(v) ? v.toFixed(1) : "–");

function line(r: Result): string {
  const cpu = [...Object.entries(r.cpu).map(([k, v]) => `${k} ${f0(v)}%`), `watchers ${f0(r.w.cpuPercent)}%`].join(", ");
  return (
    `${r.setup.padEnd(7)} ${String(r.watchers).padStart(6)} watchers (${r.w.open} open): bets ${f0(r.b.acceptedPerSec)}/s of ${r.b.offeredPerSec} offered, p50 ${f1(r.b.p50Ms)} ms, p99 ${f1(r.b.p99Ms)} ms` +
    ` | lag p50 ${r.w.lagP50Ms} ms, p99 ${r.w.lagP99Ms} ms | ticks/watcher/s min ${f1(r.w.ticksPerSecMin)} mean ${f1(r.w.ticksPerSecMean)} | ${f0(r.w.bytesPerSecMean)} B/watcher/s` +
    ` (price frame ${r.w.priceFrameBytesMax} B) | seq gaps ${r.w.seqGaps} | CPU ${cpu}` +
    ` | bet load's loop delay p99 ${f1(r.b.generatorDelayP99Ms)} ms` +
    (Object.keys(r.b.refusals).length ? ` | refusals ${JSON.stringify(r.b.refusals)}` : "") +
    (r.b.errors || r.b.notSent ? ` | errors ${r.b.errors}, not sent ${r.b.notSent}` : "")
  );
}

const results: Result[] = [];
try {
  if (setups.includes("baseline")) console.log(`baseline: the single process of ${baselineRoot || "(no --baseline given)"}`);
  console.log(
    `bench:audience: ${rate} bets/s offered over ${connections} connections, ${warmupMs / 1000} s warm-up + ${durationMs / 1000} s measured per run; ` +
      `watchers ${watcherCounts.join(", ")}; setups ${setups.join(", ")}; the app ${fresh ? "freshly started (--fresh)" : "warmed up from 30 minutes of stored ticks"}`,
  );
  for (const watchers of watcherCounts) {
    for (const setup of setups) {
      if (setup !== "edges" && !fitsOneProcess(watchers)) {
        console.log(`${setup.padEnd(7)} ${String(watchers).padStart(6)} watchers: not run — one process here may hold ${FD_LIMIT} descriptors (ulimit -n; raising it needs CAP_SYS_RESOURCE)`);
        continue;
      }
      try {
        const result = await runOne(setup, watchers);
        results.push(result);
        console.log(line(result));
      } catch (error) {
        // Reported and stopped (runOne's finally); the other runs go on.
        console.log(`${setup.padEnd(7)} ${String(watchers).padStart(6)} watchers: failed — ${(error as Error).message}`);
      }
    }
  }
} finally {
  await stopAll();
}

console.log("\n| watchers | setup | bets accepted/s | bet p50 / p99 ms | lag p50 / p99 ms | ticks/watcher/s (min / mean) | bytes/watcher/s |");
console.log("|---|---|---|---|---|---|---|");
for (const r of results) {
  console.log(
    `| ${r.watchers} | ${r.setup} | ${f0(r.b.acceptedPerSec)} | ${f1(r.b.p50Ms)} / ${f1(r.b.p99Ms)} | ${r.w.lagP50Ms} / ${r.w.lagP99Ms} | ${f1(r.w.ticksPerSecMin)} / ${f1(r.w.ticksPerSecMean)} | ${f0(r.w.bytesPerSecMean)} |`,
  );
}
for (const watchers of watcherCounts.filter((n) => n === 5000)) {
  const minimal = results.find((r) => r.watchers === watchers && r.setup === "minimal");
  for (const r of results.filter((x) => x.watchers === watchers && (x.setup === "single" || x.setup === "edges"))) {
    const checks = [
      [`bet p99 ${f1(r.b.p99Ms)} ms ≤ 100`, r.b.p99Ms <= 100],
      [`accepted ${f0(r.b.acceptedPerSec)}/s within 10 % of the minimal server's ${minimal ? f0(minimal.b.acceptedPerSec) : "?"}`, minimal ? r.b.acceptedPerSec >= 0.9 * minimal.b.acceptedPerSec : false],
      [`every watcher ≥ 9.5 ticks/s (lowest ${f1(r.w.ticksPerSecMin)})`, r.w.ticksPerSecMin >= 9.5],
      [`lag p99 ${r.w.lagP99Ms} ms ≤ 100`, r.w.lagP99Ms <= 100],
      [`${f0(r.w.bytesPerSecMean)} B/s per watcher ≤ 2 KB/s`, r.w.bytesPerSecMean <= 2048],
    ] as const;
    console.log(`issue 22 at ${watchers} watchers, ${r.setup}: ${checks.map(([what, ok]) => `${ok ? "met" : "NOT met"}: ${what}`).join("; ")}`);
  }
}
