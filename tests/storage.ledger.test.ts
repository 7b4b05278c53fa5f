import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { CURRENT_MIGRATIONS_DIR, migrate, openDatabase, type Db } from "../storage/db.ts";
import { FUNDING_ACCOUNT_ID, HOUSE_ACCOUNT_ID, InsufficientBalanceError, ensurePlayerAccount, transfer } from "../storage/ledger.ts";

describe("ledger transfers (ADR-009, ADR-010)", () => {
  let dir: string;
  let db: Db;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "tap-ledger-"));
    db = openDatabase(join(dir, "c.db"), { busyTimeoutMs: 1000, synchronous: "NORMAL" });
    migrate(db, CURRENT_MIGRATIONS_DIR);
  });
  afterEach(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const entries = (transferId: number) =>
    (db.prepare("SELECT id, transfer_id, account_id, amount_micro_usd, balance_after_micro_usd FROM ledger_entries WHERE transfer_id = ? ORDER BY id").all(transferId) as Record<string, number>[]).map(
      (r) => [r.id, r.transfer_id, r.account_id, r.amount_micro_usd, r.balance_after_micro_usd],
    );

  it("writes two entries whose transfer id is the debit entry's id, with the balances after", () => {
    const { accountId } = ensurePlayerAccount(db, "0x00000000000000000000000000000000000000aA", 1, 5_000_000);
    const first = transfer(db, { debitAccountId: accountId, creditAccountId: HOUSE_ACCOUNT_ID, amountMicroUsd: 1_000_000, kind: "stake", betId: 7, at: 2 });
    const second = transfer(db, { debitAccountId: HOUSE_ACCOUNT_ID, creditAccountId: accountId, amountMicroUsd: 300_000, kind: "payout", betId: 7, at: 3 });
    expect(entries(first.transferId)).toEqual([
      [first.transferId, first.transferId, accountId, -1_000_000, 4_000_000],
      [first.transferId + 1, first.transferId, HOUSE_ACCOUNT_ID, 1_000_000, 1_000_000],
    ]);
    expect(second.transferId).toBe(first.transferId + 2);
    expect(entries(second.transferId)).toEqual([
      [second.transferId, second.transferId, HOUSE_ACCOUNT_ID, -300_000, 700_000],
      [second.transferId + 1, second.transferId, accountId, 300_000, 4_300_000],
    ]);
    const sum = db.prepare("SELECT SUM(balance_micro_usd) AS s FROM accounts").get() as { s: number };
    expect(sum.s).toBe(0); // double entry: funding went negative by the deposit
    expect((db.prepare("SELECT balance_micro_usd AS b FROM accounts WHERE id = ?").get(FUNDING_ACCOUNT_ID) as { b: number }).b).toBe(-5_000_000);
  });

  it("refuses to take a player below zero and writes nothing", () => {
    const { accountId } = ensurePlayerAccount(db, "0x00000000000000000000000000000000000000bB", 1, 1_000);
    const before = (db.prepare("SELECT count(*) AS n FROM ledger_entries").get() as { n: number }).n;
    expect(() => transfer(db, { debitAccountId: accountId, creditAccountId: HOUSE_ACCOUNT_ID, amountMicroUsd: 1_001, kind: "stake", at: 2 })).toThrow(InsufficientBalanceError);
    expect((db.prepare("SELECT count(*) AS n FROM ledger_entries").get() as { n: number }).n).toBe(before);
  });

  it("rejects non-integer and non-positive amounts", () => {
    for (const amount of [0, -1, 1.5, Number.MAX_SAFE_INTEGER + 2]) {
      expect(() => transfer(db, { debitAccountId: HOUSE_ACCOUNT_ID, creditAccountId: FUNDING_ACCOUNT_ID, amountMicroUsd: amount, kind: "adjustment", at: 1 })).toThrow(/safe integer/);
    }
  });
});
