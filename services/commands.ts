import type { CommandMap } from "../storage/writer.ts";
import { InsufficientBalanceError, ensurePlayerAccount } from "../storage/ledger.ts";
import { closeGaps, insertTick, openGap } from "./price/persistence.ts";
import { recordStaleThreshold } from "./price/stale-thresholds.ts";
import { creditOp } from "./bets/credit.ts";
import { ArchivedBet, ExistingBet, placeBetOp } from "./bets/place-op.ts";
import { BetRefusal } from "./bets/refusals.ts";
import { STAKE_JOURNAL_HOOKS } from "./bets/stake-journal.ts";
import { BET_WRITER_HOOKS, betWriterSnapshot, checkBetWriterState } from "./bets/writer-state.ts";
import type { TransactionHooks } from "../storage/batch-queue.ts";
import { settleBets } from "./resolver/settle.ts";
import { finishRun, startRun } from "./archive/runs.ts";
import { markBetKeysBackfilled, pruneArchivedBetKeys, purgeBets, purgeGaps, purgeTicks, rememberArchivedBetKeys } from "./archive/purge.ts";
import { probeWrite } from "../storage/health-probe.ts";
import { LeaseLostError, leaseFence } from "../storage/lease.ts";

/**
 * Every write the service makes, by name (ADR-005): the whole write surface of the current database
 * in one list. Each runs in the writer (its own thread by default, runtime/writer-thread.ts) inside a
 * batch transaction; arguments and results are plain data.
 */
export const COMMANDS = {
  "accounts.ensurePlayer": ensurePlayerAccount,
  "accounts.credit": creditOp,
  "price.insertTick": insertTick,
  "price.openGap": openGap,
  "price.closeGaps": closeGaps,
  "price.recordStaleThreshold": recordStaleThreshold,
  "bets.place": placeBetOp,
  "bets.checkWriterState": checkBetWriterState,
  "bets.writerSnapshot": betWriterSnapshot,
  "resolver.settle": settleBets,
  "archive.startRun": startRun,
  "archive.finishRun": finishRun,
  "archive.purgeBets": purgeBets,
  "archive.purgeTicks": purgeTicks,
  "archive.purgeGaps": purgeGaps,
  "archive.pruneBetKeys": pruneArchivedBetKeys,
  "archive.rememberBetKeys": rememberArchivedBetKeys,
  "archive.markBetKeysBackfilled": markBetKeysBackfilled,
  "health.probe": probeWrite,
} satisfies CommandMap;

export type Commands = typeof COMMANDS;

/**
 * What the writer keeps in memory beside the database follows its transactions through these hooks
 * (every batch queue that runs COMMANDS must have them).
 */
export const WRITER_HOOKS: readonly TransactionHooks[] = [BET_WRITER_HOOKS, STAKE_JOURNAL_HOOKS];

/**
 * The hooks of a writer: with a lease (LEASE=on), its fence first, so a transaction of a process
 * that no longer holds the lease fails before any command or other hook runs.
 */
export function writerHooks(lease?: { name: string; holder: string }): readonly TransactionHooks[] {
  return lease ? [leaseFence(lease), ...WRITER_HOOKS] : WRITER_HOOKS;
}

/** Errors a command may throw that callers tell apart with instanceof (rebuilt across the thread). */
export const COMMAND_ERRORS = [BetRefusal, ExistingBet, ArchivedBet, InsufficientBalanceError, LeaseLostError];
