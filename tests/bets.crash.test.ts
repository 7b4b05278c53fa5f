import Database from "libsql";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { clientOf, startChildServer, type ChildServer } from "./helpers/child.ts";
import { signIn } from "./helpers/siwe.ts";
import { ADMIN_TOKEN, integrity, newKey, pickCell, postBet } from "./helpers/bets-fixture.ts";

/**
 * kill -9 of the server while bets are in flight, then a restart on the same data: every bet that
 * was answered 201 exists with its stake entry, and the ledger audit passes (SPEC §10, issue 5).
 */
const PLAYERS = 30;
const STAKE = 100_000;
const ACKED_BEFORE_KILL = 400;

describe("kill -9 with bets in flight, then restart", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "tap-crash-"));
  const env = { DATA_DIR: dataDir, ADMIN_TOKEN, BET_RATE_BURST: "100000", BET_RATE_PER_SEC: "100000" };
  const children: ChildServer[] = [];
  afterAll(async () => {
    for (const c of children) {
      if (c.child.exitCode === null && c.child.signalCode === null) {
        c.child.kill("SIGKILL");
        await c.exited;
      }
    }
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("loses no acknowledged bet", async () => {
    const first = await startChildServer(env);
    children.push(first);
    const api = clientOf(first);
    const players = await Promise.all(Array.from({ length: PLAYERS }, () => signIn(api)));
    const cell = await pickCell(api, 1);

    const acked: { id: number; stake: number; accountAddress: string }[] = [];
    let killed = false;
    let reachedTarget: () => void;
    const target = new Promise<void>((resolve) => (reachedTarget = resolve));
    const loop = async (token: string) => {
      while (!killed) {
        try {
          const res = await postBet(api, token, { col: cell.col, row: cell.row, stakeMicroUsd: STAKE, idempotencyKey: newKey() });
          if (res.status === 201) {
            acked.push({ id: Number(res.body.bet.id), stake: res.body.bet.stakeMicroUsd, accountAddress: res.body.bet.address });
            if (acked.length >= ACKED_BEFORE_KILL) reachedTarget();
          } else if (res.status !== 429) {
            throw new Error(`unexpected ${res.status} ${JSON.stringify(res.body)}`);
          }
        } catch (error) {
          if (!killed) throw error;
        }
      }
    };
    const loops = players.map((p) => loop(p.token));
    await target;
    first.child.kill("SIGKILL");
    killed = true;
    expect(await first.exited).toBe("SIGKILL");
    await Promise.all(loops);
    const ackedIds = new Set(acked.map((a) => a.id));
    expect(ackedIds.size).toBe(acked.length);

    // Every acknowledged bet is on disk with exactly one stake entry on its player's account.
    const db = new Database(join(dataDir, "current.db"));
    try {
      const betStmt = db.prepare("SELECT b.id, b.stake_micro_usd AS stake, a.address FROM bets b JOIN accounts a ON a.id = b.account_id WHERE b.id = ?");
      const stakeStmt = db.prepare("SELECT COUNT(*) AS n, SUM(amount_micro_usd) AS amount FROM ledger_entries WHERE bet_id = ? AND kind = 'stake' AND account_id = (SELECT account_id FROM bets WHERE id = ?)");
      const missing: number[] = [];
      for (const a of acked) {
        const bet = betStmt.get(a.id) as { stake: number; address: string } | undefined;
        const entry = stakeStmt.get(a.id, a.id) as { n: number; amount: number };
        if (!bet || bet.stake !== a.stake || bet.address !== a.accountAddress || entry.n !== 1 || entry.amount !== -a.stake) missing.push(a.id);
      }
      expect(missing).toEqual([]);
    } finally {
      db.close();
    }

    const second = await startChildServer(env);
    children.push(second);
    const report = await integrity(clientOf(second));
    expect(report.problems).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.checkedBets as number).toBeGreaterThanOrEqual(acked.length);
    console.info(`acknowledged before kill: ${acked.length}; bets on disk: ${report.checkedBets}`);
  });
});
