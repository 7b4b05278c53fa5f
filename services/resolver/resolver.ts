import type { AppContext } from "../types.ts";
import { QueueClosedError } from "../../storage/batch-queue.ts";
import { unavailableDependency } from "../../storage/unavailable.ts";
import { statementCache, type Db } from "../../storage/db.ts";
import { columnOf } from "../../domain/grid.ts";
import { firstWin, mergeTicks, resolveBet, type StaleGap, type Tick, type Win } from "../../domain/resolution.ts";
import { BET_COLUMNS, toBetJson } from "../bets/bet-json.ts";
import { toBetRow } from "../bets/rows.ts";
import { ticksBetween, newestTick, windowEvidence } from "./evidence.ts";
import { staleMsAt } from "../price/stale-thresholds.ts";
import { createResolverMetrics, type ResolverMetrics } from "./metrics.ts";
import { retryDelayMs } from "../../domain/backoff.ts";
import { OpenIndex, type ColumnBucket } from "./open-index.ts";
import { openBetFromRow, settledBetRow, type FinalVerdict, type Settled, type Settlement } from "./settle.ts";
import { TickRing } from "./tick-ring.ts";
import { publishPlayerEvent } from "../realtime/player-events.ts";
import type { OpenBet, ResolverService } from "./types.ts";

export interface ResolverOptions {
  /**
   * How long after a window ends its losses and voids are decided: long enough for the price
   * monitor to record a gap that began just before t1 and for the last ticks to be committed.
   */
  settleDelayMs: number;
  sweepIntervalMs: number;
  /** Bets per settlement operation (one savepoint in a batch transaction). */
  chunkSize: number;
  /** Settlement operations in the batch queue at once. */
  opsInFlightMax: number;
  /** How long a window may wait for a stale gap the monitor reported to reach the database. */
  deferMaxMs: number;
  orphanSweepIntervalMs: number;
  /**
   * Losses wait while more than this many commands are queued for the writer (0: never wait). A loss
   * moves no money, so it yields the writer to bet placement; wins and voids never wait.
   */
  lossYieldQueueDepth: number;
  /**
   * A failed settlement is tried again after retryBaseMs, doubling per failure up to retryMaxMs, for
   * as long as it takes (issue 13: settlement never gives up; a full disk must not strand a win).
   */
  retryBaseMs: number;
  retryMaxMs: number;
}

/** Failed settlement operations waiting for their next attempt, with when (real time, performance.now()). */
interface Retry {
  chunk: Settlement[];
  dueAt: number;
}

const ORPHANS_PER_SWEEP_MAX = 1000;
/**
 * The ended-open gauges count up to this many: they are read on the event loop at every scrape, and a
 * settlement backlog of ~50 000 bets made each scrape cost ~65 ms of it (two counts). The alerts ask > 0.
 */
const ENDED_OPEN_COUNT_MAX = 10_000;
/** Open bets of ended columns looked at per orphan sweep (ids only). */
const ORPHAN_CANDIDATES_MAX = 10_000;
const RECENT_TICKS_MAX = 50_000;
/** How soon losses that yielded to a busy writer look again, and for how long at most they yield. */
const YIELD_RETRY_MS = 2;
const LOSS_YIELD_MAX_MS = 1000;

/**
 * The Bet Resolver (SPEC §5): wins are settled at the touching tick from an index of open bets by
 * window and band; windows that end are decided from the stored ticks and stale gaps (so the
 * decision is exactly what a proof recomputes), a little after they end. Every settlement goes
 * through the shared batch queue (status-guarded update + payout/refund in one transaction) and is
 * told to the player on the bus after the commit.
 */
