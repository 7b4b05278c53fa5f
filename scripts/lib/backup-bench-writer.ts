import { parentPort, workerData } from "node:worker_threads";
import { openDatabase } from "../../storage/db.ts";

/**
 * The writer of scripts/bench-backup.ts, in a thread as the server's is: one bet-shaped transaction
 * (bet row + two ledger entries, synchronous=FULL) every `periodMs`, a PASSIVE checkpoint every 50 ms
 * as the server's checkpointer does; records when each commit was due and how long it took from then.
 */
const { path, periodMs } = (workerData as { data: { path: string; periodMs: number } }).data;
const db = openDatabase(path, { busyTimeoutMs: 5000, synchronous: "FULL" });
db.exec("PRAGMA wal_autocheckpoint = 4000");
const bet = db.prepare(
  `INSERT INTO bets (account_id, address, col, row, window_start, window_end, band_low_cents, band_high_cents, stake_micro_usd,
     multiplier_hundredths, payout_micro_usd, status, placed_at, idempotency_key, request_hash)
   VALUES (3, 'bench', 1, 1, 10000, 20000, 1000, 2000, 100000, 200, 200000, 'open', ?, ?, 'h') RETURNING id`,
);
const entry = db.prepare("INSERT INTO ledger_entries (transfer_id, account_id, kind, amount_micro_usd, balance_after_micro_usd, bet_id, at) VALUES (?, ?, 'stake', ?, 0, ?, ?)");
const checkpoint = db.prepare("PRAGMA wal_checkpoint(PASSIVE)");
const sleeper = new Int32Array(new SharedArrayBuffer(4));
let stop = false;
parentPort!.on("message", (m: { t: string }) => {
  if (m.t === "stop") stop = true;
});
parentPort!.postMessage({ t: "ready" });

const samples: [dueAt: number, ms: number][] = [];
const started = performance.now();
let lastCheckpoint = started;
let seq = 0;
const run = () => {
  for (let burst = 0; burst < 50 && !stop; burst++) {
    const dueAt = started + seq * periodMs;
    const wait = dueAt - performance.now();
    if (wait > 0) Atomics.wait(sleeper, 0, 0, wait);
    db.exec("BEGIN IMMEDIATE");
    const { id } = bet.get(Date.now(), `b${seq}`) as { id: number };
    entry.run(id, 3, -100000, id, Date.now());
    entry.run(id, 2, 100000, id, Date.now());
    db.exec("COMMIT");
    samples.push([dueAt, performance.now() - dueAt]);
    seq++;
    if (performance.now() - lastCheckpoint >= 50) {
      checkpoint.get();
      lastCheckpoint = performance.now();
    }
  }
  if (stop) {
    db.close();
    parentPort!.postMessage({ t: "done", startedAt: started + performance.timeOrigin, samples });
    return;
  }
  setImmediate(run); // lets the "stop" message in
};
setImmediate(run);
