/**
 * WebSocket fan-out benchmark (issue 4, SPEC §10: 5 000 subscribers at 10 ticks/s, p99 ≤ 100 ms).
 * The server runs in this process with the synthetic source at 10 ticks/s (SYNTHETIC_TICK_MS=100);
 * the subscribers run in a child process, so client work does not count as server CPU. Lag is the
 * client's receive time minus the tick's `at` (same machine, same clock), measured after every
 * client has connected.
 *   npx tsx scripts/bench-ws.ts [clients=5000] [seconds=10]
 * WS_RAW_FRAMES=false measures crossws's public send path instead of the framed-once fast path.
 */
import { fork } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import WebSocket from "ws";

interface Report {
  connected: number;
  /** Distinct ticks seen by any subscriber while measuring. */
  ticks: number;
  failed: number;
  frames: number;
  lagsMs: number[];
  cpuMs: number;
}

if (process.argv[2] === "--clients") await runClients(process.argv[3]!, Number(process.argv[4]), Number(process.argv[5]));
else await runServer(Number(process.argv[2] ?? 5000), Number(process.argv[3] ?? 10));

async function runServer(clients: number, seconds: number): Promise<void> {
  const { testConfig } = await import("../runtime/config.ts");
  const { startServer } = await import("../runtime/server.ts");
  const dataDir = mkdtempSync(join(tmpdir(), "tap-bench-ws-"));
  const config = testConfig({
    PORT: 0,
    DATA_DIR: dataDir,
    LOG_LEVEL: "warn",
    PRICE_SOURCES: "synthetic",
    SYNTHETIC_TICK_MS: 100,
    WS_MAX_CLIENTS: clients + 100,
    WS_RAW_FRAMES: process.env.WS_RAW_FRAMES !== "false",
  });
  const server = await startServer(config);
  try {
    const child = fork(fileURLToPath(import.meta.url), ["--clients", server.url.replace(/^http/, "ws") + "/ws", String(clients), String(seconds)], {
      execArgv: ["--import", "tsx"],
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    let cpuStart = process.cpuUsage();
    let wallStart = performance.now();
    let ticksStart = 0;
    const ticks = () => Number((server.ctx.metrics.registry.getSingleMetric("price_index_ticks_total") as unknown as { hashMap: Record<string, { value: number }> }).hashMap[""]?.value ?? 0);
    const report = await new Promise<Report>((resolve, reject) => {
      child.on("message", (m: { ready?: boolean; report?: Report }) => {
        if (m.ready) {
          cpuStart = process.cpuUsage();
          wallStart = performance.now();
          ticksStart = ticks();
        }
        if (m.report) resolve(m.report);
      });
      child.on("exit", (code) => reject(new Error(`client process exited with ${code}`)));
    });
    const cpu = process.cpuUsage(cpuStart);
    const wallMs = performance.now() - wallStart;
    const broadcast = await server.ctx.metrics.registry.getSingleMetric("ws_broadcast_seconds")!.get();
    const sum = broadcast.values.find((v) => (v as { metricName?: string }).metricName === "ws_broadcast_seconds_sum")?.value ?? 0;
    const count = broadcast.values.find((v) => (v as { metricName?: string }).metricName === "ws_broadcast_seconds_count")?.value ?? 1;
    print(clients, seconds, report, ticks() - ticksStart, (cpu.user + cpu.system) / 1000, wallMs, (sum / count) * 1000);
  } finally {
    await server.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

function print(clients: number, seconds: number, r: Report, ticks: number, serverCpuMs: number, wallMs: number, broadcastMs: number) {
  const lags = r.lagsMs.sort((a, b) => a - b);
  const q = (p: number) => lags[Math.min(lags.length - 1, Math.floor(p * lags.length))] ?? NaN;
  // Every subscriber should have every tick that any subscriber saw in the window.
  const expected = r.ticks * r.connected;
  console.log(`ws fan-out: ${r.connected}/${clients} subscribers connected (${r.failed} failed), ${seconds} s measured, ${ticks} ticks (${(ticks / (wallMs / 1000)).toFixed(1)}/s)`);
  console.log(`  frames delivered ${r.frames} of ~${expected} expected (${((100 * r.frames) / Math.max(1, expected)).toFixed(1)}%)`);
  console.log(`  delivery lag ms: p50 ${q(0.5)}  p90 ${q(0.9)}  p99 ${q(0.99)}  max ${lags.at(-1)}`);
  console.log(`  server CPU ${((100 * serverCpuMs) / wallMs).toFixed(0)}% of one core (${serverCpuMs.toFixed(0)} ms in ${wallMs.toFixed(0)} ms); one broadcast takes ${broadcastMs.toFixed(2)} ms on average`);
  console.log(`  client process CPU ${((100 * r.cpuMs) / wallMs).toFixed(0)}% of one core`);
}

async function runClients(url: string, clients: number, seconds: number): Promise<void> {
  const sockets: WebSocket[] = [];
  let failed = 0;
  let measuring = false;
  let frames = 0;
  const lagsMs: number[] = [];
  const seen = new Set<number>();
  const onMessage = (data: WebSocket.RawData) => {
    if (!measuring) return;
    const text = data.toString();
    // Cheap extraction instead of JSON.parse for 50 000 frames/s: {"type":"price",…,"at":…,…}
    if (!text.startsWith('{"type":"price"')) return;
    frames++;
    const at = Number(/"at":(\d+)/.exec(text)?.[1]);
    lagsMs.push(Date.now() - at);
    seen.add(at);
  };
  for (let i = 0; i < clients; i += 250) {
    const batch = Array.from({ length: Math.min(250, clients - i) }, () => {
      const ws = new WebSocket(url, { perMessageDeflate: false });
      ws.on("message", onMessage);
      sockets.push(ws);
      return new Promise<void>((resolve) => {
        ws.once("open", () => resolve());
        ws.once("error", () => {
          failed++;
          resolve();
        });
      });
    });
    await Promise.all(batch);
  }
  const cpuStart = process.cpuUsage();
  measuring = true;
  process.send!({ ready: true });
  await new Promise((r) => setTimeout(r, seconds * 1000));
  measuring = false;
  const cpu = process.cpuUsage(cpuStart);
  const connected = sockets.filter((s) => s.readyState === WebSocket.OPEN).length;
  for (const s of sockets) s.terminate();
  process.send!({ report: { connected, ticks: seen.size, failed, frames, lagsMs, cpuMs: (cpu.user + cpu.system) / 1000 } satisfies Report }, () => process.exit(0));
}
