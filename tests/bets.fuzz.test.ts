import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPlayer, type TestPlayer } from "./helpers/players.ts";
import { integrity, pickCell, startBetServer, type BetServer, type GridCell } from "./helpers/bets-fixture.ts";

/** Property: whatever a client sends to POST /api/bets, the answer is never a 5xx (a 503 is a documented refusal only). */
describe("POST /api/bets with random bodies", () => {
  let server: BetServer;
  let player: TestPlayer;
  let cell: GridCell;
  beforeAll(async () => {
    server = await startBetServer({ BET_RATE_BURST: 1_000_000, OPEN_BETS_MAX: 100_000, CELL_STAKE_MAX_MICRO_USD: 1_000_000_000_000 });
    player = await createPlayer(server.ctx, 1_000_000_000_000);
    cell = await pickCell(server);
  });
  afterAll(async () => {
    await server.stop();
  });

  const send = async (body: string) => {
    const res = await server.request("/api/bets", { method: "POST", token: player.token, body, headers: { "content-type": "application/json" } });
    const json = (await res.json()) as { error?: { code: string } };
    return { status: res.status, json };
  };
  const check = (r: { status: number; json: { error?: { code: string } } }, input: unknown) => {
    const label = JSON.stringify(input)?.slice(0, 300);
    expect(r.status < 500 || ["price_stale", "overloaded"].includes(r.json.error?.code ?? ""), label).toBe(true);
    if (r.status >= 400) expect(r.json.error?.code, label).toMatch(/^[a-z_]+$/);
  };

  it("arbitrary JSON values", async () => {
    await fc.assert(
      fc.asyncProperty(fc.jsonValue(), async (value) => check(await send(JSON.stringify(value)), value)),
      { numRuns: 150, seed: 42 },
    );
  });

  it("arbitrary strings (mostly not JSON)", async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 200 }), async (text) => check(await send(text), text)),
      { numRuns: 100, seed: 43 },
    );
  });

  it("near-valid bodies: each field drawn from valid values and garbage", async () => {
    const anyValue = fc.oneof(fc.anything(), fc.double(), fc.integer(), fc.bigInt().map(String), fc.constant(Number.MAX_SAFE_INTEGER + 2));
    const mostly = <T,>(valid: fc.Arbitrary<T>) => fc.oneof({ arbitrary: valid, weight: 6 }, { arbitrary: anyValue, weight: 1 });
    const body = fc.record(
      {
        col: mostly(fc.oneof({ arbitrary: fc.constant(cell.col), weight: 3 }, fc.integer({ min: cell.col - 3, max: cell.col + 80 }))),
        row: mostly(fc.oneof({ arbitrary: fc.constant(cell.row), weight: 3 }, fc.integer({ min: cell.row - 50, max: cell.row + 50 }))),
        stakeMicroUsd: mostly(fc.oneof({ arbitrary: fc.integer({ min: 100_000, max: 5_000_000 }), weight: 4 }, fc.integer({ min: -10, max: 200_000_000 }), fc.constant(1e300))),
        minMultiplier: mostly(fc.oneof(fc.double({ min: 0, max: 3 }), fc.double({ min: 0, max: 200 }), fc.constant(1e308))),
        idempotencyKey: mostly(fc.string({ minLength: 8, maxLength: 64 })),
        extra: fc.oneof({ arbitrary: fc.constant(undefined), weight: 9 }, { arbitrary: anyValue, weight: 1 }),
      },
      { requiredKeys: ["col", "row", "stakeMicroUsd", "idempotencyKey"] },
    );
    const seen: Record<string, number> = {};
    await fc.assert(
      fc.asyncProperty(body, async (value) => {
        const text = JSON.stringify(value) ?? "null";
        const r = await send(text);
        check(r, value);
        const key = r.json.error?.code ?? String(r.status);
        seen[key] = (seen[key] ?? 0) + 1;
      }),
      { numRuns: 400, seed: 44 },
    );
    console.info(`near-valid outcomes: ${JSON.stringify(seen)}`);
    // The generator reaches the deep paths too, not only the schema.
    expect(seen["201"] ?? 0, JSON.stringify(seen)).toBeGreaterThan(0);
    expect(seen.cell_locked ?? 0, JSON.stringify(seen)).toBeGreaterThan(0);
    expect((await integrity(server)).ok).toBe(true);
  });
});
