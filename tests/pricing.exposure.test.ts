import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_TOKEN, feedPrice, getJson, gridCells, newKey, postBet, startBetServer, START_PRICE_CENTS, type BetServer } from "./helpers/bets-fixture.ts";
import { createPlayer } from "./helpers/players.ts";

/** GET /api/admin/exposure: the model's expected house P&L on open bets (issue 12, operators). */

const USD = 1_000_000;

describe("GET /api/admin/exposure — expected house P&L", () => {
  let server: BetServer;
  beforeAll(async () => {
    server = await startBetServer();
  });
  afterAll(async () => {
    await server.stop();
  });

  it("is zero with no open bets", async () => {
    const res = await getJson(server, "/api/admin/exposure", ADMIN_TOKEN);
    expect(res.body.expectedHousePnlMicroUsd).toEqual({ atPlacement: 0, repricedNow: 0 });
  });

  it("is about the house edge of the stakes at placement, and moves when the price moves towards the bets", async () => {
    const cells = (await gridCells(server)).filter((c) => c.multiplier >= 2 && c.multiplier <= 20);
    const row = Math.floor(START_PRICE_CENTS / 1_000);
    const above = cells.filter((c) => c.row > row + 2).slice(0, 4);
    expect(above.length).toBe(4);
    let stake = 0;
    for (const cell of above) {
      const p = await createPlayer(server.ctx);
      const res = await postBet(server, p.token, { col: cell.col, row: cell.row, stakeMicroUsd: 10 * USD, idempotencyKey: newKey() });
      expect(res.status).toBe(201);
      stake += 10 * USD;
    }
    const before = (await getJson(server, "/api/admin/exposure", ADMIN_TOKEN)).body.expectedHousePnlMicroUsd;
    // 5 % edge: Σ stake·edge, less what the round-down of the multipliers adds to the house (≤ 1 % of P·payout).
    expect(before.atPlacement).toBeGreaterThanOrEqual(0.05 * stake - 2);
    expect(before.atPlacement).toBeLessThanOrEqual(0.06 * stake);
    // Re-priced on the same tick: the model's own P, a little below the multiplier's implied P.
    expect(before.repricedNow).toBeGreaterThanOrEqual(before.atPlacement - 2);
    expect(before.repricedNow).toBeLessThanOrEqual(0.07 * stake);
    // The price jumps $40 up towards the bands: the bets became likelier, the house expects less.
    feedPrice(server, START_PRICE_CENTS + 4_000);
    const after = (await getJson(server, "/api/admin/exposure", ADMIN_TOKEN)).body.expectedHousePnlMicroUsd;
    expect(after.atPlacement).toBe(before.atPlacement);
    expect(after.repricedNow).toBeLessThan(before.repricedNow - 0.1 * stake);
  });
});
