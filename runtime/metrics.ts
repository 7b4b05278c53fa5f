import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

/**
 * One Prometheus registry per server instance, so several in one test process do not collide.
 * Modules register their own metrics on `registry`; the shared ones live here.
 */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const requestSeconds = new Histogram({
    name: "http_request_duration_seconds",
    help: "HTTP request latency by route and status",
    labelNames: ["method", "route", "status"] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  const batchSize = new Histogram({
    name: "batch_queue_batch_size",
    help: "Operations committed per transaction by the shared batch queue",
    buckets: [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500],
    registers: [registry],
  });
  const batchCommitSeconds = new Histogram({
    name: "batch_queue_commit_seconds",
    help: "Time to run and commit one batch transaction",
    buckets: [0.0002, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25],
    registers: [registry],
  });
  const batchQueueDepth = new Gauge({
    name: "batch_queue_depth",
    help: "Operations waiting in the shared batch queue",
    registers: [registry],
  });
  const batchQueueMax = new Gauge({
    name: "batch_queue_max",
    help: "The shared batch queue's bound (BATCH_QUEUE_MAX): beyond it writes are refused with 503 overloaded",
    registers: [registry],
  });
  const batchRejected = new Counter({
    name: "batch_queue_rejected_total",
    help: "Operations refused because the queue was full or closed",
    labelNames: ["reason"] as const,
    registers: [registry],
  });
  // Exported at 0 from the start, so an alert's increase() sees the first refusals too.
  for (const reason of ["full", "closed"]) batchRejected.inc({ reason }, 0);
  const jobRuns = new Counter({
    name: "job_runs_total",
    help: "Scheduled job runs by outcome",
    labelNames: ["job", "outcome"] as const,
    registers: [registry],
  });
  return { registry, requestSeconds, batchSize, batchCommitSeconds, batchQueueDepth, batchQueueMax, batchRejected, jobRuns };
}

export type Metrics = ReturnType<typeof createMetrics>;
