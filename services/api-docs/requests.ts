import { z } from "zod";
import { parseAddress } from "../../domain/eip55.ts";
import { SIWE_LIMITS } from "../../domain/siwe.ts";

/**
 * The request schemas of API.md: bodies, query strings and path parameters. Handlers validate with
 * these and the OpenAPI document (./openapi.ts) is generated from them, so the two cannot drift.
 * The bet body lives with the bets module and is re-exported here.
 */
export { placeBetBody } from "../bets/request.ts";

const ADDRESS_MESSAGE = "expected an Ethereum address (0x + 40 hex, valid EIP-55 checksum if mixed case)";

/** `POST /api/auth/nonce` — the address becomes its EIP-55 form. */
export const nonceBody = z.object({
  address: z
    .string()
    .max(42)
    .meta({ description: "0x + 40 hex digits; a mixed-case address must carry a valid EIP-55 checksum" })
    .transform((v, c) => parseAddress(v) ?? (c.addIssue({ code: "custom", message: ADDRESS_MESSAGE }), z.NEVER)),
});

/** `POST /api/auth/verify` — the EIP-4361 message as the wallet signed it, and its EIP-191 signature. */
export const verifyBody = z.object({
  message: z.string().min(1).max(SIWE_LIMITS.messageChars).meta({ description: "the EIP-4361 message, as signed" }),
  signature: z
    .string()
    .regex(/^0x[0-9a-fA-F]{130}$/, "expected 0x and 130 hex digits (65 bytes r‖s‖v)")
    .meta({ description: "EIP-191 personal_sign signature, 65 bytes r‖s‖v (v 27/28 or 0/1)" }),
});

/** `POST /api/admin/credit` — a funding → player transfer, idempotent on `reference`. */
export const creditBody = z
  .object({
    address: z.string().max(64),
    amountMicroUsd: z
      .number()
      .int()
      .min(-Number.MAX_SAFE_INTEGER)
      .max(Number.MAX_SAFE_INTEGER)
      .refine((v) => v !== 0, "must not be 0")
      .meta({ description: "micro-USD, not 0; negative only with kind adjustment" }),
    reference: z.string().min(1).max(128).meta({ description: "idempotency key of the credit" }),
    kind: z.enum(["deposit", "adjustment"]).default("deposit"),
  })
  .strict()
  .refine((b) => b.amountMicroUsd > 0 || b.kind === "adjustment", { path: ["amountMicroUsd"], message: "a negative amount needs kind adjustment" });

/** A page cursor: the last id of the previous page, as the API answered it in `nextCursor`. */
const cursor = z
  .string()
  .regex(/^[1-9]\d{0,15}$/, "not a cursor from this API")
  .meta({ description: "`nextCursor` of the previous page" })
  .transform(Number);

/** `GET /api/bets?status=&limit=&cursor=`. */
export const betsQuery = z.object({
  status: z.enum(["open", "won", "lost", "void"]).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: cursor.optional(),
});

/** `GET /api/ledger?limit=&cursor=`. */
export const ledgerQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: cursor.optional(),
});

/** SPEC §4: grid columns default 12 (max 60), rows default 21 (max 61). */
export const GRID_SIZE = { cols: { default: 12, max: 60 }, rows: { default: 21, max: 61 } } as const;

/** `GET /api/grid?cols=&rows=` — sizes of GRID_SIZE. */
export const gridQuery = z.object({
  cols: z.coerce.number().int().min(1).max(GRID_SIZE.cols.max).default(GRID_SIZE.cols.default),
  rows: z.coerce.number().int().min(1).max(GRID_SIZE.rows.max).default(GRID_SIZE.rows.default),
});

/** The `:id` of `/api/bets/:id` (decimal, from `Bet.id`); anything else is answered like an unknown bet (404). */
export const betIdParam = z.string().regex(/^[1-9]\d{0,15}$/).meta({ description: "the bet's `id`" });

/** `GET /ws?token=` — a session token makes the connection private (bet and balance events). */
export const wsQuery = z.object({ token: z.string().max(512).optional().meta({ description: "session token from /api/auth/verify" }) });

/** The `:file` of `/assets/:file`: the demo page's bundle, its source map and its style sheet; any other name is 404. */
export const assetFileParam = z.enum(["app.js", "app.js.map", "style.css"]).meta({ description: "one of the demo page's files; any other name is 404 `not_found`" });
