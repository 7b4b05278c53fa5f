import Database from "libsql";
import type { AppContext } from "../types.ts";
import { databasePaths } from "../../storage/db.ts";
import type { Db } from "../../storage/db.ts";
import { HOUSE_ACCOUNT_ID } from "../../storage/ledger.ts";
import * as Q from "./integrity-sql.ts";

export interface IntegrityProblem {
  check: string;
  message: string;
  details?: Record<string, unknown>;
}

export interface IntegrityReport {
  ok: boolean;
  checkedAccounts: number;
  checkedBets: number;
  checkedEntries: number;
  sumOfBalancesMicroUsd: number;
  openBets: number;
  openPayoutMicroUsd: number;
  problems: IntegrityProblem[];
  /** Things worth knowing that are not ledger faults (e.g. the in-memory book was resynced). */
  notes: string[];
  durationMs: number;
}

/**
 * An additional check registered by another module. It gets a read-only connection to the current
 * database with the history database attached as `hist`, inside the same read snapshot as the
 * core checks, and returns the problems it found.
 */
export type IntegrityExtension = (ctx: AppContext, reader: Db) => IntegrityProblem[] | Promise<IntegrityProblem[]>;

const PROBLEMS_MAX = 100;
const BET_CHUNK = 20_000;
const ACCOUNT_CHUNK = 5_000;
const ENTRY_CHUNK = 50_000;

/**
 * The ledger audit of ADR-010, over current + history:
 * - every account's balance equals the sum of its entries; the balances sum to zero; the entries sum
 *   to zero (no entry without an account); no player balance is negative;
 * - every bet has exactly one stake entry (−stake) and, once settled, exactly one payout (won) or
 *   refund (void) or nothing more (lost), all on the bet's own account;
 * - the writer's figures the limits are checked against equal the open bets, and so does this
 *   process's in-memory book.
 *
 * Runs on its own read-only connection, in one read snapshot, in chunks with a yield to the event loop
 * between them, so bet placement keeps flowing while it runs.
 */
export async function runIntegrityCheck(ctx: AppContext): Promise<IntegrityReport> {
  const started = performance.now();
  const problems: IntegrityProblem[] = [];
  const notes: string[] = [];
  const add = (problem: IntegrityProblem) => {
    if (problems.length < PROBLEMS_MAX) problems.push(problem);
    else if (problems.length === PROBLEMS_MAX) problems.push({ check: "truncated", message: `more than ${PROBLEMS_MAX} problems` });
  };
  const reader = openReader(ctx);
  try {
    reader.exec("BEGIN");
    // Snapshot order matters: current first, then history. The archiver copies to history before it
    // deletes from current, so a row moved meanwhile is seen in current (and maybe also in history,
    // where duplicates are dropped by id) — never in neither.
    const open = reader.prepare(Q.OPEN_TOTALS).get() as { n: number; payout: number };
    checkBook(ctx, reader, notes);
    reader.prepare("SELECT count(*) FROM hist.bets").get();

    const ledger = await checkLedger(reader, add);
    const bets = await checkBets(reader, add);
    await checkWriterState(ctx, add, notes);
    checkOpenCounts(reader, add);
    checkStuckOpenBets(ctx, reader, add);

    // ── EXTENSION POINT (resolver) ─────────────────────────────────────────────────────────────
    // Re-resolution of a sample of settled bets from stored ticks belongs to the resolver module:
    // it registers `ctx.services.bets.integrityExtensions.set("re-resolution", (ctx, reader) => …)`
    // at install time and returns problems; it runs here, in the same snapshot, after the core checks.
    for (const [name, extension] of ctx.services.bets?.integrityExtensions ?? []) {
      try {
        for (const problem of await extension(ctx, reader)) add(problem);
      } catch (error) {
        add({ check: name, message: `check failed to run: ${(error as Error).message}` });
      }
    }
    // ────────────────────────────────────────────────────────────────────────────────────────────

    return {
      ok: problems.length === 0,
      checkedAccounts: ledger.accounts,
      checkedBets: bets,
      checkedEntries: ledger.entries,
      sumOfBalancesMicroUsd: ledger.sum,
      openBets: open.n,
      openPayoutMicroUsd: open.payout,
      problems,
      notes,
      durationMs: Math.round(performance.now() - started),
    };
  } finally {
    try {
      reader.exec("COMMIT");
    } catch {
      // nothing to end
    }
    reader.close();
  }
}

