import { spawn } from "node:child_process";
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase } from "../storage/db.ts";
import { signInPlayers } from "../scripts/lib/players.ts";
import { startFailoverStack, type FailoverStack } from "./helpers/failover-stack.ts";
import { requireService } from "./helpers/services.ts";

/**
 * Issue 24 part 1, the drills: a failover pair (runtime/supervisor.ts: two cores, ROLE=core,
 * LEASE=on, one shared socket) and two edges (ROLE=edge, over a real Redis) behind the repository's nginx, ~1 000 bets/s offered open-loop by a process of its
 * own (scripts/drill-load.ts, every bet with its idempotency key, every answer recorded):
 * - deploy: `scripts/deploy.sh` (DEPLOY_CONTROL=supervisor) restarts the standby, hands over, brings
 *   the old holder back as the standby, then the edges one at a time: no 5xx, no network failure,
 *   no connection to the core refused;
 * - kill -9 of the holder: the standby takes over; nothing refused (nginx retries a reset bet once
 *   on the same socket);
 * then every acknowledged bet is in the database, no bet is settled twice, and the integrity check
 * passes. The figures are printed (`npx vitest run tests/deploy.failover.test.ts`).
 */
const root = join(import.meta.dirname, "..");
const run = requireService("nginx") && requireService("redis-server");
const RATE_PER_SEC = 1000;
const ADMIN_TOKEN = "drill-admin-token-0123456789";
/** $5 per player per cell: the drills' players stake $0.10 on ~40 cells and never come near it. */
const CELL_STAKE_MAX_MICRO_USD = 5_000_000;

interface Summary {
  offered: number;
  answered: number;
  acknowledged: number;
  intendedRefusals: Record<string, number>;
  serverErrors: number;
  failuresByKind: Record<string, number>;
  longestGapMs: number;
  p99Ms: number;
  maxMs: number;
}
type LoadRecord = [number, number, number, string, number, number, string];

