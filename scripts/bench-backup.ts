/**
 * What an online backup costs the writer (issue 24). Seeds a current.db with `--bets` settled bets
 * (two ledger entries each) and ticks, then a writer thread commits one bet-shaped transaction every
 * `--period-ms` (FULL sync, as bet placement's batches) while, after `--before` seconds, the backup
 * job's own code (storage/backup.ts in a thread) copies and verifies the file; `--after` seconds more.
 * Prints the writer's commit latency (from when each commit was due) before / during / after, how
 * long the backup held its read snapshot, the verification and total time, and the WAL's size.
 * Then, as a control on the same machine in the same run, a plain copy of the same file (read and
 * written in 1 MiB pieces, fsynced: the disk and CPU work of a copy without any SQLite lock): what
 * the writer loses to the backup beyond what it loses to the control is the backup's own doing.
 *
 *   npx tsx scripts/bench-backup.ts [--bets 1000000] [--period-ms 10] [--before 5] [--after 5] [--nice 10]
 */
import { mkdtempSync, rmSync, statSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CURRENT_MIGRATIONS_DIR, HISTORY_MIGRATIONS_DIR, migrate, openDatabase } from "../storage/db.ts";
import { Worker } from "node:worker_threads";
import { spawnWorker, moduleUrl } from "../storage/workers.ts";
import type { BackupManifest } from "../storage/backup.ts";
import { option } from "./lib/args.ts";

const bets = Number(option("bets", "1000000"));
const periodMs = Number(option("period-ms", "10"));
const beforeS = Number(option("before", "5"));
const afterS = Number(option("after", "5"));
/** The backup thread's nice value (the job's default is 10). */
const nice = Number(option("nice", "10"));

function seed(dir: string): void {
  const db = openDatabase(join(dir, "current.db"), { busyTimeoutMs: 5000, synchronous: "NORMAL" });
  migrate(db, CURRENT_MIGRATIONS_DIR);
  db.exec("BEGIN");
  db.prepare("INSERT INTO accounts (id, kind, address, balance_micro_usd, created_at) VALUES (3, 'player', '0xbench', 0, 0)").run();
  const chunk = 100_000;
  for (let from = 0; from < bets; from += chunk) {
    const n = Math.min(chunk, bets - from);
    db.prepare(
      `WITH RECURSIVE s(i) AS (SELECT ? UNION ALL SELECT i + 1 FROM s WHERE i < ?)
       INSERT INTO bets (account_id, address, col, row, window_start, window_end, band_low_cents, band_high_cents, stake_micro_usd,
         multiplier_hundredths, payout_micro_usd, status, placed_at, resolved_at, idempotency_key, request_hash)
       SELECT 3, '0xbench', i / 50, 9500 + i % 21, (i / 50) * 10000, (i / 50) * 10000 + 10000, 9500000, 9501000, 100000 + i % 1000,
         250, 250000, 'lost', i * 10, i * 10 + 20000, 'seed-' || i, 'h' FROM s`,
    ).run(from + 1, from + n);
    db.prepare(
      `WITH RECURSIVE s(i) AS (SELECT ? UNION ALL SELECT i + 1 FROM s WHERE i < ?)
       INSERT INTO ledger_entries (transfer_id, account_id, kind, amount_micro_usd, balance_after_micro_usd, bet_id, at)
       SELECT 2 * i - 1, 3 - (i % 2), 'stake', CASE i % 2 WHEN 0 THEN 100000 ELSE -100000 END, 0, (i + 1) / 2, i * 5 FROM s`,
    ).run(2 * from + 1, 2 * (from + n));
    db.prepare(
      `WITH RECURSIVE s(i) AS (SELECT ? UNION ALL SELECT i + 1 FROM s WHERE i < ?)
       INSERT INTO price_ticks (t, price_cents) SELECT i * 100, 9500000 + (i % 997) FROM s`,
    ).run(from + 1, from + n);
  }
  db.exec("COMMIT");
  db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
  db.close();
  const history = openDatabase(join(dir, "history.db"), { busyTimeoutMs: 5000, synchronous: "NORMAL" });
  migrate(history, HISTORY_MIGRATIONS_DIR);
  history.close();
}