function openReader(ctx: AppContext): Db {
  const paths = databasePaths(ctx.config);
  const reader = new Database(paths.current);
  reader.exec(`PRAGMA busy_timeout = ${Math.trunc(ctx.config.DB_BUSY_TIMEOUT_MS)}`);
  reader.exec("PRAGMA query_only = ON");
  reader.prepare("ATTACH DATABASE ? AS hist").run(paths.history);
  return reader;
}

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

type Add = (problem: IntegrityProblem) => void;

/**
 * Entry sums per account, accumulated over id ranges of the entries (each statement bounded, no
 * per-account scan of the house's millions of entries), then compared with the account rows.
 */
async function checkLedger(reader: Db, add: Add): Promise<{ accounts: number; entries: number; sum: number }> {
  const { maxId } = reader.prepare(Q.MAX_ENTRY_ID).get() as { maxId: number };
  const chunk = reader.prepare(Q.ENTRY_SUMS_BY_ACCOUNT);
  const sums = new Map<number, number>();
  let entries = 0;
  let entriesSum = 0;
  for (let lo = 1; lo <= maxId; lo += ENTRY_CHUNK) {
    for (const r of chunk.all(lo, lo + ENTRY_CHUNK - 1) as { account_id: number; total: number; n: number }[]) {
      sums.set(r.account_id, (sums.get(r.account_id) ?? 0) + r.total);
      entries += r.n;
      entriesSum += r.total;
    }
    await yieldToEventLoop();
  }
  if (entriesSum !== 0) add({ check: "entries_sum", message: "the ledger entries do not sum to zero", details: { sumMicroUsd: entriesSum } });

  const { maxAccountId } = reader.prepare("SELECT COALESCE(MAX(id), 0) AS maxAccountId FROM main.accounts").get() as { maxAccountId: number };
  const accountsChunk = reader.prepare("SELECT id, kind, balance_micro_usd AS balance FROM main.accounts WHERE id BETWEEN ? AND ?");
  let accounts = 0;
  let sum = 0;
  for (let lo = 1; lo <= maxAccountId; lo += ACCOUNT_CHUNK) {
    for (const r of accountsChunk.all(lo, lo + ACCOUNT_CHUNK - 1) as { id: number; kind: string; balance: number }[]) {
      accounts++;
      sum += r.balance;
      const fromEntries = sums.get(r.id) ?? 0;
      sums.delete(r.id);
      if (r.balance !== fromEntries) {
        add({ check: "account_balance", message: `account ${r.id} balance differs from the sum of its entries`, details: { accountId: r.id, balanceMicroUsd: r.balance, entriesMicroUsd: fromEntries } });
      }
      if (r.kind === "player" && r.balance < 0) {
        add({ check: "negative_balance", message: `player account ${r.id} is negative`, details: { accountId: r.id, balanceMicroUsd: r.balance } });
      }
    }
    await yieldToEventLoop();
  }
  for (const [accountId, total] of sums) {
    add({ check: "entries_without_account", message: `entries for account ${accountId}, which does not exist`, details: { accountId, entriesMicroUsd: total } });
  }
  if (!Number.isSafeInteger(sum) || sum !== 0) {
    add({ check: "balances_sum", message: "the account balances do not sum to zero", details: { sumMicroUsd: sum } });
  }
  return { accounts, entries, sum };
}

