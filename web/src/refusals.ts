import { formatMicroUsd, formatMultiplier } from "./format.ts";

/** An error answer of the API (its stable code, status and details). */
export interface ApiProblem {
  status: number;
  code: string;
  message: string;
  details?: Record<string, unknown>;
}

/**
 * The short sentence a player reads for a refused bet (API.md § Bets). Codes the page does not
 * know fall back to the server's own message.
 */
export function refusalSentence(problem: ApiProblem, stakeMicroUsd: number): string {
  switch (problem.code) {
    case "insufficient_balance":
      return `Not enough balance for a ${formatMicroUsd(stakeMicroUsd)} stake.`;
    case "cell_locked":
      return "Too late for that cell: its window starts too soon. Pick a later column.";
    case "cell_not_offered":
      return "That cell is not offered right now.";
    case "multiplier_changed": {
      const now = problem.details?.multiplier;
      return typeof now === "number"
        ? `The multiplier moved to ${formatMultiplier(Math.round(now * 100))}, beyond your allowance. Tap again to take it.`
        : "The multiplier moved beyond your allowance. Tap again to take the new one.";
    }
    case "exposure_limit":
      return "That bet would go over a stake limit for this cell or column.";
    case "rate_limited":
      return "Too many bets at once. Slow down a little.";
    case "too_many_open_bets":
      return "You have too many open bets. Wait for some to settle.";
    case "price_stale":
      return "The price feed is stale, so bets are paused.";
    case "overloaded":
    case "shutting_down":
      return "The server is busy. Try again in a moment.";
    case "unauthorized":
      return "Your session has ended. Sign in again.";
    case "invalid_request":
      return problem.details && "stakeMicroUsd" in problem.details ? "That stake is outside the allowed range." : `Bet refused: ${problem.message}.`;
    default:
      return `Bet refused: ${problem.message}.`;
  }
}