/** The control: the file read and written in 1 MiB pieces and fsynced, in a thread, without SQLite. */
function plainCopy(from: string, to: string): Promise<void> {
  const code = `
    const { openSync, readSync, writeSync, fsyncSync, closeSync } = require("node:fs");
    const { workerData } = require("node:worker_threads");
    const src = openSync(workerData.from, "r"), dst = openSync(workerData.to, "w");
    const buf = Buffer.alloc(1 << 20);
    for (let n; (n = readSync(src, buf, 0, buf.length, null)) > 0; ) writeSync(dst, buf, 0, n);
    fsyncSync(dst); closeSync(src); closeSync(dst);`;
  const worker = new Worker(code, { eval: true, workerData: { from, to } });
  return new Promise((resolve, reject) => {
    worker.once("error", reject);
    worker.once("exit", () => resolve());
  });
}

function figures(latencies: number[]): string {
  if (latencies.length === 0) return "no commits";
  const sorted = [...latencies].sort((a, b) => a - b);
  const q = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!.toFixed(1);
  return `${sorted.length} commits, p50 ${q(0.5)} ms, p99 ${q(0.99)} ms, max ${sorted[sorted.length - 1]!.toFixed(1)} ms`;
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), "tap-bench-backup-"));
  try {
    let t = performance.now();
    seed(dir);
    const mb = (p: string) => (existsSync(p) ? statSync(p).size / 1e6 : 0);
    console.log(`seeded ${bets} bets, ${2 * bets} ledger entries, ${bets} ticks: current.db ${mb(join(dir, "current.db")).toFixed(0)} MB in ${((performance.now() - t) / 1000).toFixed(1)} s`);

    const writer = await spawnWorker(moduleUrl("./lib/backup-bench-writer.ts", import.meta.url), { path: join(dir, "current.db"), periodMs });
    const done = new Promise<{ startedAt: number; samples: [number, number][] }>((resolve) => writer.on("message", (m) => m.t === "done" && resolve(m)));
    let walPeakMb = 0;
    const walWatch = setInterval(() => (walPeakMb = Math.max(walPeakMb, mb(join(dir, "current.db-wal")))), 50);
    await new Promise((r) => setTimeout(r, beforeS * 1000));
    const walBefore = walPeakMb;
    const backupStart = performance.now() + performance.timeOrigin;
    const backup = await spawnWorker(moduleUrl("../storage/backup-thread.ts", import.meta.url), { dataDir: dir, root: join(dir, "backups"), busyTimeoutMs: 5000, now: Date.now(), nice });
    t = performance.now();
    const manifest = await new Promise<BackupManifest>((resolve, reject) => {
      backup.once("message", (m) => (m.t === "done" ? resolve(m.manifest) : reject(new Error(m.message))));
      backup.postMessage({ t: "run" });
    });
    const backupMs = performance.now() - t;
    const backupEnd = performance.now() + performance.timeOrigin;
    await backup.terminate();
    const walDuring = walPeakMb;
    await new Promise((r) => setTimeout(r, afterS * 1000));
    const controlStart = performance.now() + performance.timeOrigin;
    t = performance.now();
    await plainCopy(join(dir, "current.db"), join(dir, "control-copy.db"));
    const controlMs = performance.now() - t;
    const controlEnd = performance.now() + performance.timeOrigin;
    await new Promise((r) => setTimeout(r, 1000));
    writer.postMessage({ t: "stop" });
    const { startedAt, samples } = await done;
    clearInterval(walWatch);
    await writer.terminate();

    const at = (due: number) => startedAt + (due - samples[0]![0]);
    const phase = (from: number, to: number) => samples.filter(([due]) => at(due) >= from && at(due) < to).map(([, ms]) => ms);
    const current = manifest.files["current.db"]!;
    console.log(`backup (thread at nice ${nice}): ${backupMs.toFixed(0)} ms in all; current.db snapshot held ${current.snapshotMs} ms (VACUUM INTO, ${(current.bytes / 1e6).toFixed(0)} MB), verified in ${current.verifyMs} ms; history.db ${manifest.files["history.db"]?.snapshotMs} ms`);
    console.log(`writer (one bet-shaped transaction every ${periodMs} ms, FULL):`);
    console.log(`  before the backup: ${figures(phase(0, backupStart))}`);
    console.log(`  during the backup: ${figures(phase(backupStart, backupEnd))}`);
    console.log(`  after the backup:  ${figures(phase(backupEnd, controlStart))}`);
    console.log(`  during a plain copy of the file (control, ${controlMs.toFixed(0)} ms): ${figures(phase(controlStart, controlEnd))}`);
    console.log(`WAL: peak ${walBefore.toFixed(1)} MB before, ${walDuring.toFixed(1)} MB by the end of the backup (a checkpoint cannot restart it past an open snapshot)`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
