import { Counter } from "prom-client";
import type { AppContext } from "../types.ts";
import { QueueClosedError, QueueFullError } from "../../storage/batch-queue.ts";
import { balanceOf } from "../../storage/ledger.ts";
import { BET_COLUMNS, payoutMicroUsd, toBetJson, type BetJson, type BetRow } from "./bet-json.ts";
import type { ExposureBook } from "./exposure-book.ts";
import type { OpenBet } from "../resolver/types.ts";
import { publishPlayerEvent } from "../realtime/player-events.ts";
import { ArchivedBet, ExistingBet, newBetRow, placeArgs, placeStatements, type ArchivedKey, type OpLimits, type Placed, type PlaceParams } from "./place-op.ts";
import { statementCache, type Db } from "../../storage/db.ts";
import { TokenBucketLimiter } from "./rate-limiter.ts";
import { BetRefusal } from "./refusals.ts";
import { minMultiplierHundredths, requestHash, type PlaceBetBody } from "./request.ts";
import { toBetRow } from "./rows.ts";
import type { PlaceBetAnswer, Player } from "./types.ts";

/**
 * `POST /api/bets` behind the handler: checks in a fixed order, each with its own refusal
 * (rate → stake range → idempotent retry → circuit → quote → cheap limit pre-checks), then one
 * batch-queue operation per bet (place-op.ts) that re-checks what must hold under concurrency and
 * moves the money. The answer is built only after the batch committed.
 */
export class BetPlacement {
  readonly #limiter: TokenBucketLimiter;
  readonly #limits: OpLimits;
  /** Bets queued and not yet committed, by `${accountId}:${idempotencyKey}`; bounded by the queue length. */
  readonly #inFlight = new Map<string, { placed: Promise<Placed>; params: PlaceParams }>();
  readonly #outcomes: Counter<"outcome">;

