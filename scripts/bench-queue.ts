/**
 * Batch queue benchmark (ADR-005): N inserts enqueued at once and at a steady offered rate into a
 * real libSQL file with the production pragmas; prints items/s, transactions, and commit latency.
 *   npx tsx scripts/bench-queue.ts [items=50000] [synchronous=FULL]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BatchQueue } from "../storage/batch-queue.ts";
import { openDatabase } from "../storage/db.ts";
import { createMetrics } from "../runtime/metrics.ts";

const items = Number(process.argv[2] ?? 50_000);
const synchronous = (process.argv[3] ?? "FULL") as "FULL" | "NORMAL";

function percentile(sorted: number[], p: number) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

async function burst(dir: string) {
  const db = openDatabase(join(dir, "burst.db"), { busyTimeoutMs: 5000, synchronous });
  db.exec("CREATE TABLE bets (id INTEGER PRIMARY KEY, account INTEGER, stake INTEGER, at INTEGER)");
  const metrics = createMetrics();
  const commitMs: number[] = [];
  const queue = new BatchQueue({ db, flushIntervalMs: 2, batchSizeMax: 1000, queueLengthMax: items + 1, metrics });
  const insert = db.prepare("INSERT INTO bets (account, stake, at) VALUES (?, ?, ?)");
  const started = performance.now();
  const promises: Promise<unknown>[] = [];
  for (let i = 0; i < items; i++) {
    const enq = performance.now();
    promises.push(queue.enqueue(() => insert.run(i % 1000, 1_000_000, i)).then(() => commitMs.push(performance.now() - enq)));
  }
  await Promise.all(promises);
  const seconds = (performance.now() - started) / 1000;
  commitMs.sort((a, b) => a - b);
  const commit = await metrics.batchCommitSeconds.get();
  const sum = commit.values.find((v) => v.metricName?.endsWith("_sum"))?.value ?? 0;
  console.log(`burst: ${items} inserts in ${queue.batches} transactions, ${seconds.toFixed(2)} s → ${Math.round(items / seconds)} items/s`);
  console.log(`  mean transaction (run + commit) ${((sum / queue.batches) * 1000).toFixed(2)} ms; enqueue→resolved p50 ${percentile(commitMs, 50).toFixed(1)} ms p99 ${percentile(commitMs, 99).toFixed(1)} ms`);
  db.close();
}

async function steady(dir: string, ratePerSec: number, seconds: number) {
  const db = openDatabase(join(dir, `steady-${ratePerSec}.db`), { busyTimeoutMs: 5000, synchronous });
  db.exec("CREATE TABLE bets (id INTEGER PRIMARY KEY, account INTEGER, stake INTEGER, at INTEGER)");
  const queue = new BatchQueue({ db, flushIntervalMs: 2, batchSizeMax: 1000, queueLengthMax: 100_000 });
  const insert = db.prepare("INSERT INTO bets (account, stake, at) VALUES (?, ?, ?)");
  const latencies: number[] = [];
  const promises: Promise<unknown>[] = [];
  const total = ratePerSec * seconds;
  const started = performance.now();
  let sent = 0;
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * ratePerSec));
      for (; sent < due; sent++) {
        const enq = performance.now();
        promises.push(queue.enqueue(() => insert.run(sent, 1, sent)).then(() => latencies.push(performance.now() - enq)));
      }
      if (sent >= total) {
        clearInterval(timer);
        resolve();
      }
    }, 1);
  });
  await Promise.all(promises);
  latencies.sort((a, b) => a - b);
  const elapsed = (performance.now() - started) / 1000;
  console.log(
    `steady ${ratePerSec}/s for ${seconds}s: achieved ${Math.round(total / elapsed)}/s in ${queue.batches} transactions ` +
      `(${(total / queue.batches).toFixed(1)} per tx); enqueue→committed p50 ${percentile(latencies, 50).toFixed(2)} ms ` +
      `p99 ${percentile(latencies, 99).toFixed(2)} ms max ${latencies.at(-1)!.toFixed(2)} ms`,
  );
  db.close();
}

const dir = mkdtempSync(join(tmpdir(), "tap-bench-queue-"));
try {
  console.log(`libSQL WAL, synchronous=${synchronous}, flushIntervalMs=2, batchSizeMax=1000`);
  await burst(dir);
  await steady(dir, 3000, 5);
  await steady(dir, 10_000, 5);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
