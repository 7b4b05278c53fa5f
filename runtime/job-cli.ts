import { writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { ConfigError, loadConfig } from "./config.ts";
import { createContext } from "./context.ts";
import { JobRunner, loadJobs } from "./jobs.ts";

/** `npm run job -- <name>`: runs one job once against DATA_DIR, prints its result as JSON. */
async function main() {
  const name = process.argv[2];
  const jobsDir = join(dirname(fileURLToPath(import.meta.url)), "..", "jobs");
  const jobs = await loadJobs(jobsDir);
  if (!name) {
    process.stderr.write(`usage: npm run job -- <name>\njobs: ${jobs.map((j) => j.name).join(", ")}\n`);
    process.exit(64);
  }
  // This is already the job's own process: run it here (ARCHIVE_MODE=inline), never spawn again.
  // A job is one short task: its writes run on its own loop (no writer thread to start and stop).
  const config = loadConfig({ ...process.env, JOBS_ENABLED: "false", ARCHIVE_MODE: "inline", WRITER_MODE: "inline" });
  const booted = await createContext(config);
  const runner = new JobRunner(booted.ctx, jobs);
  booted.ctx.services.jobs = runner;
  let code = 0;
  try {
    // Modules are installed but not started: a job needs storage, not live price feeds.
    const { result } = await runner.run(name);
    const json = JSON.stringify(result ?? null, null, 2);
    process.stdout.write(`${json}\n`);
    // A parent process (runtime/job-child.ts) reads the result from here, apart from the logs.
    if (process.env.JOB_RESULT_FILE) writeFileSync(process.env.JOB_RESULT_FILE, json);
    if (result && typeof result === "object" && (result as { ok?: unknown }).ok === false) code = 2;
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    code = 1;
  } finally {
    await booted.close();
  }
  process.exit(code);
}

main().catch((error) => {
  process.stderr.write(`${error instanceof ConfigError ? error.message : String(error)}\n`);
  process.exit(1);
});
