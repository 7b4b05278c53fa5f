import { spawn } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

/**
 * Closed-loop bet load with wrk (Debian's `wrk`, a process of its own): every connection sends the
 * next `POST /api/bets` as soon as the previous answer arrived, so the rate is the server's. The
 * script (wrk-bets.lua) gives each request the next player's token, a random cell of `cellsFile`
 * and its own idempotency key, and writes the bet id of every 201 to `outDir` for the data check.
 */
export interface ClosedLoopOptions {
  url: string;
  tokensFile: string;
  /** "col row" per line. */
  cellsFile: string;
  /** Where the 201 answers' bet ids go (one file per wrk thread). */
  outDir: string;
  /** Makes the idempotency keys of this run differ from every other run's. */
  tag: string;
  connections: number;
  threads: number;
  durationSec: number;
  stakeMicroUsd: number;
}

export interface ClosedLoopResult {
  answers: number;
  created: number;
  durationSec: number;
  answersPerSec: number;
  createdPerSec: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Answers by HTTP status. */
  statuses: Record<string, number>;
  /** Connect, read, write errors and timeouts as wrk counts them. */
  socketErrors: number;
}

const SCRIPT = join(import.meta.dirname, "wrk-bets.lua");

export async function runClosedLoop(o: ClosedLoopOptions): Promise<ClosedLoopResult> {
  mkdirSync(o.outDir, { recursive: true });
  const args = ["-t", String(o.threads), "-c", String(o.connections), "-d", `${o.durationSec}s`, "--timeout", "10s", "-s", SCRIPT, o.url];
  args.push("--", o.tokensFile, o.cellsFile, o.outDir, o.tag, String(o.stakeMicroUsd));
  const child = spawn("wrk", args, { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout.on("data", (d) => (out += d));
  child.stderr.on("data", (d) => (out += d));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", resolve);
  });
  const summary = /^wrk requests=(\d+) duration_us=(\d+) p50_us=(\d+) p90_us=(\d+) p99_us=(\d+) max_us=(\d+) connect=(\d+) read=(\d+) write=(\d+) timeout=(\d+)$/m.exec(out);
  if (code !== 0 || !summary) throw new Error(`wrk failed (exit ${code}):\n${out}`);
  const n = summary.slice(1).map(Number) as [number, number, number, number, number, number, number, number, number, number];
  const statuses: Record<string, number> = {};
  for (const m of out.matchAll(/^status (\d+) (\d+)$/gm)) statuses[m[1]!] = (statuses[m[1]!] ?? 0) + Number(m[2]);
  const durationSec = n[1] / 1e6;
  const answers = Object.values(statuses).reduce((a, b) => a + b, 0);
  const created = statuses["201"] ?? 0;
  return {
    answers,
    created,
    durationSec,
    answersPerSec: answers / durationSec,
    createdPerSec: created / durationSec,
    p50Ms: n[2] / 1000,
    p90Ms: n[3] / 1000,
    p99Ms: n[4] / 1000,
    maxMs: n[5] / 1000,
    statuses,
    socketErrors: n[6] + n[7] + n[8] + n[9],
  };
}

/** The bet ids of every 201 the runs under `dirs` received. */
export function acknowledgedBetIds(dirs: string[]): number[] {
  const ids: number[] = [];
  for (const dir of dirs) {
    for (const file of readdirSync(dir).filter((f) => f.startsWith("ids-"))) {
      for (const line of readFileSync(join(dir, file), "utf8").split("\n")) {
        if (line === "") continue;
        const id = Number(line);
        if (!Number.isSafeInteger(id)) throw new Error(`a 201 without a bet id in ${file}: ${line}`);
        ids.push(id);
      }
    }
  }
  return ids;
}
