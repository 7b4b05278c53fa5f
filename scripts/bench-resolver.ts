/**
 * Resolver benchmark (SPEC §10: a tick with 100 000 open bets costs ≤ 1 ms of matching).
 *
 *   npx tsx scripts/bench-resolver.ts [openBets=100000] [ticks=600]
 *
 * Builds a current database with N open bets spread over 60 columns × 41 rows around the price,
 * starts the service (the resolver rebuilds its index from the database), then feeds index ticks
 * (a random walk, 10 per second) straight into the resolver and times each one: matching only for
 * ticks that settle nothing, matching + handing the winners to the queue for ticks that win a band.
 * Finally every remaining window ends at once and the sweep settles the rest (lost where stored ticks
 * cover the window, void where they do not): settlements per second through the shared batch queue,
 * ledger entries and player events included.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { testConfig } from "../runtime/config.ts";
import { createContext } from "../runtime/context.ts";
import { CURRENT_MIGRATIONS_DIR, databasePaths, migrate, openDatabase } from "../storage/db.ts";

const OPEN_BETS = Number(process.argv[2] ?? 100_000);
const TICKS = Number(process.argv[3] ?? 600);
const COLUMN_MS = 10_000;
const ROW_CENTS = 1000;
const COLUMNS = 60;
const ROWS = 41;
const PLAYERS = 2000;
const START_CENTS = 9_500_000;

let seed = 12345;
const random = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648) / 2_147_483_648);

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
}
const fmt = (ms: number) => `${(ms * 1000).toFixed(1)} µs`;

async function main() {
  const dataDir = mkdtempSync(join(tmpdir(), "tap-bench-resolver-"));
  let clock = 1_700_000_000_000;
  const config = testConfig({ LOG_LEVEL: process.env.LOG_LEVEL ?? "silent", DB_SYNCHRONOUS: process.env.DB_SYNCHRONOUS ?? "FULL", DATA_DIR: dataDir, PRICE_SOURCES: "manual", COLUMN_MS, ROW_CENTS });
  const firstCol = Math.floor(clock / COLUMN_MS) + 1;
  // Seeded on a connection of its own before the service opens the file: the service's own
  // connection is query-only (the writer thread is the only one that writes).
  const seeding = openDatabase(databasePaths(config).current, { busyTimeoutMs: 5000, synchronous: "NORMAL" });
  migrate(seeding, CURRENT_MIGRATIONS_DIR);
  seedBets(seeding, firstCol);
  seeding.close();
  const booted = await createContext(config, { now: () => clock });
  const { ctx } = booted;
  try {
    const rebuildStarted = performance.now();
    await booted.start();
    const rebuildMs = performance.now() - rebuildStarted;
    const resolver = ctx.services.resolver;
    console.log(`open bets indexed: ${resolver.openCount()} (rebuilt from the database in ${rebuildMs.toFixed(0)} ms, service start included)`);

    const quiet: number[] = [];
    const winning: number[] = [];
    let price = START_CENTS + 500;
    let before = resolver.openCount();
    const tickStart = firstCol * COLUMN_MS;
    for (let i = 0; i < TICKS; i++) {
      clock = tickStart + i * 100;
      price += Math.round((random() - 0.5) * 600);
      const tick = { t: clock, priceCents: price };
      const started = performance.now();
      resolver.onTick(tick);
      const ms = performance.now() - started;
      // Persisted after the listeners ran, as the price module does (the expiry sweep reads stored ticks).
      void ctx.queue.run("price.insertTick", tick.t, tick.priceCents);
      const after = resolver.openCount();
      (after < before ? winning : quiet).push(ms);
      before = after;
      if (i % 50 === 49) await new Promise((r) => setImmediate(r)); // let the queue commit now and then
    }
    await resolver.idle();
    const won = (ctx.db.prepare("SELECT count(*) AS n FROM bets WHERE status = 'won'").get() as { n: number }).n;
    quiet.sort((a, b) => a - b);
    winning.sort((a, b) => a - b);
    console.log(`ticks: ${TICKS} over ${Math.ceil((TICKS * 100) / COLUMN_MS)} columns; bets won live: ${won}; windows ended meanwhile were settled by the background sweep`);
    console.log(`  matching, ticks settling nothing (${quiet.length}): p50 ${fmt(quantile(quiet, 0.5))}  p99 ${fmt(quantile(quiet, 0.99))}  max ${fmt(quiet.at(-1) ?? 0)}`);
    console.log(`  matching + enqueue, ticks winning a band (${winning.length}): p50 ${fmt(quantile(winning, 0.5))}  p99 ${fmt(quantile(winning, 0.99))}  max ${fmt(winning.at(-1) ?? 0)}`);

    // Every remaining window ends: the sweep settles them all through the queue.
    clock = (firstCol + COLUMNS) * COLUMN_MS + 60_000;
    const remaining = resolver.openCount();
    const settledBefore = (ctx.db.prepare("SELECT count(*) AS n FROM bets WHERE status <> 'open'").get() as { n: number }).n;
    const sweepStarted = performance.now();
    await resolver.sweep();
    const sweepMs = performance.now() - sweepStarted;
    const byStatus = ctx.db.prepare("SELECT status, count(*) AS n FROM bets GROUP BY status").all() as { status: string; n: number }[];
    console.log(`sweep: ${remaining} bets settled in ${sweepMs.toFixed(0)} ms → ${Math.round(remaining / (sweepMs / 1000))} settlements/s`);
    const settledAfter = (ctx.db.prepare("SELECT count(*) AS n FROM bets WHERE status <> 'open'").get() as { n: number }).n;
    if (settledAfter - settledBefore !== remaining) throw new Error(`expected ${remaining} settlements, got ${settledAfter - settledBefore}`);
    const commits = await ctx.metrics.registry.getSingleMetricAsString("batch_queue_commit_seconds");
    const buckets = [...commits.matchAll(/le="([\d.]+)"\} (\d+)/g)].map((m) => [Number(m[1]) * 1000, Number(m[2])] as const);
    const total = Number(/_count (\d+)/.exec(commits)?.[1] ?? 0);
    const share = (ms: number) => ((100 * (buckets.find(([le]) => le >= ms)?.[1] ?? total)) / Math.max(1, total)).toFixed(1);
    console.log(`  batch transactions: ${total}; ≤ 10 ms: ${share(10)}%, ≤ 25 ms: ${share(25)}%, ≤ 50 ms: ${share(50)}%, ≤ 100 ms: ${share(100)}% (commit incl. fsync)`);
    console.log(`  outcomes: ${byStatus.map((s) => `${s.status} ${s.n}`).join(", ")} (synchronous=${config.DB_SYNCHRONOUS})`);
  } finally {
    await booted.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** N open bets (with their stake entries) on 60 columns × 41 rows, written directly before start. */
