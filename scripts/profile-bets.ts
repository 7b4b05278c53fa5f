/**
 * Where a bet's CPU goes (issue 23): starts the product under `node --cpu-prof` (every thread writes
 * its own profile: the event loop, the writer thread, the checkpointer), drives the closed-loop bet
 * load of `npm run bench` at it, stops it gracefully, and prints per thread the functions with the
 * most self time and the same grouped by module, in µs per bet.
 *
 *   npx tsx scripts/profile-bets.ts [--duration 15] [--players 1000] [--connections 64] [--top 25] [--keep]
 *
 * Only the samples taken while the load ran count (V8's profile clock and `process.hrtime` are both
 * CLOCK_MONOTONIC), so start-up and the players' sign-in stay out. Time is wall time while a thread
 * is not idle: a thread waiting in fsync, or runnable on a busy machine, counts. Calls into libsql
 * are shown by caller (a COMMIT from the batch queue is not a statement of the bet).
 * The compiled build runs (`npm run build` first), as in production; `--tsx` runs the sources.
 * The product warms its pricing up from 30 minutes of stored ticks, as in `npm run bench` (`--fresh`: an empty DATA_DIR).
 * `--keep` leaves the .cpuprofile files (open them in Chrome's DevTools or speedscope).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { randomBytes } from "node:crypto";
import { runClosedLoop } from "./lib/closed-loop.ts";
import { signInPlayers } from "./lib/players.ts";
import { spawnSync } from "node:child_process";
import { BUILT_SERVER_ARGS, SOURCE_SERVER_ARGS, startChildServer } from "../tests/helpers/child.ts";
import { flag, option } from "./lib/args.ts";
import { seedRunningServerTicks } from "./lib/warm-ticks.ts";

const durationSec = Number(option("duration", "15"));
const players = Number(option("players", "1000"));
const connections = Number(option("connections", "64"));
const top = Number(option("top", "25"));
const root = join(import.meta.dirname, "..");

if (!flag("tsx") && spawnSync("npm", ["run", "build", "--silent"], { cwd: root, stdio: "inherit" }).status !== 0) throw new Error("npm run build failed");

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

const dir = mkdtempSync(join(tmpdir(), "tap-profile-"));
const profiles = join(dir, "profiles");
const adminToken = randomBytes(24).toString("hex");
// As `npm run bench`: a server that has been running (pricing warm from 30 minutes of stored ticks); --fresh: one just started.
if (!flag("fresh")) seedRunningServerTicks(join(dir, "data"));
const app = await startChildServer(
  {
    DATA_DIR: join(dir, "data"),
    ADMIN_TOKEN: adminToken,
    PRICE_SOURCES: "synthetic",
    NODE_ENV: "production",
    DEMO_BALANCE_MICRO_USD: "1000000000",
    OPEN_BETS_MAX: "100000",
    BET_RATE_PER_SEC: "1000000",
    BET_RATE_BURST: "1000000",
    CELL_EXPOSURE_MAX_MICRO_USD: "1000000000000000",
    COLUMN_EXPOSURE_MAX_MICRO_USD: "1000000000000000",
  },
  30_000,
  ["--cpu-prof", "--cpu-prof-dir", profiles, ...(flag("tsx") ? SOURCE_SERVER_ARGS : BUILT_SERVER_ARGS)],
);
let created = 0;
/** The load's window on CLOCK_MONOTONIC, in µs (the profiles' clock). */
let windowUs: [number, number] = [0, 0];
const monotonicUs = () => Number(process.hrtime.bigint() / 1000n);
try {
  const tokensFile = join(dir, "tokens.txt");
  writeFileSync(tokensFile, (await signInPlayers(app.url, players)).join("\n") + "\n");
  const grid = (await (await fetch(`${app.url}/api/grid?cols=12&rows=21`)).json()) as {
    at: number;
    lockMs: number;
    cells: { col: number; row: number; windowStart: number; multiplier: number }[];
  };
  const cells = grid.cells.filter((c) => c.windowStart - grid.at >= grid.lockMs + (durationSec + 10) * 1000 && c.multiplier <= 20);
  const cellsFile = join(dir, "cells.txt");
  writeFileSync(cellsFile, cells.map((c) => `${c.col} ${c.row}`).join("\n") + "\n");
  const loadStartUs = monotonicUs();
  const load = await runClosedLoop({
    url: app.url,
    tokensFile,
    cellsFile,
    outDir: join(dir, "ids"),
    tag: "prof",
    connections,
    threads: 2,
    durationSec,
    stakeMicroUsd: 100_000,
  });
  windowUs = [loadStartUs, monotonicUs()];
  created = load.created;
  console.log(`${load.createdPerSec.toFixed(0)} bets/s (201), p99 ${load.p99Ms.toFixed(1)} ms, ${created} bets; statuses ${JSON.stringify(load.statuses)}`);
} finally {
  app.child.kill("SIGTERM");
  await app.exited;
}

