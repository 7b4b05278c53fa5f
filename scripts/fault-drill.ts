/**
 * Fault drill (issue 13): a real server process, a real redis-server, and three faults an operator
 * meets on a bad day. Prints what it saw and exits 1 when an expectation failed.
 *
 *   1. disk full  — DATA_DIR on a small tmpfs (root only) that a filler file fills while windows end:
 *                   bets answer 201 or 503 `unavailable`, never another 5xx; /readyz goes degraded.
 *                   The filler is removed: every bet whose window ended is settled within 30 s and
 *                   the integrity check passes, without a restart.
 *   2. Redis hung — SIGSTOP: every request answers within 5 s (503 where Redis is needed); SIGCONT.
 *   3. Redis down — SIGKILL: 503 `unavailable`; restarted: sign-in works again.
 *
 *   npx tsx scripts/fault-drill.ts [--only disk,redis-stop,redis-kill]
 *   bash scripts/fault-drill.sh     (the same; the suite runs it from tests/faults.drill.test.ts)
 *
 * Without root the disk part is skipped (a tmpfs needs mounting), except under CI=true, where it fails.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { freePort } from "../tests/helpers/services.ts";

const root = join(import.meta.dirname, "..");
const ADMIN_TOKEN = "fault-drill-admin-token-0123456789";
const COLUMN_MS = 2000;
const TMPFS_SIZE = "40m";
const REQUEST_LIMIT_MS = 5000;
const SETTLE_LIMIT_MS = 30_000;

const failures: string[] = [];
function expect(ok: boolean, what: string): void {
  console.log(`${ok ? "  ok  " : "  FAIL"} ${what}`);
  if (!ok) failures.push(what);
}
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitUntil(what: string, condition: () => Promise<boolean>, timeoutMs: number): Promise<number | undefined> {
  const started = Date.now();
  while (Date.now() - started < timeoutMs) {
    if (await condition().catch(() => false)) return Date.now() - started;
    await sleep(100);
  }
  console.log(`  (gave up waiting for ${what} after ${timeoutMs} ms)`);
  return undefined;
}

// ── processes ────────────────────────────────────────────────────────────────────────────────

interface RedisProcess {
  url: string;
  child: ChildProcess;
  start(): Promise<void>;
  kill(): Promise<void>;
}

async function startRedis(dir: string): Promise<RedisProcess> {
  const port = await freePort();
  const redis: RedisProcess = {
    url: `redis://127.0.0.1:${port}`,
    child: undefined as unknown as ChildProcess,
    async start() {
      redis.child = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir], { stdio: "ignore" });
      const ok = await waitUntil("redis-server", async () => spawnSync("redis-cli", ["-p", String(port), "ping"], { encoding: "utf8" }).stdout?.trim() === "PONG" || (await canConnect(port)), 10_000);
      if (ok === undefined) throw new Error("redis-server did not start");
    },
    async kill() {
      const child = redis.child;
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGCONT");
      child.kill("SIGKILL");
      await exited;
    },
  };
  await redis.start();
  return redis;
}

async function canConnect(port: number): Promise<boolean> {
  const { connect } = await import("node:net");
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => (socket.destroy(), resolve(true)));
    socket.once("error", () => resolve(false));
  });
}

interface ServerProcess {
  url: string;
  child: ChildProcess;
  output: () => string;
  stop(): Promise<void>;
}

async function startServer(env: Record<string, string>): Promise<ServerProcess> {
  const child = spawn(process.execPath, ["--import", "tsx", join(root, "runtime", "main.ts")], {
    cwd: root,
    env: { ...process.env, PORT: "0", LOG_LEVEL: "info", JOBS_ENABLED: "false", NODE_ENV: "test", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout!.on("data", (d) => (out = (out + d).slice(-200_000)));
  child.stderr!.on("data", (d) => (out = (out + d).slice(-200_000)));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL"); // never leave a half-started server behind (it holds the data directory)
      reject(new Error(`server did not start:\n${out}`));
    }, 60_000);
    const poll = setInterval(() => {
      const match = /"url":"(http:\/\/[^"]+)".*"msg":"listening"/.exec(out);
      if (match) {
        clearInterval(poll);
        clearTimeout(timer);
        resolve(match[1]!);
      }
    }, 50);
    void exited.then(() => {
      clearInterval(poll);
      clearTimeout(timer);
      reject(new Error(`server exited before listening:\n${out}`));
    });
  });
  return {
    url,
    child,
    output: () => out,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

// ── HTTP ─────────────────────────────────────────────────────────────────────────────────────

interface Answer {
  status: number;
  body: any;
  ms: number;
  retryAfter: string | null;
}

async function call(base: string, path: string, init: { method?: string; json?: unknown; token?: string } = {}): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (init.json !== undefined) headers["content-type"] = "application/json";
  if (init.token) headers.authorization = `Bearer ${init.token}`;
  const started = performance.now();
  try {
    const res = await fetch(base + path, {
      method: init.method ?? "GET",
      headers,
      body: init.json === undefined ? undefined : JSON.stringify(init.json),
      signal: AbortSignal.timeout(15_000),
    });
    const text = await res.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // not JSON
    }
    return { status: res.status, body, ms: performance.now() - started, retryAfter: res.headers.get("retry-after") };
  } catch (error) {
    return { status: 0, body: String(error), ms: performance.now() - started, retryAfter: null };
  }
}

async function signIn(base: string): Promise<{ token: string; address: string } | undefined> {
  const account = privateKeyToAccount(generatePrivateKey());
  const nonce = await call(base, "/api/auth/nonce", { method: "POST", json: { address: account.address } });
  if (nonce.status !== 200) return undefined;
  const signature = await account.signMessage({ message: nonce.body.message });
  const verify = await call(base, "/api/auth/verify", { method: "POST", json: { message: nonce.body.message, signature } });
  return verify.status === 200 ? { token: verify.body.token, address: verify.body.address } : undefined;
}

/** Places one bet on an offered cell of the `k`-th offered column (a modest multiplier). */
async function placeBet(base: string, token: string, k: number, name: string): Promise<Answer> {
  const key = `${name}-${randomBytes(6).toString("hex")}`; // 8..64 characters, unique per run
  const grid = await call(base, "/api/grid?cols=6&rows=7");
  const cells = ((grid.body?.cells ?? []) as { col: number; row: number; multiplier: number }[]).filter((c) => typeof c.multiplier === "number");
  const cols = [...new Set(cells.map((c) => c.col))].sort((a, b) => a - b);
  const col = cols[Math.min(k, cols.length - 1)];
  const cell = cells.filter((c) => c.col === col).sort((a, b) => a.multiplier - b.multiplier)[0];
  if (!cell) return { status: -1, body: grid.body, ms: 0, retryAfter: null };
  return call(base, "/api/bets", { method: "POST", token, json: { col: cell.col, row: cell.row, stakeMicroUsd: 1_000_000, idempotencyKey: key } });
}

