/**
 * `npm run bench`: the bet-placement benchmark of SPEC §10, end to end on this machine.
 * Starts the app (its own process, temp DATA_DIR, synthetic prices) and nginx in front of it
 * (the repository's config, rendered for free ports), measures a bare node:http server with the
 * same load tool as the ceiling, then runs scripts/bench-bets.ts through nginx: offered and
 * achieved bets/s, p50/p99/max, errors, and the data check (201s = rows, integrity passes).
 *
 *   npm run bench -- [--rate 3000] [--duration 60] [--warmup 5] [--players N] [--connections N] [--direct] [--keep]
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { renderNginx, startNginx } from "./lib/nginx.ts";
import { runLoad, formatLoad, startBareServer } from "./lib/load.ts";
import { startChildServer } from "../tests/helpers/child.ts";
import { freePort } from "../tests/helpers/services.ts";
import { flag, option } from "./lib/args.ts";

const rate = option("rate", "3000");
const duration = option("duration", "60");
const warmup = option("warmup", "5");
const direct = flag("direct");

const dataDir = mkdtempSync(join(tmpdir(), "tap-bench-"));
const nginxDir = mkdtempSync(join(tmpdir(), "tap-bench-nginx-"));
const adminToken = randomBytes(24).toString("hex");
const cleanups: (() => Promise<void> | void)[] = [];

try {
  const app = await startChildServer({
    DATA_DIR: dataDir,
    ADMIN_TOKEN: adminToken,
    PRICE_SOURCES: "synthetic",
    LOG_LEVEL: "info", // the "listening" line tells the URL; requests log at debug
    NODE_ENV: "production",
    DEMO_BALANCE_MICRO_USD: "1000000000",
    ...Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith("TAP_")).map(([k, v]) => [k.slice(4), v!])),
  });
  cleanups.push(async () => {
    app.child.kill("SIGTERM");
    await app.exited;
  });
  const appPort = Number(new URL(app.url).port);
  let target = app.url;
  if (!direct) {
    const plainPort = await freePort();
    const conf = renderNginx({
      prefixDir: nginxDir,
      appPort,
      plainPort,
      tlsPort: await freePort(),
      redirectPort: await freePort(),
    });
    const nginx = await startNginx(conf, nginxDir, plainPort);
    cleanups.push(() => nginx.stop());
    target = `http://127.0.0.1:${plainPort}`;
  }
  console.log(`app ${app.url}${direct ? "" : `, nginx ${target}`}, data ${dataDir}`);

  const bare = await startBareServer(201);
  cleanups.push(() => bare.stop());
  const ceiling = await runLoad({ url: bare.url, method: "POST", body: "{}", connections: 128, durationSec: 5 });
  console.log(formatLoad("ceiling: bare node:http", ceiling));
  bare.stop();

  const betArgs = ["--import", "tsx", join(import.meta.dirname, "bench-bets.ts"), "--url", target, "--admin-token", adminToken, "--rate", rate, "--duration", duration, "--warmup", warmup];
  if (flag("players")) betArgs.push("--players", option("players", "1000"));
  if (flag("connections")) betArgs.push("--connections", option("connections", "512"));
  const code = await new Promise<number>((resolve) => {
    const child = spawn(process.execPath, betArgs, { stdio: "inherit" });
    child.once("exit", (c) => resolve(c ?? 1));
  });
  console.log(`(ceiling measured above: ${ceiling.achievedPerSec}/s for a bare node:http server with the same tool)`);
  process.exitCode = code;
} finally {
  for (const cleanup of cleanups.reverse()) await cleanup();
  if (!flag("keep")) {
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(nginxDir, { recursive: true, force: true });
  }
}
