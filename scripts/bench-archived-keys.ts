/**
 * What the archive-spanning idempotency check (migration 080) adds to every bet placement: the
 * trigger bets_key_not_archived probes archived_bet_keys inside the bet row's INSERT. Prints µs per
 * bet-row insert (transactions of 1000, like a batch) without the trigger, with it on an empty key
 * table, and with `keys` archived keys, on a real libSQL file with the production migrations.
 *   npx tsx scripts/bench-archived-keys.ts [keys=1000000] [bets=50000]
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CURRENT_MIGRATIONS_DIR, migrate, openDatabase, type Db } from "../storage/db.ts";

const keys = Number(process.argv[2] ?? 1_000_000);
const bets = Number(process.argv[3] ?? 50_000);
const PLAYERS = 5000;
const dir = mkdtempSync(join(tmpdir(), "tap-bench-keys-"));

function insertBets(db: Db, label: string) {
  const insert = db.prepare(
    `INSERT INTO bets (account_id, address, col, row, window_start, window_end, band_low_cents, band_high_cents,
       stake_micro_usd, multiplier_hundredths, payout_micro_usd, status, placed_at, idempotency_key, request_hash)
     VALUES (?, '0x', 1, 1, 0, 1, 0, 1, 1000000, 200, 2000000, 'open', 0, ?, 'v1') ON CONFLICT (account_id, idempotency_key) DO NOTHING`,
  );
  const newKeys = Array.from({ length: bets }, () => `k-${randomBytes(9).toString("base64url")}`);
  const started = performance.now();
  for (let i = 0; i < bets; i += 1000) {
    db.exec("BEGIN");
    for (let j = i; j < Math.min(bets, i + 1000); j++) insert.run(3 + (j % PLAYERS), newKeys[j]);
    db.exec("COMMIT");
  }
  const us = ((performance.now() - started) * 1000) / bets;
  console.log(`${label}: ${us.toFixed(2)} µs per bet row`);
}

try {
  const db = openDatabase(join(dir, "current.db"), { busyTimeoutMs: 5000, synchronous: "NORMAL" });
  migrate(db, CURRENT_MIGRATIONS_DIR);
  db.exec("PRAGMA foreign_keys = OFF");
  const seed = db.prepare("INSERT INTO accounts (id, kind, address, created_at) VALUES (?, 'player', ?, 0)");
  db.exec("BEGIN");
  for (let i = 0; i < PLAYERS; i++) seed.run(3 + i, `0x${i}`);
  db.exec("COMMIT");
  const trigger = (db.prepare("SELECT sql FROM sqlite_master WHERE name = 'bets_key_not_archived'").get() as { sql: string }).sql;
  // Alternating, so the growth of `bets` between rounds does not favour either variant.
  const both = (what: string) => {
    for (let round = 0; round < 2; round++) {
      db.exec("DROP TRIGGER bets_key_not_archived");
      insertBets(db, `without the trigger (before migration 080), ${what}`);
      db.exec(trigger);
      insertBets(db, `with the trigger, ${what}`);
    }
  };
  both("no archived keys");
  const archive = db.prepare("INSERT INTO archived_bet_keys (account_id, idempotency_key, bet_id, request_hash, placed_at) VALUES (?, ?, ?, 'v1', ?)");
  db.exec("BEGIN");
  for (let i = 0; i < keys; i++) archive.run(3 + (i % PLAYERS), `k-${randomBytes(9).toString("base64url")}`, 10_000_000 + i, i);
  db.exec("COMMIT");
  both(`${keys} archived keys`);
  db.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
