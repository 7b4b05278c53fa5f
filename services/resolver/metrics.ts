import { Counter, Gauge, Histogram, type Registry } from "prom-client";

/** The resolver's Prometheus metrics (SPEC §8: resolver lag). */
export interface ResolverGaugeSources {
  /** Open bets whose window ended more than the settle delay ago. */
  endedOpenBets: () => number;
  /** Open bets whose window ended more than STUCK_BET_GRACE_MS ago (the integrity check's `stuck_open_bet`). */
  stuckOpenBets: () => number;
}

/** A gauge read from the database at scrape time; while the database is closing it keeps its last value. */
function scrapedGauge(registry: Registry, name: string, help: string, read: () => number): Gauge {
  return new Gauge({
    name,
    help,
    registers: [registry],
    collect() {
      try {
        this.set(read());
      } catch {
        // the database is closing: keep the last value
      }
    },
  });
}

export function createResolverMetrics(registry: Registry, sources: ResolverGaugeSources) {
  return {
    lagSeconds: new Histogram({
      name: "resolver_settlement_lag_seconds",
      help: "From the moment a bet could be decided (touching tick, or window end) to its settlement commit",
      labelNames: ["outcome"] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers: [registry],
    }),
    settlements: new Counter({
      name: "resolver_settlements_total",
      help: "Bets settled by the resolver, by outcome",
      labelNames: ["outcome"] as const,
      registers: [registry],
    }),
    tickMatchSeconds: new Histogram({
      name: "resolver_tick_match_seconds",
      help: "Time to match one index tick against the open-bet index",
      buckets: [0.00001, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.01],
      registers: [registry],
    }),
    openBets: new Gauge({ name: "resolver_open_bets", help: "Open bets in the resolver's index", registers: [registry] }),
    pendingSettlements: new Gauge({
      name: "resolver_pending_settlements",
      help: "Decided bets whose settlement has not committed yet",
      registers: [registry],
    }),
    retrying: new Gauge({
      name: "resolver_settlements_retrying",
      help: "Bets whose settlement failed and waits for its next attempt (capped exponential backoff, never given up)",
      registers: [registry],
    }),
    endedOpenBets: scrapedGauge(
      registry,
      "resolver_ended_open_bets",
      "Bets still open although their window ended (beyond the settle delay): settlements that could not be written yet (counted up to 10 000)",
      sources.endedOpenBets,
    ),
    stuckOpenBets: scrapedGauge(
      registry,
      "resolver_stuck_open_bets",
      "Bets still open although their window ended longer ago than STUCK_BET_GRACE_MS (what the integrity check reports as stuck_open_bet; counted up to 10 000)",
      sources.stuckOpenBets,
    ),
    failures: new Counter({
      name: "resolver_settlement_failures_total",
      help: "Settlement operations that failed and were retried",
      registers: [registry],
    }),
  };
}

export type ResolverMetrics = ReturnType<typeof createResolverMetrics>;
