import { defineHandler } from "h3";
import { useApp } from "../runtime/context.ts";

const READY = new Set(["ok", "not_configured"]);
/** Each check gets this long; the answer comes within it whatever a dependency does (issue 13: within 2 s). */
const CHECK_TIMEOUT_MS = 1500;

/** GET /readyz (API.md § Health): every check at once, each bounded; 503 "degraded" when one is not ok. */
export default defineHandler(async (event) => {
  const { readyChecks } = useApp(event);
  const entries = await Promise.all([...readyChecks].map(async ([name, check]) => [name, await bounded(check)] as const));
  const checks = Object.fromEntries(entries);
  const ready = entries.every(([, state]) => READY.has(state));
  event.res.status = ready ? 200 : 503;
  return { status: ready ? "ready" : "degraded", checks };
});

async function bounded(check: () => string | Promise<string>): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<string>((resolve) => (timer = setTimeout(() => resolve(`no answer within ${CHECK_TIMEOUT_MS} ms`), CHECK_TIMEOUT_MS)));
  try {
    return await Promise.race([Promise.resolve().then(check), timeout]).catch((error: unknown) => (error instanceof Error ? error.message : "failed"));
  } finally {
    clearTimeout(timer);
  }
}
