import { z } from "zod";
import { SOURCE_STATES } from "../../domain/price/source-machine.ts";

/**
 * Response bodies of API.md as zod schemas. They are documentation (./openapi.ts turns them into the
 * OpenAPI components) and a test oracle (tests/openapi.responses.test.ts validates real answers
 * against the generated document). A schema with an `id` becomes `components.schemas.<id>`.
 * Objects are closed: a field the server sends must be documented here.
 */

const int = () => z.number().int().min(Number.MIN_SAFE_INTEGER).max(Number.MAX_SAFE_INTEGER);
const micro = (description: string) => int().meta({ description: `${description} (integer micro-USD)` });
const cents = (description: string) => int().meta({ description: `${description} (integer USD cents)` });
const epochMs = (description: string) => int().meta({ description: `${description} (epoch ms, server clock)` });

export const errorBody = z
  .object({
    error: z.object({
      code: z.string().meta({ description: "stable code a client may switch on" }),
      message: z.string().meta({ description: "a human sentence" }),
      details: z.record(z.string(), z.unknown()).optional(),
    }),
  })
  .meta({ id: "Error", description: "Every error answer (API.md § Conventions); 5xx never carry internals." });

export const healthBody = z.object({ status: z.literal("ok") }).meta({ id: "Health" });

export const readyBody = z
  .object({
    status: z.enum(["ready", "degraded"]),
    checks: z
      .object({
        db: z.string().meta({ description: "a real write through the writer commits within a second; else what failed (`writer failed`, `database not writable: <code>`, `database write timed out`)" }),
        redis: z.string().meta({ description: "`not_configured` without REDIS_URL; else store and bus answer a ping (`redis unreachable`)" }),
        price: z.string().meta({ description: "the index is fresh" }),
        settlement: z
          .string()
          .optional()
          .meta({ description: "with the resolver: `ok`, or `<n> settlements failed and wait for a retry` while settlements cannot be written" }),
      })
      .meta({ description: '"ok" or "not_configured" when fine; otherwise what failed. Each check answers within 1.5 s (`no answer within 1500 ms` otherwise).' }),
  })
  .meta({ id: "Readiness", description: "200 when every check is ok (or not configured), 503 otherwise" });

export const challengeBody = z
  .object({
    nonce: z.string().regex(/^[A-Za-z0-9]{16,}$/),
    domain: z.string(),
    uri: z.string(),
    chainId: int(),
    issuedAt: epochMs("when the nonce was issued"),
    expirationTime: epochMs("when the nonce expires"),
    message: z.string().meta({ description: "a complete EIP-4361 message for the address; sign it as it is" }),
  })
  .meta({ id: "SignInChallenge" });

export const sessionBody = z
  .object({
    token: z.string().meta({ description: "bearer token for `Authorization: Bearer <token>` and `/ws?token=`" }),
    address: z.string().regex(/^0x[0-9a-fA-F]{40}$/).meta({ description: "EIP-55 checksummed" }),
    expiresAt: epochMs("when the session ends"),
  })
  .meta({ id: "Session" });

export const profileBody = z
  .object({ address: z.string(), balanceMicroUsd: micro("balance"), openBets: int().min(0) })
  .meta({ id: "Profile" });

export const priceBody = z
  .object({
    symbol: z.literal("BTC-USD"),
    priceCents: cents("index price"),
    at: epochMs("time of the index tick"),
    ageMs: int().min(0),
    circuit: z.enum(["closed", "open"]),
    warmUp: z
      .object({
        state: z.enum(["warming", "warm"]).meta({
          description:
            "warming while the quotes still price the volatility estimate's own uncertainty (after a fresh start, a restart with old stored ticks or a long feed outage): multipliers are then lower than a warm market's",
        }),
        rateSpreadLog: z.number().min(0).meta({ description: "ln(upper/lower) of the variances' credible range the quotes price: 0 once warm, warming above 0.05" }),
      })
      .optional()
      .meta({ description: "present whenever the pricing module is installed (as in the shipped server)" }),
    sources: z.array(
      z.object({
        name: z.string(),
        priceCents: cents("the source's last accepted price").nullable(),
        ageMs: int().nullable().meta({ description: "age of the source's last accepted price (exchange event time)" }),
        healthy: z.boolean(),
        state: z.enum(SOURCE_STATES).meta({ description: "the adapter's state (services/price: one state machine per source)" }),
        eventLagMs: int().nullable().meta({ description: "exchange event → arrival lag; null before the first price and for the synthetic and manual sources" }),
        reason: z.string().optional().meta({ description: "why the source is out of the index: stale, outlier, lagging, no_data, subscribing, disconnected, exchange_<status> (e.g. exchange_maintenance)" }),
      }),
    ),
  })
  .meta({ id: "Price" });

