import { defineHandler } from "h3";
import { useApp } from "../runtime/context.ts";

const READY = new Set(["ok", "not_configured"]);

export default defineHandler(async (event) => {
  const { readyChecks } = useApp(event);
  const checks: Record<string, string> = {};
  for (const [name, check] of readyChecks) {
    try {
      checks[name] = await check();
    } catch (error) {
      checks[name] = error instanceof Error ? error.message : "failed";
    }
  }
  const ready = Object.values(checks).every((state) => READY.has(state));
  event.res.status = ready ? 200 : 503;
  return { status: ready ? "ready" : "degraded", checks };
});
