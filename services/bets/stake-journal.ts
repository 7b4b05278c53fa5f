import { statementCache, type Db } from "../../storage/db.ts";
import type { OperationGuard, TransactionHooks } from "../../storage/batch-queue.ts";
import { HOUSE_ACCOUNT_ID, balanceOf } from "../../storage/ledger.ts";

/**
 * The stakes of a run of bets in one transaction, moved to the house together (issue 23): a bet's
 * conditional debit and its row are written when it is placed, its credit to the house and its two
 * ledger entries (ADR-010) wait here and go in one `UPDATE` of the house's balance and one `INSERT`
 * of all the entries — before any other operation of the transaction runs, and before COMMIT
 * (STAKE_JOURNAL_HOOKS). So the ledger a transaction commits is exactly the one per-bet transfers
 * would have written: the same rows, ids, transfer ids and balances after, in the same order.
 *
 * Only `journaled` operations (bet placement) run while the journal holds stakes; they must not read
 * the house's balance or ledger entries. A journaled operation adds its stake as its last write, after
 * which nothing refuses it. A failed write of the journal fails the whole transaction; a transaction
 * that rolls back drops what the journal held.
 */
interface Journal {
  inTransaction: boolean;
  /** The house's balance before the first stake held (read once per run of bets). */
  houseBeforeMicroUsd: number;
  /** Stakes held, in the order they were placed. */
  stakes: HeldStake[];
}

interface HeldStake {
  accountId: number;
  betId: number;
  stakeMicroUsd: number;
  playerBalanceAfterMicroUsd: number;
  houseBalanceAfterMicroUsd: number;
  at: number;
}

/** Bets per INSERT of ledger entries (two rows each): a longer run takes several statements. */
const BETS_PER_INSERT_MAX = 32;

const statements = statementCache((db: Db) => {
  const inserts = new Map<number, ReturnType<Db["prepare"]>>();
  return {
    credit: db.prepare("UPDATE accounts SET balance_micro_usd = balance_micro_usd + ? WHERE id = ? RETURNING balance_micro_usd").raw(true),
    // The ids AUTOINCREMENT would give (the sequence, never a reused id): assigned here in order.
    lastEntryId: db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'ledger_entries'").raw(true),
    /** INSERT of `bets` bets' entries: per entry id, transfer_id, account_id, amount, balance after, bet_id, at. */
    insertEntries(bets: number) {
      let statement = inserts.get(bets);
      if (!statement) {
        const row = "(?, ?, ?, 'stake', ?, ?, ?, ?)";
        statement = db.prepare(
          `INSERT INTO ledger_entries (id, transfer_id, account_id, kind, amount_micro_usd, balance_after_micro_usd, bet_id, at)
           VALUES ${Array.from({ length: bets * 2 }, () => row).join(", ")}`,
        );
        inserts.set(bets, statement);
      }
      return statement;
    },
  };
});

const journals = new WeakMap<Db, Journal>();

function journalOf(db: Db): Journal {
  let journal = journals.get(db);
  if (!journal) journals.set(db, (journal = { inTransaction: false, houseBeforeMicroUsd: 0, stakes: [] }));
  return journal;
}

/**
 * Holds a placed bet's stake for the house (its debit and row are written): the credit and the two
 * entries are written with the rest of the run. The player's balance after the debit is given.
 */
export function holdStake(db: Db, stake: Omit<HeldStake, "houseBalanceAfterMicroUsd">): void {
  const journal = journalOf(db);
  if (!journal.inTransaction) throw new Error("stakes are held only inside a batch transaction with STAKE_JOURNAL_HOOKS");
  if (!(Number.isSafeInteger(stake.stakeMicroUsd) && stake.stakeMicroUsd > 0 && Number.isSafeInteger(stake.betId) && stake.betId > 0)) {
    throw new Error(`stake of bet ${stake.betId} out of range: ${stake.stakeMicroUsd}`);
  }
  const stakes = journal.stakes;
  const last = stakes.at(-1);
  // The first stake of a run reads the house's balance; the others follow from the one before.
  const houseBefore = last ? last.houseBalanceAfterMicroUsd : (journal.houseBeforeMicroUsd = balanceOf(db, HOUSE_ACCOUNT_ID));
  const houseBalanceAfterMicroUsd = houseBefore + stake.stakeMicroUsd;
  if (!Number.isSafeInteger(houseBalanceAfterMicroUsd)) throw new Error(`the house's balance left the safe integer range: ${houseBalanceAfterMicroUsd}`);
  stakes.push({ ...stake, houseBalanceAfterMicroUsd });
}

/** Writes what the journal holds: the house's credit, then every entry (the player's first per bet). */
function writeHeld(db: Db, journal: Journal): void {
  const stakes = journal.stakes;
  if (stakes.length === 0) return;
  const s = statements(db);
  const expected = stakes[stakes.length - 1]!.houseBalanceAfterMicroUsd;
  const total = expected - journal.houseBeforeMicroUsd;
  const credited = firstOf(s.credit.get(total, HOUSE_ACCOUNT_ID), "house account");
  // Postcondition: nothing else moved the house's balance while stakes were held.
  if (credited !== expected) throw new Error(`the house's balance is ${credited} after the held stakes, expected ${expected}`);
  let id = (s.lastEntryId.get() as [number] | undefined)?.[0] ?? 0;
  for (let from = 0; from < stakes.length; from += BETS_PER_INSERT_MAX) {
    const run = stakes.slice(from, from + BETS_PER_INSERT_MAX);
    const params: number[] = [];
    for (const h of run) {
      const transferId = ++id;
      params.push(transferId, transferId, h.accountId, -h.stakeMicroUsd, h.playerBalanceAfterMicroUsd, h.betId, h.at);
      params.push(++id, transferId, HOUSE_ACCOUNT_ID, h.stakeMicroUsd, h.houseBalanceAfterMicroUsd, h.betId, h.at);
    }
    const written = s.insertEntries(run.length).run(params);
    if (written.changes !== run.length * 2) throw new Error(`${run.length} stakes write ${run.length * 2} ledger entries, wrote ${written.changes}`);
  }
  journal.stakes = [];
}

function firstOf(row: unknown, what: string): number {
  const value = (row as [number] | undefined)?.[0];
  if (!Number.isSafeInteger(value)) throw new Error(`no ${what}`);
  return value!;
}

/** The batch queue's hooks of the journal: written before other operations and before COMMIT, dropped on rollback. */
export const STAKE_JOURNAL_HOOKS: TransactionHooks = {
  afterBegin(db) {
    const journal = journalOf(db);
    journal.inTransaction = true;
    journal.stakes = [];
  },
  beforeOperation(db, guard: OperationGuard | undefined) {
    if (guard?.journaled) return;
    const journal = journalOf(db);
    if (journal.stakes.length > 0) writeHeld(db, journal);
  },
  beforeCommit(db) {
    const journal = journalOf(db);
    writeHeld(db, journal);
    journal.inTransaction = false;
  },
  afterRollback(db) {
    const journal = journalOf(db);
    journal.inTransaction = false;
    journal.stakes = [];
  },
};
