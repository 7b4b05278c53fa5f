import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPlayer } from "./helpers/players.ts";
import { startChildServer, type ChildServer } from "./helpers/child.ts";
import { generatePrivateKey } from "viem/accounts";
import { signIn } from "./helpers/siwe.ts";
import { ADMIN_TOKEN, getJson, integrity, newKey, pickCell, postBet, startBetServer, type BetServer } from "./helpers/bets-fixture.ts";

/**
 * The double-spend acceptance test of issue 5: a balance for exactly K bets, 10·K concurrent bet
 * requests with different idempotency keys → exactly K are accepted, the rest refused with 402, the
 * balance ends at exactly zero and the ledger audit passes.
 */
const K = 25;
const STAKE = 1_000_000;

function tally(statuses: number[]): Record<number, number> {
  const out: Record<number, number> = {};
  for (const s of statuses) out[s] = (out[s] ?? 0) + 1;
  return out;
}

describe("double spend, one process", () => {
  let server: BetServer;
  beforeAll(async () => {
    server = await startBetServer({ BET_RATE_BURST: 100_000 });
  });
  afterAll(async () => {
    await server.stop();
  });

  it(`${10 * K} concurrent bets on a balance for ${K}: exactly ${K} × 201, the rest 402`, async () => {
    const player = await createPlayer(server.ctx, K * STAKE);
    const cell = await pickCell(server);
    const answers = await Promise.all(
      Array.from({ length: 10 * K }, () => postBet(server, player.token, { col: cell.col, row: cell.row, stakeMicroUsd: STAKE, idempotencyKey: newKey() })),
    );
    expect(tally(answers.map((a) => a.status))).toEqual({ 201: K, 402: 9 * K });
    expect(answers.filter((a) => a.status === 402).every((a) => a.body.error.code === "insufficient_balance")).toBe(true);
    // The balances reported with the 201s are K distinct values counting down to zero.
    const balances = answers.filter((a) => a.status === 201).map((a) => a.body.balanceMicroUsd as number);
    expect(balances.sort((a, b) => a - b)).toEqual(Array.from({ length: K }, (_, i) => i * STAKE));
    expect((await getJson(server, "/api/me", player.token)).body.balanceMicroUsd).toBe(0);
    const bets = await getJson(server, "/api/bets?limit=200", player.token);
    expect(bets.body.bets).toHaveLength(K);
    const report = await integrity(server);
    expect(report.problems).toEqual([]);
    expect(report.ok).toBe(true);
  });
});

describe("double spend, two server processes sharing one DATA_DIR", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "tap-ds2-"));
  const env = {
    DATA_DIR: dataDir,
    ADMIN_TOKEN,
    DEMO_BALANCE_MICRO_USD: String(K * STAKE),
    BET_RATE_BURST: "100000",
    LOG_LEVEL: "warn",
  };
  let a: ChildServer;
  let b: ChildServer;
  const client = (s: ChildServer) => ({
    request: (path: string, init: RequestInit & { json?: unknown; token?: string } = {}) => {
      const headers = new Headers(init.headers);
      if (init.json !== undefined) headers.set("content-type", "application/json");
      if (init.token) headers.set("authorization", `Bearer ${init.token}`);
      return fetch(s.url + path, { ...init, headers, body: init.json !== undefined ? JSON.stringify(init.json) : init.body });
    },
  });
  beforeAll(async () => {
    // One after the other: the first applies the migrations.
    a = await startChildServer({ ...env, LOG_LEVEL: "info" });
    b = await startChildServer({ ...env, LOG_LEVEL: "info" });
  });
  afterAll(async () => {
    for (const s of [a, b]) {
      if (s && s.child.exitCode === null) {
        s.child.kill("SIGTERM");
        await s.exited;
      }
    }
    rmSync(dataDir, { recursive: true, force: true });
  });

  it(`${10 * K} concurrent bets split across both processes: exactly ${K} × 201`, async () => {
    const ca = client(a);
    const cb = client(b);
    // The same wallet signs in on each process (sessions are per process without Redis).
    const key = generatePrivateKey();
    const first = await signIn(ca, key);
    const onB = (await signIn(cb, key)).token;
    const cell = await pickCell(ca, 1);
    const answers = await Promise.all(
      Array.from({ length: 10 * K }, (_, i) =>
        postBet(i % 2 === 0 ? ca : cb, i % 2 === 0 ? first.token : onB, { col: cell.col, row: cell.row, stakeMicroUsd: STAKE, idempotencyKey: newKey() }),
      ),
    );
    expect(tally(answers.map((x) => x.status))).toEqual({ 201: K, 402: 9 * K });
    const byProcess = [0, 1].map((p) => answers.filter((x, i) => i % 2 === p && x.status === 201).length);
    expect(byProcess[0]! + byProcess[1]!).toBe(K);
    console.info(`accepted per process: ${byProcess.join(" + ")}`);
    expect((await getJson(ca, "/api/me", first.token)).body.balanceMicroUsd).toBe(0);
    const report = await integrity(ca);
    expect(report.problems).toEqual([]);
    expect(report.ok).toBe(true);
  });
});