async function checkBets(reader: Db, add: Add): Promise<number> {
  const { maxId } = reader.prepare(Q.MAX_BET_ID).get() as { maxId: number };
  const countStmt = reader.prepare(Q.BET_COUNT);
  const badStmt = reader.prepare(Q.BAD_BETS);
  const strayStmt = reader.prepare(Q.STRAY_BET_ENTRIES);
  let count = 0;
  for (let lo = 1; lo <= maxId; lo += BET_CHUNK) {
    const hi = lo + BET_CHUNK - 1;
    count += (countStmt.get(lo, hi) as { n: number }).n;
    for (const b of badStmt.all(lo, hi) as { id: number; status: string; stakes: number; payouts: number; refunds: number; n: number }[]) {
      add({
        check: "bet_entries",
        message: `bet ${b.id} (${b.status}) does not have exactly the entries its outcome implies`,
        details: { betId: b.id, status: b.status, stakes: b.stakes, payouts: b.payouts, refunds: b.refunds, entries: b.n },
      });
    }
    for (const s of strayStmt.all(lo, hi, HOUSE_ACCOUNT_ID) as { bet_id: number; account_id: number; n: number }[]) {
      add({ check: "stray_bet_entries", message: `entries name bet ${s.bet_id} but belong to no side of it`, details: { betId: s.bet_id, accountId: s.account_id, entries: s.n } });
    }
    await yieldToEventLoop();
  }
  return count;
}

/**
 * The figures the writer checks limits against (open bets per player, stake per player and cell,
 * payout per cell and column; services/bets/writer-state.ts) equal the open bets in the database:
 * the writer compares them with a fresh load, inside one of its transactions.
 */
async function checkWriterState(ctx: AppContext, add: Add, notes: string[]): Promise<void> {
  let differences: string[];
  try {
    ({ differences } = await ctx.queue.run("bets.checkWriterState"));
  } catch (error) {
    notes.push(`the writer's open-bet figures could not be checked: ${(error as Error).message}`);
    return;
  }
  for (const difference of differences) {
    add({ check: "writer_state", message: `the writer's open-bet figures differ from the database: ${difference}`, details: { difference } });
  }
}

/**
 * Open bets whose window ended longer ago than STUCK_BET_GRACE_MS: the resolver settles a window
 * within a second of its end, so these are settlements that cannot be written (a full disk) or a
 * resolver that is not running. They are retried forever; this makes the wait visible.
 */
function checkStuckOpenBets(ctx: AppContext, reader: Db, add: Add): void {
  const endedBefore = ctx.now() - ctx.config.STUCK_BET_GRACE_MS;
  const { n, oldest } = reader.prepare(Q.STUCK_OPEN_BETS).get(endedBefore) as { n: number; oldest: number | null };
  if (n === 0) return;
  const ids = (reader.prepare(Q.STUCK_OPEN_BET_IDS).all(endedBefore, STUCK_IDS_MAX) as { id: number }[]).map((r) => r.id);
  add({
    check: "stuck_open_bet",
    message: `${n} open bets whose window ended more than ${ctx.config.STUCK_BET_GRACE_MS} ms ago are not settled yet`,
    details: { count: n, oldestWindowEnd: oldest, betIds: ids, graceMs: ctx.config.STUCK_BET_GRACE_MS },
  });
}

const STUCK_IDS_MAX = 20;

/** The in-memory book must equal the open bets; a difference is fixed (resync) and noted. */
/** The per-account open-bet counter that the open-bet limit reads equals the account's open bets. */
function checkOpenCounts(reader: Db, add: Add): void {
  const rows = reader.prepare(Q.OPEN_COUNT_MISMATCH).all() as { accountId: number; kept: number; open: number }[];
  for (const r of rows) {
    add({ check: "open_bet_count", message: `account ${r.accountId}: counter says ${r.kept} open bets, the bets say ${r.open}`, details: r });
  }
}

function checkBook(ctx: AppContext, reader: Db, notes: string[]): void {
  const bets = ctx.services.bets;
  if (!bets) return;
  const fromDb = reader.prepare(Q.OPEN_TOTALS).get() as { n: number; stake: number; payout: number };
  const book = bets.exposure();
  if (book.openBets === fromDb.n && book.stakeMicroUsd === fromDb.stake && book.payoutMicroUsd === fromDb.payout) return;
  notes.push(
    `in-memory exposure book differed from the database (book ${book.openBets} bets / ${book.payoutMicroUsd} µUSD, ` +
      `database ${fromDb.n} / ${fromDb.payout}); resynced. Expected only with several API processes or unreported settlements.`,
  );
  bets.resync();
}