function metric(text: string, name: string): number | undefined {
  const match = new RegExp(`^${name} (\\S+)$`, "m").exec(text);
  return match ? Number(match[1]) : undefined;
}

/** Every answer a 2xx–4xx or a 503 with the API's error shape and Retry-After: never another 5xx, never a hang. */
function classify(answers: Answer[]): { counts: Record<string, number>; bad: Answer[] } {
  const counts: Record<string, number> = {};
  const bad: Answer[] = [];
  for (const a of answers) {
    counts[a.status] = (counts[a.status] ?? 0) + 1;
    const degraded = a.body?.status === "degraded"; // /readyz
    const clean503 = a.status === 503 && (degraded || (typeof a.body?.error?.code === "string" && (a.body.error.code !== "unavailable" || a.retryAfter !== null)));
    if (a.status === 0 || (a.status >= 500 && !clean503) || a.ms > REQUEST_LIMIT_MS) bad.push(a);
  }
  return { counts, bad };
}

// ── the drills ───────────────────────────────────────────────────────────────────────────────

async function diskDrill(redis: RedisProcess): Promise<void> {
  console.log("\n== disk full while windows end (DATA_DIR on a tmpfs) ==");
  const dataDir = mkdtempSync(join(tmpdir(), "tap-drill-disk-"));
  const mounted = spawnSync("mount", ["-t", "tmpfs", "-o", `size=${TMPFS_SIZE}`, "tmpfs", dataDir], { encoding: "utf8" });
  if (mounted.status !== 0) {
    expect(false, `mount a ${TMPFS_SIZE} tmpfs on the data directory (${mounted.stderr.trim()})`);
    rmSync(dataDir, { recursive: true, force: true });
    return;
  }
  let server: ServerProcess | undefined;
  try {
    server = await startServer({
      DATA_DIR: dataDir,
      REDIS_URL: redis.url,
      REDIS_PREFIX: "drill-disk:",
      ADMIN_TOKEN,
      PRICE_SOURCES: "synthetic",
      SYNTHETIC_TICK_MS: "100",
      COLUMN_MS: String(COLUMN_MS),
      LOCK_MS: "1000",
      STUCK_BET_GRACE_MS: "5000",
    });
    const base = server.url;
    await waitUntil("a price", async () => (await call(base, "/api/price")).status === 200, 10_000);
    const players = (await Promise.all([signIn(base), signIn(base), signIn(base)])).filter((p) => p !== undefined);
    expect(players.length === 3, "three players signed in");
    let seq = 0;
    const placed: Answer[] = [];
    for (const p of players) for (let k = 0; k < 3; k++) placed.push(await placeBet(base, p.token, k, `drill-${seq++}`));
    // 409 is the market moving between the grid read and the bet (cell locked, multiplier changed).
    expect(placed.filter((a) => a.status === 201).length >= 6 && placed.every((a) => a.status === 201 || a.status === 409), `bets before the fault: ${placed.map((a) => a.status).join(" ")}`);

    // Fill the disk: big writes, then small ones, until ENOSPC.
    const filler = join(dataDir, "filler");
    const fd = openSync(filler, "w");
    let filled = 0;
    for (const size of [1 << 20, 64 << 10, 4 << 10, 512]) {
      const chunk = Buffer.alloc(size, 1);
      for (;;) {
        try {
          writeSync(fd, chunk);
          filled += size;
        } catch {
          break;
        }
      }
    }
    closeSync(fd);
    const fullAt = Date.now();
    console.log(`  disk filled (${(filled / 1048576).toFixed(1)} MiB of filler)`);

    const during: Answer[] = [];
    let degraded = false;
    let endedOpenMax = 0;
    // Hold the fault while at least three windows end, and until a bet was refused and /readyz said so.
    while (Date.now() - fullAt < 3 * COLUMN_MS + 2000 || !degraded || !during.some((a) => a.status === 503)) {
      if (Date.now() - fullAt > 30_000) break;
      for (const p of players) during.push(await placeBet(base, p.token, 0, `drill-${seq++}`));
      const ready = await call(base, "/readyz");
      during.push(ready);
      if (ready.status === 503 && ready.body?.status === "degraded") degraded = true;
      endedOpenMax = Math.max(endedOpenMax, metric(String((await call(base, "/metrics")).body), "resolver_ended_open_bets") ?? 0);
      await sleep(200);
    }
    const fullMs = Date.now() - fullAt;
    const { counts, bad } = classify(during);
    console.log(`  ${fullMs} ms on a full disk: answers by status ${JSON.stringify(counts)}; ended-but-open bets at most ${endedOpenMax}`);
    expect(bad.length === 0, `no 500 and no answer slower than ${REQUEST_LIMIT_MS} ms while the disk is full${bad.length ? `: ${JSON.stringify(bad.slice(0, 3))}` : ""}`);
    expect(during.some((a) => a.status === 503 && a.body?.error?.code === "unavailable" && a.retryAfter !== null), "bets refused with 503 unavailable and Retry-After");
    expect(degraded, "/readyz degraded while the disk is full");
    const accepted = [...placed, ...during].filter((a) => a.status === 201).length;

    rmSync(filler);
    const freedAt = Date.now();
    console.log("  disk freed");
    const settledMs = await waitUntil(
      "every ended bet settled",
      async () => {
        const metrics = String((await call(base, "/metrics")).body);
        if ((metric(metrics, "resolver_ended_open_bets") ?? 1) !== 0 || (metric(metrics, "resolver_settlements_retrying") ?? 1) !== 0) return false;
        // Every accepted bet's window has ended by now, so none may still be open.
        for (const p of players) {
          const open = await call(base, "/api/bets?status=open&limit=100", { token: p.token });
          if (open.status !== 200 || open.body.bets.some((b: { windowEnd: number }) => b.windowEnd < Date.now() - 1500)) return false;
        }
        return true;
      },
      SETTLE_LIMIT_MS,
    );
    expect(settledMs !== undefined, `every ended bet settled within ${SETTLE_LIMIT_MS / 1000} s of freeing the disk (took ${settledMs ?? "—"} ms; ${accepted} bets accepted in all)`);
    const integrity = await call(base, "/api/admin/integrity", { token: ADMIN_TOKEN });
    expect(integrity.status === 200 && integrity.body.ok === true, `integrity ok after recovery${integrity.body?.ok ? "" : `: ${JSON.stringify(integrity.body?.problems ?? integrity.body).slice(0, 400)}`}`);
    const ready = await waitUntil("/readyz ready", async () => (await call(base, "/readyz")).status === 200, 10_000);
    expect(ready !== undefined, "/readyz ready again");
    console.log(`  recovered ${Date.now() - freedAt} ms after the disk was freed`);
  } finally {
    const output = server?.output() ?? "";
    await server?.stop();
    if (failures.length > 0 && output) console.log(`  server log (tail):\n${output.slice(-3000)}`);
    if (spawnSync("umount", [dataDir]).status !== 0) spawnSync("umount", ["-l", dataDir]);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function redisDrills(redis: RedisProcess, parts: Set<string>): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), "tap-drill-redis-"));
  const server = await startServer({ DATA_DIR: dataDir, REDIS_URL: redis.url, REDIS_PREFIX: "drill-redis:", PRICE_SOURCES: "synthetic", SYNTHETIC_TICK_MS: "100" });
  const base = server.url;
  try {
    await waitUntil("a price", async () => (await call(base, "/api/price")).status === 200, 10_000);
    if (parts.has("redis-stop")) {
      console.log("\n== Redis hung (SIGSTOP) ==");
      const player = await signIn(base);
      expect(player !== undefined, "signed in before the fault");
      redis.child.kill("SIGSTOP");
      try {
        const address = privateKeyToAccount(generatePrivateKey()).address;
        const answers = await Promise.all([
          call(base, "/api/auth/nonce", { method: "POST", json: { address } }),
          call(base, "/api/me", { token: player?.token }),
          placeBet(base, player?.token ?? "", 1, "drill-hung"),
          call(base, "/api/auth/logout", { method: "POST", json: {}, token: player?.token }),
          call(base, "/readyz"),
          call(base, "/healthz"),
          call(base, "/api/price"),
        ]);
        const { counts, bad } = classify(answers);
        console.log(`  answers by status ${JSON.stringify(counts)}; slowest ${Math.round(Math.max(...answers.map((a) => a.ms)))} ms`);
        expect(bad.length === 0, `every request answered within ${REQUEST_LIMIT_MS} ms, none a 500${bad.length ? `: ${JSON.stringify(bad.slice(0, 3))}` : ""}`);
        expect(answers[0]!.status === 503 && answers[0]!.body?.error?.code === "unavailable", "nonce: 503 unavailable");
        expect(answers[4]!.status === 503 && answers[4]!.ms < 2000, `/readyz degraded within 2 s (${Math.round(answers[4]!.ms)} ms)`);
      } finally {
        redis.child.kill("SIGCONT");
      }
      const back = await waitUntil("sign-in after SIGCONT", async () => (await signIn(base)) !== undefined, 15_000);
      expect(back !== undefined, `sign-in works again after SIGCONT (${back ?? "—"} ms)`);
    }
    if (parts.has("redis-kill")) {
      console.log("\n== Redis killed, then restarted ==");
      await redis.kill();
      const address = privateKeyToAccount(generatePrivateKey()).address;
      const nonce = await call(base, "/api/auth/nonce", { method: "POST", json: { address } });
      expect(nonce.status === 503 && nonce.body?.error?.code === "unavailable" && nonce.retryAfter !== null, `nonce while Redis is down: ${nonce.status} ${nonce.body?.error?.code} in ${Math.round(nonce.ms)} ms`);
      const ready = await call(base, "/readyz");
      expect(ready.status === 503 && ready.ms < 2000, `/readyz degraded within 2 s (${Math.round(ready.ms)} ms)`);
      await redis.start();
      const back = await waitUntil("sign-in after the restart", async () => (await signIn(base)) !== undefined, 15_000);
      expect(back !== undefined, `sign-in works again after the restart (${back ?? "—"} ms)`);
    }
  } finally {
    const output = server.output();
    await server.stop();
    if (failures.length > 0) console.log(`  server log (tail):\n${output.slice(-3000)}`);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const onlyAt = process.argv.indexOf("--only");
  const parts = new Set(onlyAt > 0 ? process.argv[onlyAt + 1]!.split(",") : ["disk", "redis-stop", "redis-kill"]);
  const isRoot = process.getuid?.() === 0;
  const redisDir = mkdtempSync(join(tmpdir(), "tap-drill-redis-data-"));
  const redis = await startRedis(redisDir);
  const started = Date.now();
  try {
    if (parts.has("disk")) {
      if (isRoot) await diskDrill(redis);
      else if (process.env.CI === "true") expect(false, "the disk drill needs root (a tmpfs mount) and CI=true forbids skipping it");
      else console.log("\n== disk full: skipped (not root, so no tmpfs can be mounted) ==");
    }
    if (parts.has("redis-stop") || parts.has("redis-kill")) await redisDrills(redis, parts);
  } finally {
    await redis.kill();
    rmSync(redisDir, { recursive: true, force: true });
  }
  console.log(`\nfault drill: ${failures.length === 0 ? "PASSED" : `FAILED (${failures.length})`} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  for (const f of failures) console.log(`  - ${f}`);
  process.exit(failures.length === 0 ? 0 : 1);
}

await main();