export class Resolver implements ResolverService {
  readonly #ctx: AppContext;
  readonly #o: ResolverOptions;
  readonly #metrics: ResolverMetrics;
  readonly #index = new OpenIndex();
  readonly #recent = new TickRing(RECENT_TICKS_MAX);
  #last: Tick | undefined;
  readonly #inflight = new Set<Promise<void>>();
  /** Decided settlements not handed to the queue yet (bounded by the open bets: each bet is decided once). */
  readonly #waiting: Settlement[][] = [];
  readonly #inflightIds = new Set<number>();
  /** Bounded by the open bets: a bet is in at most one of the index, #waiting, in flight, or here. */
  #retry: Retry[] = [];
  /** Bets whose settlement failed (waiting in #retry, or in flight again): failures so far, and what it was. */
  readonly #attempts = new Map<number, { failures: number; settlement: Settlement }>();
  #started = false;
  #timer: NodeJS.Timeout | undefined;
  #nextOrphanSweepAt = 0;
  #unsubscribe: (() => void) | undefined;
  #yieldTimer: NodeJS.Timeout | undefined;
  /** When losses began to yield (real time); past LOSS_YIELD_MAX_MS they go anyway, so they never starve. */
  #yieldingSince: number | undefined;

  constructor(ctx: AppContext, options: ResolverOptions) {
    this.#ctx = ctx;
    this.#o = options;
    this.#metrics = createResolverMetrics(ctx.metrics.registry, {
      endedOpenBets: () => this.endedOpenCount(),
      stuckOpenBets: () => this.endedOpenCount(ctx.config.STUCK_BET_GRACE_MS),
    });
    // Ticks that arrive before start() are kept for its catch-up.
    this.#unsubscribe = ctx.services.price?.onTick((tick) => this.onTick(tick));
  }

  get #dbs() {
    return [this.#ctx.db, this.#ctx.history];
  }

  openCount(): number {
    return this.#index.size;
  }

  /** Settlements that failed and wait for their next attempt (readiness: degraded while any do). */
  retryingCount(): number {
    return this.#attempts.size;
  }

  /**
   * Bets of the database that are still open although their window ended more than the settle delay
   * ago (or `agoMs`): normally 0 between sweeps; grows while settlements cannot be written (gauges on
   * /metrics: past the settle delay, and past STUCK_BET_GRACE_MS as the integrity check counts them).
   * Counted up to ENDED_OPEN_COUNT_MAX.
   */
  endedOpenCount(agoMs = this.#o.settleDelayMs): number {
    const endedBy = this.#ctx.now() - agoMs;
    const row = orphanStatements(this.#ctx.db).endedOpen.get(columnOf(endedBy, this.#ctx.config.COLUMN_MS) + 1, endedBy) as { n: number };
    return row.n;
  }

  /** Starts watching a committed bet. A bet whose window has already begun is first checked against the ticks seen. */
  track(bet: OpenBet): void {
    if (this.#index.has(bet.id) || this.#inflightIds.has(bet.id) || this.#attempts.has(bet.id)) return;
    const last = this.#last;
    if (this.#started && last && last.t >= bet.windowStart && last.t < bet.windowEnd) {
      const ticks = this.#windowTicks(bet.windowStart, bet.windowEnd);
      const win = firstWin(bet, ticks, last.t + 1);
      if (win) {
        this.#submit([{ bet, verdict: win, decidedAt: this.#ctx.now(), ticks: decidingTicks(ticks, win) }]);
        return;
      }
    }
    this.#index.add(bet);
    this.#metrics.openBets.set(this.#index.size);
  }

  /** One index tick: settles every bet it makes win. Synchronous up to the enqueue. */
  onTick(tick: Tick): void {
    const previous = this.#last;
    if (previous && tick.t <= previous.t) return; // the contract says strictly increasing; never match twice
    this.#last = tick;
    this.#recent.push(tick);
    const started = performance.now();
    const hits = this.#index.takeWins(tick, previous);
    this.#metrics.tickMatchSeconds.observe((performance.now() - started) / 1000);
    if (hits.length === 0) return;
    const decidedAt = this.#ctx.now();
    const settlements: Settlement[] = [];
    for (const hit of hits) {
      const ticks = hit.win.reason === "cross" && previous ? [previous, tick] : [tick];
      for (const bet of hit.band.bets.values()) settlements.push({ bet, verdict: hit.win, decidedAt, ticks });
    }
    this.#metrics.openBets.set(this.#index.size);
    this.#submit(settlements);
  }

  /**
   * Decides the windows that ended at least settleDelayMs ago, retries failed settlements, adopts
   * expired open bets nobody tracked; resolves once everything submitted so far has committed.
   */
  async sweep(): Promise<void> {
    let now = this.#ctx.now();
    // Orphans are looked for when no settlement is pending: otherwise the open bets of ended columns
    // are mostly those settlements, waiting for the writer. Before the barrier below, which an
    // adopted bet of an ended window needs as much as a tracked one.
    if (now >= this.#nextOrphanSweepAt && this.#waiting.length === 0 && this.#inflight.size === 0 && this.#retry.length === 0) {
      this.#nextOrphanSweepAt = now + this.#o.orphanSweepIntervalMs;
      this.#adoptOrphans(now);
    }
    let written = true;
    if (this.#index.hasEndedBy(now - this.#o.settleDelayMs)) {
      // Ended windows are decided from stored ticks: first let every write queued before now commit
      // (the queue is FIFO), so ticks the price module already handed to the queue are in the database.
      written = await this.#ctx.queue.barrier().then(
        () => true,
        () => false,
      );
      now = this.#ctx.now();
    }
    this.#submitDueRetries();
    // While writes fail (a full disk) the stored evidence is not final: ticks handed to the queue may
    // not be there, and a win waiting for its retry will store its deciding ticks in that window when
    // it commits. Deciding now could give a verdict the proof later recomputes differently, so ended
    // windows wait: all of them while the barrier fails, and a window while one of its wins waits.
    if (written) {
      const held = this.#windowsWithPendingWins();
      for (const column of this.#index.takeEnded(now - this.#o.settleDelayMs)) {
        if (!held.has(column.windowStart)) this.#settleEnded(column, now);
        else for (const band of column.bands) for (const bet of band.bets.values()) this.#index.add(bet);
      }
    }
    this.#metrics.openBets.set(this.#index.size);
    await this.idle();
  }

  /** Resolves when every settlement submitted so far has committed (or failed and been queued for retry). */
  async idle(): Promise<void> {
    while (this.#inflight.size > 0 || this.#waiting.length > 0) {
      if (this.#inflight.size === 0) this.#pump();
      // Nothing in flight after a pump: losses are yielding to a busy writer.
      if (this.#inflight.size === 0) await new Promise((resolve) => setTimeout(resolve, YIELD_RETRY_MS));
      else await Promise.allSettled([...this.#inflight]);
    }
  }

  /** Rebuilds the index from the database, settles what the stored ticks already decide, then sweeps on a timer. */
  start(): void {
    const rows = this.#ctx.db.prepare(`SELECT ${BET_COLUMNS} FROM bets WHERE status = 'open'`).all();
    for (const raw of rows) this.#index.add(openBetFromRow(toBetRow(raw)));
    const stored = newestTick(this.#dbs);
    if (stored && (!this.#last || stored.t > this.#last.t)) this.#last = stored;
    this.#started = true;
    this.#catchUp(this.#ctx.now());
    this.#metrics.openBets.set(this.#index.size);
    this.#ctx.log.info({ openBets: this.#index.size }, "resolver index rebuilt from the database");
    const sweep = () => void this.sweep().catch((error: unknown) => this.#ctx.log.error({ err: error }, "resolver sweep failed"));
    sweep();
    this.#timer = setInterval(sweep, this.#o.sweepIntervalMs);
    this.#timer.unref();
  }

  /** Stops matching; waits (bounded) for submitted settlements, which the queue still commits. */
  async stop(): Promise<void> {
    this.#started = false;
    if (this.#timer) clearInterval(this.#timer);
    if (this.#yieldTimer) clearTimeout(this.#yieldTimer);
    this.#yieldTimer = undefined;
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    let timeout: NodeJS.Timeout | undefined;
    await Promise.race([this.idle(), new Promise<void>((resolve) => (timeout = setTimeout(resolve, 5000)))]);
    clearTimeout(timeout);
  }

  /** Ticks of a window known to this process: stored ones merged with the ones seen live. */
  #windowTicks(windowStart: number, windowEnd: number): Tick[] {
    const stored = ticksBetween(this.#dbs, windowStart, windowEnd);
    return mergeTicks(stored, this.#recent.between(windowStart, windowEnd));
  }

  /** After a restart: windows in progress may already have been won by ticks stored while we were down. */
  #catchUp(now: number): void {
    for (const column of this.#index.startedBy(this.#last?.t ?? now)) {
      if (column.windowEnd <= now - this.#o.settleDelayMs) continue; // the sweep decides it whole
      const ticks = this.#windowTicks(column.windowStart, column.windowEnd);
      for (const band of [...column.bands]) {
        const win = firstWin({ ...band, windowStart: column.windowStart, windowEnd: column.windowEnd }, ticks);
        if (!win) continue;
        const bets = this.#index.takeBand(column, band);
        this.#submit(bets.map((bet) => ({ bet, verdict: win, decidedAt: now, ticks: decidingTicks(ticks, win) })));
      }
    }
  }

  /** A window ended: each band is decided by the rule on stored evidence (a late win is still a win). */
  #settleEnded(column: ColumnBucket, now: number): void {
    const { windowStart, windowEnd } = column;
    const evidence = windowEvidence(this.#dbs, windowStart, windowEnd);
    const liveGaps = this.#ctx.services.price?.staleGaps(windowStart, windowEnd) ?? [];
    const settlements: Settlement[] = [];
    // The threshold recorded for this window, as the proof will read it (never today's setting).
    const staleMs = staleMsAt(this.#dbs, windowStart, this.#ctx.config.PRICE_STALE_MS);
    for (const band of column.bands) {
      const terms = { windowStart, windowEnd, bandLowCents: band.bandLowCents, bandHighCents: band.bandHighCents };
      const input = { ticks: evidence.ticks, staleGaps: evidence.staleGaps, staleMs, knownUntil: windowEnd };
      let verdict = resolveBet(terms, input) as FinalVerdict;
      let gaps: StaleGap[] | undefined;
      if (verdict.status === "lost" && liveGaps.length > 0) {
        // The monitor saw the feed stale in this window but its gap is not stored yet: wait for it, so
        // the proof shows the gap; past the deadline, decide on what the monitor said.
        if (now < windowEnd + this.#o.settleDelayMs + this.#o.deferMaxMs) {
          for (const bet of band.bets.values()) this.#index.add(bet);
          continue;
        }
        verdict = resolveBet(terms, { ...input, staleGaps: [...evidence.staleGaps, ...liveGaps] }) as FinalVerdict;
        // Decided on gaps the database may not hold (their write failed): the settlement stores them.
        if (verdict.status === "void") gaps = liveGaps;
      }
      const ticks = verdict.status === "won" ? decidingTicks(evidence.ticks, verdict) : undefined;
      for (const bet of band.bets.values()) settlements.push({ bet, verdict, decidedAt: windowEnd, ticks, gaps });
    }
    this.#submit(settlements);
  }

  /** Open bets of ended windows that are in no index (a crash between commit and track, or a bug). */
  #adoptOrphans(now: number): void {
    const endedBy = now - this.#o.settleDelayMs;
    // Ids first, from the open-bets index; whole rows only for the bets nobody tracks.
    const stmts = orphanStatements(this.#ctx.db);
    const candidates = stmts.openIds.all(columnOf(endedBy, this.#ctx.config.COLUMN_MS), ORPHAN_CANDIDATES_MAX) as number[];
    let adopted = 0;
    for (const id of candidates) {
      if (this.#index.has(id) || this.#inflightIds.has(id) || this.#attempts.has(id)) continue;
      const raw = stmts.row.get(id, endedBy);
      if (!raw) continue; // settled meanwhile, or its window had not ended yet
      const bet = openBetFromRow(toBetRow(raw));
      this.#ctx.log.warn({ betId: bet.id }, "resolver adopted an open bet it was not tracking");
      this.#index.add(bet);
      if (++adopted >= ORPHANS_PER_SWEEP_MAX) return;
    }
  }

  /**
   * Queues settlements in chunks; at most `opsInFlightMax` chunks are in the batch queue at a time,
   * so a mass expiry never fills one transaction (bet placement keeps its share of every batch).
   * Wins go to the front: they are what players wait for.
   */
  #submit(settlements: Settlement[]): void {
    const chunks: Settlement[][] = [];
    for (let i = 0; i < settlements.length; i += this.#o.chunkSize) chunks.push(settlements.slice(i, i + this.#o.chunkSize));
    for (const s of settlements) this.#inflightIds.add(s.bet.id);
    this.#metrics.pendingSettlements.inc(settlements.length);
    if (settlements.some((s) => s.verdict.status === "won")) this.#waiting.unshift(...chunks);
    else this.#waiting.push(...chunks);
    this.#pump();
  }

  #pump(): void {
    while (this.#inflight.size < this.#o.opsInFlightMax && this.#waiting.length > 0) {
      if (this.#yieldsToPlacement(this.#waiting[0]!)) {
        this.#yieldTimer ??= setTimeout(() => {
          this.#yieldTimer = undefined;
          this.#pump();
        }, YIELD_RETRY_MS).unref();
        return;
      }
      const chunk = this.#waiting.shift()!;
      const resolvedAt = this.#ctx.now();
      const promise: Promise<void> = this.#ctx.queue
        .run("resolver.settle", chunk, resolvedAt)
        .then(
          (settled) => this.#committed(chunk, settled, resolvedAt),
          (error: unknown) => this.#failed(chunk, error),
        )
        .finally(() => {
          for (const s of chunk) this.#inflightIds.delete(s.bet.id);
          this.#metrics.pendingSettlements.dec(chunk.length);
          this.#inflight.delete(promise);
          this.#pump();
        });
      this.#inflight.add(promise);
    }
  }

  /** A chunk of losses only, while the writer has a queue of other work: it waits its turn. */
  #yieldsToPlacement(chunk: Settlement[]): boolean {
    const depthMax = this.#o.lossYieldQueueDepth;
    const busy = depthMax > 0 && this.#ctx.queue.depth > depthMax && chunk.every((s) => s.verdict.status === "lost");
    if (!busy) {
      this.#yieldingSince = undefined;
      return false;
    }
    const now = performance.now();
    this.#yieldingSince ??= now;
    return now - this.#yieldingSince < LOSS_YIELD_MAX_MS;
  }

  #committed(chunk: Settlement[], settled: Settled[], resolvedAt: number): void {
    const ctx = this.#ctx;
    const now = ctx.now();
    // Committed: settled now, or settled before (a retry whose first attempt did commit, another process).
    for (const s of chunk) this.#attempts.delete(s.bet.id);
    this.#metrics.retrying.set(this.#attempts.size);
    for (const result of settled) {
      const settlement = chunk[result.index]!;
      const row = settledBetRow(settlement, result, resolvedAt);
      const { balanceAfterMicroUsd } = result;
      const outcome = settlement.verdict.status;
      this.#metrics.settlements.inc({ outcome });
      this.#metrics.lagSeconds.observe({ outcome }, Math.max(0, now - settlement.decidedAt) / 1000);
      publishPlayerEvent(ctx, row.address, { type: "bet", bet: toBetJson(row) }, { betId: row.id });
      if (balanceAfterMicroUsd !== null) publishPlayerEvent(ctx, row.address, { type: "balance", balanceMicroUsd: balanceAfterMicroUsd }, { betId: row.id });
      try {
        ctx.services.bets?.onSettled(row.id);
      } catch (error) {
        ctx.log.warn({ err: error, betId: row.id }, "bets module failed to take a settlement");
      }
    }
  }

  /**
   * A settlement operation failed: nothing of it happened (its savepoint or transaction rolled back),
   * so it is tried again after a capped exponential backoff, forever. A dependency fault (disk full,
   * I/O error) retries the chunk as it was; any other error retries bet by bet, so one bad bet cannot
   * hold up the others.
   */
  #failed(chunk: Settlement[], error: unknown): void {
    if (error instanceof QueueClosedError) {
      // Shutting down: the bets stay open in the database and the next start decides them again.
      return;
    }
    this.#metrics.failures.inc();
    let attempts = 0;
    for (const s of chunk) attempts = Math.max(attempts, (this.#attempts.get(s.bet.id)?.failures ?? 0) + 1);
    for (const s of chunk) this.#attempts.set(s.bet.id, { failures: attempts, settlement: s });
    const dueAt = performance.now() + retryDelayMs(attempts, this.#o.retryBaseMs, this.#o.retryMaxMs);
    const dependency = unavailableDependency(error);
    if (dependency || chunk.length === 1) this.#retry.push({ chunk, dueAt });
    else for (const s of chunk) this.#retry.push({ chunk: [s], dueAt });
    this.#metrics.retrying.set(this.#attempts.size);
    // Every failure counts in the metric; the log says the first and then each power of two.
    if ((attempts & (attempts - 1)) === 0) {
      const log = dependency ? this.#ctx.log.warn.bind(this.#ctx.log) : this.#ctx.log.error.bind(this.#ctx.log);
      log({ err: error, bets: chunk.length, attempts, dependency }, "settlement failed; it will be retried until it commits");
    }
  }

  /** Windows with a win whose settlement failed and has not committed yet (its ticks may not be stored). */
  #windowsWithPendingWins(): Set<number> {
    const held = new Set<number>();
    for (const { settlement } of this.#attempts.values()) if (settlement.verdict.status === "won") held.add(settlement.bet.windowStart);
    return held;
  }

  /** Hands the failed settlements whose backoff has passed back to the queue (wins first, as always). */
  #submitDueRetries(): void {
    if (this.#retry.length === 0) return;
    const now = performance.now();
    const due: Settlement[] = [];
    const later: Retry[] = [];
    for (const entry of this.#retry) {
      if (entry.dueAt <= now) due.push(...entry.chunk);
      else later.push(entry);
    }
    this.#retry = later;
    if (due.length > 0) this.#submit(due);
  }
}

/** The tick a win was decided on, and for a crossing the tick before it. */
function decidingTicks(ticks: readonly Tick[], win: Win): Tick[] {
  const i = ticks.findIndex((t) => t.t === win.at);
  if (i < 0) return [{ t: win.at, priceCents: win.priceCents }];
  return win.reason === "cross" && i > 0 ? [ticks[i - 1]!, ticks[i]!] : [ticks[i]!];
}

const orphanStatements = statementCache((db: Db) => ({
  // Columns before the one in progress (a column's bets share its window).
  openIds: db.prepare("SELECT id FROM bets WHERE status = 'open' AND col < ? LIMIT ?").pluck(),
  endedOpen: db.prepare(
    `SELECT count(*) AS n FROM (SELECT 1 FROM bets WHERE status = 'open' AND col < ? AND window_end <= ? LIMIT ${ENDED_OPEN_COUNT_MAX})`,
  ),
  row: db.prepare(`SELECT ${BET_COLUMNS} FROM bets WHERE id = ? AND status = 'open' AND window_end <= ?`),
}));

