import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { BatchQueue } from "../storage/batch-queue.ts";
import { CURRENT_MIGRATIONS_DIR, migrate, openDatabase, type Db } from "../storage/db.ts";
import { FUNDING_ACCOUNT_ID, HOUSE_ACCOUNT_ID, ensurePlayerAccount, transfer } from "../storage/ledger.ts";
import { InlineWriter } from "../storage/writer.ts";
import { COMMANDS, WRITER_HOOKS } from "../services/commands.ts";
import { placeArgs, type Placed } from "../services/bets/place-op.ts";
import { holdStake } from "../services/bets/stake-journal.ts";
import type { Settlement } from "../services/resolver/settle.ts";

/**
 * The stake journal (services/bets/stake-journal.ts, issue 23) writes a transaction's stakes to the
 * house together. Whatever else shares the transaction — a settlement paying from the house, a
 * command that fails and undoes its savepoint, a transaction that fails as a whole — the ledger
 * must be exactly what one transfer per bet would have written: two entries per bet, the player's
 * first and naming the transfer, ids in the order things happened, and every account's entries a
 * chain of balances ending at its balance.
 */
const USD = 1_000_000;
const AT = Date.UTC(2030, 0, 7, 12);
const LIMITS = { openBetsMax: 100, cellStakeMaxMicroUsd: 1000 * USD, cellExposureMaxMicroUsd: 100_000 * USD, columnExposureMaxMicroUsd: 100_000 * USD };

interface Entry {
  id: number;
  transfer_id: number;
  account_id: number;
  kind: string;
  amount_micro_usd: number;
  balance_after_micro_usd: number;
  bet_id: number | null;
}

