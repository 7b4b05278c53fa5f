import Database from "libsql";
import type { AppContext } from "../types.ts";
import { databasePaths } from "../../storage/db.ts";
import type { Db } from "../../storage/db.ts";
import { retryWhileUnavailable } from "../../storage/unavailable.ts";
import { isoDate, WEEK_MS, weekStartOf } from "./weeks.ts";
import {
  addBetChunk,
  addGaps,
  addTickSlice,
  isEmpty,
  prepareWeekSql,
  recordedTotals,
  sameTotals,
  writeRecord,
  zeroTotals,
  type WeekSql,
  type WeekTotals,
} from "./week-sql.ts";
import type { PurgeResult } from "./purge.ts";

/** A point of the run; the test hook may throw there to simulate a crash. */
export interface ArchiveStep {
  phase: "copy" | "verified" | "purge";
  weekStart: number;
  chunk: number;
}

export interface ChunkSizes {
  /** Bets (with their ledger entries) per copy/check step and per purge operation. */
  copyBets: number;
  purgeBets: number;
  /** Ticks: copied by time slice, purged by count. */
  tickSliceMs: number;
  purgeTicks: number;
  purgeGaps: number;
}

/**
 * Sized so each synchronous step stays at a few milliseconds (the archiver shares the event loop with
 * the API when it runs from the cron job or the admin route) and each purge operation holds the
 * shared writer for well under SPEC §10's 50 ms.
 */
export const DEFAULT_CHUNKS: ChunkSizes = { copyBets: 200, purgeBets: 200, tickSliceMs: 2 * 60_000, purgeTicks: 2000, purgeGaps: 500 };

export interface ArchiveOptions {
  onStep?: (step: ArchiveStep) => void;
  chunks?: Partial<ChunkSizes>;
}

export interface PurgeStats {
  operations: number;
  rows: number;
  /** Longest time one purge operation ran inside the shared writer's transaction. */
  writerHeldMaxMs: number;
  /** Longest time from enqueueing one purge operation to its commit (includes waiting for the batch). */
  commitMaxMs: number;
  /** The bet chunk size the adaptive purge ended with. */
  chunkBetsLast: number;
}

export interface WeekReport {
  weekStart: number;
  week: string;
  status: "done" | "failed";
  /** A previous run had verified this week already (it crashed or failed later): this run resumed it. */
  resumed: boolean;
  /** Rows newly written to history by this run (0 for rows copied by an earlier attempt). */
  copied: { bets: number; ledgerEntries: number; priceTicks: number; staleGaps: number };
  /** The week as history holds it, checked against current (first run) or the recorded totals (rerun). */
  totals?: WeekTotals;
  purge: PurgeStats;
  /** Milliseconds per phase: copy (with per-chunk checks), verify (history totals), purge (with the final check). */
  phasesMs: { copy: number; verify: number; purge: number };
  /** Longest synchronous step of this process (the event loop was busy that long at most, API included). */
  stepMaxMs: number;
  durationMs: number;
  error?: string;
}

export interface ArchiveReport {
  ok: boolean;
  startedAt: number;
  currentWeekStart: number;
  weeks: WeekReport[];
  /** Keys of bets archived before migration 080 remembered by this run (its first run only). */
  betKeysBackfilled: number;
  /** Idempotency keys of archived bets forgotten because their bets were placed over IDEMPOTENCY_KEY_RETENTION_MS ago. */
  betKeysPruned: number;
  durationMs: number;
}

const WEEKS_PER_RUN_MAX = 520;
/** Writer time one purge operation aims at (SPEC §10 allows 50 ms for everything a bet waits on). */
const PURGE_TARGET_MS = 10;
const PURGE_BETS_MIN = 20;
const PURGE_PAGE_BETS = 5000;
/** A step longer than this is followed by a pause of half its length (see endStep). */
const PACE_ABOVE_MS = 2;

/**
 * Ends one synchronous step of the copy/check work. The archiver shares the event loop with the API
 * when it runs in the server (cron job, admin route): after a long step it pauses for half as long,
 * so it never takes more than about two thirds of the loop and requests wait at most one step.
 */
