import { randomBytes } from "node:crypto";
import { getAddress } from "viem";
import type { AppContext } from "../../runtime/context.ts";
import { ensurePlayerAccount } from "../../storage/ledger.ts";

export interface TestPlayer {
  address: string;
  accountId: number;
  token: string;
}

export function randomAddress(): string {
  return getAddress(`0x${randomBytes(20).toString("hex")}`);
}

/**
 * A signed-in player without the SIWE round trip (for suites about other modules): the account is
 * created through the batch queue with `balanceMicroUsd` of demo money, and a session is issued.
 */
export async function createPlayer(ctx: AppContext, balanceMicroUsd = ctx.config.DEMO_BALANCE_MICRO_USD): Promise<TestPlayer> {
  const address = randomAddress();
  const { accountId } = await ctx.queue.run("accounts.ensurePlayer", address, ctx.now(), balanceMicroUsd);
  const { token } = await ctx.services.auth.sessions.create(address, accountId);
  return { address, accountId, token };
}
