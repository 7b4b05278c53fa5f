import { Gauge } from "prom-client";
import type { AppContext } from "../../runtime/context.ts";
import type { InstallModule } from "../types.ts";
import { ExposureBook, type OpenBetEntry } from "./exposure-book.ts";
import { pruneExposureBefore } from "./exposure-prune.ts";
import type { IntegrityExtension } from "./integrity.ts";
import { BetPlacement } from "./placement.ts";
import { firstOpenColumn } from "./market.ts";
import type { BetsService, ExposureSnapshot } from "./types.ts";

export type { BetsService } from "./types.ts";

/** How often the in-memory book is rebuilt from the database (drops settlements nobody reported). */
const RESYNC_INTERVAL_MS = 60_000;
/** How often rows of columns that can no longer take bets are pruned from the exposure tables. */
const PRUNE_INTERVAL_MS = 60_000;

export const installBets: InstallModule = (ctx) => {
  const book = new ExposureBook();
  const placement = new BetPlacement(ctx, book);
  const integrityExtensions = new Map<string, IntegrityExtension>();
  const service: BetsService = {
    place: (player, body, options) => placement.place(player, body, options?.assertMarketOpen ?? (() => {})),
    onSettled: (bet) => void book.remove(typeof bet === "number" ? bet : bet.id),
    exposure: () => snapshot(book),
    resync: () => book.replaceAll(readOpenBets(ctx)),
    integrityExtensions,
  };
  ctx.services.bets = service;
  registerGauges(ctx, book);

  const timers: NodeJS.Timeout[] = [];
  return {
    start() {
      service.resync();
      timers.push(setInterval(() => service.resync(), RESYNC_INTERVAL_MS).unref());
      timers.push(
        setInterval(() => {
          const before = firstOpenColumn(ctx) - 1;
          ctx.queue.enqueue((db) => pruneExposureBefore(db, before)).catch((error: unknown) => {
            ctx.log.warn({ err: error }, "could not prune exposure rows");
          });
        }, PRUNE_INTERVAL_MS).unref(),
      );
    },
    stop() {
      for (const timer of timers) clearInterval(timer);
    },
  };
};

/** The open bets of the current database (history holds settled bets only). */
function readOpenBets(ctx: AppContext): OpenBetEntry[] {
  const rows = ctx.db
    .prepare("SELECT id, account_id, col, row, stake_micro_usd, payout_micro_usd FROM bets WHERE status = 'open'")
    .all() as { id: number; account_id: number; col: number; row: number; stake_micro_usd: number; payout_micro_usd: number }[];
  return rows.map((r) => ({
    id: r.id,
    accountId: r.account_id,
    col: r.col,
    row: r.row,
    stakeMicroUsd: r.stake_micro_usd,
    payoutMicroUsd: r.payout_micro_usd,
  }));
}

function snapshot(book: ExposureBook): ExposureSnapshot {
  const cells = book.cells();
  const columns = new Map<number, { col: number; bets: number; stakeMicroUsd: number; payoutMicroUsd: number }>();
  for (const cell of cells) {
    const column = columns.get(cell.col) ?? { col: cell.col, bets: 0, stakeMicroUsd: 0, payoutMicroUsd: 0 };
    column.bets += cell.bets;
    column.stakeMicroUsd += cell.stakeMicroUsd;
    column.payoutMicroUsd += cell.payoutMicroUsd;
    columns.set(cell.col, column);
  }
  const totals = book.totals();
  return {
    openBets: totals.bets,
    stakeMicroUsd: totals.stakeMicroUsd,
    payoutMicroUsd: totals.payoutMicroUsd,
    columns: [...columns.values()],
    cells,
  };
}

/** Open bets and the house's potential payout as this process's book sees them (read at scrape time). */
function registerGauges(ctx: AppContext, book: ExposureBook): void {
  new Gauge({
    name: "bets_open",
    help: "Open bets (in-memory book of this process)",
    registers: [ctx.metrics.registry],
    collect() {
      this.set(book.totals().bets);
    },
  });
  new Gauge({
    name: "bets_open_payout_micro_usd",
    help: "Potential payout of the open bets: the house's exposure if every one wins",
    registers: [ctx.metrics.registry],
    collect() {
      this.set(book.totals().payoutMicroUsd);
    },
  });
}
