import { z } from "zod";
import { betBody, gridCell } from "./responses.ts";

/**
 * The frames of `/ws` (API.md § WebSocket) as zod schemas: each message is a JSON object whose
 * `type` is a constant. ./openapi.ts publishes them under `components.schemas` (WsHello, …) and the
 * unions WsServerMessage / WsClientMessage.
 */

const int = () => z.number().int().min(Number.MIN_SAFE_INTEGER).max(Number.MAX_SAFE_INTEGER);

/**
 * The fixed terms of every quote (domain/pricing/quote.ts `QuoteTerms`): with a `price` frame's
 * `quote`, `quoteMultiplierHundredths(quote, quoteTerms, col, row)` is the multiplier the server quotes.
 */
export const wsQuoteTerms = z
  .object({
    columnMs: int().positive().meta({ description: "column width, ms" }),
    rowCents: int().positive().meta({ description: "row height, integer USD cents" }),
    houseEdgeBp: int().min(0).meta({ description: "house edge in basis points (500 = 5%)" }),
    minMultiplierHundredths: int().positive().meta({ description: "lowest offered multiplier in hundredths (110 = 1.10x)" }),
    maxMultiplierHundredths: int().positive().meta({ description: "highest offered multiplier in hundredths" }),
  })
  .meta({ id: "WsQuoteTerms", description: "the fixed terms of every quote: geometry, house edge, offered range" });

export const wsHello = z
  .object({
    type: z.literal("hello"),
    serverTime: int().meta({ description: "server clock, epoch ms" }),
    columnMs: int().positive(),
    rowCents: int().positive(),
    lockMs: int().min(0),
    authenticated: z.boolean().meta({ description: "true when a valid ?token= was given: private events follow" }),
    epoch: z.string().min(1).max(32).meta({ description: "the stream's epoch (see WsPrice): changes when the process that makes the index restarts" }),
    quoteTerms: wsQuoteTerms.optional().meta({ description: "present whenever the pricing module is installed (as in the shipped server)" }),
    quoteKeys: z
      .array(z.string())
      .max(64)
      .optional()
      .meta({ description: "the fields of a price frame's `quote`, in order; present once the first tick was quoted (hello is sent again then, and whenever the epoch changes)" }),
  })
  .meta({ id: "WsHello", description: "first frame after the upgrade; sent again when its epoch or quote keys change" });

/**
 * The pricing inputs of a tick (domain/pricing/quote.ts `QuoteInputs`), as domain/pricing/quote-wire.ts
 * encodes them: the fields named by hello's `quoteKeys`, each a little-endian float32, in base64.
 */
export const wsQuote = z
  .string()
  .regex(/^[A-Za-z0-9+/]*={0,2}$/)
  .max(400)
  .meta({
    id: "WsQuote",
    description:
      "pricing inputs of this tick, base64 of one little-endian float32 per name in hello's `quoteKeys` (domain/pricing/quote-wire.ts `decodeQuote`); with t = `at` and priceCents = `priceCents` they are the `QuoteInputs` of domain/pricing/quote.ts, exactly the numbers the server quotes from (it rounds its inputs to float32 too). Today the keys are `fastVarPerMs` and `slowVarPerMs` (variance of the log-price per ms at the fast and slow horizons), `fastVarSdPerMs` (the sampling standard deviation of the fast one), `noiseVar` (tick-noise variance), `tickIntervalMs` (mean time between index ticks), `regimeQ1VarPerMs`…`regimeQ4VarPerMs` (the regime distribution: four equally likely variance rates per ms of a 5 s block, lowest first), `jumpRatePerMs` and `jumpVar` (jumps per ms and the variance of one jump's log size), `staleGapRatePerMs` (feed silences over PRICE_STALE_MS per ms: the refund a void window pays is priced in), `rateSpreadLog` (while the estimate is young, the variances above are the upper ends of their credible ranges and the lower ends are e^(−rateSpreadLog) times them; 0 once warm) and `jumpPriorPerMs` (the part of `jumpRatePerMs` that is a young server's prior rather than jumps seen; 0 once warm); the model's fields may change, so decode by `quoteKeys` and treat the values as opaque numbers for quoteMultiplierHundredths",
  });

