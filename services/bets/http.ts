import { apiError } from "../../runtime/errors.ts";
import { StakeOutOfRange } from "./placement.ts";
import { BetRefusal, refusalToHttp } from "./refusals.ts";

/** Turns the bets module's refusals into API errors; anything else passes through unchanged. */
export function betErrorToHttp(error: unknown): unknown {
  if (error instanceof BetRefusal) return refusalToHttp(error);
  if (error instanceof StakeOutOfRange) {
    return apiError(400, "invalid_request", error.message, {
      fields: { stakeMicroUsd: error.message },
      stakeMinMicroUsd: error.minMicroUsd,
      stakeMaxMicroUsd: error.maxMicroUsd,
    });
  }
  return error;
}

/** A decimal id from a route or a cursor: digits only, a safe integer ≥ 1; otherwise undefined. */
export function parseId(value: string | undefined): number | undefined {
  if (value === undefined || !/^[1-9]\d{0,15}$/.test(value)) return undefined;
  const id = Number(value);
  return Number.isSafeInteger(id) ? id : undefined;
}