function endStep(report: WeekReport, stepStarted: number): Promise<void> {
  const ms = performance.now() - stepStarted;
  report.stepMaxMs = Math.max(report.stepMaxMs, ms);
  if (ms <= PACE_ABOVE_MS) return new Promise((resolve) => setImmediate(resolve));
  return new Promise((resolve) => setTimeout(resolve, Math.min(50, ms / 2)));
}

/**
 * The Weekly Archiver (ADR-006). For every week before the current one (UTC, Monday 00:00) that still
 * has rows in current, oldest first:
 * 1. copy its settled bets, their ledger entries, its ticks and closed stale gaps into history, chunk
 *    by chunk, checking after each chunk that every copied row is in history exactly (EXCEPT);
 * 2. verify the week's totals (counts and money sums): history must equal current on the first run,
 *    and equal the totals recorded then (hist.archived_weeks) on a rerun after a crash;
 * 3. delete the rows from current in small operations through the shared batch queue.
 * Idempotent and crash-safe: copies are INSERT OR IGNORE of rows keyed by their ids, nothing is
 * deleted before its week is verified, a bet leaves together with its entries, and a rerun picks up
 * whatever is left. Open bets, their entries, accounts and non-bet entries never move.
 */
export async function runArchive(ctx: AppContext, options: ArchiveOptions = {}): Promise<ArchiveReport> {
  const started = performance.now();
  const startedAt = ctx.now();
  const currentWeekStart = weekStartOf(startedAt);
  const chunks = { ...DEFAULT_CHUNKS, ...options.chunks };
  const conn = openArchiverConnection(ctx);
  const weeks: WeekReport[] = [];
  let betKeysBackfilled = 0;
  try {
    const sql = prepareWeekSql(conn);
    betKeysBackfilled = await backfillBetKeys(ctx, conn, startedAt - ctx.config.IDEMPOTENCY_KEY_RETENTION_MS);
    for (let i = 0; i < WEEKS_PER_RUN_MAX; i++) {
      const first = (sql.firstLeft.get(currentWeekStart) as { t: number | null }).t;
      if (first === null) break;
      const weekStart = weekStartOf(first);
      const report = await archiveWeek(ctx, conn, sql, weekStart, chunks, options);
      weeks.push(report);
      if (report.status === "failed") break;
    }
  } finally {
    conn.close();
  }
  const betKeysPruned = await pruneBetKeys(ctx, startedAt - ctx.config.IDEMPOTENCY_KEY_RETENTION_MS);
  const report: ArchiveReport = {
    ok: weeks.every((w) => w.status === "done"),
    startedAt,
    currentWeekStart,
    weeks,
    betKeysBackfilled,
    betKeysPruned,
    durationMs: Math.round(performance.now() - started),
  };
  if (!report.ok) ctx.log.error({ weeks: weeks.filter((w) => w.status === "failed") }, "archive run failed");
  else ctx.log.info({ weeks: weeks.length, durationMs: report.durationMs }, "archive run finished");
  return report;
}

const BACKFILL_KEYS_PER_OP = 1000;
const BACKFILL_PAGES_MAX = 1_000_000;

/**
 * Once per database (migration 080): the keys of history's bets placed since `sinceMs` (bets archived
 * before the key table existed) go into archived_bet_keys, a page at a time by id, through the queue.
 */
async function backfillBetKeys(ctx: AppContext, conn: Db, sinceMs: number): Promise<number> {
  if (conn.prepare("SELECT 1 FROM main.archived_bet_keys_backfill").get()) return 0;
  const page = conn.prepare(
    `SELECT json_group_array(json_array(account_id, idempotency_key, id, request_hash, placed_at)) AS rows, max(id) AS last, count(*) AS n
       FROM (SELECT account_id, idempotency_key, id, request_hash, placed_at FROM hist.bets WHERE id > ? ORDER BY id LIMIT ?)`,
  );
  let remembered = 0;
  let afterId = 0;
  for (let i = 0; i < BACKFILL_PAGES_MAX; i++) {
    const { rows, last, n } = page.get(afterId, BACKFILL_KEYS_PER_OP) as { rows: string; last: number | null; n: number };
    if (n === 0 || last === null) break;
    afterId = last;
    const recent = (JSON.parse(rows) as [number, string, number, string, number][]).filter((r) => r[4] >= sinceMs);
    if (recent.length > 0) remembered += (await ctx.queue.run("archive.rememberBetKeys", JSON.stringify(recent))).rows;
    await new Promise((resolve) => setImmediate(resolve));
  }
  await ctx.queue.run("archive.markBetKeysBackfilled", ctx.now());
  return remembered;
}

