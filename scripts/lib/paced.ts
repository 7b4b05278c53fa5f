import { Pool } from "undici";
import { monitorEventLoopDelay } from "node:perf_hooks";

/**
 * An open-loop load generator: requests leave at a fixed rate whatever the server does (as oha -q
 * or wrk2 do), and each latency is measured from the moment the request was *due*, so a stalled
 * server cannot hide its stall by slowing the generator down (no coordinated omission).
 * autocannon's rate option is a per-second budget per connection — every second begins with a
 * burst at full speed — so it cannot measure latency at a given rate; this can.
 */
export interface PacedRequest {
  method: "GET" | "POST";
  path: string;
  headers?: Record<string, string>;
  body?: string;
}

export interface PacedOptions {
  baseUrl: string;
  ratePerSec: number;
  durationSec: number;
  /** Keep-alive sockets at most; requests beyond wait in the agent (and their wait counts). */
  connectionsMax: number;
  next(seq: number): PacedRequest;
  onResponse?(seq: number, status: number, body: string): void;
  timeoutMs?: number;
  /** Requests waiting or in flight at most; beyond it a due request is counted as not sent. */
  inFlightMax?: number;
}

export interface PacedResult {
  offeredPerSec: number;
  achievedPerSec: number;
  sent: number;
  completed: number;
  notSent: number;
  errors: number;
  statusCounts: Record<string, number>;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  durationSec: number;
  /** p99 and max latency of the requests due in each second of the run: where the tail happened. */
  bySecond: { p99Ms: number; maxMs: number }[];
  /**
   * The generator's own event-loop delay while sending: a request due during a stall of the
   * generator leaves late and its latency counts the stall (the figures include the generator).
   */
  generatorDelayP99Ms: number;
  generatorDelayMaxMs: number;
}

export async function runPaced(o: PacedOptions): Promise<PacedResult> {
  // undici's pool: about a third of node:http's client cost per request, which leaves more of the
  // shared CPU to the server under test. Requests beyond the connections wait in its queue (counted).
  const timeoutMs = o.timeoutMs ?? 30_000;
  const pool = new Pool(o.baseUrl, { connections: o.connectionsMax, pipelining: 1, headersTimeout: timeoutMs, bodyTimeout: timeoutMs, keepAliveTimeout: 60_000 });
  const total = Math.round(o.ratePerSec * o.durationSec);
  const latencies = new Float64Array(total);
  const latencyBySeq = new Float64Array(total).fill(NaN);
  const statusCounts: Record<string, number> = {};
  const inFlightMax = o.inFlightMax ?? 50_000;
  let sent = 0;
  let completed = 0;
  let notSent = 0;
  let errors = 0;
  let inFlight = 0;
  let lastDone = 0;
  const start = performance.now() + 5;
  const intervalMs = 1000 / o.ratePerSec;

  const fire = (seq: number) => {
    const due = start + seq * intervalMs;
    const spec = o.next(seq);
    inFlight++;
    pool
      .request({ method: spec.method, path: spec.path, headers: spec.headers, body: spec.body })
      .then(async (res) => {
        const text = await res.body.text();
        const now = performance.now();
        latencies[completed++] = now - due;
        latencyBySeq[seq] = now - due;
        lastDone = now;
        inFlight--;
        const status = String(res.statusCode);
        statusCounts[status] = (statusCounts[status] ?? 0) + 1;
        o.onResponse?.(seq, res.statusCode, text);
      })
      .catch(() => {
        errors++;
        inFlight--;
      });
  };

  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const due = Math.min(total, Math.floor((performance.now() - start) / intervalMs) + 1);
      for (; sent + notSent < due; ) {
        if (inFlight >= inFlightMax) notSent++;
        else fire(sent++);
      }
      if (sent + notSent >= total) {
        clearInterval(timer);
        resolve();
      }
    }, 1);
  });
  loopDelay.disable();
  const deadline = performance.now() + timeoutMs + 1000;
  while (completed + errors < sent && performance.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  await pool.destroy();

  const done = latencies.subarray(0, completed).sort();
  const q = (p: number) => (completed ? done[Math.min(completed - 1, Math.floor(p * completed))]! : NaN);
  const durationSec = ((lastDone || performance.now()) - start) / 1000;
  const bySecond: PacedResult["bySecond"] = [];
  const perSecond = Math.max(1, Math.round(o.ratePerSec));
  for (let from = 0; from < sent; from += perSecond) {
    const slice = Array.from(latencyBySeq.subarray(from, Math.min(sent, from + perSecond))).filter((v) => !Number.isNaN(v)).sort((a, b) => a - b);
    bySecond.push({ p99Ms: slice[Math.floor(0.99 * (slice.length - 1))] ?? NaN, maxMs: slice.at(-1) ?? NaN });
  }
  return {
    bySecond,
    generatorDelayP99Ms: loopDelay.percentile(99) / 1e6,
    generatorDelayMaxMs: loopDelay.max / 1e6,
    offeredPerSec: o.ratePerSec,
    achievedPerSec: Math.round(completed / durationSec),
    sent,
    completed,
    notSent,
    errors,
    statusCounts,
    p50Ms: q(0.5),
    p90Ms: q(0.9),
    p99Ms: q(0.99),
    maxMs: completed ? done[completed - 1]! : NaN,
    durationSec,
  };
}
