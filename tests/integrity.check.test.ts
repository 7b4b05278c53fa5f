import Database from "libsql";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPlayer, type TestPlayer } from "./helpers/players.ts";
import { integrity, newKey, pickCell, postBet, startBetServer, type BetServer } from "./helpers/bets-fixture.ts";

const USD = 1_000_000;
const root = join(import.meta.dirname, "..");

/** `npm run job -- integrity` against a DATA_DIR: exit code and the printed report. */
function runCli(dataDir: string): Promise<{ code: number | null; report: any; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", join(root, "runtime", "job-cli.ts"), "integrity"], {
      cwd: root,
      env: { ...process.env, DATA_DIR: dataDir, PRICE_SOURCES: "manual", LOG_LEVEL: "silent", NODE_ENV: "test" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (err += d));
    child.once("error", reject);
    child.once("exit", (code) => {
      try {
        resolve({ code, report: JSON.parse(out), stderr: err });
      } catch {
        reject(new Error(`job printed no JSON (exit ${code}): ${out}\n${err}`));
      }
    });
  });
}

/** A writable side connection: what a bug, a bad migration or a hand edit could do to the file. */
function tamper(dataDir: string, sql: string, ...params: unknown[]) {
  const db = new Database(join(dataDir, "current.db"));
  db.exec("PRAGMA busy_timeout = 5000");
  db.exec("PRAGMA ignore_check_constraints = ON");
  db.exec("PRAGMA foreign_keys = OFF");
  db.prepare(sql).run(...params);
  db.close();
}

const checksOf = (report: { problems: any[] }) => [...new Set(report.problems.map((p) => p.check as string))].sort();

describe("integrity check", () => {
  let server: BetServer;
  let p: TestPlayer;
  const bets: any[] = [];
  beforeAll(async () => {
    server = await startBetServer();
    p = await createPlayer(server.ctx, 50 * USD);
    const cell = await pickCell(server);
    for (let i = 0; i < 3; i++) {
      const res = await postBet(server, p.token, { col: cell.col, row: cell.row, stakeMicroUsd: (i + 1) * USD, idempotencyKey: newKey() });
      bets.push(res.body.bet);
    }
  });
  afterAll(async () => {
    await server.stop();
  });

  it("passes on a consistent ledger, over HTTP and from the CLI (exit 0)", async () => {
    const report = await integrity(server);
    expect(report).toMatchObject({ ok: true, problems: [], checkedAccounts: 3, checkedBets: 3, checkedEntries: 8, sumOfBalancesMicroUsd: 0, openBets: 3 });
    const cli = await runCli(server.dataDir);
    expect(cli.code).toBe(0);
    expect(cli.report).toMatchObject({ ok: true, checkedBets: 3 });
  });

  it("finds a balance that differs from its entries, and balances that no longer sum to zero", async () => {
    tamper(server.dataDir, "UPDATE accounts SET balance_micro_usd = balance_micro_usd + 1 WHERE id = ?", p.accountId);
    const report = await integrity(server);
    expect(report.ok).toBe(false);
    expect(checksOf(report)).toEqual(["account_balance", "balances_sum"]);
    expect(report.problems).toContainEqual(expect.objectContaining({ check: "account_balance", details: { accountId: p.accountId, balanceMicroUsd: 44 * USD + 1, entriesMicroUsd: 44 * USD } }));
    tamper(server.dataDir, "UPDATE accounts SET balance_micro_usd = balance_micro_usd - 1 WHERE id = ?", p.accountId);
    expect((await integrity(server)).ok).toBe(true);
  });

  it("finds an open-bet counter (what the open-bet limit reads) that differs from the open bets", async () => {
    tamper(server.dataDir, "UPDATE accounts SET open_bets = open_bets - 1 WHERE id = ?", p.accountId);
    const report = await integrity(server);
    expect(checksOf(report)).toEqual(["open_bet_count"]);
    expect(report.problems[0]).toMatchObject({ details: { accountId: p.accountId, kept: 2, open: 3 } });
    tamper(server.dataDir, "UPDATE accounts SET open_bets = open_bets + 1 WHERE id = ?", p.accountId);
    expect((await integrity(server)).ok).toBe(true);
  });

  it("finds a payout on a bet that is still open, even when every balance matches its entries", async () => {
    const bet = bets[0];
    const maxId = () => `(SELECT COALESCE(MAX(id), 0) FROM ledger_entries)`;
    tamper(server.dataDir, `INSERT INTO ledger_entries (transfer_id, account_id, kind, amount_micro_usd, balance_after_micro_usd, bet_id, at) VALUES (${maxId()} + 1, 2, 'payout', ?, 0, ?, 0)`, -bet.payoutMicroUsd, Number(bet.id));
    tamper(server.dataDir, `INSERT INTO ledger_entries (transfer_id, account_id, kind, amount_micro_usd, balance_after_micro_usd, bet_id, at) VALUES (${maxId()}, ?, 'payout', ?, 0, ?, 0)`, p.accountId, bet.payoutMicroUsd, Number(bet.id));
    tamper(server.dataDir, "UPDATE accounts SET balance_micro_usd = balance_micro_usd + ? WHERE id = ?", bet.payoutMicroUsd, p.accountId);
    tamper(server.dataDir, "UPDATE accounts SET balance_micro_usd = balance_micro_usd - ? WHERE id = 2", bet.payoutMicroUsd);
    const report = await integrity(server);
    expect(checksOf(report)).toEqual(["bet_entries"]);
    expect(report.problems[0]).toMatchObject({ details: { betId: Number(bet.id), status: "open", stakes: 1, payouts: 1 } });
    const cli = await runCli(server.dataDir);
    expect(cli.code).toBe(2);
    expect(cli.report.ok).toBe(false);
  });

  it("finds a missing stake entry, a negative player balance, an entry without an account, and writer figures that drifted", async () => {
    const bet = bets[1];
    tamper(server.dataDir, "DELETE FROM ledger_entries WHERE bet_id = ? AND kind = 'stake'", Number(bet.id));
    tamper(server.dataDir, "INSERT INTO ledger_entries (transfer_id, account_id, kind, amount_micro_usd, balance_after_micro_usd, at) VALUES (999999, 999999, 'adjustment', 5, 5, 0)");
    tamper(server.dataDir, "UPDATE accounts SET balance_micro_usd = -1 WHERE id = ?", p.accountId);
    // An open bet changed behind the writer's back (without bumping bets_generation): the payout the
    // writer counts for the house's exposure in that cell and column is no longer the database's.
    tamper(server.dataDir, "UPDATE bets SET payout_micro_usd = payout_micro_usd + 1 WHERE id = ?", Number(bets[2].id));
    const report = await integrity(server);
    expect(checksOf(report)).toEqual(["account_balance", "balances_sum", "bet_entries", "entries_sum", "entries_without_account", "negative_balance", "writer_state"]);
    expect((report.problems as { check: string }[]).filter((x) => x.check === "writer_state")).toHaveLength(2); // the cell and the column
    expect(report.problems).toContainEqual(expect.objectContaining({ check: "bet_entries", details: expect.objectContaining({ betId: Number(bet.id), stakes: 0 }) }));
  });
});
