import { statementCache, type Db } from "../../storage/db.ts";
import type { TransactionHooks } from "../../storage/batch-queue.ts";

/**
 * What the single writer keeps in memory about the open bets, so that a bet's limits are checked
 * without reading the database (issue 23): open bets per player, stake per player and cell, and
 * potential payout per cell and per column (the house's exposure). The database is the record:
 * `loadBetWriterState(db)` rebuilds all of it from the open bets, and nothing else is kept.
 *
 * Who changes it: only the writer's own commands, each in its transaction and always as its last
 * step, after its last statement — placement (`open`) and settlement (`close`). A command takes
 * the state (`betWriterState(db)`) before its first write.
 *
 * How it stays the database's: `bets_generation` (migration 100) counts the transactions that
 * opened or settled bets. The writer bumps it in every such transaction (just before COMMIT) and
 * remembers the value; at its first use in a transaction it reads it back, and a different value
 * means that another writer (a second process on the same DATA_DIR, a tool) changed open bets since:
 * the state is loaded again, inside this transaction, under the write lock. A transaction that
 * rolls back as a whole, or a figure that would go below zero, marks it stale the same way. A
 * process that starts (or, with a lease, becomes the writer) loads it at its first transaction.
 * Anything that writes open bets outside these commands must bump `bets_generation` too.
 */
export class BetWriterState {
  /** The bets_generation this state matches. */
  generation = 0;
  openBets = 0;
  readonly #openByAccount = new Map<number, number>();
  /** col → row → the cell's payout and stake per player. */
  readonly #cells = new Map<number, Map<number, Cell>>();
  readonly #payoutByColumn = new Map<number, number>();

  openBetsOf(accountId: number): number {
    return this.#openByAccount.get(accountId) ?? 0;
  }

  playerCellStake(accountId: number, col: number, row: number): number {
    return this.#cells.get(col)?.get(row)?.stakeByAccount.get(accountId) ?? 0;
  }

  cellPayout(col: number, row: number): number {
    return this.#cells.get(col)?.get(row)?.payoutMicroUsd ?? 0;
  }

  columnPayout(col: number): number {
    return this.#payoutByColumn.get(col) ?? 0;
  }

  /** A bet became open (its row and its stake are written in this transaction). */
  open(bet: OpenBetFigures): void {
    let rows = this.#cells.get(bet.col);
    if (!rows) this.#cells.set(bet.col, (rows = new Map()));
    let cell = rows.get(bet.row);
    if (!cell) rows.set(bet.row, (cell = { payoutMicroUsd: 0, stakeByAccount: new Map() }));
    cell.payoutMicroUsd += bet.payoutMicroUsd;
    cell.stakeByAccount.set(bet.accountId, (cell.stakeByAccount.get(bet.accountId) ?? 0) + bet.stakeMicroUsd);
    this.#payoutByColumn.set(bet.col, (this.#payoutByColumn.get(bet.col) ?? 0) + bet.payoutMicroUsd);
    this.#openByAccount.set(bet.accountId, (this.#openByAccount.get(bet.accountId) ?? 0) + 1);
    this.openBets++;
  }

