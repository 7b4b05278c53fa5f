import { statementCache, type Db } from "./db.ts";

/** System accounts of the double-entry ledger (ADR-010); created by migration 001. */
export const FUNDING_ACCOUNT_ID = 1;
export const HOUSE_ACCOUNT_ID = 2;

export type EntryKind = "deposit" | "stake" | "payout" | "refund" | "adjustment";

export class InsufficientBalanceError extends Error {
  readonly code = "insufficient_balance";
  constructor(readonly accountId: number) {
    super("balance is lower than the amount");
  }
}

export interface TransferInput {
  /** The account whose balance goes down. A player account never goes below zero (ADR-009). */
  debitAccountId: number;
  creditAccountId: number;
  amountMicroUsd: number;
  kind: EntryKind;
  betId?: number | null;
  /** Idempotency reference (unique per account); a repeat throws a UNIQUE constraint error. */
  reference?: string | null;
  at: number;
}

export interface TransferResult {
  transferId: number;
  debitBalanceAfterMicroUsd: number;
  creditBalanceAfterMicroUsd: number;
}


function prepare(db: Db) {
  return {
    debit: db
      .prepare(
        `UPDATE accounts SET balance_micro_usd = balance_micro_usd - ?
          WHERE id = ? AND (kind <> 'player' OR balance_micro_usd >= ?)
          RETURNING balance_micro_usd`,
      )
      .raw(true),
    credit: db.prepare("UPDATE accounts SET balance_micro_usd = balance_micro_usd + ? WHERE id = ? RETURNING balance_micro_usd").raw(true),
    undoDebit: db.prepare("UPDATE accounts SET balance_micro_usd = balance_micro_usd + ? WHERE id = ?"),
    // Both entries in one statement (the debit first). transfer_id is the id AUTOINCREMENT gives the
    // debit entry: the sequence + 1 (sqlite_sequence is only written at the end of the statement, so
    // both rows read the same value). ?1 debit account, ?2 credit account, ?3 amount, ?4 kind,
    // ?5 bet id, ?6 reference, ?7 at, ?8 / ?9 the balances after.
    entries: db.prepare(
      `INSERT INTO ledger_entries (transfer_id, account_id, kind, amount_micro_usd, balance_after_micro_usd, bet_id, reference, at)
       SELECT (SELECT COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'ledger_entries'), 0) + 1),
              v.column1, ?4, v.column2, v.column3, ?5, ?6, ?7
         FROM (VALUES (?1, -?3, ?8), (?2, ?3, ?9)) AS v
`,
    ),
    findPlayer: db.prepare("SELECT id FROM accounts WHERE address = ?"),
    insertPlayer: db.prepare("INSERT INTO accounts (kind, address, balance_micro_usd, created_at) VALUES ('player', ?, 0, ?) RETURNING id"),
    balance: db.prepare("SELECT balance_micro_usd AS balance FROM accounts WHERE id = ?"),
  };
}

const stmts = statementCache(prepare);

/**
 * Moves money between two accounts inside the caller's transaction (a batch-queue operation):
 * the conditional deduction of ADR-009, the credit, and two immutable ledger entries of ADR-010.
 * Throws InsufficientBalanceError when the debit would take a player below zero.
 */
export function transfer(db: Db, input: TransferInput): TransferResult {
  const debitBalanceAfterMicroUsd = debit(db, input.debitAccountId, input.amountMicroUsd);
  if (debitBalanceAfterMicroUsd === undefined) throw new InsufficientBalanceError(input.debitAccountId);
  return creditAndRecord(db, input, debitBalanceAfterMicroUsd);
}

/**
 * The first half of a transfer: the conditional deduction (ADR-009). Returns the balance after it,
 * or undefined when it would take a player below zero (then nothing was written). The caller
 * completes it with `creditAndRecord` in the same transaction, or takes it back with `undoDebit`.
 */
export function debit(db: Db, accountId: number, amountMicroUsd: number): number | undefined {
  assertAmount(amountMicroUsd);
  return (stmts(db).debit.get(amountMicroUsd, accountId, amountMicroUsd) as [number] | undefined)?.[0];
}

/** Takes back a `debit` whose transfer cannot go on (the balance is exactly what it was before). */
export function undoDebit(db: Db, accountId: number, amountMicroUsd: number): void {
  if (stmts(db).undoDebit.run(amountMicroUsd, accountId).changes !== 1) throw new Error(`could not undo the debit of account ${accountId}`);
}

/**
 * The second half of a transfer whose debit is done (`debitBalanceAfterMicroUsd`): the credit and
 * the two immutable entries of ADR-010, the debit's first.
 */
export function creditAndRecord(db: Db, input: TransferInput, debitBalanceAfterMicroUsd: number): TransferResult {
  const { amountMicroUsd: amount } = input;
  assertAmount(amount);
  if (input.debitAccountId === input.creditAccountId) throw new Error("transfer needs two different accounts");
  const s = stmts(db);
  const credited = (s.credit.get(amount, input.creditAccountId) as [number] | undefined)?.[0];
  if (credited === undefined) throw new Error(`no account ${input.creditAccountId}`);
  const betId = input.betId ?? null;
  const reference = input.reference ?? null;
  // `.run()`, not a RETURNING read: libsql's all() costs ~30 µs per call on this hot path. The two
  // rows take consecutive AUTOINCREMENT ids (one statement, one writer), so the debit entry's id,
  // which the statement stored as transfer_id, is the last id minus one.
  const written = s.entries.run(
    input.debitAccountId, input.creditAccountId, amount, input.kind, betId, reference, input.at, debitBalanceAfterMicroUsd, credited,
  );
  if (written.changes !== 2) throw new Error(`a transfer writes two ledger entries, wrote ${written.changes}`);
  const transferId = Number(written.lastInsertRowid) - 1;
  assertSafe(debitBalanceAfterMicroUsd, "debit balance");
  assertSafe(credited, "credit balance");
  return { transferId, debitBalanceAfterMicroUsd, creditBalanceAfterMicroUsd: credited };
}

function assertAmount(amount: number): void {
  if (!Number.isSafeInteger(amount) || amount <= 0) throw new Error(`transfer amount must be a positive safe integer, got ${amount}`);
}

/**
 * The account of a player address (EIP-55 form), created on first use with `demoBalanceMicroUsd`
 * as a `deposit` from the funding account. Must run inside a batch-queue operation.
 */
export function ensurePlayerAccount(db: Db, address: string, at: number, demoBalanceMicroUsd: number): { accountId: number; created: boolean } {
  const s = stmts(db);
  const found = s.findPlayer.get(address) as { id: number } | undefined;
  if (found) return { accountId: found.id, created: false };
  const { id } = s.insertPlayer.get(address, at) as { id: number };
  if (demoBalanceMicroUsd > 0) {
    transfer(db, {
      debitAccountId: FUNDING_ACCOUNT_ID,
      creditAccountId: id,
      amountMicroUsd: demoBalanceMicroUsd,
      kind: "deposit",
      // Per address: the funding side carries the reference too, and (account, reference) is unique.
      reference: `signup:${address}`,
      at,
    });
  }
  return { accountId: id, created: true };
}

export function balanceOf(db: Db, accountId: number): number {
  const row = stmts(db).balance.get(accountId) as { balance: number } | undefined;
  if (!row) throw new Error(`no account ${accountId}`);
  return row.balance;
}

function assertSafe(value: number, what: string) {
  if (!Number.isSafeInteger(value)) throw new Error(`${what} left the safe integer range: ${value}`);
}
