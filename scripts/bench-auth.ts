/**
 * Auth benchmark (issue 3): POST /api/auth/verify per second (each request a fresh nonce and a real
 * signature, so every one does the full check and the EIP-191 recovery, and the first sign-in of an
 * address also creates its account) and GET /api/me per second with a valid token.
 * The server runs as a separate process (`npx tsx runtime/main.ts`, temp DATA_DIR, embedded store
 * unless REDIS_URL is set in the environment); the load comes from autocannon in this process.
 *   npx tsx scripts/bench-auth.ts [verifies=2000] [meSeconds=4] [connections=32]
 */
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { recoverPersonalSigner } from "../domain/eip191.ts";
import { formatLoad, fromAutocannon } from "./lib/load.ts";
import { freePort, waitForPort } from "../tests/helpers/services.ts";

const verifies = Number(process.argv[2] ?? 2000);
const meSeconds = Number(process.argv[3] ?? 4);
const connections = Number(process.argv[4] ?? 32);
const ACCOUNTS = 200;

// autocannon ships no types (and @types/autocannon is not installed): the little used here, typed locally.
type Autocannon = (options: Record<string, unknown>) => Promise<Parameters<typeof fromAutocannon>[0]>;
const autocannon = createRequire(import.meta.url)("autocannon") as Autocannon;

const port = await freePort();
const dataDir = mkdtempSync(join(tmpdir(), "tap-bench-auth-"));
const server = spawn("npx", ["tsx", "runtime/main.ts"], {
  cwd: join(import.meta.dirname, ".."),
  env: { ...process.env, PORT: String(port), DATA_DIR: dataDir, PRICE_SOURCES: "manual", LOG_LEVEL: "warn", JOBS_ENABLED: "false", NODE_ENV: "test" },
  stdio: ["ignore", "inherit", "inherit"],
  detached: true,
});
const url = `http://127.0.0.1:${port}`;

async function post(path: string, json: unknown, token?: string) {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (token) headers.authorization = `Bearer ${token}`;
  return fetch(url + path, { method: "POST", headers, body: JSON.stringify(json) });
}

/** `count` signed sign-in bodies, each with its own nonce, spread over ACCOUNTS addresses. */
async function prepareBodies(count: number): Promise<string[]> {
  const accounts = Array.from({ length: ACCOUNTS }, () => privateKeyToAccount(generatePrivateKey()));
  const bodies: string[] = [];
  for (let start = 0; start < count; start += 100) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(100, count - start) }, async (_, i) => {
        const account = accounts[(start + i) % ACCOUNTS]!;
        const { message } = (await (await post("/api/auth/nonce", { address: account.address })).json()) as { message: string };
        return JSON.stringify({ message, signature: await account.signMessage({ message }) });
      }),
    );
    bodies.push(...batch);
  }
  return bodies;
}

/** The CPU cost of the signature check alone, in this process, for scale. */
function recoveryPerSec(message: string, signature: string): number {
  const started = performance.now();
  let n = 0;
  while (performance.now() - started < 1000) {
    recoverPersonalSigner(message, signature);
    n++;
  }
  return Math.round((n * 1000) / (performance.now() - started));
}

try {
  await waitForPort(port, 30_000);
  const t0 = performance.now();
  const bodies = await prepareBodies(verifies);
  console.log(`prepared ${bodies.length} signed messages for ${ACCOUNTS} addresses in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

  let next = 0;
  const tokens: string[] = [];
  const verifyRun = await autocannon({
    url,
    connections,
    amount: bodies.length,
    requests: [
      {
        method: "POST",
        path: "/api/auth/verify",
        headers: { "content-type": "application/json" },
        setupRequest: (req: Record<string, unknown>) => ({ ...req, body: bodies[next++ % bodies.length] }),
        onResponse: (status: number, body: string) => {
          if (status === 200 && tokens.length < 10) tokens.push((JSON.parse(body) as { token: string }).token);
        },
      },
    ],
  });
  console.log(formatLoad("POST /api/auth/verify", fromAutocannon(verifyRun, null)));

  const token = tokens[0];
  if (!token) throw new Error("no verify succeeded");
  const meRun = await autocannon({ url: `${url}/api/me`, connections, duration: meSeconds, headers: { authorization: `Bearer ${token}` } });
  console.log(formatLoad("GET /api/me (valid token)", fromAutocannon(meRun, null)));

  const sample = JSON.parse(bodies[0]!) as { message: string; signature: string };
  console.log(`EIP-191 recovery alone (this process, one core): ${recoveryPerSec(sample.message, sample.signature)}/s`);
} finally {
  if (server.pid) process.kill(-server.pid, "SIGTERM");
  await new Promise((resolve) => server.once("exit", resolve));
  rmSync(dataDir, { recursive: true, force: true });
}