  /**
   * A bet stopped being open (settled in this transaction). False, with nothing changed, when the
   * state did not count it: then it is not the database's any more and must be loaded again.
   */
  close(bet: OpenBetFigures): boolean {
    const rows = this.#cells.get(bet.col);
    const cell = rows?.get(bet.row);
    const stake = cell?.stakeByAccount.get(bet.accountId) ?? 0;
    const open = this.#openByAccount.get(bet.accountId) ?? 0;
    const columnPayout = this.#payoutByColumn.get(bet.col) ?? 0;
    if (!rows || !cell || stake < bet.stakeMicroUsd || open < 1 || cell.payoutMicroUsd < bet.payoutMicroUsd || columnPayout < bet.payoutMicroUsd) {
      return false;
    }
    cell.payoutMicroUsd -= bet.payoutMicroUsd;
    setOrDelete(cell.stakeByAccount, bet.accountId, stake - bet.stakeMicroUsd);
    if (cell.stakeByAccount.size === 0) {
      rows.delete(bet.row);
      if (rows.size === 0) this.#cells.delete(bet.col);
    }
    setOrDelete(this.#payoutByColumn, bet.col, columnPayout - bet.payoutMicroUsd);
    setOrDelete(this.#openByAccount, bet.accountId, open - 1);
    this.openBets--;
    return true;
  }

  /** Every figure, in a fixed order (tests, and the integrity check's comparison with a fresh load). */
  snapshot(): BetWriterSnapshot {
    const sorted = <K extends number, V>(m: Map<K, V>) => [...m].sort((a, b) => a[0] - b[0]);
    const cells: BetWriterSnapshot["cells"] = [];
    for (const [col, rows] of sorted(this.#cells)) {
      for (const [row, cell] of sorted(rows)) {
        cells.push({ col, row, payoutMicroUsd: cell.payoutMicroUsd, stakeByAccount: sorted(cell.stakeByAccount) });
      }
    }
    return { openBets: this.openBets, openByAccount: sorted(this.#openByAccount), cells, payoutByColumn: sorted(this.#payoutByColumn) };
  }
}

/** A bet as the state counts it. */
export interface OpenBetFigures {
  accountId: number;
  col: number;
  row: number;
  stakeMicroUsd: number;
  payoutMicroUsd: number;
}

export interface BetWriterSnapshot {
  openBets: number;
  openByAccount: [accountId: number, openBets: number][];
  cells: { col: number; row: number; payoutMicroUsd: number; stakeByAccount: [accountId: number, stakeMicroUsd: number][] }[];
  payoutByColumn: [col: number, payoutMicroUsd: number][];
}

interface Cell {
  payoutMicroUsd: number;
  stakeByAccount: Map<number, number>;
}

function setOrDelete<K>(map: Map<K, number>, key: K, value: number): void {
  if (value === 0) map.delete(key);
  else map.set(key, value);
}

const statements = statementCache((db: Db) => ({
  generation: db.prepare("SELECT generation FROM bets_generation WHERE id = 1").raw(true),
  bump: db.prepare("UPDATE bets_generation SET generation = generation + 1 WHERE id = 1 RETURNING generation").raw(true),
  // From the partial index of open bets (bets_open_by_col) and the rows it points to.
  openBets: db.prepare("SELECT account_id, col, row, stake_micro_usd, payout_micro_usd FROM bets WHERE status = 'open'").raw(true),
}));

/** The one integer a raw single-row statement returned (bets_generation always has its row). */
function firstOf(row: unknown): number {
  const value = (row as [number] | undefined)?.[0];
  if (!Number.isSafeInteger(value)) throw new Error("bets_generation has no row (migration 100)");
  return value!;
}

/**
 * The writer's state rebuilt from the database: the open bets of the current database (history
 * holds settled bets only) and the generation they are at. Inside the writer's transaction this is
 * exactly what the database holds; anywhere else, a snapshot of a moment.
 */
export function loadBetWriterState(db: Db): BetWriterState {
  const s = statements(db);
  const state = new BetWriterState();
  state.generation = firstOf(s.generation.get());
  for (const [accountId, col, row, stakeMicroUsd, payoutMicroUsd] of s.openBets.iterate() as Iterable<[number, number, number, number, number]>) {
    state.open({ accountId, col, row, stakeMicroUsd, payoutMicroUsd });
  }
  return state;
}

/** Per writer connection: its state and where it stands in the current transaction. */
interface Holder {
  state: BetWriterState | undefined;
  inTransaction: boolean;
  /** Compared with bets_generation in this transaction already. */
  checked: boolean;
  /** Opened or settled bets in this transaction: bets_generation is bumped before COMMIT. */
  changed: boolean;
}

const holders = new WeakMap<Db, Holder>();

function holderOf(db: Db): Holder {
  let holder = holders.get(db);
  if (!holder) holders.set(db, (holder = { state: undefined, inTransaction: false, checked: false, changed: false }));
  return holder;
}

/**
 * The writer's state for its connection `db`, inside a batch transaction, checked against the
 * database once per transaction (loaded again if another writer changed open bets). Unless
 * `readOnly`, the caller may change open bets: the transaction bumps bets_generation before it
 * commits, so that any other writer loads its state again.
 */
export function betWriterState(db: Db, readOnly = false): BetWriterState {
  const holder = holderOf(db);
  if (!holder.inTransaction) throw new Error("the bets writer state is used only inside a batch transaction with BET_WRITER_HOOKS");
  if (!holder.checked || !holder.state) {
    const generation = firstOf(statements(db).generation.get());
    if (!holder.state || holder.state.generation !== generation) holder.state = loadBetWriterState(db);
    holder.checked = true;
  }
  if (!readOnly) holder.changed = true;
  return holder.state;
}

/** The state no longer matches the database (a figure it could not take back): load it at the next use. */
export function forgetBetWriterState(db: Db): void {
  const holder = holderOf(db);
  holder.state = undefined;
  holder.checked = false;
}

/** The batch queue's hooks that keep the state in step with the writer's transactions. */
export const BET_WRITER_HOOKS: TransactionHooks = {
  afterBegin(db) {
    const holder = holderOf(db);
    holder.inTransaction = true;
    holder.checked = false;
    holder.changed = false;
  },
  beforeCommit(db) {
    const holder = holderOf(db);
    if (holder.changed) {
      const generation = firstOf(statements(db).bump.get());
      if (holder.state) holder.state.generation = generation;
    }
    holder.inTransaction = false;
    holder.changed = false;
  },
  afterRollback(db) {
    const holder = holderOf(db);
    holder.inTransaction = false;
    holder.changed = false;
    holder.state = undefined;
  },
};

/** A batch-queue command (diagnostics, tests): the writer's figures as they are, checked against bets_generation. */
export function betWriterSnapshot(db: Db): BetWriterSnapshot & { generation: number } {
  const state = betWriterState(db, true);
  return { generation: state.generation, ...state.snapshot() };
}

/**
 * A batch-queue command: the writer's figures against a fresh load from the database, in the same
 * transaction (so both see the same bets). Up to `differencesMax` differences, described.
 */
export function checkBetWriterState(db: Db, differencesMax = 20): { openBets: number; differences: string[] } {
  const kept = betWriterState(db, true).snapshot();
  const loaded = loadBetWriterState(db).snapshot();
  const differences: string[] = [];
  const note = (what: string, keptValue: unknown, loadedValue: unknown) => {
    if (differences.length < differencesMax) differences.push(`${what}: kept ${JSON.stringify(keptValue)}, in the database ${JSON.stringify(loadedValue)}`);
  };
  if (kept.openBets !== loaded.openBets) note("open bets", kept.openBets, loaded.openBets);
  compareEntries("open bets of account", kept.openByAccount, loaded.openByAccount, note);
  compareEntries("payout of column", kept.payoutByColumn, loaded.payoutByColumn, note);
  const cellsKept = new Map(kept.cells.map((c) => [`${c.col}:${c.row}`, JSON.stringify(c)]));
  const cellsLoaded = new Map(loaded.cells.map((c) => [`${c.col}:${c.row}`, JSON.stringify(c)]));
  for (const key of new Set([...cellsKept.keys(), ...cellsLoaded.keys()])) {
    if (cellsKept.get(key) !== cellsLoaded.get(key)) note(`cell ${key}`, cellsKept.get(key) ?? null, cellsLoaded.get(key) ?? null);
  }
  return { openBets: loaded.openBets, differences };
}

function compareEntries(what: string, kept: [number, number][], loaded: [number, number][], note: (what: string, k: unknown, l: unknown) => void): void {
  const a = new Map(kept);
  const b = new Map(loaded);
  for (const key of new Set([...a.keys(), ...b.keys()])) if (a.get(key) !== b.get(key)) note(`${what} ${key}`, a.get(key) ?? 0, b.get(key) ?? 0);
}