const PRUNE_KEYS_PER_OP = 2000;
const PRUNE_KEYS_OPS_MAX = 10_000;

/** Forgets the archived idempotency keys of bets placed before `beforeMs`, a small operation at a time. */
async function pruneBetKeys(ctx: AppContext, beforeMs: number): Promise<number> {
  let pruned = 0;
  for (let i = 0; i < PRUNE_KEYS_OPS_MAX; i++) {
    const { rows } = await ctx.queue.run("archive.pruneBetKeys", beforeMs, PRUNE_KEYS_PER_OP);
    pruned += rows;
    if (rows < PRUNE_KEYS_PER_OP) break;
  }
  return pruned;
}

/** The archiver's own connection: current as `main` (read), history as `hist` (the only file it writes directly). */
function openArchiverConnection(ctx: AppContext): Db {
  const paths = databasePaths(ctx.config);
  const conn = new Database(paths.current);
  conn.exec(`PRAGMA busy_timeout = ${Math.trunc(ctx.config.DB_BUSY_TIMEOUT_MS)}`);
  conn.prepare("ATTACH DATABASE ? AS hist").run(paths.history);
  // A page cache big enough for the week's index pages: SQLite's default (2 MB) made every chunk
  // re-read its B-tree pages from the OS at a million bets (bounded: 128 MB per file).
  conn.exec("PRAGMA main.cache_size = -131072");
  conn.exec("PRAGMA hist.cache_size = -131072");
  // Copies are made durable by a checkpoint before anything is deleted (see archiveWeek).
  conn.exec("PRAGMA hist.synchronous = NORMAL");
  return conn;
}

async function archiveWeek(ctx: AppContext, conn: Db, sql: WeekSql, weekStart: number, chunks: ChunkSizes, options: ArchiveOptions): Promise<WeekReport> {
  const started = performance.now();
  const weekEnd = weekStart + WEEK_MS;
  const report: WeekReport = {
    weekStart,
    week: isoDate(weekStart),
    status: "failed",
    resumed: false,
    copied: { bets: 0, ledgerEntries: 0, priceTicks: 0, staleGaps: 0 },
    purge: { operations: 0, rows: 0, writerHeldMaxMs: 0, commitMaxMs: 0, chunkBetsLast: chunks.purgeBets },
    phasesMs: { copy: 0, verify: 0, purge: 0 },
    stepMaxMs: 0,
    durationMs: 0,
  };
  const phase = (name: keyof WeekReport["phasesMs"], since: number) => (report.phasesMs[name] = Math.round(performance.now() - since));
  const write = untilWritten(ctx, weekStart);
  const runId = await write(() => ctx.queue.run("archive.startRun", weekStart, ctx.now()));
  try {
    const recorded = recordedTotals(sql, weekStart);
    report.resumed = recorded !== undefined;
    let since = performance.now();
    const current = await copyWeek(conn, sql, weekStart, weekEnd, chunks, report, options, write);
    // The copy commits with synchronous=NORMAL (fewer fsyncs competing with the bet writer); this
    // checkpoint syncs history to disk before anything is deleted from current.
    await write(() => conn.prepare("PRAGMA hist.wal_checkpoint(TRUNCATE)").get());
    phase("copy", since);
    since = performance.now();
    const history = zeroTotals();
    await sumWeek(sql.hist, weekStart, weekEnd, chunks, history, report);
    if (!recorded) {
      if (!sameTotals(current, history)) throw new VerifyError("history does not match current for this week", { current, history });
      await write(() => writeRecord(sql, weekStart, history, ctx.now()));
    } else if (!sameTotals(recorded, history)) {
      throw new VerifyError("history no longer matches the totals recorded when this week was verified", { recorded, history });
    }
    report.totals = history;
    phase("verify", since);
    await write(() => ctx.queue.run("archive.finishRun", runId, "copied", null, report));
    options.onStep?.({ phase: "verified", weekStart, chunk: 0 });
    since = performance.now();
    await purgeWeek(ctx, sql, weekStart, weekEnd, chunks, report, options, write);
    const left = zeroTotals();
    await sumWeek(sql.main, weekStart, weekEnd, chunks, left, report);
    if (!isEmpty(left)) throw new VerifyError("rows of the week are still in current after the purge", { left });
    phase("purge", since);
    report.status = "done";
  } catch (error) {
    report.error = error instanceof Error ? error.message : String(error);
    if (error instanceof VerifyError) report.error += ` ${JSON.stringify(error.details)}`;
    if (conn.inTransaction) conn.exec("ROLLBACK");
  }
  report.durationMs = Math.round(performance.now() - started);
  await write(() => ctx.queue.run("archive.finishRun", runId, report.status, ctx.now(), report)).catch((error: unknown) => {
    ctx.log.error({ err: error, weekStart }, "could not record the archive run");
  });
  return report;
}

