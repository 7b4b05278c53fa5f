/**
 * The ceiling to compare against (SPEC §10: ≥ 50 % of a bare Node HTTP server measured in the same
 * run): a bare node:http server answering a JSON body, then the app's GET /healthz, with the same
 * load tool and settings.   npx tsx scripts/bench-baseline.ts [seconds=5] [appUrl]
 */
import { spawn } from "node:child_process";
import { formatLoad, runLoad } from "./lib/load.ts";

const seconds = Number(process.argv[2] ?? 5);
const appUrl = process.argv[3];

const bare = spawn(
  process.execPath,
  [
    "-e",
    `require("node:http").createServer((q, s) => { s.writeHead(200, {"content-type": "application/json"}); s.end('{"status":"ok"}'); })` +
      `.listen(0, "127.0.0.1", function () { console.log(this.address().port); });`,
  ],
  { stdio: ["ignore", "pipe", "inherit"] },
);
const port = await new Promise<number>((resolve) => bare.stdout!.once("data", (d) => resolve(Number(String(d).trim()))));
try {
  const base = await runLoad({ url: `http://127.0.0.1:${port}/`, connections: 64, durationSec: seconds });
  console.log(formatLoad("bare node:http", base));
  if (appUrl) {
    const app = await runLoad({ url: `${appUrl}/healthz`, connections: 64, durationSec: seconds });
    console.log(formatLoad("app GET /healthz", app));
    console.log(`app / bare = ${((app.achievedPerSec / base.achievedPerSec) * 100).toFixed(0)} %`);
  }
} finally {
  bare.kill();
}
