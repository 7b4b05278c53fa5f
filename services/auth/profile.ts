import { statementCache, type Db } from "../../storage/db.ts";

// One read for both figures; the count walks only this account's rows (bets_by_account).
const profileStatement = statementCache((db: Db) =>
  db.prepare(
    `SELECT a.balance_micro_usd AS balance,
            (SELECT COUNT(*) FROM bets b WHERE b.account_id = a.id AND b.status = 'open') AS openBets
       FROM accounts a WHERE a.id = ?`,
  ),
);

export interface Profile {
  address: string;
  balanceMicroUsd: number;
  openBets: number;
}

/** GET /api/me: balance and number of open bets from the current database; null if the account is gone. */
export function readProfile(db: Db, address: string, accountId: number): Profile | null {
  const row = profileStatement(db).get(accountId) as { balance: number; openBets: number } | undefined;
  if (!row) return null;
  return { address, balanceMicroUsd: row.balance, openBets: row.openBets };
}
