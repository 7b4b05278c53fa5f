import type { InstallModule } from "../types.ts";
import { Resolver, type ResolverOptions } from "./resolver.ts";
import { reResolveSample } from "./re-resolve.ts";

export type { ResolverService, OpenBet } from "./types.ts";

declare module "../types.ts" {
  interface Services {
    resolver: Resolver;
  }
}

/**
 * The resolver module: settles open bets from index ticks (services/resolver/resolver.ts) and adds
 * the re-resolution sample to the integrity check of the bets module.
 */
export const installResolver: InstallModule = (ctx) => {
  const { config } = ctx;
  const options: ResolverOptions = {
    // One monitor check (a gap that began before t1 is recorded by then) plus a couple of batch flushes.
    settleDelayMs: config.PRICE_CHECK_INTERVAL_MS + 4 * config.BATCH_FLUSH_INTERVAL_MS + 250,
    sweepIntervalMs: 100,
    // A paid settlement costs ~100–160 µs of writer time under load (update + payout/refund transfer):
    // ≈ 2–3 ms per operation; the queue's per-transaction time budget decides how many share a batch.
    chunkSize: 20,
    // Enough in flight that settling is not bound by the queue's round trip: at 3 000 bets/s a
    // column ends with tens of thousands of bets to settle while the queue answers in 10–100 ms; with
    // 4 in flight (80 bets per round trip) settling fell behind placing for good (README, the write path).
    opsInFlightMax: 16,
    deferMaxMs: 5000,
    orphanSweepIntervalMs: 5000,
    lossYieldQueueDepth: config.RESOLVER_LOSS_YIELD_DEPTH,
    retryBaseMs: 100,
    // The longest a settlement waits once the disk has room again.
    retryMaxMs: 2000,
  };
  const resolver = new Resolver(ctx, options);
  ctx.services.resolver = resolver;
  // Readiness: degraded while a settlement waits for a retry (the write path is failing for it).
  ctx.readyChecks.set("settlement", () => {
    const retrying = resolver.retryingCount();
    return retrying === 0 ? "ok" : `${retrying} settlements failed and wait for a retry`;
  });
  ctx.services.bets?.integrityExtensions?.set("re-resolution", (_ctx, reader) => reResolveSample(reader, config.PRICE_STALE_MS).problems);
  return {
    start: () => resolver.start(),
    stop: () => resolver.stop(),
  };
};
