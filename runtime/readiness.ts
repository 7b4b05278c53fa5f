import { Gauge } from "prom-client";
import type { Metrics } from "./metrics.ts";
import type { ReadyCheck } from "../services/types.ts";

/** The answers of a check that count as ready. */
const READY = new Set(["ok", "not_configured"]);
/** Each check gets this long; the answer comes within it whatever a dependency does (issue 13: within 2 s). */
const CHECK_TIMEOUT_MS = 1500;

export interface Readiness {
  ready: boolean;
  checks: Record<string, string>;
}

/** Runs every check at once, each bounded by CHECK_TIMEOUT_MS (GET /readyz and the readiness gauges). */
export async function evaluateReadiness(readyChecks: Map<string, ReadyCheck>): Promise<Readiness> {
  const entries = await Promise.all([...readyChecks].map(async ([name, check]) => [name, await bounded(check)] as const));
  return { ready: entries.every(([, state]) => READY.has(state)), checks: Object.fromEntries(entries) };
}

export function isReadyState(state: string): boolean {
  return READY.has(state);
}

async function bounded(check: ReadyCheck): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<string>((resolve) => (timer = setTimeout(() => resolve(`no answer within ${CHECK_TIMEOUT_MS} ms`), CHECK_TIMEOUT_MS)));
  try {
    return await Promise.race([Promise.resolve().then(check), timeout]).catch((error: unknown) => (error instanceof Error ? error.message : "failed"));
  } finally {
    clearTimeout(timer);
  }
}

/**
 * `/readyz` as a gauge, evaluated at scrape time with the same checks and bounds as the route (so an
 * alert sees what a load balancer would, without anyone calling /readyz): `readiness_check_ok{check}`
 * is 1 per check that is ok or not configured, 0 per check that makes /readyz answer "degraded".
 */
export function registerReadinessMetrics(metrics: Metrics, readyChecks: Map<string, ReadyCheck>): void {
  new Gauge({
    name: "readiness_check_ok",
    help: "1 when the /readyz check is ok (or not configured), 0 when it makes /readyz answer degraded (evaluated at scrape time)",
    labelNames: ["check"] as const,
    registers: [metrics.registry],
    async collect() {
      const { checks } = await evaluateReadiness(readyChecks);
      this.reset();
      for (const [name, state] of Object.entries(checks)) this.set({ check: name }, isReadyState(state) ? 1 : 0);
    },
  });
}
