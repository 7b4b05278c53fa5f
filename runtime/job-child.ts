import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Config } from "./config.ts";
import { moduleUrl, nodeArgsFor } from "../storage/workers.ts";
import { processHolder } from "./lease-keeper.ts";

const cli = fileURLToPath(moduleUrl("./job-cli.ts", import.meta.url));
const OUTPUT_BYTES_MAX = 4 * 1024 * 1024;

/** The environment that reproduces `config` in another process (every key is an env variable). */
export function configToEnv(config: Config): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(config)) {
    if (value === undefined) continue;
    env[key] = Array.isArray(value) ? value.join(",") : String(value);
  }
  return env;
}

/**
 * Runs a job through `runtime/job-cli.ts` in a child process with this process's configuration
 * and resolves with the job's JSON result. Exit 2 (a report with `ok: false`) still resolves with
 * the report; any other failure rejects with what the child said.
 */
export function runJobInChild(config: Config, name: string, extraEnv: Record<string, string> = {}): Promise<unknown> {
  const dir = mkdtempSync(join(tmpdir(), "tap-job-"));
  const resultFile = join(dir, "result.json");
  return new Promise<unknown>((resolve, reject) => {
    const child = spawn(process.execPath, [...nodeArgsFor(cli), name], {
      // LEASE=on: the job writes under this process's lease (its fence names this process as the holder).
      env: { ...process.env, ...configToEnv(config), JOBS_ENABLED: "false", ...(config.LEASE === "on" ? { LEASE_HOLDER: processHolder } : {}), ...extraEnv, JOB_RESULT_FILE: resultFile },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (d) => {
      if (stdout.length < OUTPUT_BYTES_MAX) stdout += d;
    });
    child.stderr!.on("data", (d) => {
      if (stderr.length < OUTPUT_BYTES_MAX) stderr += d;
    });
    child.once("error", reject);
    child.once("exit", (code) => {
      if (code !== 0 && code !== 2) return reject(new Error(`job ${name} failed in its process (exit ${code}): ${stderr.trim().slice(-2000)}`));
      try {
        resolve(JSON.parse(readFileSync(resultFile, "utf8")));
      } catch {
        reject(new Error(`job ${name} left no result: ${stdout.slice(-500)} ${stderr.slice(-500)}`));
      }
    });
  }).finally(() => rmSync(dir, { recursive: true, force: true }));
}
