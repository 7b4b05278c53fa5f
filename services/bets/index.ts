import { Gauge } from "prom-client";
import type { AppContext } from "../types.ts";
import type { InstallModule } from "../types.ts";
import { ExposureBook, type OpenBetEntry } from "./exposure-book.ts";
import type { IntegrityExtension } from "./integrity.ts";
import { BetPlacement } from "./placement.ts";
import type { BetsService, ExposureSnapshot } from "./types.ts";

export type { BetsService } from "./types.ts";

/**
 * How often the book drops bets that were settled without `onSettled` being called: bets of columns
 * that ended more than SETTLE_GRACE_MS ago are looked up (in chunks, yielding in between, so a big
 * book never blocks placement) and forgotten unless still open. A full rebuild happens at start and
 * when the integrity check finds a difference.
 */
const SWEEP_INTERVAL_MS = 30_000;
const SETTLE_GRACE_MS = 60_000;
const SWEEP_IDS_MAX = 100_000;
const SWEEP_CHUNK = 500;

export const installBets: InstallModule = (ctx) => {
  const book = new ExposureBook();
  const placement = new BetPlacement(ctx, book);
  const integrityExtensions = new Map<string, IntegrityExtension>();
  const service: BetsService = {
    place: (player, body, options) => placement.place(player, body, options?.assertMarketOpen ?? (() => {})),
    onSettled: (bet) => void book.remove(typeof bet === "number" ? bet : bet.id),
    exposure: () => snapshot(book),
    resync: () => book.replaceAll(readOpenBets(ctx)),
    sweepSettled: () => sweepSettled(ctx, book),
    integrityExtensions,
  };
  ctx.services.bets = service;
  registerGauges(ctx, book);

  const timers: NodeJS.Timeout[] = [];
  return {
    start() {
      service.resync();
      timers.push(
        setInterval(() => {
          service.sweepSettled().catch((error: unknown) => ctx.log.warn({ err: error }, "could not sweep settled bets from the book"));
        }, SWEEP_INTERVAL_MS).unref(),
      );
    },
    stop() {
      for (const timer of timers) clearInterval(timer);
    },
  };
};

async function sweepSettled(ctx: AppContext, book: ExposureBook): Promise<number> {
  const endedCol = Math.floor((ctx.now() - SETTLE_GRACE_MS) / ctx.config.COLUMN_MS);
  const ids = book.idsBeforeColumn(endedCol, SWEEP_IDS_MAX);
  const stillOpen = ctx.db.prepare("SELECT id FROM bets WHERE id IN (SELECT value FROM json_each(?)) AND status = 'open'");
  let removed = 0;
  for (let i = 0; i < ids.length; i += SWEEP_CHUNK) {
    const chunk = ids.slice(i, i + SWEEP_CHUNK);
    const open = new Set((stillOpen.all(JSON.stringify(chunk)) as { id: number }[]).map((r) => r.id));
    for (const id of chunk) if (!open.has(id) && book.remove(id)) removed++;
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  if (removed > 0) ctx.log.info({ removed }, "dropped settled bets from the exposure book (settlements not reported via onSettled)");
  return removed;
}

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
