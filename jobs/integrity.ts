import { defineJob } from "../runtime/jobs.ts";
import { runIntegrityCheck } from "../services/bets/integrity.ts";
import { SCHEDULE } from "./_schedule.ts";

/**
 * The ledger audit (ADR-010) on its schedule (jobs/_schedule.ts); `npm run job -- integrity` runs it by hand and exits
 * with status 2 when it finds a problem. A failing audit is logged at error level for alerting.
 */
export default defineJob({
  name: "integrity",
  schedule: SCHEDULE.integrity,
  async run(ctx) {
    const report = await runIntegrityCheck(ctx);
    if (!report.ok) ctx.log.error({ problems: report.problems.slice(0, 10) }, "integrity check found problems");
    return report;
  },
});
