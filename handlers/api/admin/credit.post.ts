import { defineHandler } from "h3";
import { useApp } from "../../../runtime/context.ts";
import { readJson } from "../../../runtime/body.ts";
import { apiError } from "../../../runtime/errors.ts";
import { requireAdmin } from "../../../services/auth/require-admin.ts";
import { parseAddress } from "../../../domain/eip55.ts";
import { publishPlayerEvent } from "../../../services/realtime/player-events.ts";
import { creditBody } from "../../../services/api-docs/requests.ts";

/**
 * POST /api/admin/credit {address, amountMicroUsd, reference, kind?} → 200 {balanceMicroUsd}.
 * A funding → player transfer (`deposit`, or `adjustment`; a negative adjustment moves money back),
 * idempotent on `reference`: the same request again answers the same way without a second transfer.
 */
export default defineHandler(async (event) => {
  requireAdmin(event);
  const input = await readJson(event, creditBody);
  const address = parseAddress(input.address);
  if (!address) throw apiError(400, "invalid_request", "invalid body", { fields: { address: "not an Ethereum address" } });
  const ctx = useApp(event);
  const creditMax = ctx.config.CREDIT_MAX_MICRO_USD;
  if (Math.abs(input.amountMicroUsd) > creditMax) {
    throw apiError(400, "invalid_request", "invalid body", { fields: { amountMicroUsd: `at most ${creditMax} in either direction` }, creditMaxMicroUsd: creditMax });
  }
  const outcome = await ctx.queue.run("accounts.credit", {
    ...input,
    address,
    at: ctx.now(),
    demoBalanceMicroUsd: ctx.config.DEMO_BALANCE_MICRO_USD,
    balanceMaxMicroUsd: ctx.config.BALANCE_MAX_MICRO_USD,
  });
  if (outcome.kind === "conflict") {
    throw apiError(409, "idempotency_conflict", "this reference was used for a different credit", { reference: outcome.reference });
  }
  if (outcome.kind === "insufficient_balance") {
    throw apiError(402, "insufficient_balance", "the balance is lower than the adjustment", { balanceMicroUsd: outcome.balanceMicroUsd });
  }
  if (outcome.kind === "balance_limit") {
    throw apiError(400, "invalid_request", "the credit would take the balance above its maximum", {
      fields: { amountMicroUsd: `the balance may not exceed ${outcome.balanceMaxMicroUsd}` },
      balanceMicroUsd: outcome.balanceMicroUsd,
      balanceMaxMicroUsd: outcome.balanceMaxMicroUsd,
    });
  }
  if (outcome.kind === "credited") {
    publishPlayerEvent(ctx, address, { type: "balance", balanceMicroUsd: outcome.balanceMicroUsd });
  }
  return { balanceMicroUsd: outcome.balanceMicroUsd };
});