describe("the stake journal", () => {
  let dir: string;
  let db: Db;
  let queue: BatchQueue;
  let writer: InlineWriter<typeof COMMANDS>;
  let players: { id: number; address: string }[];
  let keys = 0;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "tap-stake-journal-"));
    db = openDatabase(join(dir, "current.db"), { busyTimeoutMs: 5000, synchronous: "NORMAL" });
    migrate(db, CURRENT_MIGRATIONS_DIR);
    players = [];
    db.exec("BEGIN IMMEDIATE");
    for (let i = 1; i <= 3; i++) {
      const address = `0x${i.toString(16).padStart(40, "0")}`;
      const { accountId } = ensurePlayerAccount(db, address, AT, 0);
      transfer(db, { debitAccountId: FUNDING_ACCOUNT_ID, creditAccountId: accountId, amountMicroUsd: 100 * USD, kind: "deposit", at: AT });
      players.push({ id: accountId, address });
    }
    db.exec("COMMIT");
    // Flushed by the test only: everything queued before a flush shares one transaction.
    queue = new BatchQueue({ db, flushIntervalMs: 60_000, batchSizeMax: 1000, queueLengthMax: 1000, transactionHooks: WRITER_HOOKS });
    writer = new InlineWriter(queue, COMMANDS);
  });

  afterEach(() => {
    queue.close();
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const bet = (player: { id: number; address: string }, stakeMicroUsd: number, col = 100) =>
    writer.run(
      "bets.place",
      placeArgs(
        {
          accountId: player.id, address: player.address, col, row: 5, windowStart: AT + 10_000, windowEnd: AT + 20_000, bandLowCents: 100, bandHighCents: 200,
          stakeMicroUsd, multiplierHundredths: 300, payoutMicroUsd: stakeMicroUsd * 3, placedAt: AT, idempotencyKey: `key-${++keys}-abcdef`, requestHash: "h",
        },
        LIMITS,
      ),
    );
  const entries = () => db.prepare("SELECT id, transfer_id, account_id, kind, amount_micro_usd, balance_after_micro_usd, bet_id FROM ledger_entries ORDER BY id").all() as Entry[];
  const balance = (id: number) => (db.prepare("SELECT balance_micro_usd AS b FROM accounts WHERE id = ?").get(id) as { b: number }).b;

  /** Every account's entries, in id order, are a chain of balances that ends at its balance; money is conserved. */
  function expectChains(): void {
    const last = new Map<number, number>();
    for (const e of entries()) {
      const before = last.get(e.account_id) ?? 0;
      expect(e.balance_after_micro_usd, `entry ${e.id} of account ${e.account_id}`).toBe(before + e.amount_micro_usd);
      last.set(e.account_id, e.balance_after_micro_usd);
    }
    for (const [account, after] of last) expect(balance(account), `account ${account}`).toBe(after);
    expect((db.prepare("SELECT SUM(balance_micro_usd) AS s FROM accounts").get() as { s: number }).s).toBe(0);
  }

  /** The two entries of bet `betId`: the player's first, naming the transfer; the house's next. */
  function expectStakeEntries(betId: number, accountId: number, stakeMicroUsd: number, playerBalanceAfter: number): Entry[] {
    const mine = entries().filter((e) => e.bet_id === betId && e.kind === "stake");
    expect(mine).toHaveLength(2);
    const [player, house] = mine as [Entry, Entry];
    expect(player).toMatchObject({ transfer_id: player.id, account_id: accountId, amount_micro_usd: -stakeMicroUsd, balance_after_micro_usd: playerBalanceAfter });
    expect(house).toMatchObject({ id: player.id + 1, transfer_id: player.id, account_id: HOUSE_ACCOUNT_ID, amount_micro_usd: stakeMicroUsd });
    return mine;
  }

  it("writes a run of bets as per-bet transfers would, also around a settlement paying from the house in the same transaction", async () => {
    // A first bet, settled as a win in the next transaction together with more bets around it.
    const first = bet(players[0]!, 2 * USD);
    queue.flush();
    const [firstId] = await first;
    const a = bet(players[0]!, 1 * USD);
    const b = bet(players[1]!, 3 * USD);
    const won: Settlement = {
      bet: { id: firstId, accountId: players[0]!.id, address: players[0]!.address, col: 100, row: 5, windowStart: AT + 10_000, windowEnd: AT + 20_000, bandLowCents: 100, bandHighCents: 200, stakeMicroUsd: 2 * USD, payoutMicroUsd: 6 * USD },
      verdict: { status: "void", at: AT + 15_000, priceCents: null, reason: "stale" },
      decidedAt: AT + 15_000,
    };
    const settled = writer.run("resolver.settle", [won], AT + 15_000);
    const c = bet(players[0]!, 4 * USD);
    const d = bet(players[2]!, 5 * USD);
    const batchesBefore = queue.batches;
    queue.flush();
    expect(queue.batches).toBe(batchesBefore + 1);
    const placed = await Promise.all([a, b, c, d]);
    await settled;

    // Balances after each stake, as the player saw them in the answers.
    expect(placed.map((p: Placed) => p[1])).toEqual([100 * USD - 2 * USD - 1 * USD, 100 * USD - 3 * USD, 100 * USD - 3 * USD + 2 * USD - 4 * USD, 100 * USD - 5 * USD]);
    const ea = expectStakeEntries(placed[0][0], players[0]!.id, 1 * USD, placed[0][1]);
    const eb = expectStakeEntries(placed[1][0], players[1]!.id, 3 * USD, placed[1][1]);
    const ec = expectStakeEntries(placed[2][0], players[0]!.id, 4 * USD, placed[2][1]);
    const ed = expectStakeEntries(placed[3][0], players[2]!.id, 5 * USD, placed[3][1]);
    const refund = entries().filter((e) => e.bet_id === firstId && e.kind === "refund");
    expect(refund).toHaveLength(2);
    // In the order the commands ran: a, b, the settlement, c, d.
    const order = [ea[0]!.id, eb[0]!.id, Math.min(...refund.map((e) => e.id)), ec[0]!.id, ed[0]!.id];
    expect([...order].sort((x, y) => x - y)).toEqual(order);
    expectChains();
  });

  it("keeps the stakes of bets before a command whose savepoint is rolled back", async () => {
    const a = bet(players[0]!, 1 * USD);
    // Writes to the house's balance, then fails: its savepoint undoes exactly its own write.
    const failing = queue.enqueue((d) => {
      d.prepare("UPDATE accounts SET balance_micro_usd = balance_micro_usd + 1 WHERE id = ?").run(HOUSE_ACCOUNT_ID);
      throw new Error("refused after a write");
    });
    const b = bet(players[1]!, 2 * USD);
    queue.flush();
    await expect(failing).rejects.toThrow("refused after a write");
    const [[aId, aBalance], [bId, bBalance]] = await Promise.all([a, b]);
    expectStakeEntries(aId, players[0]!.id, 1 * USD, aBalance);
    expectStakeEntries(bId, players[1]!.id, 2 * USD, bBalance);
    expect(balance(HOUSE_ACCOUNT_ID)).toBe(3 * USD);
    expectChains();
  });

  it("drops what it held when the transaction fails as a whole, and the next transaction is whole", async () => {
    const a = bet(players[0]!, 1 * USD);
    // A bet whose terms are out of range (payout ≠ stake × multiplier) is not a refusal: it fails
    // the whole transaction, while the first bet's stake is still held.
    const broken = writer.run(
      "bets.place",
      placeArgs(
        {
          accountId: players[1]!.id, address: players[1]!.address, col: 100, row: 5, windowStart: AT + 10_000, windowEnd: AT + 20_000, bandLowCents: 100, bandHighCents: 200,
          stakeMicroUsd: USD, multiplierHundredths: 300, payoutMicroUsd: 4 * USD, placedAt: AT, idempotencyKey: `key-${++keys}-abcdef`, requestHash: "h",
        },
        LIMITS,
      ),
    );
    queue.flush();
    await expect(a).rejects.toThrow("bet terms out of range");
    await expect(broken).rejects.toThrow("bet terms out of range");
    expect((db.prepare("SELECT count(*) AS n FROM bets").get() as { n: number }).n).toBe(0);
    expect(entries().filter((e) => e.kind === "stake")).toHaveLength(0);
    expect(balance(HOUSE_ACCOUNT_ID)).toBe(0);

    const b = bet(players[0]!, 2 * USD);
    queue.flush();
    const [bId, bBalance] = await b;
    expect(bBalance).toBe(98 * USD);
    expectStakeEntries(bId, players[0]!.id, 2 * USD, bBalance);
    expectChains();
  });

  it("writes more bets than one statement takes, in order", async () => {
    const placed = Array.from({ length: 75 }, (_, i) => bet(players[i % 3]!, (i + 1) * 10_000, 100 + (i % 7)));
    queue.flush();
    const results = await Promise.all(placed);
    const ids = results.map(([id]) => id);
    for (const [i, [id, after]] of results.entries()) expectStakeEntries(id, players[i % 3]!.id, (i + 1) * 10_000, after);
    const firstEntryIds = ids.map((id) => entries().find((e) => e.bet_id === id)!.id);
    expect([...firstEntryIds].sort((x, y) => x - y)).toEqual(firstEntryIds);
    expectChains();
  });

  it("is used only inside a transaction with its hooks", () => {
    expect(() => holdStake(db, { accountId: players[0]!.id, betId: 1, stakeMicroUsd: USD, playerBalanceAfterMicroUsd: 99 * USD, at: AT })).toThrow(/STAKE_JOURNAL_HOOKS/);
  });
});
