/**
 * The writer's side of a bet alone (issue 23): `placeBetOp` in transactions of `--batch` bets on a
 * migrated database of its own, with the production pragmas but synchronous=NORMAL, no sync at COMMIT (in production the
 * WAL sync runs in the thread pool, off the writer), so the figure is the statements' CPU per bet.
 * Prints µs of CPU per bet, best of `--rounds`; `--frames` also the WAL pages each commit writes
 * (checkpoints off, so the WAL holds them all); `--sql "…"` runs SQL on the migrated database first,
 * to measure what a piece costs (e.g. `--sql "DROP TRIGGER bets_open_count_insert"`). Each bet is a
 * player and a cell drawn at random (a fixed seed, so every run draws the same), as under real load:
 * in order, neighbouring bets would share pages of the account table and the indexes that they do not.
 *   npx tsx scripts/bench-writer-ops.ts [--bets 40000] [--batch 64] [--players 1000] [--rounds 3] [--frames] [--sql "…"]
 */
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CURRENT_MIGRATIONS_DIR, migrate, openDatabase } from "../storage/db.ts";
import { ensurePlayerAccount, FUNDING_ACCOUNT_ID, transfer } from "../storage/ledger.ts";
import { placeArgs, placeBetOp } from "../services/bets/place-op.ts";
import { WRITER_HOOKS } from "../services/commands.ts";
import { guardOf } from "../storage/writer.ts";
import { flag, option } from "./lib/args.ts";
import { seededRandom } from "../domain/price/gbm.ts";

const bets = Number(option("bets", "40000"));
const batch = Number(option("batch", "64"));
const players = Number(option("players", "1000"));
const rounds = Number(option("rounds", "3"));
const sql = option("sql", "");
const frames = flag("frames");
const CELLS = 160;
const STAKE_MICRO_USD = 100_000;
const PAGE_BYTES = 4096;
const WAL_HEADER_BYTES = 32;
const WAL_FRAME_HEADER_BYTES = 24;

const limits = { openBetsMax: 1_000_000, cellStakeMaxMicroUsd: 1e15, cellExposureMaxMicroUsd: 1e15, columnExposureMaxMicroUsd: 1e15 };

async function round(n: number): Promise<{ perBetUs: number }> {
  const dir = mkdtempSync(join(tmpdir(), "tap-writer-ops-"));
  try {
    const db = openDatabase(join(dir, "current.db"), { busyTimeoutMs: 5000, synchronous: "NORMAL" });
    migrate(db, CURRENT_MIGRATIONS_DIR);
    if (sql) db.exec(sql);
    const accounts: { id: number; address: string }[] = [];
    db.exec("BEGIN IMMEDIATE");
    for (let i = 0; i < players; i++) {
      const address = `0x${(i + 1).toString(16).padStart(40, "0")}`;
      const { accountId } = ensurePlayerAccount(db, address, 0, 0);
      transfer(db, { debitAccountId: FUNDING_ACCOUNT_ID, creditAccountId: accountId, amountMicroUsd: 1_000_000_000_000, kind: "deposit", at: 0 });
      accounts.push({ id: accountId, address });
    }
    db.exec("COMMIT");
    if (frames) db.exec("PRAGMA wal_checkpoint(TRUNCATE); PRAGMA wal_autocheckpoint = 0");
    const begin = db.prepare("BEGIN IMMEDIATE");
    const commit = db.prepare("COMMIT");
    const now = Date.UTC(2030, 0, 7, 12);
    const random = seededRandom(7);
    const cpu0 = process.cpuUsage();
    for (let done = 0; done < bets; ) {
      begin.run();
      for (const hook of WRITER_HOOKS) hook.afterBegin?.(db);
      for (let k = 0; k < batch && done < bets; k++, done++) {
        const player = accounts[Math.floor(random() * players)]!;
        const cell = Math.floor(random() * CELLS);
        const col = 1000 + (cell % 8);
        const row = 9500 + Math.floor(cell / 8);
        const multiplier = 250;
        for (const hook of WRITER_HOOKS) hook.beforeOperation?.(db, guardOf(placeBetOp));
        placeBetOp(
          db,
          placeArgs(
            {
              accountId: player.id, address: player.address, col, row, windowStart: col * 10_000, windowEnd: col * 10_000 + 10_000,
              bandLowCents: row * 1000, bandHighCents: row * 1000 + 1000, stakeMicroUsd: STAKE_MICRO_USD, multiplierHundredths: multiplier,
              payoutMicroUsd: Math.floor((STAKE_MICRO_USD * multiplier) / 100), placedAt: now, idempotencyKey: `k-${n}-${done}-abcdefgh`,
              requestHash: "f".repeat(64),
            },
            limits,
          ),
        );
      }
      for (const hook of WRITER_HOOKS) hook.beforeCommit?.(db);
      commit.run();
    }
    const cpu = process.cpuUsage(cpu0);
    if (frames) {
      const pages = (statSync(join(dir, "current.db-wal")).size - WAL_HEADER_BYTES) / (PAGE_BYTES + WAL_FRAME_HEADER_BYTES);
      const commits = Math.ceil(bets / batch);
      console.log(`WAL: ${pages} pages for ${commits} commits → ${(pages / commits).toFixed(1)} per commit, ${(pages / bets).toFixed(2)} per bet`);
    }
    db.close();
    return { perBetUs: (cpu.user + cpu.system) / bets };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const results: number[] = [];
for (let n = 0; n < rounds; n++) results.push((await round(n)).perBetUs);
console.log(`writer ops: ${bets} bets in transactions of ${batch}, ${players} players, ${CELLS} cells`);
console.log(`CPU per bet: best ${Math.min(...results).toFixed(1)} µs (rounds: ${results.map((r) => r.toFixed(1)).join(", ")})`);
