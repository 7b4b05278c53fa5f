import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { defineJob, loadJobs } from "../runtime/jobs.ts";
import { startTestServer, type TestServer } from "./helpers/server.ts";

describe("jobs", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({}, { jobsDir: join(import.meta.dirname, "fixtures", "jobs") });
  });
  afterAll(async () => {
    await server.stop();
  });

  it("loads each file of jobs/ as a declared job", async () => {
    const jobs = await loadJobs(join(import.meta.dirname, "..", "jobs"));
    for (const job of jobs) expect(job).toMatchObject({ name: expect.any(String), schedule: expect.any(String) });
  });

  it("refuses an invalid cron schedule", () => {
    expect(() => defineJob({ name: "x", schedule: "every tuesday", run() {} })).toThrow(/schedule/);
  });

  it("runs a job by name and never two runs of the same job at once", async () => {
    const [a, b] = await Promise.all([server.jobs.run("slow"), server.jobs.run("slow")]);
    expect([a.skipped, b.skipped].sort()).toEqual([false, true]);
    const c = await server.jobs.run("slow");
    expect(c.skipped).toBe(false);
    expect(c.result).toEqual({ runs: 2 });
  });

  it("runs jobs of one lock one after another, also after a failed run", async () => {
    const { lockedRuns } = await import("./fixtures/jobs/locked.ts");
    const [b, a] = await Promise.allSettled([server.jobs.run("locked-b"), server.jobs.run("locked-a")]);
    expect(b.status).toBe("rejected");
    expect(a.status).toBe("fulfilled");
    const [first, second] = lockedRuns;
    expect([first?.job, second?.job]).toEqual(["locked-b", "locked-a"]);
    expect(second!.startedAt).toBeGreaterThanOrEqual(first!.endedAt);
  });

  it("names the jobs it has when asked for an unknown one", async () => {
    await expect(server.jobs.run("nope")).rejects.toThrow(/slow/);
  });

  it("is not scheduled in tests (JOBS_ENABLED=false)", () => {
    expect(server.ctx.config.JOBS_ENABLED).toBe(false);
  });
});