export const gridCell = z
  .object({
    col: int(),
    row: int(),
    windowStart: epochMs("window start, inclusive"),
    windowEnd: epochMs("window end, exclusive"),
    bandLowCents: cents("band low, inclusive"),
    bandHighCents: cents("band high, exclusive"),
    multiplier: z.number().positive().meta({ description: "offered multiplier, 2 decimals (3.47 = 3.47x)" }),
  })
  .meta({ id: "GridCell" });

export const gridBody = z
  .object({
    symbol: z.literal("BTC-USD"),
    columnMs: int().positive(),
    rowCents: int().positive(),
    lockMs: int().min(0),
    priceCents: cents("index price the grid was priced from"),
    at: epochMs("time of that index price"),
    cells: z.array(gridCell),
    circuit: z.enum(["open", "closed"]),
    quotes: z.enum(["live", "paused"]).meta({ description: "paused (and cells empty) while the circuit is open or the index is older than QUOTE_MAX_AGE_MS" }),
  })
  .meta({ id: "Grid" });

export const betBody = z
  .object({
    id: z.string().regex(/^[1-9]\d*$/),
    address: z.string(),
    col: int(),
    row: int(),
    windowStart: epochMs("window start, inclusive"),
    windowEnd: epochMs("window end, exclusive"),
    bandLowCents: cents("band low, inclusive"),
    bandHighCents: cents("band high, exclusive"),
    stakeMicroUsd: micro("stake"),
    multiplier: z.number().positive().meta({ description: "locked multiplier, 2 decimals" }),
    payoutMicroUsd: micro("what a win pays: floor(stake × multiplier)"),
    status: z.enum(["open", "won", "lost", "void"]),
    placedAt: epochMs("acceptance time"),
    resolvedAt: epochMs("settlement time").optional(),
    resolution: z
      .object({ at: epochMs("time of the deciding tick").nullable(), priceCents: cents("its price").nullable(), reason: z.string() })
      .optional(),
  })
  .meta({ id: "Bet" });

export const placeBetAnswer = z
  .object({ bet: betBody, balanceMicroUsd: micro("balance after the stake") })
  .meta({ id: "PlacedBet", description: "201 for a new bet, 200 for a retry with the same idempotency key and body" });

const nextCursor = z.string().nullable().meta({ description: "pass as `cursor` for the next page; null on the last page" });

export const betPage = z.object({ bets: z.array(betBody), nextCursor }).meta({ id: "BetPage" });

const tick = z.object({ t: epochMs("tick time"), priceCents: cents("index price") }).meta({ id: "Tick" });

export const proofBody = z
  .object({
    bet: betBody,
    rule: z.string().meta({ description: "the resolution rule in words (SPEC §5)" }),
    staleMs: int().positive().meta({ description: "PRICE_STALE_MS the rule was applied with" }),
    ticks: z.array(tick).meta({ description: "the last stored tick before the window, then every tick of the window" }),
    staleGaps: z.array(z.object({ startAt: epochMs("gap start"), endAt: epochMs("gap end; null while open").nullable() })),
    recomputed: z.enum(["won", "lost", "void", "open"]),
    recomputedResolution: z.object({ at: epochMs("deciding time"), priceCents: cents("deciding price").nullable(), reason: z.string() }).nullable(),
  })
  .meta({ id: "Proof" });

export const ledgerEntry = z
  .object({
    id: z.string(),
    kind: z.enum(["deposit", "stake", "payout", "refund", "adjustment"]),
    amountMicroUsd: micro("signed change of the balance"),
    balanceAfterMicroUsd: micro("balance after this entry"),
    betId: z.string().optional(),
    at: epochMs("when it was written"),
  })
  .meta({ id: "LedgerEntry" });

export const ledgerPage = z.object({ entries: z.array(ledgerEntry), nextCursor }).meta({ id: "LedgerPage" });

export const creditAnswer = z.object({ balanceMicroUsd: micro("the player's balance after the credit") }).meta({ id: "CreditAnswer" });