export const wsPrice = z
  .object({
    type: z.literal("price"),
    seq: int().positive().meta({ description: "the tick's number: +1 per tick within an epoch; a client that sees a gap missed ticks (and may have missed its private events: re-read them)" }),
    epoch: z.string().min(1).max(32).meta({ description: "changes when the process that makes the index (the core) restarts; seq starts again at 1" }),
    priceCents: int().meta({ description: "index price, integer USD cents" }),
    at: int().meta({ description: "tick time, epoch ms" }),
    quote: wsQuote.optional().meta({ description: "the pricing inputs of exactly this tick; absent while the server has none for it (no pricing module)" }),
  })
  .meta({ id: "WsPrice", description: "every index tick (about 160 bytes: the default stream is about 1.6 KiB/s at 10 ticks/s)" });

export const wsGrid = z
  .object({
    type: z.literal("grid"),
    at: int(),
    circuit: z.enum(["open", "closed"]),
    quotes: z.enum(["live", "paused"]).meta({ description: "paused (and cells empty) while the circuit is open or the index is older than QUOTE_MAX_AGE_MS" }),
    cells: z.array(gridCell),
  })
  .meta({ id: "WsGrid", description: "the offerable cells (12 × 21, ~37 KB), about once a second and at once when the circuit changes, only to sockets that subscribed to `grid`" });

export const wsCircuit = z
  .object({ type: z.literal("circuit"), state: z.enum(["open", "closed"]), at: int() })
  .meta({ id: "WsCircuit", description: "on every change of the stale-price circuit (ADR-008)" });

export const wsStream = z
  .object({ type: z.literal("stream"), state: z.enum(["interrupted", "live"]), at: int() })
  .meta({
    id: "WsStream",
    description:
      "from an edge (ROLE=edge): `interrupted` when it has heard nothing from the core for 3 s (Redis or the core is gone: no ticks until it does), `live` when the stream is back (the next price frame shows by its seq what was missed)",
  });

export const wsBet = z
  .object({ type: z.literal("bet"), bet: betBody })
  .meta({ id: "WsBet", description: "with a token only: the player's bet on placement and on resolution" });

export const wsBalance = z
  .object({ type: z.literal("balance"), balanceMicroUsd: int() })
  .meta({ id: "WsBalance", description: "with a token only: after every change of the player's balance" });

export const wsPong = z.object({ type: z.literal("pong"), serverTime: int() }).meta({ id: "WsPong", description: "answer to a ping" });

export const wsPing = z.object({ type: z.literal("ping") }).meta({ id: "WsPing", description: "client → server; answered with pong" });

const wsChannels = z.array(z.string()).min(1).max(8).meta({ description: "channel names; the server knows `grid` and ignores others" });

export const wsSubscribe = z
  .object({ type: z.literal("subscribe"), channels: wsChannels })
  .meta({ id: "WsSubscribe", description: "client → server: `{\"type\":\"subscribe\",\"channels\":[\"grid\"]}` adds the 1/s grid to this socket's stream" });

export const wsUnsubscribe = z
  .object({ type: z.literal("unsubscribe"), channels: wsChannels })
  .meta({ id: "WsUnsubscribe", description: "client → server: stops what subscribe started" });

export const wsServerMessage = z
  .discriminatedUnion("type", [wsHello, wsPrice, wsGrid, wsCircuit, wsStream, wsBet, wsBalance, wsPong])
  .meta({ id: "WsServerMessage", description: "any server → client frame, one JSON object per text frame" });

export const wsClientMessage = z
  .discriminatedUnion("type", [wsPing, wsSubscribe, wsUnsubscribe])
  .meta({ id: "WsClientMessage", description: "client → server frames; anything else is ignored and counted, a flood disconnects" });

/** Every WebSocket schema that has a component id, in the order the document lists them. */
export const WS_SCHEMAS = [
  wsHello,
  wsQuoteTerms,
  wsPrice,
  wsQuote,
  wsGrid,
  wsCircuit,
  wsStream,
  wsBet,
  wsBalance,
  wsPong,
  wsPing,
  wsSubscribe,
  wsUnsubscribe,
  wsServerMessage,
  wsClientMessage,
] as const;
