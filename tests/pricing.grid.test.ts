import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  bandOf,
  centredRows,
  columnOf,
  firstUnlockedColumn,
  inBand,
  isColumnOpen,
  lastOfferedColumn,
  rowOf,
  windowOf,
} from "../domain/grid.ts";

const G = { columnMs: 10_000, rowCents: 1_000, lockMs: 5_000, horizonColumns: 60 };

describe("grid geometry (SPEC §2)", () => {
  it("maps times to columns with floor division, window start inclusive and end exclusive", () => {
    expect(columnOf(0, 10_000)).toBe(0);
    expect(columnOf(9_999, 10_000)).toBe(0);
    expect(columnOf(10_000, 10_000)).toBe(1);
    expect(columnOf(1_764_000_012_345, 10_000)).toBe(176_400_001);
    expect(columnOf(-1, 10_000)).toBe(-1);
    expect(windowOf(176_400_001, 10_000)).toEqual({ startMs: 1_764_000_010_000, endMs: 1_764_000_020_000 });
  });

  it("maps prices to rows: band low edge inclusive, high edge exclusive", () => {
    expect(rowOf(9_500_437, 1_000)).toBe(9_500);
    expect(rowOf(9_500_000, 1_000)).toBe(9_500);
    expect(rowOf(9_499_999, 1_000)).toBe(9_499);
    expect(rowOf(0, 1_000)).toBe(0);
    expect(rowOf(-1, 1_000)).toBe(-1);
    const band = bandOf(9_500, 1_000);
    expect(band).toEqual({ lowCents: 9_500_000, highCents: 9_501_000 });
    expect(inBand(9_500_000, band)).toBe(true);
    expect(inBand(9_500_999, band)).toBe(true);
    expect(inBand(9_501_000, band)).toBe(false);
    expect(inBand(9_499_999, band)).toBe(false);
  });

  it("puts every time in exactly its column's window and every price in exactly its row's band", () => {
    fc.assert(
      fc.property(fc.integer({ min: -1e12, max: 4e12 }), fc.integer({ min: 1, max: 3_600_000 }), (t, columnMs) => {
        const w = windowOf(columnOf(t, columnMs), columnMs);
        return w.startMs <= t && t < w.endMs && w.endMs - w.startMs === columnMs;
      }),
    );
    fc.assert(
      fc.property(fc.integer({ min: -1e9, max: 1e12 }), fc.integer({ min: 1, max: 100_000_000 }), (p, rowCents) => {
        const row = rowOf(p, rowCents);
        return inBand(p, bandOf(row, rowCents)) && !inBand(p, bandOf(row + 1, rowCents)) && !inBand(p, bandOf(row - 1, rowCents));
      }),
    );
  });

  it("locks columns whose window starts sooner than LOCK_MS from now, or has started", () => {
    // now = 1000: column 0 started, column 1 starts at 10 000 ≥ 1000 + 5000.
    expect(firstUnlockedColumn(1_000, G)).toBe(1);
    // A window starting exactly LOCK_MS from now is still open ("at least LOCK_MS").
    expect(firstUnlockedColumn(5_000, G)).toBe(1);
    expect(isColumnOpen(1, 5_000, G)).toBe(true);
    expect(isColumnOpen(1, 5_001, G)).toBe(false);
    expect(firstUnlockedColumn(5_001, G)).toBe(2);
    expect(isColumnOpen(0, 5_001, G)).toBe(false); // the current column
    expect(isColumnOpen(-3, 5_001, G)).toBe(false); // the past
  });

  it("offers HORIZON_COLUMNS columns from the first unlocked one, no further", () => {
    const now = 1_764_000_002_963;
    const first = firstUnlockedColumn(now, G);
    expect(first * G.columnMs).toBeGreaterThanOrEqual(now + G.lockMs);
    expect((first - 1) * G.columnMs).toBeLessThan(now + G.lockMs);
    expect(lastOfferedColumn(now, G)).toBe(first + 59);
    expect(isColumnOpen(first + 59, now, G)).toBe(true);
    expect(isColumnOpen(first + 60, now, G)).toBe(false);
  });

  it("refuses columns that are not safe integers", () => {
    for (const col of [Number.NaN, 1.5, Number.POSITIVE_INFINITY, 2 ** 60]) expect(isColumnOpen(col, 0, G)).toBe(false);
  });

  it("centres rows on the price's row", () => {
    expect(centredRows(9_500_437, 21, 1_000)).toEqual({ firstRow: 9_490, lastRow: 9_510 });
    expect(centredRows(9_500_437, 1, 1_000)).toEqual({ firstRow: 9_500, lastRow: 9_500 });
    expect(centredRows(9_500_437, 4, 1_000)).toEqual({ firstRow: 9_498, lastRow: 9_501 });
  });
});
