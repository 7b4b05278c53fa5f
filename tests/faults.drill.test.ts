import { spawn } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { requireService } from "./helpers/services.ts";

// The fault drill of issue 13 (scripts/fault-drill.sh) as part of the suite: a real server process
// and redis-server; disk full on a tmpfs while windows end (needs root to mount it: skipped only
// when neither root nor CI=true, and under CI=true the drill itself fails without root), Redis
// SIGSTOP, Redis killed and restarted. The drill prints every expectation and exits 1 on a failure.
const root = join(import.meta.dirname, "..");
const isRoot = process.getuid?.() === 0;
const parts = isRoot || process.env.CI === "true" ? "disk,redis-stop,redis-kill" : "redis-stop,redis-kill";

describe.runIf(requireService("redis-server"))("faults: the drill script", () => {
  it(`passes (${parts})`, async () => {
    const child = spawn("bash", [join(root, "scripts", "fault-drill.sh"), "--only", parts], { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (out += d));
    const code = await new Promise<number | null>((resolve) => child.once("exit", (c) => resolve(c)));
    const summary = out
      .split("\n")
      .filter((line) => !line.startsWith("{"))
      .join("\n");
    expect(summary).toMatch(/fault drill: PASSED/);
    expect(code, summary).toBe(0);
    if (parts.includes("disk")) expect(summary).toMatch(/ok {3}every ended bet settled within 30 s/);
  }, 240_000);
});
