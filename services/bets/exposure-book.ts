/**
 * In-memory view of the open bets of this process's database: house exposure (potential payouts)
 * per cell and per column, and each player's open-bet count and stake per cell.
 *
 * It answers the cheap pre-checks before a bet is queued and the exposure gauges; the checks that
 * must hold under concurrency are made again inside the bet's transaction against the database
 * (place-op.ts), so a stale book can only cause an early refusal that the database would also give,
 * or let a request through to the database check — never accept a bet beyond a limit.
 *
 * Keyed by bet id, so every update is idempotent: `add` after commit, `remove` on settlement
 * (BetsService.onSettled, or the periodic sweep), and `replaceAll` from a database snapshot can
 * interleave in any order without double counting.
 */
export interface OpenBetEntry {
  id: number;
  accountId: number;
  col: number;
  row: number;
  stakeMicroUsd: number;
  payoutMicroUsd: number;
}

export interface CellExposure {
  col: number;
  row: number;
  bets: number;
  stakeMicroUsd: number;
  payoutMicroUsd: number;
}

interface Totals {
  bets: number;
  stakeMicroUsd: number;
  payoutMicroUsd: number;
}

/** One column's open bets: their totals, their ids (for the sweep of ended columns) and their cells. */
interface Column {
  totals: Totals;
  ids: Set<number>;
  rows: Map<number, Cell>;
}

interface Cell extends CellExposure {
  stakeByAccount: Map<number, number>;
}

export class ExposureBook {
  #bets = new Map<number, OpenBetEntry>();
  /** By column, then row: numeric keys only, so the per-bet update builds no strings. */
  #columns = new Map<number, Column>();
  #playerOpen = new Map<number, number>();
  #total: Totals = { bets: 0, stakeMicroUsd: 0, payoutMicroUsd: 0 };

  add(bet: OpenBetEntry): void {
    if (this.#bets.has(bet.id)) return;
    this.#bets.set(bet.id, bet);
    this.#apply(bet, 1);
  }

  /** Forgets a bet that is no longer open; unknown ids are ignored (already removed or never seen). */
  remove(betId: number): boolean {
    const bet = this.#bets.get(betId);
    if (!bet) return false;
    this.#bets.delete(betId);
    this.#apply(bet, -1);
    return true;
  }

  /** Replaces the whole book with a database snapshot of the open bets. */
  replaceAll(bets: Iterable<OpenBetEntry>): void {
    this.#bets = new Map();
    this.#columns = new Map();
    this.#playerOpen = new Map();
    this.#total = { bets: 0, stakeMicroUsd: 0, payoutMicroUsd: 0 };
    for (const bet of bets) this.add(bet);
  }

  /** Ids of bets in columns before `col` (at most `max`): candidates for a settlement nobody reported. */
  idsBeforeColumn(col: number, max: number): number[] {
    const ids: number[] = [];
    for (const [column, { ids: columnIds }] of this.#columns) {
      if (column >= col) continue;
      for (const id of columnIds) {
        if (ids.length >= max) return ids;
        ids.push(id);
      }
    }
    return ids;
  }

  has(betId: number): boolean {
    return this.#bets.has(betId);
  }

  openBetsOf(accountId: number): number {
    return this.#playerOpen.get(accountId) ?? 0;
  }

  playerCellStake(accountId: number, col: number, row: number): number {
    return this.#columns.get(col)?.rows.get(row)?.stakeByAccount.get(accountId) ?? 0;
  }

  cellPayout(col: number, row: number): number {
    return this.#columns.get(col)?.rows.get(row)?.payoutMicroUsd ?? 0;
  }

  columnPayout(col: number): number {
    return this.#columns.get(col)?.totals.payoutMicroUsd ?? 0;
  }

  totals(): Totals {
    return { ...this.#total };
  }

  /** Cells with open bets, ordered by column then row. */
  cells(): CellExposure[] {
    const cells: CellExposure[] = [];
    for (const { rows } of this.#columns.values()) {
      for (const c of rows.values()) cells.push({ col: c.col, row: c.row, bets: c.bets, stakeMicroUsd: c.stakeMicroUsd, payoutMicroUsd: c.payoutMicroUsd });
    }
    return cells.sort((a, b) => a.col - b.col || a.row - b.row);
  }

  #apply(bet: OpenBetEntry, sign: 1 | -1): void {
    let column = this.#columns.get(bet.col);
    if (!column) this.#columns.set(bet.col, (column = { totals: { bets: 0, stakeMicroUsd: 0, payoutMicroUsd: 0 }, ids: new Set(), rows: new Map() }));
    let cell = column.rows.get(bet.row);
    if (!cell) column.rows.set(bet.row, (cell = { col: bet.col, row: bet.row, bets: 0, stakeMicroUsd: 0, payoutMicroUsd: 0, stakeByAccount: new Map() }));
    addTo(cell, bet, sign);
    bump(cell.stakeByAccount, bet.accountId, sign * bet.stakeMicroUsd);
    if (cell.bets === 0) column.rows.delete(bet.row);
    addTo(column.totals, bet, sign);
    if (sign === 1) column.ids.add(bet.id);
    else column.ids.delete(bet.id);
    if (column.ids.size === 0) this.#columns.delete(bet.col);
    addTo(this.#total, bet, sign);
    bump(this.#playerOpen, bet.accountId, sign);
  }
}

function addTo(t: Totals, bet: OpenBetEntry, sign: 1 | -1): void {
  t.bets += sign;
  t.stakeMicroUsd += sign * bet.stakeMicroUsd;
  t.payoutMicroUsd += sign * bet.payoutMicroUsd;
}

function bump<K>(map: Map<K, number>, key: K, by: number): void {
  const next = (map.get(key) ?? 0) + by;
  if (next === 0) map.delete(key);
  else map.set(key, next);
}
