import { statementCache, type Db } from "../../storage/db.ts";
import { FUNDING_ACCOUNT_ID, InsufficientBalanceError, ensurePlayerAccount, transfer } from "../../storage/ledger.ts";

export interface CreditInput {
  /** EIP-55 address. */
  address: string;
  /** Positive: money in from the funding account. Negative (kind `adjustment` only): money out to it. */
  amountMicroUsd: number;
  kind: "deposit" | "adjustment";
  reference: string;
  at: number;
  /** New accounts get the same demo deposit as at sign-in, so crediting first changes nothing else. */
  demoBalanceMicroUsd: number;
  /** BALANCE_MAX_MICRO_USD: a credit may not take the player's balance above this. */
  balanceMaxMicroUsd: number;
}

export type CreditOutcome =
  | { kind: "credited"; accountId: number; balanceMicroUsd: number }
  | { kind: "replayed"; accountId: number; balanceMicroUsd: number }
  | { kind: "conflict"; reference: string }
  | { kind: "insufficient_balance"; balanceMicroUsd: number }
  | { kind: "balance_limit"; balanceMicroUsd: number; balanceMaxMicroUsd: number };


function prepare(db: Db) {
  return {
    // The funding side of every credit carries the reference; (account, reference) is unique.
    byReference: db.prepare(
      `SELECT p.account_id AS accountId, p.kind, p.amount_micro_usd AS amount
         FROM ledger_entries f JOIN ledger_entries p ON p.transfer_id = f.transfer_id AND p.account_id <> f.account_id
        WHERE f.account_id = ? AND f.reference = ?`,
    ),
    balance: db.prepare("SELECT balance_micro_usd AS balance FROM accounts WHERE id = ?"),
  };
}

const stmts = statementCache(prepare);

/**
 * An admin credit as one batch-queue operation, idempotent on `reference` (TigerBeetle's rule: the
 * same request again returns the first result; the same reference for anything else is a conflict).
 */
export function creditOp(db: Db, input: CreditInput): CreditOutcome {
  const s = stmts(db);
  const { accountId } = ensurePlayerAccount(db, input.address, input.at, input.demoBalanceMicroUsd);
  const earlier = s.byReference.get(FUNDING_ACCOUNT_ID, input.reference) as { accountId: number; kind: string; amount: number } | undefined;
  if (earlier) {
    const same = earlier.accountId === accountId && earlier.kind === input.kind && earlier.amount === input.amountMicroUsd;
    if (!same) return { kind: "conflict", reference: input.reference };
    return { kind: "replayed", accountId, balanceMicroUsd: (s.balance.get(accountId) as { balance: number }).balance };
  }
  const amount = Math.abs(input.amountMicroUsd);
  const inbound = input.amountMicroUsd > 0;
  if (!Number.isSafeInteger(amount) || amount === 0) throw new Error(`credit amount must be a non-zero safe integer, got ${input.amountMicroUsd}`);
  if (inbound) {
    // Both sides stay safe integers: the player at most BALANCE_MAX, the funding account (which
    // goes negative by every credit) above -MAX_SAFE_INTEGER.
    const balance = (s.balance.get(accountId) as { balance: number }).balance;
    const funding = (s.balance.get(FUNDING_ACCOUNT_ID) as { balance: number }).balance;
    if (balance + amount > input.balanceMaxMicroUsd || funding - amount < -Number.MAX_SAFE_INTEGER) {
      return { kind: "balance_limit", balanceMicroUsd: balance, balanceMaxMicroUsd: input.balanceMaxMicroUsd };
    }
  }
  try {
    const moved = transfer(db, {
      debitAccountId: inbound ? FUNDING_ACCOUNT_ID : accountId,
      creditAccountId: inbound ? accountId : FUNDING_ACCOUNT_ID,
      amountMicroUsd: amount,
      kind: input.kind,
      reference: input.reference,
      at: input.at,
    });
    return { kind: "credited", accountId, balanceMicroUsd: inbound ? moved.creditBalanceAfterMicroUsd : moved.debitBalanceAfterMicroUsd };
  } catch (error) {
    if (error instanceof InsufficientBalanceError) {
      return { kind: "insufficient_balance", balanceMicroUsd: (s.balance.get(accountId) as { balance: number }).balance };
    }
    throw error;
  }
}