type Write = <T>(run: () => T | Promise<T>) => Promise<T>;

/**
 * The archiver's writes wait out a full disk or an I/O error (capped exponential backoff, 100 ms to
 * 5 s, for as long as it takes) instead of failing the week: each write is a whole transaction that
 * either committed or changed nothing, so trying it again is safe.
 */
function untilWritten(ctx: AppContext, weekStart: number): Write {
  return (run) =>
    retryWhileUnavailable(run, {
      baseMs: 100,
      maxMs: 5000,
      onRetry: (error, failures, delayMs) => {
        if ((failures & (failures - 1)) === 0) ctx.log.warn({ err: error, weekStart, failures, delayMs }, "archive write failed; retrying until it commits");
      },
    });
}

class VerifyError extends Error {
  constructor(
    message: string,
    readonly details: Record<string, unknown>,
  ) {
    super(message);
  }
}

/** Step 1: copies the week into history chunk by chunk, checking each chunk; returns current's totals. */
async function copyWeek(conn: Db, sql: WeekSql, weekStart: number, weekEnd: number, chunks: ChunkSizes, report: WeekReport, options: ArchiveOptions, write: Write): Promise<WeekTotals> {
  const totals = zeroTotals();
  let chunk = 0;
  for await (const ids of betChunks(sql.main, weekStart, weekEnd, chunks.copyBets, report)) {
    options.onStep?.({ phase: "copy", weekStart, chunk: chunk++ });
    const stepStarted = performance.now();
    const copied = await write(() => inTransaction(conn, () => [sql.copyBets.run(ids).changes, sql.copyEntries.run(ids).changes] as const));
    report.copied.bets += copied[0];
    report.copied.ledgerEntries += copied[1];
    const missing = (sql.missingBets.get(ids) as { n: number }).n + (sql.missingEntries.get(ids) as { n: number }).n;
    if (missing > 0) throw new VerifyError("copied bets or entries differ in history", { missing });
    addBetChunk(sql.main, ids, totals);
    await endStep(report, stepStarted);
  }
  for (let from = weekStart; from < weekEnd; from += chunks.tickSliceMs) {
    const to = Math.min(weekEnd, from + chunks.tickSliceMs);
    const stepStarted = performance.now();
    report.copied.priceTicks += await write(() => inTransaction(conn, () => sql.copyTicks.run(from, to).changes));
    if ((sql.missingTicks.get(from, to) as { n: number }).n > 0) throw new VerifyError("copied ticks differ in history", { from, to });
    addTickSlice(sql.main, from, to, totals);
    await endStep(report, stepStarted);
  }
  report.copied.staleGaps += await write(() => inTransaction(conn, () => sql.copyGaps.run(weekStart, weekEnd).changes));
  if ((sql.missingGaps.get(weekStart, weekEnd) as { n: number }).n > 0) throw new VerifyError("copied stale gaps differ in history", {});
  addGaps(sql.main, weekStart, weekEnd, totals);
  // The thresholds the week's bets were decided with go along, so history alone recomputes them.
  inTransaction(conn, () => sql.copyThresholds.run(weekEnd));
  if ((sql.missingThresholds.get(weekEnd) as { n: number }).n > 0) throw new VerifyError("stale thresholds differ in history", {});
  return totals;
}

