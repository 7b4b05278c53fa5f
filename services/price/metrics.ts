import { Counter, Gauge } from "prom-client";
import type { Metrics } from "../../runtime/metrics.ts";
import type { PriceService } from "./types.ts";
import { SOURCE_STATES } from "../../domain/price/source-machine.ts";

/** Prometheus metrics of the price module; gauges are computed at scrape time from live state. */
export function createPriceMetrics(metrics: Metrics, price: () => PriceService, now: () => number) {
  const registers = [metrics.registry];
  new Gauge({
    name: "price_index_age_seconds",
    help: "Age of the newest index tick (-1 before the first tick)",
    registers,
    collect() {
      const latest = price().latest();
      this.set(latest ? Math.max(0, now() - latest.t) / 1000 : -1);
    },
  });
  new Gauge({
    name: "price_circuit_open",
    help: "Stale-price circuit breaker: 1 open (bets refused), 0 closed",
    registers,
    collect() {
      this.set(price().circuit() === "open" ? 1 : 0);
    },
  });
  new Gauge({
    name: "price_source_healthy",
    help: "1 when the source is fresh, connected and not an outlier",
    labelNames: ["source"] as const,
    registers,
    collect() {
      for (const s of price().sources()) this.set({ source: s.name }, s.healthy ? 1 : 0);
    },
  });
  new Gauge({
    name: "price_source_age_seconds",
    help: "Age of the source's last price (-1 before its first price)",
    labelNames: ["source"] as const,
    registers,
    collect() {
      for (const s of price().sources()) this.set({ source: s.name }, s.ageMs === null ? -1 : s.ageMs / 1000);
    },
  });
  new Gauge({
    name: "price_source_state",
    help: "The source's state machine: 1 for its current state (connecting, subscribing, live, stale, unhealthy, backoff, reconnecting)",
    labelNames: ["source", "state"] as const,
    registers,
    collect() {
      this.reset();
      for (const s of price().sources()) for (const state of SOURCE_STATES) this.set({ source: s.name, state }, s.state === state ? 1 : 0);
    },
  });
  new Gauge({
    name: "price_source_event_lag_seconds",
    help: "Exchange event time to arrival of the source's last accepted price (-1 before the first)",
    labelNames: ["source"] as const,
    registers,
    collect() {
      for (const s of price().sources()) this.set({ source: s.name }, s.eventLagMs === null ? -1 : s.eventLagMs / 1000);
    },
  });
  return {
    sourceTransitions: new Counter({
      name: "price_source_transitions_total",
      help: "Source state machine transitions",
      labelNames: ["source", "from", "to"] as const,
      registers,
    }),
    refusedSubscriptions: new Counter({
      name: "price_source_refused_subscriptions_total",
      help: "Subscriptions the exchange refused or never answered",
      labelNames: ["source"] as const,
      registers,
    }),
    messages: new Counter({
      name: "price_source_messages_total",
      help: "Frames from the exchange by kind (price, alive, subscribed, refused, error, status, shutdown, invalid)",
      labelNames: ["source", "kind"] as const,
      registers,
    }),
    pricesDropped: new Counter({
      name: "price_source_prices_dropped_total",
      help: "Prices not used: old (event time past PRICE_STALE_MS), out_of_order (older event time or sequence), no_event_time (a snapshot of unknown age)",
      labelNames: ["source", "why"] as const,
      registers,
    }),
    ticks: new Counter({ name: "price_index_ticks_total", help: "Index ticks produced", registers }),
    transitions: new Counter({
      name: "price_circuit_transitions_total",
      help: "Circuit breaker changes by new state",
      labelNames: ["state"] as const,
      registers,
    }),
    reconnects: new Counter({
      name: "price_source_reconnects_total",
      help: "Exchange connections re-established after a loss",
      labelNames: ["source"] as const,
      registers,
    }),
    parseErrors: new Counter({
      name: "price_source_parse_errors_total",
      help: "Frames from an exchange that failed its message schema",
      labelNames: ["source"] as const,
      registers,
    }),
    persistFailures: new Counter({
      name: "price_persist_failures_total",
      help: "Index ticks or stale gaps the batch queue could not store",
      labelNames: ["kind"] as const,
      registers,
    }),
  };
}

export type PriceMetrics = ReturnType<typeof createPriceMetrics>;