describe.runIf(run)("deploys and crashes: a failover pair behind nginx under 1 000 bets/s", () => {
  let stack: FailoverStack;
  let tokensFile: string;
  const acknowledged = new Map<number, { key: string; player: number }>();
  const figures: Record<string, unknown> = {};

  beforeAll(async () => {
    stack = await startFailoverStack({
      OPEN_BETS_MAX: "2000",
      ADMIN_TOKEN,
      // Short windows, so the bets of the drills settle (across the handovers) within seconds.
      COLUMN_MS: "2000",
      LOCK_MS: "1000",
      BET_RATE_PER_SEC: "100",
      BET_RATE_BURST: "200",
      CELL_STAKE_MAX_MICRO_USD: String(CELL_STAKE_MAX_MICRO_USD),
    }, 2);
    const tokens = await signInPlayers(stack.base, 50);
    tokensFile = join(stack.dataDir, "tokens.json");
    writeFileSync(tokensFile, JSON.stringify(tokens));
  }, 120_000);
  afterAll(async () => {
    process.stdout.write(`failover drill figures: ${JSON.stringify(figures, null, 1)}\n`);
    await stack?.stop();
  }, 60_000);

  /**
   * nginx's error log since `from` bytes, by upstream: connections to the core (the shared socket)
   * refused, connections reset or closed under a request (nginx retried those once); connections to
   * an edge refused while it restarted (nginx tried the other edge).
   */
  const nginxLog = (from: number) => {
    const lines = readFileSync(join(stack.nginxPrefix, "logs", "error.log"), "utf8").slice(from).split("\n");
    const toCore = lines.filter((l) => l.includes(`upstream: "http://127.0.0.1:${stack.corePort}/`));
    const toEdges = lines.filter((l) => stack.edgePorts.some((port) => l.includes(`upstream: "http://127.0.0.1:${port}/`)));
    return {
      refused: toCore.filter((l) => l.includes("Connection refused")).length,
      resetOrClosed: toCore.filter((l) => /reset by peer|prematurely closed/.test(l)).length,
      edgeRefusedRetried: toEdges.filter((l) => l.includes("Connection refused")).length,
      // Any other error nginx logged (e.g. "no live upstreams"), for the failure message.
      otherErrors: lines.filter((l) => /\[(error|crit|alert)\]/.test(l) && !/Connection refused|reset by peer|prematurely closed/.test(l)).slice(0, 10),
    };
  };
  const logSize = () => statSync(join(stack.nginxPrefix, "logs", "error.log")).size;

  /** Offers bets while `action` runs (from 1.5 s into the load until 1.5 s after it ends). */
  async function drill(name: string, action: () => Promise<void>): Promise<Summary & ReturnType<typeof nginxLog>> {
    const from = logSize();
    const out = join(stack.dataDir, `${name}.json`);
    const load = spawn(process.execPath, ["--import", "tsx", join(root, "scripts", "drill-load.ts"), "--base", stack.base, "--tokens", tokensFile, "--rate", String(RATE_PER_SEC), "--seconds", "60", "--out", out], {
      cwd: root,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let loadOut = "";
    load.stdout!.on("data", (d) => (loadOut += d));
    load.stderr!.on("data", (d) => (loadOut += d));
    const loadExited = new Promise<number | null>((resolve) => load.once("exit", (code) => resolve(code)));
    try {
      const deadline = Date.now() + 30_000;
      while (!loadOut.includes("offering")) {
        if (load.exitCode !== null || Date.now() > deadline) throw new Error(`the load did not start: ${loadOut}`);
        await new Promise((r) => setTimeout(r, 20));
      }
      await new Promise((r) => setTimeout(r, 1500));
      await action();
      await new Promise((r) => setTimeout(r, 1500));
    } finally {
      if (load.exitCode === null) load.kill("SIGINT");
    }
    expect(await loadExited, loadOut).toBe(0);
    const { summary, records } = JSON.parse(readFileSync(out, "utf8")) as { summary: Summary; records: LoadRecord[] };
    for (const [, , status, , id, player, key] of records) if (status >= 200 && status < 300) acknowledged.set(id, { key, player });
    const result = { ...summary, ...nginxLog(from) };
    figures[name] = result;
    process.stdout.write(`${name} drill: ${JSON.stringify(result)}\n`);
    return result;
  }

  it("steady: the same load with nothing happening (the reference the two drills compare with)", async () => {
    const result = await drill("steady", () => new Promise((r) => setTimeout(r, 3000)));
    expect(result.answered).toBe(result.offered);
    expect(result.failuresByKind, JSON.stringify(result)).toEqual({});
  }, 60_000);

  it("deploy: scripts/deploy.sh restarts both cores under load with no 5xx, no failure and nothing refused", async () => {
    const before = await stack.settled();
    let deployOut = "";
    const result = await drill("deploy", async () => {
      const deploy = spawn("bash", [join(root, "scripts", "deploy.sh")], {
        env: { ...process.env, DEPLOY_CONTROL: "supervisor", RUN_DIR: stack.runDir, DEPLOY_STEP_TIMEOUT_S: "60" },
        stdio: ["ignore", "pipe", "pipe"],
      });
      deploy.stdout.on("data", (d) => (deployOut += d));
      deploy.stderr.on("data", (d) => (deployOut += d));
      const code = await new Promise<number | null>((resolve) => deploy.once("exit", resolve));
      expect(code, `${deployOut}\n${stack.output().slice(-3000)}`).toBe(0);
    });
    process.stdout.write(deployOut);
    // The edges were restarted too, one at a time, each waited for until ready.
    for (const port of stack.edgePorts) expect(deployOut).toMatch(new RegExp(`edge ${port} ready`));
    // The lease moved to the other core, and both run new processes.
    const after = await stack.settled();
    expect(after.holder).toBe(before.standby);
    // Every bet got an answer from the app: placed (2xx) or refused as intended (a cell that locked
    // while the bet queued on a loaded machine); none from nginx, none lost on the way.
    expect(result.answered).toBe(result.offered);
    expect(result.acknowledged).toBeGreaterThan(500);
    expect(result.serverErrors, JSON.stringify(result)).toBe(0);
    expect(result.failuresByKind, JSON.stringify(result)).toEqual({});
    expect(result.refused).toBe(0);
  }, 120_000);

  it("kill -9 of the holder: the standby takes over, nothing is refused, every bet is answered", async () => {
    const { holder, standby } = await stack.settled();
    const killed = stack.core(holder).pid;
    const result = await drill("kill9", async () => {
      process.kill(killed, "SIGKILL");
      const deadline = Date.now() + 30_000;
      while (stack.core(standby).state !== "holder") {
        if (Date.now() > deadline) throw new Error(`core ${standby} did not take over:\n${stack.output().slice(-3000)}`);
        await new Promise((r) => setTimeout(r, 20));
      }
      figures.kill9TakeoverSeenMs = Date.now() - (deadline - 30_000);
    });
    expect(result.answered).toBe(result.offered);
    expect(result.acknowledged).toBeGreaterThan(500);
    // A request the killed holder had taken is reset: nginx sends it once more on the shared socket,
    // where the new holder answers it (a bet already committed is answered from its idempotency key).
    expect(result.refused).toBe(0);
    expect(result.failuresByKind, JSON.stringify(result)).toEqual({});
    expect(result.serverErrors, JSON.stringify(result)).toBe(0);
    await stack.settled(); // the killed core is back as the standby
  }, 120_000);

  it("the new holder enforces a player's per-cell limit from the bets the old one placed (the writer's figures are reloaded)", async () => {
    const { holder, standby } = await stack.settled();
    const [token] = await signInPlayers(stack.base, 1);
    const grid = (await (await fetch(`${stack.base}/api/grid?cols=12&rows=5`)).json()) as { at: number; cells: { col: number; row: number; windowStart: number; multiplier: number | null }[] };
    // A cell 16+ s ahead (2 s columns), so it stays open across the takeover.
    const cell = grid.cells.find((c) => c.multiplier !== null && c.windowStart - grid.at >= 16_000)!;
    expect(cell).toBeDefined();
    const bet = (key: string) =>
      fetch(`${stack.base}/api/bets`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
        body: JSON.stringify({ col: cell.col, row: cell.row, stakeMicroUsd: CELL_STAKE_MAX_MICRO_USD / 2, idempotencyKey: key }),
      });
    expect((await bet("limit-one-0001")).status).toBe(201);
    expect((await bet("limit-two-0002")).status).toBe(201);
    // The cell is full for this player. The holder dies; the standby's writer has never seen these bets.
    process.kill(stack.core(holder).pid, "SIGKILL");
    const deadline = Date.now() + 30_000;
    while (stack.core(standby).state !== "holder") {
      if (Date.now() > deadline) throw new Error(`core ${standby} did not take over`);
      await new Promise((r) => setTimeout(r, 20));
    }
    const third = await bet("limit-three-0003");
    expect(third.status).toBe(409);
    expect(((await third.json()) as { error: { code: string } }).error.code).toBe("exposure_limit");
    // A replay of the first is answered from its key by the new holder: the same bet, no second stake.
    expect((await bet("limit-one-0001")).status).toBe(200);
    await stack.settled();
  }, 120_000);

  it("every acknowledged bet is in the database, none is settled twice, and the integrity check passes", async () => {
    expect(acknowledged.size).toBeGreaterThan(0);
    const db = openDatabase(join(stack.dataDir, "current.db"), { busyTimeoutMs: 5000, synchronous: "NORMAL", queryOnly: true });
    try {
      // The drills' windows are 2 s long: every bet settles within seconds of the load's end.
      const deadline = Date.now() + 30_000;
      while ((db.prepare("SELECT COUNT(*) AS n FROM bets WHERE status = 'open'").get() as { n: number }).n > 0) {
        if (Date.now() > deadline) throw new Error("bets still open 30 s after the drills");
        await new Promise((r) => setTimeout(r, 250));
      }
      const byId = db.prepare("SELECT idempotency_key AS key FROM bets WHERE id = ?");
      let lost = 0;
      for (const [id, { key }] of acknowledged) {
        const row = byId.get(id) as { key: string } | undefined;
        if (row?.key !== key) lost++;
      }
      const doubleSettled = (
        db.prepare("SELECT COUNT(*) AS n FROM (SELECT bet_id FROM ledger_entries WHERE kind IN ('payout', 'refund') AND account_id <> 2 GROUP BY bet_id HAVING COUNT(*) > 1)").get() as { n: number }
      ).n;
      const settled = db.prepare("SELECT status, COUNT(*) AS n FROM bets GROUP BY status").all();
      const balanced = (db.prepare("SELECT COALESCE(SUM(balance_micro_usd), 0) AS total FROM accounts").get() as { total: number }).total;
      const integrity = (await (await fetch(`${stack.base}/api/admin/integrity`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).json()) as { ok: boolean; problems: unknown[] };
      Object.assign(figures, { acknowledgedBets: acknowledged.size, lostBets: lost, doubleSettlements: doubleSettled, betsByStatus: settled, balancesSum: balanced, integrityOk: integrity.ok });
      expect(lost).toBe(0);
      expect(doubleSettled).toBe(0);
      expect(balanced).toBe(0);
      expect(integrity.ok, JSON.stringify(integrity.problems).slice(0, 2000)).toBe(true);
    } finally {
      db.close();
    }
  }, 60_000);
});
