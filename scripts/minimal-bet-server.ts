/**
 * The reference of `npm run bench` (issue 23): the least a bet server must do for the same durable
 * work per bet, and nothing else. Run in its own process by scripts/bench.ts.
 *
 *   node --import tsx scripts/minimal-bet-server.ts <dataDir> <players> <tokensFile>
 *
 * - `POST /api/bets`: reads the body, parses the JSON, finds the player by bearer token (a Map),
 *   queues the bet; 401 for an unknown token, 400 for a body it cannot read.
 * - One SQLite transaction per turn of the event loop (libsql, WAL, `synchronous=FULL`, the
 *   project's own `openDatabase`): per bet the bet row (UNIQUE per player and idempotency key), the
 *   conditional debit `UPDATE … WHERE balance >= stake` (ADR-009) and two ledger entries (ADR-010);
 *   a debit that changes no row deletes the bet again and answers 402. 201 only after COMMIT.
 * - No limits, no pricing, no savepoints, no idempotent replay, no metrics, no logs.
 *
 * Its tables have the product's columns and the indexes a ledger is read by (entries by account and
 * by bet); ids are plain rowids. On start it creates `players` accounts with $1000 each and writes
 * their tokens to `tokensFile`, one per line; then it prints `listening <port>`.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { openDatabase } from "../storage/db.ts";

const [dataDir, playersArg, tokensFile] = process.argv.slice(2);
if (!dataDir || !playersArg || !tokensFile) throw new Error("usage: minimal-bet-server.ts <dataDir> <players> <tokensFile>");
const BALANCE_MICRO_USD = 1_000_000_000;
const HOUSE_ACCOUNT_ID = 0;

const db = openDatabase(join(dataDir, "minimal.db"), { busyTimeoutMs: 5000, synchronous: "FULL" });
db.exec(`
CREATE TABLE IF NOT EXISTS accounts (id INTEGER PRIMARY KEY, balance_micro_usd INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS bets (
  id INTEGER PRIMARY KEY, account_id INTEGER NOT NULL, address TEXT NOT NULL, col INTEGER NOT NULL, row INTEGER NOT NULL,
  window_start INTEGER NOT NULL, window_end INTEGER NOT NULL, band_low_cents INTEGER NOT NULL, band_high_cents INTEGER NOT NULL,
  stake_micro_usd INTEGER NOT NULL, multiplier_hundredths INTEGER NOT NULL, payout_micro_usd INTEGER NOT NULL,
  status TEXT NOT NULL, placed_at INTEGER NOT NULL, idempotency_key TEXT NOT NULL, request_hash TEXT NOT NULL,
  UNIQUE (account_id, idempotency_key));
CREATE TABLE IF NOT EXISTS ledger_entries (
  id INTEGER PRIMARY KEY, transfer_id INTEGER NOT NULL, account_id INTEGER NOT NULL, kind TEXT NOT NULL,
  amount_micro_usd INTEGER NOT NULL, balance_after_micro_usd INTEGER NOT NULL, bet_id INTEGER, at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS ledger_by_account ON ledger_entries (account_id, id);
CREATE INDEX IF NOT EXISTS ledger_by_bet ON ledger_entries (bet_id);
`);

const players = Number(playersArg);
const playerByToken = new Map<string, { id: number; address: string }>();
db.exec("BEGIN");
db.prepare("INSERT OR IGNORE INTO accounts (id, balance_micro_usd) VALUES (?, 0)").run(HOUSE_ACCOUNT_ID);
const addAccount = db.prepare("INSERT INTO accounts (id, balance_micro_usd) VALUES (?, ?)");
const tokens: string[] = [];
for (let id = 1; id <= players; id++) {
  addAccount.run(id, BALANCE_MICRO_USD);
  const token = randomBytes(24).toString("base64url");
  tokens.push(token);
  playerByToken.set(token, { id, address: `0x${id.toString(16).padStart(40, "0")}` });
}
db.exec("COMMIT");
writeFileSync(tokensFile, `${tokens.join("\n")}\n`);

const s = {
  begin: db.prepare("BEGIN IMMEDIATE"),
  commit: db.prepare("COMMIT"),
  rollback: db.prepare("ROLLBACK"),
  insertBet: db.prepare(
    `INSERT INTO bets (account_id, address, col, row, window_start, window_end, band_low_cents, band_high_cents, stake_micro_usd,
       multiplier_hundredths, payout_micro_usd, status, placed_at, idempotency_key, request_hash)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'open', ?, ?, ?) ON CONFLICT (account_id, idempotency_key) DO NOTHING`,
  ),
  deleteBet: db.prepare("DELETE FROM bets WHERE id = ?"),
  debit: db.prepare("UPDATE accounts SET balance_micro_usd = balance_micro_usd - ?1 WHERE id = ?2 AND balance_micro_usd >= ?1 RETURNING balance_micro_usd"),
  entry: db.prepare(
    "INSERT INTO ledger_entries (transfer_id, account_id, kind, amount_micro_usd, balance_after_micro_usd, bet_id, at) VALUES (?, ?, 'stake', ?, ?, ?, ?)",
  ),
};
s.debit.raw(true);

interface Bet {
  res: ServerResponse;
  player: { id: number; address: string };
  col: number;
  row: number;
  stake: number;
  key: string;
}
let pending: Bet[] = [];
let flushScheduled = false;
let houseBalance = 0;
let transferId = 0;

function flush(): void {
  flushScheduled = false;
  const batch = pending;
  pending = [];
  const answers: [ServerResponse, number, string][] = [];
  s.begin.run();
  try {
    const now = Date.now();
    for (const b of batch) answers.push([b.res, ...place(b, now)]);
    s.commit.run();
  } catch (error) {
    s.rollback.run();
    for (const b of batch) answer(b.res, 503, JSON.stringify({ error: { code: "unavailable", message: String(error) } }));
    return;
  }
  for (const [res, status, body] of answers) answer(res, status, body);
}

function place(b: Bet, now: number): [number, string] {
  const windowStart = b.col * 10_000;
  const multiplier = 200;
  const payout = Math.floor((b.stake * multiplier) / 100);
  const inserted = s.insertBet.run(
    b.player.id, b.player.address, b.col, b.row, windowStart, windowStart + 10_000, b.row * 1000, b.row * 1000 + 1000,
    b.stake, multiplier, payout, now, b.key, `v1|${b.col}|${b.row}|${b.stake}|`,
  );
  if (inserted.changes === 0) return [409, '{"error":{"code":"idempotency_key_used"}}'];
  const betId = Number(inserted.lastInsertRowid);
  const debited = s.debit.get(b.stake, b.player.id) as [number] | undefined;
  if (!debited) {
    s.deleteBet.run(betId);
    return [402, '{"error":{"code":"insufficient_balance"}}'];
  }
  transferId++;
  houseBalance += b.stake;
  s.entry.run(transferId, b.player.id, -b.stake, debited[0], betId, now);
  s.entry.run(transferId, HOUSE_ACCOUNT_ID, b.stake, houseBalance, betId, now);
  const bet = {
    id: String(betId), address: b.player.address, col: b.col, row: b.row, windowStart, windowEnd: windowStart + 10_000,
    bandLowCents: b.row * 1000, bandHighCents: b.row * 1000 + 1000, stakeMicroUsd: b.stake, multiplier: multiplier / 100,
    payoutMicroUsd: payout, status: "open", placedAt: now,
  };
  return [201, JSON.stringify({ bet, balanceMicroUsd: debited[0] })];
}

function answer(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
  res.end(body);
}

function onRequest(req: IncomingMessage, res: ServerResponse): void {
  if (req.method !== "POST" || req.url !== "/api/bets") return answer(res, 404, '{"error":{"code":"not_found"}}');
  const chunks: Buffer[] = [];
  req.on("data", (c: Buffer) => chunks.push(c));
  req.on("end", () => {
    const player = playerByToken.get(/^Bearer (.+)$/.exec(req.headers.authorization ?? "")?.[1] ?? "");
    if (!player) return answer(res, 401, '{"error":{"code":"unauthorized"}}');
    let body: { col?: unknown; row?: unknown; stakeMicroUsd?: unknown; idempotencyKey?: unknown };
    try {
      body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
    } catch {
      return answer(res, 400, '{"error":{"code":"invalid_request"}}');
    }
    const { col, row, stakeMicroUsd, idempotencyKey } = body;
    if (!Number.isSafeInteger(col) || !Number.isSafeInteger(row) || !Number.isSafeInteger(stakeMicroUsd) || typeof idempotencyKey !== "string") {
      return answer(res, 400, '{"error":{"code":"invalid_request"}}');
    }
    pending.push({ res, player, col: col as number, row: row as number, stake: stakeMicroUsd as number, key: idempotencyKey });
    if (!flushScheduled) {
      flushScheduled = true;
      setImmediate(flush);
    }
  });
}

const server = createServer({ keepAliveTimeout: 60_000 }, onRequest);
server.listen(0, "127.0.0.1", () => {
  const address = server.address();
  console.log(`listening ${typeof address === "object" && address ? address.port : 0}`);
});
process.on("SIGTERM", () => {
  server.close();
  server.closeAllConnections();
  if (pending.length > 0) flush();
  db.close();
  process.exit(0);
});
