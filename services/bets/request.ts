import { z } from "zod";

/** Far beyond any real grid, small enough that every product stays a safe integer. */
const COORD_MAX = 1_000_000_000_000;

/** The body of `POST /api/bets` (API.md § Bets). Unknown fields are refused: a typo must not pass silently. */
export const placeBetBody = z
  .object({
    col: z.number().int().min(-COORD_MAX).max(COORD_MAX),
    row: z.number().int().min(-COORD_MAX).max(COORD_MAX),
    stakeMicroUsd: z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
    minMultiplier: z.number().positive().max(1_000_000).optional(),
    idempotencyKey: z.string().min(8).max(64),
  })
  .strict();

export type PlaceBetBody = z.output<typeof placeBetBody>;

/**
 * Fingerprint of what the request asks for, stored with the bet: a retry with the same key must ask
 * for the same thing (same → the original bet, different → idempotency_conflict). Field order and
 * whitespace of the JSON do not matter; an absent and a given minMultiplier differ. The canonical
 * form itself is stored (short, and no hashing on the hot path); nothing secret is in it.
 */
export function requestHash(body: PlaceBetBody): string {
  return `v1|${body.col}|${body.row}|${body.stakeMicroUsd}|${body.minMultiplier ?? ""}`;
}

/** `minMultiplier` (a decimal like 3.47) as integer hundredths, rounded up so 3.47 never means 3.46. */
export function minMultiplierHundredths(minMultiplier: number | undefined): number | undefined {
  if (minMultiplier === undefined) return undefined;
  return Math.ceil(minMultiplier * 100 - 1e-6);
}