for (const file of readdirSync(profiles).sort()) {
  const profile = JSON.parse(readFileSync(join(profiles, file), "utf8")) as Profile;
  const { byFunction, byModule, inclusive, totalUs, idleUs } = selfTimes(profile, windowUs);
  const busyUs = totalUs - idleUs;
  if (busyUs < 0.05 * totalUs) continue;
  const perBet = (x: number) => (created ? (x / created).toFixed(1) : "?");
  console.log(`\n${file}: ${(busyUs / 1e6).toFixed(1)} s busy of the load's ${(totalUs / 1e6).toFixed(1)} s, ${perBet(busyUs)} µs per bet`);
  console.log(`  by module (µs per bet, % of busy):`);
  for (const [name, us] of [...byModule].sort((a, b) => b[1] - a[1]).slice(0, 15)) {
    console.log(`    ${perBet(us).padStart(7)}  ${((100 * us) / busyUs).toFixed(1).padStart(5)} %  ${name}`);
  }
  console.log(`  by function (self):`);
  for (const [name, us] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(`    ${perBet(us).padStart(7)}  ${((100 * us) / busyUs).toFixed(1).padStart(5)} %  ${name}`);
  }
  console.log(`  by function of this repository, with what it calls (inclusive):`);
  for (const [name, us] of [...inclusive].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(`    ${perBet(us).padStart(7)}  ${((100 * us) / busyUs).toFixed(1).padStart(5)} %  ${name}`);
  }
}
if (flag("keep")) console.log(`\nprofiles kept in ${profiles}`);
else rmSync(dir, { recursive: true, force: true });

/**
 * Self time per function and per module (package or source file), and the idle time, in µs, of the
 * samples within `window`. A sample's time is the delta to the next one (the time it stands for).
 */
function selfTimes(p: Profile, window: [number, number]) {
  const nodes = new Map(p.nodes.map((n) => [n.id, n]));
  const parents = new Map<number, ProfileNode>();
  for (const n of p.nodes) for (const c of n.children ?? []) parents.set(c, n);
  const self = new Map<number, number>();
  let t = p.startTime;
  let totalUs = 0;
  for (let i = 0; i < p.samples.length; i++) {
    t += p.timeDeltas[i] ?? 0;
    const us = p.timeDeltas[i + 1] ?? 0;
    if (t < window[0] || t >= window[1]) continue;
    totalUs += us;
    self.set(p.samples[i]!, (self.get(p.samples[i]!) ?? 0) + us);
  }
  const byFunction = new Map<string, number>();
  const byModule = new Map<string, number>();
  let idleUs = 0;
  for (const [id, us] of self) {
    const frame = nodes.get(id)!.callFrame;
    if (frame.functionName === "(idle)") {
      idleUs += us;
      continue;
    }
    const where = moduleOf(frame.url);
    let name = `${frame.functionName || "(anonymous)"} ${where}${frame.url ? `:${frame.lineNumber + 1}` : ""}`;
    if (where === "libsql") {
      const caller = parents.get(id)?.callFrame;
      if (caller) name += ` ← ${caller.functionName || "(anonymous)"} ${moduleOf(caller.url)}`;
    }
    byFunction.set(name, (byFunction.get(name) ?? 0) + us);
    byModule.set(where || frame.functionName, (byModule.get(where || frame.functionName) ?? 0) + us);
  }
  // Inclusive time of the repository's own functions: each sample counts once for every distinct
  // such function on its stack.
  const inclusive = new Map<string, number>();
  const nameOf = (n: ProfileNode) => {
    const where = moduleOf(n.callFrame.url);
    return where.startsWith("dist/") || /^(runtime|services|storage|handlers|domain)\//.test(where) ? `${n.callFrame.functionName || "(anonymous)"} ${where}:${n.callFrame.lineNumber + 1}` : undefined;
  };
  for (const [id, us] of self) {
    const seen = new Set<string>();
    for (let n: ProfileNode | undefined = nodes.get(id); n; n = parents.get(n.id)) {
      const name = nameOf(n);
      if (name && !seen.has(name)) {
        seen.add(name);
        inclusive.set(name, (inclusive.get(name) ?? 0) + us);
      }
    }
  }
  return { byFunction, byModule, inclusive, totalUs, idleUs };
}

function moduleOf(url: string): string {
  if (!url) return "";
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm) return nm[1]!;
  if (url.startsWith("node:")) return url;
  return url.startsWith("file://") ? relative(root, new URL(url).pathname) : url;
}
