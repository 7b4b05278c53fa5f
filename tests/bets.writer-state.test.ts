import Database from "libsql";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { generatePrivateKey } from "viem/accounts";
import { createPlayer, type TestPlayer } from "./helpers/players.ts";
import { clientOf, startChildServer, type ChildServer } from "./helpers/child.ts";
import { signIn } from "./helpers/siwe.ts";
import { ADMIN_TOKEN, START_PRICE_CENTS, feedPrice, integrity, newKey, pickCell, postBet, type BetServer } from "./helpers/bets-fixture.ts";
import { startTestServer } from "./helpers/server.ts";
import { loadBetWriterState, type BetWriterSnapshot } from "../services/bets/writer-state.ts";
import type { Settlement } from "../services/resolver/settle.ts";
import type { BetJson } from "../services/bets/bet-json.ts";

/**
 * The open-bet figures the writer keeps in memory to check limits (services/bets/writer-state.ts,
 * issue 23): they are what the bets say, they are rebuilt from the database after a restart exactly
 * as the writer had them, and a second writer on the same data makes them reload, so the limits
 * hold across processes.
 */
const USD = 1_000_000;

/** The figures the open bets imply, computed independently of the writer's code. */
function expectedFigures(open: { accountId: number; bet: BetJson }[]): Omit<BetWriterSnapshot, "openBets"> & { openBets: number } {
  const byAccount = new Map<number, number>();
  const byColumn = new Map<number, number>();
  const cells = new Map<string, { col: number; row: number; payoutMicroUsd: number; stakes: Map<number, number> }>();
  for (const { accountId, bet } of open) {
    byAccount.set(accountId, (byAccount.get(accountId) ?? 0) + 1);
    byColumn.set(bet.col, (byColumn.get(bet.col) ?? 0) + bet.payoutMicroUsd);
    const key = `${bet.col}:${bet.row}`;
    const cell = cells.get(key) ?? { col: bet.col, row: bet.row, payoutMicroUsd: 0, stakes: new Map() };
    cell.payoutMicroUsd += bet.payoutMicroUsd;
    cell.stakes.set(accountId, (cell.stakes.get(accountId) ?? 0) + bet.stakeMicroUsd);
    cells.set(key, cell);
  }
  const sorted = (m: Map<number, number>) => [...m].sort((a, b) => a[0] - b[0]);
  return {
    openBets: open.length,
    openByAccount: sorted(byAccount),
    payoutByColumn: sorted(byColumn),
    cells: [...cells.values()]
      .sort((a, b) => a.col - b.col || a.row - b.row)
      .map((c) => ({ col: c.col, row: c.row, payoutMicroUsd: c.payoutMicroUsd, stakeByAccount: sorted(c.stakes) })),
  };
}

describe("the writer's open-bet figures", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "tap-writer-state-"));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it("follow placements and settlements, and are rebuilt from the database after a restart exactly as the writer had them", async () => {
    const clock = { nowMs: Date.UTC(2030, 0, 7, 12, 0, 0) };
    const start = () => startTestServer({ ADMIN_TOKEN }, { now: () => clock.nowMs, dataDir });
    let server: BetServer = Object.assign(await start(), { clock });
    feedPrice(server, START_PRICE_CENTS);
    const players: TestPlayer[] = [];
    for (let i = 0; i < 3; i++) players.push(await createPlayer(server.ctx, 100 * USD));
    const cells = [await pickCell(server, 0), await pickCell(server, 1), await pickCell(server, 2)];
    const placed: { accountId: number; bet: BetJson }[] = [];
    for (let i = 0; i < 12; i++) {
      const player = players[i % 3]!;
      const cell = cells[i % cells.length]!;
      const res = await postBet(server, player.token, { col: cell.col, row: cell.row, stakeMicroUsd: (i + 1) * 100_000, idempotencyKey: newKey() });
      expect(res.status).toBe(201);
      placed.push({ accountId: player.accountId, bet: res.body.bet });
    }

    // Settle four through the writer's settlement command: a win, two losses and a void.
    const verdicts = [
      { status: "won", at: clock.nowMs, priceCents: START_PRICE_CENTS, reason: "touch" },
      { status: "lost", at: clock.nowMs, priceCents: null, reason: "no_touch" },
      { status: "lost", at: clock.nowMs, priceCents: null, reason: "no_touch" },
      { status: "void", at: clock.nowMs, priceCents: null, reason: "stale" },
    ] as const;
    const settlements: Settlement[] = verdicts.map((verdict, i) => {
      const { accountId, bet } = placed[i * 3]!;
      const openBet = { ...bet, id: Number(bet.id), accountId };
      return { bet: openBet, verdict, decidedAt: clock.nowMs };
    });
    expect(await server.ctx.queue.run("resolver.settle", settlements, clock.nowMs)).toHaveLength(4);
    const stillOpen = placed.filter((_, i) => i % 3 !== 0);

    const kept = await server.ctx.queue.run("bets.writerSnapshot");
    const { generation, ...figures } = kept;
    expect(figures).toEqual(expectedFigures(stillOpen));
    // The integrity check's own comparison agrees (the verdicts above are made up, so its
    // re-resolution sample of those bets is not asked about here).
    const problems = (await integrity(server)).problems as { check: string }[];
    expect(problems.filter((p) => p.check !== "re_resolution")).toEqual([]);

    await server.stop();
    server = Object.assign(await start(), { clock });
    const reloaded = await server.ctx.queue.run("bets.writerSnapshot");
    expect(reloaded).toEqual(kept);
    // And the loader alone, on a connection of its own, reads the same from the file.
    const db = new Database(join(dataDir, "current.db"));
    try {
      expect({ generation: loadBetWriterState(db).generation, ...loadBetWriterState(db).snapshot() }).toEqual(kept);
    } finally {
      db.close();
    }
    await server.stop();
  });
});