function seedBets(db: import("../storage/db.ts").Db, firstCol: number) {
  db.exec("BEGIN");
  const account = db.prepare("INSERT INTO accounts (kind, address, balance_micro_usd, created_at) VALUES ('player', ?, ?, 0) RETURNING id");
  const ids: number[] = [];
  for (let p = 0; p < PLAYERS; p++) ids.push((account.get(`0x${p.toString(16).padStart(40, "0")}`, 1_000_000_000) as { id: number }).id);
  db.prepare("UPDATE accounts SET balance_micro_usd = ? WHERE id = 1").run(-PLAYERS * 1_000_000_000);
  const bet = db.prepare(
    `INSERT INTO bets (account_id, address, col, row, window_start, window_end, band_low_cents, band_high_cents, stake_micro_usd,
       multiplier_hundredths, payout_micro_usd, status, placed_at, idempotency_key, request_hash)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1000000, 300, 3000000, 'open', 0, ?, 'bench') RETURNING id`,
  );
  const entry = db.prepare(
    "INSERT INTO ledger_entries (transfer_id, account_id, kind, amount_micro_usd, balance_after_micro_usd, bet_id, at) VALUES (?, ?, 'stake', ?, 0, ?, 0)",
  );
  const centerRow = Math.floor(START_CENTS / ROW_CENTS);
  for (let i = 0; i < OPEN_BETS; i++) {
    const accountId = ids[i % PLAYERS]!;
    const col = firstCol + Math.floor(random() * COLUMNS);
    const row = centerRow - (ROWS >> 1) + Math.floor(random() * ROWS);
    const { id } = bet.get(accountId, `0x${(accountId - 3).toString(16).padStart(40, "0")}`, col, row, col * COLUMN_MS, (col + 1) * COLUMN_MS, row * ROW_CENTS, (row + 1) * ROW_CENTS, `k${i}`) as { id: number };
    entry.run(id, accountId, -1_000_000, id);
    entry.run(id, 2, 1_000_000, id);
  }
  // Balances consistent with the entries are not needed for timing; the bench database is thrown away.
  db.exec("COMMIT");
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
