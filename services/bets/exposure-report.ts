import type { AppContext } from "../types.ts";
import { quoteTouchProbability, refundProbability } from "../../domain/pricing/quote.ts";

export interface ExposureReport {
  at: number;
  capsMicroUsd: { cell: number; column: number; playerCellStake: number };
  openBets: number;
  stakeMicroUsd: number;
  payoutMicroUsd: number;
  /**
   * The model's expected house P&L on the open bets, Σ (stake − P(touch)·payout), micro-USD:
   * `atPlacement` with the P(touch) each bet was priced at (implied by its multiplier: P = (1 − edge)/m,
   * up to the round-down); `repricedNow` with P(touch) re-priced from the latest index tick for cells
   * whose window has not started (started windows keep their placement P: the model prices a window
   * from its start, not mid-way), less the refunds the model expects on them (P(void)·(1 − P)·stake: a
   * window the feed falls silent in is void, and the multiplier paid for that). null when there is no
   * price to re-price from.
   */
  expectedHousePnlMicroUsd: { atPlacement: number; repricedNow: number | null };
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
      `SELECT col, row, COUNT(*) AS bets, SUM(stake_micro_usd) AS stake, SUM(payout_micro_usd) AS payout,
              SUM(payout_micro_usd * 100.0 / multiplier_hundredths) AS implied
         FROM bets WHERE status = 'open' GROUP BY col, row ORDER BY col, row`,
    )
    .all() as { col: number; row: number; bets: number; stake: number; payout: number; implied: number }[];
  const c = ctx.config;
  const report: ExposureReport = {
    at: ctx.now(),
    capsMicroUsd: { cell: c.CELL_EXPOSURE_MAX_MICRO_USD, column: c.COLUMN_EXPOSURE_MAX_MICRO_USD, playerCellStake: c.CELL_STAKE_MAX_MICRO_USD },
    openBets: 0,
    stakeMicroUsd: 0,
    payoutMicroUsd: 0,
    expectedHousePnlMicroUsd: { atPlacement: 0, repricedNow: null },
    columns: [],
    cells: [],
  };
  const inputs = ctx.services.pricing?.quoteInputs();
  const terms = {
    columnMs: c.COLUMN_MS,
    rowCents: c.ROW_CENTS,
    houseEdgeBp: c.HOUSE_EDGE_BP,
    minMultiplierHundredths: c.MIN_MULTIPLIER_HUNDREDTHS,
    maxMultiplierHundredths: c.MAX_MULTIPLIER_HUNDREDTHS,
  };
  const keep = 1 - c.HOUSE_EDGE_BP / 10_000;
  const pVoid = inputs === undefined ? 0 : refundProbability(inputs, terms);
  let atPlacement = 0;
  let repriced = 0;
  for (const r of rows) {
    // implied = Σ payout/m = Σ payout·P_placement/(1 − edge)
    const expectedPaidAtPlacement = keep * r.implied;
    atPlacement += r.stake - expectedPaidAtPlacement;
    const started = r.col * c.COLUMN_MS <= report.at;
    const pTouchNow = inputs !== undefined && !started ? quoteTouchProbability(inputs, terms, r.col, r.row) : null;
    repriced += r.stake - (pTouchNow === null ? expectedPaidAtPlacement : pTouchNow * r.payout + pVoid * (1 - pTouchNow) * r.stake);
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
  report.expectedHousePnlMicroUsd = { atPlacement: Math.round(atPlacement), repricedNow: inputs === undefined ? null : Math.round(repriced) };
  return report;
}
