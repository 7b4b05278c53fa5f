import type { Db } from "../../storage/db.ts";
import { balanceOf } from "../../storage/ledger.ts";

const statements = new WeakMap<Db, { openBets: ReturnType<Db["prepare"]> }>();

function stmts(db: Db) {
  let s = statements.get(db);
  if (!s) {
    s = { openBets: db.prepare("SELECT COUNT(*) AS n FROM bets WHERE account_id = ? AND status = 'open'") };
    statements.set(db, s);
  }
  return s;
}

export interface Profile {
  address: string;
  balanceMicroUsd: number;
  openBets: number;
}

/** GET /api/me: the balance and the number of open bets, read from the current database. */
export function readProfile(db: Db, address: string, accountId: number): Profile {
  const { n } = stmts(db).openBets.get(accountId) as { n: number };
  return { address, balanceMicroUsd: balanceOf(db, accountId), openBets: n };
}