  constructor(
    private readonly ctx: AppContext,
    private readonly book: ExposureBook,
  ) {
    const c = ctx.config;
    this.#limiter = new TokenBucketLimiter({ ratePerSec: c.BET_RATE_PER_SEC, burst: c.BET_RATE_BURST });
    this.#limits = {
      openBetsMax: c.OPEN_BETS_MAX,
      cellStakeMaxMicroUsd: c.CELL_STAKE_MAX_MICRO_USD,
      cellExposureMaxMicroUsd: c.CELL_EXPOSURE_MAX_MICRO_USD,
      columnExposureMaxMicroUsd: c.COLUMN_EXPOSURE_MAX_MICRO_USD,
    };
    this.#outcomes = new Counter({
      name: "bets_placed_total",
      help: "Bet placements by outcome: created, replayed, or the refusal code",
      labelNames: ["outcome"] as const,
      registers: [ctx.metrics.registry],
    });
  }

  async place(player: Player, body: PlaceBetBody, assertMarketOpen: () => void): Promise<PlaceBetAnswer> {
    try {
      const answer = await this.#place(player, body, assertMarketOpen);
      this.#outcomes.inc({ outcome: answer.status === 201 ? "created" : "replayed" });
      return answer;
    } catch (error) {
      this.#outcomes.inc({ outcome: outcomeOf(error) });
      throw error;
    }
  }

  async #place(player: Player, body: PlaceBetBody, assertMarketOpen: () => void): Promise<PlaceBetAnswer> {
    const { ctx } = this;
    const now = ctx.now();
    const rate = this.#limiter.take(player.accountId, now);
    if (!rate.ok) throw new BetRefusal("rate_limited", { retryAfterMs: rate.retryAfterMs }, rate.retryAfterMs);

    const hash = requestHash(body);
    const flightKey = `${player.accountId}:${body.idempotencyKey}`;
    const earlier = this.#inFlight.get(flightKey);
    if (earlier) {
      // A retry while the first attempt is still queued: answered from it once it committed.
      const placed = await earlier.placed.catch(() => undefined);
      if (placed) return this.#replay(player, newBetRow(placed[0], earlier.params), hash);
    }

    let params: PlaceParams;
    try {
      params = this.#price(player, body, hash, now, assertMarketOpen);
      this.#preCheck(player, params);
    } catch (error) {
      // A refused request may be the retry of a committed bet: that one gets its bet back. The
      // lookup is paid only on this path; on the happy path the UNIQUE key inside the op decides.
      const statements = placeStatements(ctx.db);
      const stored = statements.byKey.get(player.accountId, body.idempotencyKey);
      if (stored) {
        // This connection sees a commit a few ms before it is durable (README, the write path): a
        // barrier through the writer answers only once everything committed before it is.
        await ctx.queue.barrier();
        return this.#replay(player, toBetRow(stored), hash);
      }
      const archived = statements.archivedKey.get(player.accountId, body.idempotencyKey) as ArchivedKey | undefined;
      if (archived) return this.#replayArchived(player, archived.bet_id, archived.request_hash, hash);
      throw error;
    }

    const flight = { placed: this.#enqueue(params), params };
    this.#inFlight.set(flightKey, flight);
    let placed: Placed;
    try {
      placed = await flight.placed;
    } catch (error) {
      if (error instanceof ExistingBet) return this.#replay(player, error.bet, hash);
      if (error instanceof ArchivedBet) return this.#replayArchived(player, error.betId, error.requestHash, hash);
      throw error;
    } finally {
      if (this.#inFlight.get(flightKey) === flight) this.#inFlight.delete(flightKey);
    }
    const [betId, balanceMicroUsd] = placed;
    const bet = newBetRow(betId, params);
    const json = toBetJson(bet);
    this.#afterCommit(bet, json, balanceMicroUsd);
    return { status: 201, bet: json, balanceMicroUsd };
  }

  /** Stake range, circuit breaker and the quote; everything the bet row needs, as integers. */
  #price(player: Player, body: PlaceBetBody, hash: string, now: number, assertMarketOpen: () => void): PlaceParams {
    const c = this.ctx.config;
    if (body.stakeMicroUsd < c.STAKE_MIN_MICRO_USD || body.stakeMicroUsd > c.STAKE_MAX_MICRO_USD) {
      throw new StakeOutOfRange(c.STAKE_MIN_MICRO_USD, c.STAKE_MAX_MICRO_USD);
    }
    assertMarketOpen();
    const pricing = this.ctx.services.pricing;
    const result = pricing.quote(body.col, body.row, now);
    if (!result.ok) {
      if (result.reason === "price_unavailable") throw new BetRefusal("price_stale", { reason: "no price yet" }, 1000);
      if (result.reason === "price_stale") throw new BetRefusal("price_stale", { reason: "index older than QUOTE_MAX_AGE_MS" }, 1000);
      throw new BetRefusal(result.reason, { col: body.col, row: body.row });
    }
    const q = result.quote;
    const multiplier = q.multiplierHundredths;
    if (multiplier === null || !Number.isSafeInteger(multiplier) || multiplier <= 100) {
      throw new BetRefusal("cell_not_offered", { col: body.col, row: body.row });
    }
    if (q.col !== body.col || q.row !== body.row) throw new Error(`pricing quoted cell ${q.col},${q.row} for ${body.col},${body.row}`);
    const wanted = minMultiplierHundredths(body.minMultiplier);
    if (wanted !== undefined && multiplier < wanted) {
      throw new BetRefusal("multiplier_changed", { multiplier: multiplier / 100, minMultiplier: body.minMultiplier });
    }
    return {
      accountId: player.accountId,
      address: player.address,
      col: body.col,
      row: body.row,
      windowStart: q.windowStart,
      windowEnd: q.windowEnd,
      bandLowCents: q.bandLowCents,
      bandHighCents: q.bandHighCents,
      stakeMicroUsd: body.stakeMicroUsd,
      multiplierHundredths: multiplier,
      payoutMicroUsd: payoutMicroUsd(body.stakeMicroUsd, multiplier),
      placedAt: now,
      idempotencyKey: body.idempotencyKey,
      requestHash: hash,
    };
  }

  /**
   * Early refusals from this process's book, saving a queue round trip. The book holds committed
   * open bets only, so it never refuses what the writer would accept (unless a settlement was not
   * reported yet; the periodic resync bounds that); the writer's own figures are the authority.
   */
  #preCheck(player: Player, p: PlaceParams): void {
    const l = this.#limits;
    const book = this.book;
    const openBets = book.openBetsOf(player.accountId);
    if (openBets >= l.openBetsMax) throw new BetRefusal("too_many_open_bets", { openBets, openBetsMax: l.openBetsMax });
    if (book.playerCellStake(player.accountId, p.col, p.row) + p.stakeMicroUsd > l.cellStakeMaxMicroUsd) {
      throw new BetRefusal("exposure_limit", { scope: "player_cell", limitMicroUsd: l.cellStakeMaxMicroUsd });
    }
    if (book.cellPayout(p.col, p.row) + p.payoutMicroUsd > l.cellExposureMaxMicroUsd) {
      throw new BetRefusal("exposure_limit", { scope: "house_cell", limitMicroUsd: l.cellExposureMaxMicroUsd });
    }
    if (book.columnPayout(p.col) + p.payoutMicroUsd > l.columnExposureMaxMicroUsd) {
      throw new BetRefusal("exposure_limit", { scope: "house_column", limitMicroUsd: l.columnExposureMaxMicroUsd });
    }
  }

  #enqueue(params: PlaceParams) {
    return this.ctx.queue.run("bets.place", placeArgs(params, this.#limits)).catch((error: unknown) => {
      if (error instanceof QueueFullError) throw new BetRefusal("overloaded", { queue: "full" }, 1000);
      if (error instanceof QueueClosedError) throw new BetRefusal("shutting_down", undefined, 1000);
      throw error;
    });
  }

  #replay(player: Player, bet: BetRow, hash: string): PlaceBetAnswer {
    if (bet.request_hash !== hash) throw new BetRefusal("idempotency_conflict", { betId: String(bet.id) });
    return { status: 200, bet: toBetJson(bet), balanceMicroUsd: balanceOf(this.ctx.db, player.accountId) };
  }

  /**
   * A retry of a bet the archiver moved to history: a different request is a conflict without a
   * read; the same one gets the bet as history holds it (the purge that moved the key ran after the
   * copy was verified, so it is there; current is asked too in case of a rerun half-way).
   */
  #replayArchived(player: Player, betId: number, storedHash: string, hash: string): PlaceBetAnswer {
    if (storedHash !== hash) throw new BetRefusal("idempotency_conflict", { betId: String(betId) });
    const raw = [this.ctx.history, this.ctx.db].map((db) => betByIdStatement(db).get(betId, player.accountId)).find((r) => r !== undefined);
    if (!raw) throw new Error(`archived bet ${betId} of an idempotency key is in neither database`);
    return this.#replay(player, toBetRow(raw), hash);
  }

  /** Runs once the bet is durable: book, resolver, player events. None of it may fail the answer. */
  #afterCommit(bet: BetRow, json: BetJson, balanceMicroUsd: number): void {
    const { ctx } = this;
    // One object per open bet, shared by the book and the resolver (they live until it settles).
    const open: OpenBet = {
      id: bet.id,
      accountId: bet.account_id,
      address: bet.address,
      col: bet.col,
      row: bet.row,
      windowStart: bet.window_start,
      windowEnd: bet.window_end,
      bandLowCents: bet.band_low_cents,
      bandHighCents: bet.band_high_cents,
      stakeMicroUsd: bet.stake_micro_usd,
      payoutMicroUsd: bet.payout_micro_usd,
    };
    this.book.add(open);
    try {
      ctx.services.resolver?.track(open);
    } catch (error) {
      ctx.log.error({ err: error, betId: bet.id }, "resolver.track failed for a committed bet");
    }
    publishPlayerEvent(ctx, bet.address, { type: "bet", bet: json }, { betId: bet.id });
    publishPlayerEvent(ctx, bet.address, { type: "balance", balanceMicroUsd }, { betId: bet.id });
  }
}

const betByIdStatement = statementCache((db: Db) => db.prepare(`SELECT ${BET_COLUMNS} FROM bets WHERE id = ? AND account_id = ?`));

/** 400 invalid_request naming the field, like a schema failure (API.md has no separate code). */
export class StakeOutOfRange extends Error {
  constructor(
    readonly minMicroUsd: number,
    readonly maxMicroUsd: number,
  ) {
    super(`stakeMicroUsd must be between ${minMicroUsd} and ${maxMicroUsd}`);
  }
}

function outcomeOf(error: unknown): string {
  if (error instanceof BetRefusal) return error.code;
  if (error instanceof StakeOutOfRange) return "invalid_request";
  const code = (error as { data?: { code?: unknown } } | null)?.data?.code;
  return typeof code === "string" ? code : "error";
}
