import type { BetJson } from "./bet-json.ts";
import type { CellExposure } from "./exposure-book.ts";
import type { PlaceBetBody } from "./request.ts";
import type { IntegrityExtension } from "./integrity.ts";

export interface Player {
  address: string;
  accountId: number;
}

export interface PlaceBetAnswer {
  /** 201 for a new bet, 200 for an idempotent retry of an earlier one. */
  status: 200 | 201;
  bet: BetJson;
  balanceMicroUsd: number;
}

export interface ExposureSnapshot {
  openBets: number;
  stakeMicroUsd: number;
  payoutMicroUsd: number;
  columns: { col: number; bets: number; stakeMicroUsd: number; payoutMicroUsd: number }[];
  cells: CellExposure[];
}

/**
 * The bets module (services/bets/): placement, open-exposure bookkeeping, ledger reads, integrity.
 *
 * For the resolver: after a settlement of bet `id` has COMMITTED (won, lost or void), call
 * `ctx.services.bets.onSettled(id)` so this process's open-bet book and exposure figures drop it.
 * It is idempotent and cheap (a map delete); forgetting it only leaves the in-memory book stale until
 * a periodic sweep drops bets of long-ended columns that are no longer open (services/bets/index.ts);
 * it never lets a limit be exceeded — the limits are re-checked in the database inside each bet's
 * transaction.
 */
export interface BetsService {
  place(player: Player, body: PlaceBetBody, options?: { assertMarketOpen?: () => void }): Promise<PlaceBetAnswer>;
  onSettled(betId: number | { id: number }): void;
  /** Open exposure as this process sees it (in-memory book). */
  exposure(): ExposureSnapshot;
  /** Rebuilds the in-memory book from the open bets in the database. */
  resync(): void;
  /** Drops bets of long-ended columns that are no longer open (runs periodically); returns how many. */
  sweepSettled(): Promise<number>;
  /** Extra integrity checks registered by other modules (e.g. the resolver's re-resolution sample). */
  integrityExtensions: Map<string, IntegrityExtension>;
}

declare module "../types.ts" {
  interface Services {
    bets: BetsService;
  }
}
