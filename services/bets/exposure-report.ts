import type { AppContext } from "../../runtime/context.ts";

export interface ExposureReport {
  at: number;
  capsMicroUsd: { cell: number; column: number; playerCellStake: number };
  openBets: number;
  stakeMicroUsd: number;
  payoutMicroUsd: number;
  columns: { col: number; windowStart: number; bets: number; stakeMicroUsd: number; payoutMicroUsd: number }[];
  cells: { col: number; row: number; bets: number; stakeMicroUsd: number; payoutMicroUsd: number }[];
}

/**
 * Open exposure per column and cell from the database (all API processes' bets), for operators:
 * the potential payouts the house owes if every open bet wins, against the caps of SPEC §4.
 * One aggregate over the partial index of open bets.
 */
export function exposureReport(ctx: AppContext): ExposureReport {
  const rows = ctx.db
    .prepare(
      `SELECT col, row, COUNT(*) AS bets, SUM(stake_micro_usd) AS stake, SUM(payout_micro_usd) AS payout
         FROM bets WHERE status = 'open' GROUP BY col, row ORDER BY col, row`,
    )
    .all() as { col: number; row: number; bets: number; stake: number; payout: number }[];
  const c = ctx.config;
  const report: ExposureReport = {
    at: ctx.now(),
    capsMicroUsd: { cell: c.CELL_EXPOSURE_MAX_MICRO_USD, column: c.COLUMN_EXPOSURE_MAX_MICRO_USD, playerCellStake: c.CELL_STAKE_MAX_MICRO_USD },
    openBets: 0,
    stakeMicroUsd: 0,
    payoutMicroUsd: 0,
    columns: [],
    cells: [],
  };
  for (const r of rows) {
    report.cells.push({ col: r.col, row: r.row, bets: r.bets, stakeMicroUsd: r.stake, payoutMicroUsd: r.payout });
    let column = report.columns[report.columns.length - 1];
    if (!column || column.col !== r.col) {
      column = { col: r.col, windowStart: r.col * c.COLUMN_MS, bets: 0, stakeMicroUsd: 0, payoutMicroUsd: 0 };
      report.columns.push(column);
    }
    column.bets += r.bets;
    column.stakeMicroUsd += r.stake;
    column.payoutMicroUsd += r.payout;
    report.openBets += r.bets;
    report.stakeMicroUsd += r.stake;
    report.payoutMicroUsd += r.payout;
  }
  return report;
}
