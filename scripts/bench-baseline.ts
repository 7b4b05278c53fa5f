/**
 * The ceiling to compare against (SPEC §10: ≥ 50 % of a bare Node HTTP server measured in the same
 * run): a bare node:http server answering a JSON body, then the app's GET /healthz, with the same
 * load tool and settings.   npx tsx scripts/bench-baseline.ts [seconds=5] [appUrl]
 */
import { formatLoad, runLoad, startBareServer } from "./lib/load.ts";

const seconds = Number(process.argv[2] ?? 5);
const appUrl = process.argv[3];

const bare = await startBareServer(200);
try {
  const base = await runLoad({ url: bare.url, connections: 64, durationSec: seconds });
  console.log(formatLoad("bare node:http", base));
  if (appUrl) {
    const app = await runLoad({ url: `${appUrl}/healthz`, connections: 64, durationSec: seconds });
    console.log(formatLoad("app GET /healthz", app));
    console.log(`app / bare = ${((app.achievedPerSec / base.achievedPerSec) * 100).toFixed(0)} %`);
  }
} finally {
  bare.stop();
}
