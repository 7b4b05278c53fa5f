/**
 * Start-up time and memory of the server under tsx (`npm run dev`) and compiled (`node
 * dist/runtime/main.js`, run `npm run build` first), on a fresh DATA_DIR each time, alternating.
 * Prints per mode the median of: ms from spawn to the "listening" log line, and the RSS (whole
 * process: main thread, writer thread, checkpointer) right then and 2 s later.
 *
 *   npx tsx scripts/bench-startup.ts [runs=3]
 */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const root = join(import.meta.dirname, "..");
const runs = Math.min(10, Math.max(1, Number(process.argv[2] ?? 3)));
const SETTLE_MS = 2000;
const START_TIMEOUT_MS = 60_000;
const modes = {
  tsx: ["--import", "tsx", join(root, "runtime", "main.ts")],
  compiled: [join(root, "dist", "runtime", "main.js")],
};
if (!existsSync(modes.compiled[0]!)) {
  process.stderr.write("dist/runtime/main.js is missing: run `npm run build` first\n");
  process.exit(1);
}

function rssMiB(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return match ? Number(match[1]) / 1024 : NaN;
}

async function once(args: string[]): Promise<{ startMs: number; rssMiB: number; settledRssMiB: number }> {
  const dataDir = mkdtempSync(join(tmpdir(), "tap-startup-"));
  const t0 = performance.now();
  const child = spawn(process.execPath, args, {
    cwd: root,
    env: { ...process.env, PORT: "0", DATA_DIR: dataDir, LOG_LEVEL: "info", JOBS_ENABLED: "false", PRICE_SOURCES: "synthetic" },
    stdio: ["ignore", "pipe", "inherit"],
  });
  try {
    let out = "";
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no "listening" within ${START_TIMEOUT_MS} ms`)), START_TIMEOUT_MS);
      child.stdout!.on("data", (d) => {
        out += d;
        if (out.includes('"msg":"listening"')) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once("exit", (code) => reject(new Error(`server exited (${code}) before listening`)));
    });
    const startMs = performance.now() - t0;
    const rss = rssMiB(child.pid!);
    await new Promise((r) => setTimeout(r, SETTLE_MS));
    return { startMs, rssMiB: rss, settledRssMiB: rssMiB(child.pid!) };
  } finally {
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGTERM");
    await exited;
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const results: Record<string, { startMs: number[]; rss: number[]; settled: number[] }> = {};
for (let i = 0; i < runs; i++) {
  for (const [mode, args] of Object.entries(modes)) {
    const r = await once(args);
    const acc = (results[mode] ??= { startMs: [], rss: [], settled: [] });
    acc.startMs.push(r.startMs);
    acc.rss.push(r.rssMiB);
    acc.settled.push(r.settledRssMiB);
  }
}
console.log(`server start-up, median of ${runs} runs each (fresh DATA_DIR, synthetic feed; Node ${process.version})`);
for (const [mode, r] of Object.entries(results)) {
  console.log(
    `${mode.padEnd(9)} start ${median(r.startMs).toFixed(0).padStart(5)} ms (runs ${r.startMs.map((x) => x.toFixed(0)).join(", ")})` +
      `  RSS at listening ${median(r.rss).toFixed(1)} MiB, ${SETTLE_MS / 1000} s later ${median(r.settled).toFixed(1)} MiB`,
  );
}
