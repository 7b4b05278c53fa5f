import { defineHandler } from "h3";
import { useApp } from "../runtime/context.ts";
import { evaluateReadiness } from "../runtime/readiness.ts";

/** GET /readyz (API.md § Health): every check at once, each bounded; 503 "degraded" when one is not ok. */
export default defineHandler(async (event) => {
  const { ready, checks } = await evaluateReadiness(useApp(event).readyChecks);
  event.res.status = ready ? 200 : 503;
  return { status: ready ? "ready" : "degraded", checks };
});
