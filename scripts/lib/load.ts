import { spawn, spawnSync } from "node:child_process";
import autocannon from "autocannon";

export interface LoadResult {
  tool: "oha" | "autocannon";
  offeredPerSec: number | null;
  achievedPerSec: number;
  requests: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  errors: number;
  statusCounts: Record<string, number>;
}

export interface LoadOptions {
  url: string;
  method?: "GET" | "POST";
  headers?: Record<string, string>;
  body?: string;
  connections: number;
  durationSec: number;
  /** Offered rate (requests/s over all connections); unset = as fast as possible. */
  ratePerSec?: number;
}

export function hasOha(): boolean {
  return spawnSync("sh", ["-c", "command -v oha"], { stdio: "ignore" }).status === 0;
}

/** A fixed request (same body each time) with oha when it is on PATH, else autocannon. */
export async function runLoad(o: LoadOptions): Promise<LoadResult> {
  if (hasOha()) return runOha(o);
  const result = await autocannon({
    url: o.url,
    method: o.method ?? "GET",
    headers: o.headers,
    body: o.body,
    connections: o.connections,
    duration: o.durationSec,
    overallRate: o.ratePerSec,
  });
  return fromAutocannon(result, o.ratePerSec ?? null);
}

export function fromAutocannon(result: autocannon.Result, offeredPerSec: number | null): LoadResult {
  const statusCounts: Record<string, number> = {};
  for (const [k, v] of Object.entries(result as unknown as Record<string, unknown>)) {
    const m = /^(\d)xx$/.exec(k);
    if (m && typeof v === "number" && v > 0) statusCounts[k] = v;
  }
  const s = (result as unknown as { statusCodeStats?: Record<string, { count: number }> }).statusCodeStats;
  if (s) for (const [code, { count }] of Object.entries(s)) statusCounts[code] = count;
  return {
    tool: "autocannon",
    offeredPerSec,
    achievedPerSec: Math.round(result.requests.total / result.duration),
    requests: result.requests.total,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    maxMs: result.latency.max,
    errors: result.errors + result.timeouts,
    statusCounts,
  };
}

function runOha(o: LoadOptions): LoadResult {
  const args = ["--no-tui", "--output-format", "json", "-z", `${o.durationSec}s`, "-c", String(o.connections), "-m", o.method ?? "GET"];
  if (o.ratePerSec) args.push("-q", String(o.ratePerSec));
  for (const [k, v] of Object.entries(o.headers ?? {})) args.push("-H", `${k}: ${v}`);
  if (o.body) args.push("-d", o.body);
  args.push(o.url);
  const out = spawnSync("oha", args, { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  const j = JSON.parse(out.stdout) as {
    summary: { requestsPerSec: number; total: number };
    latencyPercentiles: Record<string, number>;
    statusCodeDistribution: Record<string, number>;
    errorDistribution: Record<string, number>;
  };
  const requests = Object.values(j.statusCodeDistribution).reduce((a, b) => a + b, 0);
  return {
    tool: "oha",
    offeredPerSec: o.ratePerSec ?? null,
    achievedPerSec: Math.round(j.summary.requestsPerSec),
    requests,
    p50Ms: (j.latencyPercentiles.p50 ?? NaN) * 1000,
    p99Ms: (j.latencyPercentiles.p99 ?? NaN) * 1000,
    maxMs: (j.latencyPercentiles.p100 ?? j.summary.total) * 1000,
    errors: Object.values(j.errorDistribution).reduce((a, b) => a + b, 0),
    statusCounts: j.statusCodeDistribution,
  };
}

export function formatLoad(label: string, r: LoadResult): string {
  const offered = r.offeredPerSec ? `${r.offeredPerSec}/s` : "max";
  return (
    `${label.padEnd(28)} tool=${r.tool} offered=${offered} achieved=${r.achievedPerSec}/s ` +
    `p50=${r.p50Ms.toFixed(1)}ms p99=${r.p99Ms.toFixed(1)}ms max=${r.maxMs.toFixed(1)}ms ` +
    `errors=${r.errors} status=${JSON.stringify(r.statusCounts)}`
  );
}

/**
 * A bare node:http server in its own process answering every request with `status` and a small
 * JSON body: the ceiling the app is compared with (SPEC §10), measured with the same load tool.
 */
export async function startBareServer(status: number): Promise<{ url: string; stop(): void }> {
  const child = spawn(
    process.execPath,
    [
      "-e",
      `require("node:http").createServer((q, s) => { s.writeHead(${status}, {"content-type": "application/json"}); s.end('{"ok":true}'); })` +
        `.listen(0, "127.0.0.1", function () { console.log(this.address().port); });`,
    ],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  const port = await new Promise<number>((resolve) => child.stdout!.once("data", (d) => resolve(Number(String(d).trim()))));
  return { url: `http://127.0.0.1:${port}/`, stop: () => void child.kill() };
}
