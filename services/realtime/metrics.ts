import { Counter, Gauge, Histogram } from "prom-client";
import type { Metrics } from "../../runtime/metrics.ts";

/** Why the server closes a connection (`ws_clients_dropped_total{reason}`). */
const DROP_REASONS = ["slow", "flood", "full", "unauthorized", "not_ready"] as const;

/**
 * Every reason exported at 0 from the start: an alert's `increase()` needs a sample before the first
 * drop, or the first burst of drops would be the series' first sample and count as no increase.
 */
function zeroed<T extends Counter<"reason">>(counter: T, reasons: readonly string[]): T {
  for (const reason of reasons) counter.inc({ reason }, 0);
  return counter;
}

export function createRealtimeMetrics(metrics: Metrics, clients: () => number) {
  const registers = [metrics.registry];
  new Gauge({
    name: "ws_clients",
    help: "Open WebSocket connections",
    registers,
    collect() {
      this.set(clients());
    },
  });
  return {
    sent: new Counter({ name: "ws_messages_sent_total", help: "Frames written to WebSocket clients", registers }),
    dropped: zeroed(
      new Counter({
        name: "ws_clients_dropped_total",
        help: "Connections the server closed or refused: slow (send buffer over the bound), flood, full, unauthorized, not_ready (an edge without the market stream)",
        labelNames: ["reason"] as const,
        registers,
      }),
      DROP_REASONS,
    ),
    badFrames: new Counter({ name: "ws_bad_frames_total", help: "Client frames ignored as malformed or unknown", registers }),
    broadcastSeconds: new Histogram({
      name: "ws_broadcast_seconds",
      help: "Time to hand the frames of one turn (usually one tick) to every connection",
      buckets: [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1],
      registers,
    }),
  };
}

export type RealtimeMetrics = ReturnType<typeof createRealtimeMetrics>;
