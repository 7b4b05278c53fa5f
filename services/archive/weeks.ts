/**
 * UTC weeks starting Monday 00:00 (ADR-006: `current` holds this week, `history` the closed ones).
 * 1970-01-01 was a Thursday, so Mondays fall 4 days after an epoch multiple of 7 days.
 */
export const DAY_MS = 86_400_000;
export const WEEK_MS = 7 * DAY_MS;
const MONDAY_OFFSET_MS = 4 * DAY_MS;

/** Start (Monday 00:00 UTC) of the week holding `t`. */
export function weekStartOf(t: number): number {
  const sinceMonday = (((t - MONDAY_OFFSET_MS) % WEEK_MS) + WEEK_MS) % WEEK_MS;
  return t - sinceMonday;
}

export function isoDate(t: number): string {
  return new Date(t).toISOString().slice(0, 10);
}