/** Adds the week's totals as database `s` holds them, summed chunk by chunk. */
async function sumWeek(s: WeekSql["main"], weekStart: number, weekEnd: number, chunks: ChunkSizes, into: WeekTotals, report: WeekReport): Promise<void> {
  for await (const ids of betChunks(s, weekStart, weekEnd, chunks.copyBets, report)) {
    const stepStarted = performance.now();
    addBetChunk(s, ids, into);
    await endStep(report, stepStarted);
  }
  for (let from = weekStart; from < weekEnd; from += chunks.tickSliceMs) {
    const stepStarted = performance.now();
    addTickSlice(s, from, Math.min(weekEnd, from + chunks.tickSliceMs), into);
    await endStep(report, stepStarted);
  }
  addGaps(s, weekStart, weekEnd, into);
}

/**
 * Step 3: deletes the verified week from current, a small operation at a time through the queue.
 * The bet chunk adapts to the measured writer time: halved above PURGE_TARGET_MS, grown below half
 * of it (a big, cold database makes the same chunk several times slower than a small one).
 */
async function purgeWeek(ctx: AppContext, sql: WeekSql, weekStart: number, weekEnd: number, chunks: ChunkSizes, report: WeekReport, options: ArchiveOptions, write: Write): Promise<void> {
  let chunk = 0;
  const step = async (purge: () => Promise<PurgeResult>): Promise<number> => {
    options.onStep?.({ phase: "purge", weekStart, chunk: chunk++ });
    const enqueued = performance.now();
    const result = await write(purge);
    const p = report.purge;
    p.operations++;
    p.rows += result.rows;
    p.writerHeldMaxMs = Math.max(p.writerHeldMaxMs, result.heldMs);
    p.commitMaxMs = Math.max(p.commitMaxMs, performance.now() - enqueued);
    return result.heldMs;
  };
  let size = chunks.purgeBets;
  for await (const page of betChunks(sql.main, weekStart, weekEnd, PURGE_PAGE_BETS, report)) {
    const ids = JSON.parse(page) as number[];
    for (let i = 0; i < ids.length; ) {
      const slice = ids.slice(i, i + size);
      i += slice.length;
      const heldMs = await step(() => ctx.queue.run("archive.purgeBets", slice));
      if (heldMs > PURGE_TARGET_MS) size = Math.max(PURGE_BETS_MIN, Math.floor(size / 2));
      else if (heldMs < PURGE_TARGET_MS / 2) size = Math.min(chunks.purgeBets * 4, Math.ceil(size * 1.25));
    }
  }
  report.purge.chunkBetsLast = size;
  let ticks = chunks.purgeTicks;
  for (;;) {
    const boundary = sql.tickBoundary.get(weekStart, weekEnd, ticks) as { t: number } | undefined;
    const to = boundary?.t ?? weekEnd;
    const heldMs = await step(() => ctx.queue.run("archive.purgeTicks", weekStart, to));
    if (to === weekEnd) break;
    if (heldMs > PURGE_TARGET_MS) ticks = Math.max(100, Math.floor(ticks / 2));
  }
  for (;;) {
    const ids = (sql.gapIds.all(weekStart, weekEnd, chunks.purgeGaps) as { id: number }[]).map((r) => r.id);
    if (ids.length === 0) break;
    await step(() => ctx.queue.run("archive.purgeGaps", ids));
  }
}

/**
 * The settled bets of a week in `s`, as JSON arrays of at most `size` ids, by keyset pagination
 * over (resolved_at, id). Yields to the event loop between chunks.
 */
async function* betChunks(s: WeekSql["main"], weekStart: number, weekEnd: number, size: number, report: WeekReport): AsyncGenerator<string> {
  let afterResolved = weekStart - 1;
  let afterId = 0;
  for (;;) {
    const stepStarted = performance.now();
    const rows = s.nextBetIds.all(weekStart, weekEnd, afterResolved, afterId, size) as { id: number; resolved_at: number }[];
    if (rows.length === 0) return;
    const last = rows[rows.length - 1]!;
    afterResolved = last.resolved_at;
    afterId = last.id;
    const ids = JSON.stringify(rows.map((r) => r.id));
    await endStep(report, stepStarted);
    yield ids;
  }
}

/** A write transaction on the archiver's connection (it only ever writes `hist`, so only history is locked). */
function inTransaction<T>(conn: Db, body: () => T): T {
  conn.exec("BEGIN");
  try {
    const value = body();
    conn.exec("COMMIT");
    return value;
  } catch (error) {
    if (conn.inTransaction) conn.exec("ROLLBACK");
    throw error;
  }
}