const exposureFigures = { bets: int().min(0), stakeMicroUsd: micro("open stake"), payoutMicroUsd: micro("potential payouts") };

export const exposureBody = z
  .object({
    at: epochMs("report time"),
    capsMicroUsd: z.object({ cell: int(), column: int(), playerCellStake: int() }),
    openBets: int().min(0),
    stakeMicroUsd: micro("open stake"),
    payoutMicroUsd: micro("potential payouts of the open bets"),
    expectedHousePnlMicroUsd: z
      .object({
        atPlacement: micro("Σ (stake − P(touch)·payout) over open bets, with the P each bet was priced at"),
        repricedNow: micro("the same with P re-priced from the latest tick for windows not yet started, less the refunds the model expects on them").nullable(),
      })
      .meta({ description: "the pricing model's expected house P&L on the open bets; repricedNow is null without a price" }),
    columns: z.array(z.object({ col: int(), windowStart: epochMs("column start"), ...exposureFigures })),
    cells: z.array(z.object({ col: int(), row: int(), ...exposureFigures })),
  })
  .meta({ id: "ExposureReport" });

export const integrityBody = z
  .object({
    ok: z.boolean(),
    checkedAccounts: int().min(0),
    checkedBets: int().min(0),
    checkedEntries: int().min(0),
    sumOfBalancesMicroUsd: int(),
    openBets: int().min(0),
    openPayoutMicroUsd: int(),
    problems: z.array(z.object({ check: z.string(), message: z.string(), details: z.record(z.string(), z.unknown()).optional() })),
    notes: z.array(z.string()),
    durationMs: int().min(0),
  })
  .meta({ id: "IntegrityReport" });

const weekTotals = z.object({
  bets: int(),
  stakeMicroUsd: int(),
  payoutMicroUsd: int(),
  ledgerEntries: int(),
  ledgerSumMicroUsd: int(),
  ledgerCreditMicroUsd: int(),
  priceTicks: int(),
  priceSumCents: int(),
  staleGaps: int(),
});

export const archiveReport = z
  .object({
    ok: z.boolean(),
    startedAt: epochMs("run start"),
    currentWeekStart: epochMs("start of the week that stays in current"),
    weeks: z.array(
      z.object({
        weekStart: epochMs("week start (Monday 00:00 UTC)"),
        week: z.string(),
        status: z.enum(["done", "failed"]),
        resumed: z.boolean(),
        copied: z.object({ bets: int(), ledgerEntries: int(), priceTicks: int(), staleGaps: int() }),
        totals: weekTotals.optional(),
        purge: z.object({ operations: int(), rows: int(), writerHeldMaxMs: z.number(), commitMaxMs: z.number(), chunkBetsLast: int() }),
        phasesMs: z.object({ copy: z.number(), verify: z.number(), purge: z.number() }),
        stepMaxMs: z.number(),
        durationMs: z.number(),
        error: z.string().optional(),
      }),
    ),
    betKeysBackfilled: int().min(0).meta({ description: "idempotency keys of bets archived before the upgrade remembered by this run (its first run only, else 0)" }),
    betKeysPruned: int().min(0).meta({ description: "idempotency keys of archived bets forgotten: placed over IDEMPOTENCY_KEY_RETENTION_MS ago" }),
    durationMs: z.number(),
  })
  .meta({ id: "ArchiveReport" });

/** GET /openapi.json answers an OpenAPI 3.1 document; described loosely (it describes itself). */
export const openApiBody = z
  .object({ openapi: z.string().regex(/^3\.1\.\d+$/), info: z.object({ title: z.string(), version: z.string() }).loose(), paths: z.record(z.string(), z.unknown()) })
  .loose()
  .meta({ id: "OpenApiDocument" });

/** GET /asyncapi.json answers an AsyncAPI 3.0 document of the WebSocket frames. */
export const asyncApiBody = z
  .object({ asyncapi: z.literal("3.0.0"), info: z.object({ title: z.string(), version: z.string() }).loose(), channels: z.record(z.string(), z.unknown()) })
  .loose()
  .meta({ id: "AsyncApiDocument" });

/** The demo bundle's source map (`/assets/app.js.map`, Source Map v3); described loosely, it is a foreign format. */
export const sourceMapBody = z
  .object({ version: z.literal(3), sources: z.array(z.string()), mappings: z.string() })
  .loose()
  .meta({ id: "SourceMap" });
