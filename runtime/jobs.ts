import { readdirSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import cron from "node-cron";
import type { AppContext } from "./context.ts";

declare module "../services/types.ts" {
  interface Services {
    jobs: JobRunner;
  }
}

/** A declared side-effect job: one file in jobs/ default-exports one of these. */
export interface Job {
  name: string;
  /** node-cron expression, evaluated in UTC (jobs/_schedule.ts holds them all). */
  schedule: string;
  /** Jobs with the same lock run one after another: a run waits for the other's to finish. */
  lock?: string;
  run(ctx: AppContext): Promise<unknown> | unknown;
}

export function defineJob(job: Job): Job {
  if (!cron.validate(job.schedule)) throw new Error(`job ${job.name}: invalid cron schedule "${job.schedule}"`);
  return job;
}

export async function loadJobs(dir: string): Promise<Job[]> {
  const jobs: Job[] = [];
  for (const file of readdirSync(dir).sort()) {
    if (file.startsWith("_") || !/\.(ts|mjs|js)$/.test(file) || /\.(test|d)\./.test(file)) continue;
    const mod = (await import(pathToFileURL(join(dir, file)).href)) as { default?: Job };
    if (!mod.default?.name || typeof mod.default.run !== "function") throw new Error(`${file} must default-export a job`);
    jobs.push(mod.default);
  }
  const names = new Set<string>();
  for (const job of jobs) {
    if (names.has(job.name)) throw new Error(`two jobs are named ${job.name}`);
    names.add(job.name);
  }
  return jobs;
}

/** Runs jobs by name, never two runs of the same job at once, nor two jobs of one lock. */
export class JobRunner {
  readonly #running = new Map<string, Promise<unknown>>();
  /** Per lock, the end of the last run queued on it. */
  readonly #locks = new Map<string, Promise<unknown>>();
  constructor(
    private readonly ctx: AppContext,
    readonly jobs: Job[],
  ) {}

  /** Runs a job now; a job already running is not started again (returns `{ skipped: true }`). */
  async run(name: string): Promise<{ skipped: boolean; result?: unknown }> {
    const job = this.jobs.find((j) => j.name === name);
    if (!job) throw new Error(`no job named ${name} (have: ${this.jobs.map((j) => j.name).join(", ")})`);
    if (this.#running.has(name)) {
      this.ctx.metrics.jobRuns.inc({ job: name, outcome: "skipped" });
      return { skipped: true };
    }
    const held = job.lock ? this.#locks.get(job.lock) : undefined;
    let started = performance.now();
    const promise = (held ?? Promise.resolve()).then(() => {
      started = performance.now();
      return job.run(this.ctx);
    });
    this.#running.set(name, promise);
    if (job.lock) {
      const lock = job.lock;
      const released = promise.catch(() => {}); // a failed run releases the lock too
      this.#locks.set(lock, released);
      void released.then(() => {
        if (this.#locks.get(lock) === released) this.#locks.delete(lock);
      });
    }
    try {
      const result = await promise;
      this.ctx.metrics.jobRuns.inc({ job: name, outcome: "ok" });
      this.ctx.log.info({ job: name, ms: Math.round(performance.now() - started) }, "job finished");
      return { skipped: false, result };
    } catch (error) {
      this.ctx.metrics.jobRuns.inc({ job: name, outcome: "failed" });
      this.ctx.log.error({ job: name, err: error }, "job failed");
      throw error;
    } finally {
      this.#running.delete(name);
    }
  }

  /** Waits for runs in progress (shutdown). */
  async idle(): Promise<void> {
    await Promise.allSettled([...this.#running.values()]);
  }
}

/** Schedules every job with node-cron (UTC); returns a function that stops the schedule. */
export function scheduleJobs(runner: JobRunner): () => void {
  const tasks = runner.jobs.map((job) =>
    cron.schedule(job.schedule, () => void runner.run(job.name).catch(() => {}), { timezone: "Etc/UTC", name: job.name }),
  );
  return () => {
    for (const task of tasks) void task.stop();
  };
}