describe("two server processes on one DATA_DIR: the open-bet limit holds across both", () => {
  const OPEN_BETS_MAX = 5;
  const dataDir = mkdtempSync(join(tmpdir(), "tap-writer-state-2-"));
  const env = { DATA_DIR: dataDir, ADMIN_TOKEN, OPEN_BETS_MAX: String(OPEN_BETS_MAX), BET_RATE_BURST: "100000", LOG_LEVEL: "warn" };
  const servers: ChildServer[] = [];
  afterAll(async () => {
    for (const s of servers) {
      if (s.child.exitCode === null) {
        s.child.kill("SIGTERM");
        await s.exited;
      }
    }
    rmSync(dataDir, { recursive: true, force: true });
  });

  it(`${4 * OPEN_BETS_MAX} concurrent bets of one player split across both processes: exactly ${OPEN_BETS_MAX} × 201`, async () => {
    // One after the other: the first applies the migrations.
    servers.push(await startChildServer({ ...env, LOG_LEVEL: "info" }));
    servers.push(await startChildServer({ ...env, LOG_LEVEL: "info" }));
    const [a, b] = servers.map(clientOf) as [ReturnType<typeof clientOf>, ReturnType<typeof clientOf>];
    const key = generatePrivateKey();
    const onA = (await signIn(a, key)).token;
    const onB = (await signIn(b, key)).token;
    const cell = await pickCell(a, 1);
    // Each process's writer first sees the other's bets only through bets_generation: warm both up
    // with one bet each, so that both hold figures that the other then makes stale.
    expect((await postBet(a, onA, { col: cell.col, row: cell.row, stakeMicroUsd: 100_000, idempotencyKey: newKey() })).status).toBe(201);
    expect((await postBet(b, onB, { col: cell.col, row: cell.row, stakeMicroUsd: 100_000, idempotencyKey: newKey() })).status).toBe(201);
    const answers = await Promise.all(
      Array.from({ length: 4 * OPEN_BETS_MAX }, (_, i) =>
        postBet(i % 2 === 0 ? a : b, i % 2 === 0 ? onA : onB, { col: cell.col, row: cell.row, stakeMicroUsd: 100_000, idempotencyKey: newKey() }),
      ),
    );
    const created = answers.filter((x) => x.status === 201).length;
    expect(created).toBe(OPEN_BETS_MAX - 2);
    expect(answers.filter((x) => x.status !== 201).every((x) => x.status === 429 && x.body.error.code === "too_many_open_bets")).toBe(true);
    expect((await a.request("/api/me", { token: onA }).then((r) => r.json())).openBets).toBe(OPEN_BETS_MAX);
    for (const client of [a, b]) {
      const report = await integrity(client);
      expect(report.problems).toEqual([]);
    }
  });
});
