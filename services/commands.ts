import type { CommandMap } from "../storage/writer.ts";
import { InsufficientBalanceError, ensurePlayerAccount } from "../storage/ledger.ts";
import { closeGapsOp, insertTickOp, openGapOp } from "./price/persistence.ts";
import { creditOp } from "./bets/credit.ts";
import { pruneExposureBefore } from "./bets/exposure-prune.ts";
import { ExistingBet, placeBetOp } from "./bets/place-op.ts";
import { BetRefusal } from "./bets/refusals.ts";
import { settleBets } from "./resolver/settle.ts";
import { finishRunOp, startRunOp } from "./archive/runs.ts";
import { purgeBetsOp, purgeGapsOp, purgeTicksOp } from "./archive/purge.ts";
import type { Db } from "../storage/db.ts";
import type { RunStatus } from "./archive/runs.ts";

/**
 * Every write the service makes, by name (ADR-005): the whole write surface of the current database
 * in one list. Each runs in the writer (its own thread by default, runtime/writer-thread.ts) inside a
 * batch transaction; arguments and results are plain data.
 */
export const COMMANDS = {
  "accounts.ensurePlayer": ensurePlayerAccount,
  "accounts.credit": creditOp,
  "price.insertTick": (db: Db, t: number, priceCents: number) => insertTickOp(t, priceCents)(db),
  "price.openGap": (db: Db, startAt: number) => openGapOp(startAt)(db),
  "price.closeGaps": (db: Db, endAt: number) => closeGapsOp(endAt)(db),
  "bets.place": placeBetOp,
  "bets.pruneExposure": pruneExposureBefore,
  "resolver.settle": settleBets,
  "archive.startRun": (db: Db, weekStart: number, at: number) => startRunOp(weekStart, at)(db),
  "archive.finishRun": (db: Db, runId: number, status: RunStatus, finishedAt: number | null, report: unknown) =>
    finishRunOp(runId, status, finishedAt, report)(db),
  "archive.purgeBets": (db: Db, betIds: number[]) => purgeBetsOp(betIds)(db),
  "archive.purgeTicks": (db: Db, fromMs: number, toMs: number) => purgeTicksOp(fromMs, toMs)(db),
  "archive.purgeGaps": (db: Db, gapIds: number[]) => purgeGapsOp(gapIds)(db),
} satisfies CommandMap;

export type Commands = typeof COMMANDS;

/** Errors a command may throw that callers tell apart with instanceof (rebuilt across the thread). */
export const COMMAND_ERRORS = [BetRefusal, ExistingBet, InsufficientBalanceError];
