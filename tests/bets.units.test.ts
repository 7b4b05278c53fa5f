import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ExposureBook } from "../services/bets/exposure-book.ts";
import { TokenBucketLimiter } from "../services/bets/rate-limiter.ts";
import { minMultiplierHundredths, parsePlaceBetBody, placeBetBody, requestHash } from "../services/bets/request.ts";

describe("token bucket", () => {
  it("allows the burst, then the rate", () => {
    const limiter = new TokenBucketLimiter({ ratePerSec: 20, burst: 50 });
    let ok = 0;
    for (let i = 0; i < 60; i++) if (limiter.take(1, 1000).ok) ok++;
    expect(ok).toBe(50);
    expect(limiter.take(1, 1000)).toEqual({ ok: false, retryAfterMs: 50 });
    expect(limiter.take(1, 1049).ok).toBe(false);
    expect(limiter.take(1, 1050).ok).toBe(true); // one token per 50 ms
    expect(limiter.take(2, 1050).ok).toBe(true); // players are independent
  });

  it("stays bounded and never hands out more than a burst", () => {
    const limiter = new TokenBucketLimiter({ ratePerSec: 1, burst: 2, entriesMax: 100 });
    for (let id = 0; id < 1000; id++) limiter.take(id, 0);
    expect(limiter.size).toBeLessThanOrEqual(100);
  });
});

describe("exposure book", () => {
  const bet = (id: number, accountId: number, col: number, row: number, stake: number) => ({ id, accountId, col, row, stakeMicroUsd: stake, payoutMicroUsd: stake * 3 });

  it("adds, removes and resyncs idempotently by bet id", () => {
    const book = new ExposureBook();
    book.add(bet(1, 10, 5, 7, 100));
    book.add(bet(1, 10, 5, 7, 100)); // duplicate add (e.g. after a resync) counts once
    book.add(bet(2, 11, 5, 8, 200));
    book.add(bet(3, 10, 6, 7, 50));
    expect(book.totals()).toEqual({ bets: 3, stakeMicroUsd: 350, payoutMicroUsd: 1050 });
    expect(book.cellPayout(5, 7)).toBe(300);
    expect(book.columnPayout(5)).toBe(900);
    expect(book.openBetsOf(10)).toBe(2);
    expect(book.playerCellStake(10, 5, 7)).toBe(100);
    expect(book.remove(1)).toBe(true);
    expect(book.remove(1)).toBe(false);
    expect(book.cellPayout(5, 7)).toBe(0);
    expect(book.cells().map((c) => [c.col, c.row])).toEqual([[5, 8], [6, 7]]);
    book.replaceAll([bet(9, 12, 1, 1, 10)]);
    expect(book.totals()).toEqual({ bets: 1, stakeMicroUsd: 10, payoutMicroUsd: 30 });
    expect(book.openBetsOf(10)).toBe(0);
  });

  it("lists the bets of columns before a given one, bounded, and forgets removed ones", () => {
    const book = new ExposureBook();
    for (let id = 1; id <= 6; id++) book.add(bet(id, 10 + id, 3 + (id % 3), 1, 100)); // columns 4, 5, 3, 4, 5, 3
    expect(book.idsBeforeColumn(5, 100).sort()).toEqual([1, 3, 4, 6]);
    expect(book.idsBeforeColumn(4, 100).sort()).toEqual([3, 6]);
    expect(book.idsBeforeColumn(6, 2)).toHaveLength(2);
    book.remove(3);
    expect(book.idsBeforeColumn(4, 100)).toEqual([6]);
    book.remove(6);
    expect(book.idsBeforeColumn(4, 100)).toEqual([]);
    book.replaceAll([bet(9, 12, 1, 1, 10)]);
    expect(book.idsBeforeColumn(5, 100)).toEqual([9]);
  });
});

describe("request fingerprint", () => {
  it("depends on every field that changes the bet, not on the key or field order", () => {
    const base = { col: 1, row: 2, stakeMicroUsd: 3, idempotencyKey: "aaaaaaaa" };
    expect(requestHash(base)).toBe(requestHash({ ...base, idempotencyKey: "bbbbbbbb" }));
    for (const other of [{ col: 9 }, { row: 9 }, { stakeMicroUsd: 9 }, { minMultiplier: 1.5 }]) {
      expect(requestHash({ ...base, ...other })).not.toBe(requestHash(base));
    }
  });

  it("reads minMultiplier as hundredths rounded up", () => {
    expect(minMultiplierHundredths(3.47)).toBe(347);
    expect(minMultiplierHundredths(1.1)).toBe(110);
    expect(minMultiplierHundredths(3.471)).toBe(348);
    expect(minMultiplierHundredths(undefined)).toBeUndefined();
  });
});

describe("the bet body's fast check", () => {
  it("accepts exactly what the schema accepts, with the same value, and refuses the rest as the schema does", () => {
    const anyValue = fc.oneof(fc.anything(), fc.double(), fc.integer(), fc.string(), fc.constant(1e12 + 1), fc.constant(-1e12), fc.constant(Number.MAX_SAFE_INTEGER + 2));
    const mostly = <T,>(valid: fc.Arbitrary<T>) => fc.oneof({ arbitrary: valid, weight: 5 }, { arbitrary: anyValue, weight: 1 });
    const body = fc.record(
      {
        col: mostly(fc.integer({ min: -1e12, max: 1e12 })),
        row: mostly(fc.integer({ min: -5, max: 20_000 })),
        stakeMicroUsd: mostly(fc.oneof(fc.integer({ min: -10, max: 200_000_000 }), fc.constant(Number.MAX_SAFE_INTEGER), fc.constant(0.5))),
        minMultiplier: mostly(fc.oneof(fc.double({ min: -1, max: 2e6, noNaN: true }), fc.constant(1_000_000), fc.constant(0))),
        idempotencyKey: mostly(fc.string({ minLength: 6, maxLength: 66 })),
        extra: fc.oneof({ arbitrary: fc.constant(undefined), weight: 8 }, { arbitrary: anyValue, weight: 1 }),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(fc.oneof({ arbitrary: body, weight: 9 }, { arbitrary: fc.jsonValue(), weight: 1 }), (raw) => {
        const value = JSON.parse(JSON.stringify(raw) ?? "null"); // as the handler gets it
        const schema = placeBetBody.safeParse(value);
        let fast: unknown;
        try {
          fast = parsePlaceBetBody(value);
        } catch {
          fast = undefined;
        }
        expect(fast).toEqual(schema.success ? schema.data : undefined);
      }),
      { numRuns: 3000 },
    );
  });
});
