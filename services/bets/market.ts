import type { AppContext } from "../types.ts";
import { firstUnlockedColumn } from "../../domain/grid.ts";

/** The first column that still takes bets now (SPEC §4 lock-ahead). */
export function firstOpenColumn(ctx: AppContext): number {
  return firstUnlockedColumn(ctx.now(), { columnMs: ctx.config.COLUMN_MS, lockMs: ctx.config.LOCK_MS });
}
