import { statementCache, type Db } from "../../storage/db.ts";

// One row for both figures: the open-bet count is the counter kept by the triggers of migration 060.
const profileStatement = statementCache((db: Db) =>
  db.prepare("SELECT balance_micro_usd AS balance, open_bets AS openBets FROM accounts WHERE id = ?"),
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
