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
    quoteTerms: wsQuoteTerms.optional().meta({ description: "present whenever the pricing module is installed (as in the shipped server)" }),
  })
  .meta({ id: "WsHello", description: "first frame after the upgrade" });

/**
 * The pricing inputs of a tick (defined by the pricing module): enough for a client to compute the
 * multipliers the server will quote. `t` and `priceCents` are always there; the model's numbers
 * (volatilities, edge, …) are further numeric fields.
 */
export const wsQuote = z
  .object({ t: int().meta({ description: "time of the index tick the inputs belong to" }), priceCents: int() })
  .catchall(z.number())
  .meta({
    id: "WsQuote",
    description:
      "pricing inputs of this tick (domain/pricing/quote.ts `QuoteInputs`): t, priceCents and further numeric model inputs, today `fastVarPerMs` and `slowVarPerMs` (variance of the log-price per ms at the fast and slow horizons), `fastVarSdPerMs` (the sampling standard deviation of the fast one), `noiseVar` (tick-noise variance), `tickIntervalMs` (mean time between index ticks) and `regimeQ1VarPerMs`…`regimeQ4VarPerMs` (the regime distribution: four equally likely variance rates per ms of a 5 s block, lowest first), `jumpRatePerMs` and `jumpVar` (jumps per ms and the variance of one jump's log size), `staleGapRatePerMs` (feed silences over PRICE_STALE_MS per ms: the refund a void window pays is priced in), `rateSpreadLog` (while the estimate is young, the variances above are the upper ends of their credible ranges and the lower ends are e^(−rateSpreadLog) times them; 0 once warm) and `jumpPriorPerMs` (the part of `jumpRatePerMs` that is a young server's prior rather than jumps seen; 0 once warm); the model's fields may change, so treat them as opaque numbers for quoteMultiplierHundredths",
  });

export const wsPrice = z
  .object({
    type: z.literal("price"),
    priceCents: int().meta({ description: "index price, integer USD cents" }),
    at: int().meta({ description: "tick time, epoch ms" }),
    quote: wsQuote
      .optional()
      .meta({ description: "the pricing inputs of exactly this tick; absent when this process has none for it (a tick relayed from another process, or one already dropped)" }),
  })
  .meta({ id: "WsPrice", description: "every index tick" });

export const wsGrid = z
  .object({
    type: z.literal("grid"),
    at: int(),
    circuit: z.enum(["open", "closed"]),
    quotes: z.enum(["live", "paused"]).meta({ description: "paused (and cells empty) while the circuit is open or the index is older than QUOTE_MAX_AGE_MS" }),
    cells: z.array(gridCell),
  })
  .meta({ id: "WsGrid", description: "the offerable cells, about once a second and at once when the circuit changes" });

export const wsCircuit = z
  .object({ type: z.literal("circuit"), state: z.enum(["open", "closed"]), at: int() })
  .meta({ id: "WsCircuit", description: "on every change of the stale-price circuit (ADR-008)" });

export const wsBet = z
  .object({ type: z.literal("bet"), bet: betBody })
  .meta({ id: "WsBet", description: "with a token only: the player's bet on placement and on resolution" });

export const wsBalance = z
  .object({ type: z.literal("balance"), balanceMicroUsd: int() })
  .meta({ id: "WsBalance", description: "with a token only: after every change of the player's balance" });

export const wsPong = z.object({ type: z.literal("pong"), serverTime: int() }).meta({ id: "WsPong", description: "answer to a ping" });

export const wsPing = z.object({ type: z.literal("ping") }).meta({ id: "WsPing", description: "client → server; answered with pong" });

export const wsServerMessage = z
  .discriminatedUnion("type", [wsHello, wsPrice, wsGrid, wsCircuit, wsBet, wsBalance, wsPong])
  .meta({ id: "WsServerMessage", description: "any server → client frame, one JSON object per text frame" });

export const wsClientMessage = z
  .discriminatedUnion("type", [wsPing])
  .meta({ id: "WsClientMessage", description: "client → server frames; anything else is ignored and counted, a flood disconnects" });

/** Every WebSocket schema that has a component id, in the order the document lists them. */
export const WS_SCHEMAS = [wsHello, wsQuoteTerms, wsPrice, wsQuote, wsGrid, wsCircuit, wsBet, wsBalance, wsPong, wsPing, wsServerMessage, wsClientMessage] as const;
