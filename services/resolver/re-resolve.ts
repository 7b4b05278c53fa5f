import type { Db } from "../../storage/db.ts";
import { resolveBet, type StaleGap, type Tick } from "../../domain/resolution.ts";
import type { IntegrityProblem } from "../bets/integrity.ts";

/** Settled bets re-resolved per integrity run: the newest ones and a random sample, in each database. */
export const SAMPLE_NEWEST = 100;
export const SAMPLE_RANDOM = 100;

interface SettledRow {
  id: number;
  window_start: number;
  window_end: number;
  band_low_cents: number;
  band_high_cents: number;
  status: string;
  resolution_at: number | null;
  resolution_price_cents: number | null;
  resolution_reason: string | null;
}

const COLUMNS = "id, window_start, window_end, band_low_cents, band_high_cents, status, resolution_at, resolution_price_cents, resolution_reason";

/**
 * The integrity check's re-resolution (SPEC §9, provable settlement): a sample of settled bets of
 * the current and the historical database is decided again by the pure rule from the stored ticks
 * and stale gaps, with the stale threshold recorded for its window, and must come out exactly as stored. `reader` is a read connection to the current
 * database with the historical one attached as `hist` (the integrity check's snapshot).
 */
export function reResolveSample(reader: Db, fallbackStaleMs: number): { checked: number; problems: IntegrityProblem[] } {
  const pick = (schema: string) =>
    reader
      .prepare(
        `SELECT ${COLUMNS} FROM (SELECT ${COLUMNS} FROM ${schema}.bets WHERE status <> 'open' ORDER BY id DESC LIMIT ${SAMPLE_NEWEST})
         UNION SELECT ${COLUMNS} FROM (SELECT ${COLUMNS} FROM ${schema}.bets WHERE status <> 'open' ORDER BY random() LIMIT ${SAMPLE_RANDOM})`,
      )
      .all() as SettledRow[];
  const before = reader.prepare(
    `SELECT t, price_cents FROM (SELECT t, price_cents FROM main.price_ticks WHERE t < ?1 ORDER BY t DESC LIMIT 1)
     UNION SELECT t, price_cents FROM (SELECT t, price_cents FROM hist.price_ticks WHERE t < ?1 ORDER BY t DESC LIMIT 1)
     ORDER BY t DESC LIMIT 1`,
  );
  const within = reader.prepare(
    `SELECT t, price_cents FROM main.price_ticks WHERE t >= ?1 AND t < ?2
     UNION SELECT t, price_cents FROM hist.price_ticks WHERE t >= ?1 AND t < ?2 ORDER BY t`,
  );
  const gaps = reader.prepare(
    `SELECT start_at, end_at FROM main.stale_gaps WHERE start_at < ?2 AND (end_at IS NULL OR end_at > ?1)
     UNION SELECT start_at, end_at FROM hist.stale_gaps WHERE start_at < ?2 AND (end_at IS NULL OR end_at > ?1)`,
  );
  // The threshold recorded for a window's start (migration 090), from either file; today's setting only when none is.
  const threshold = reader.prepare(
    `SELECT stale_ms FROM (SELECT from_t, stale_ms FROM main.stale_thresholds WHERE from_t <= ?1
       UNION ALL SELECT from_t, stale_ms FROM hist.stale_thresholds WHERE from_t <= ?1) ORDER BY from_t DESC LIMIT 1`,
  );
  const problems: IntegrityProblem[] = [];
  const seen = new Set<number>();
  for (const bet of [...pick("main"), ...pick("hist")]) {
    if (seen.has(bet.id)) continue;
    seen.add(bet.id);
    const t0 = bet.window_start;
    const t1 = bet.window_end;
    const ticks: Tick[] = [];
    const first = before.get(t0) as { t: number; price_cents: number } | undefined;
    if (first) ticks.push({ t: first.t, priceCents: first.price_cents });
    for (const r of within.all(t0, t1) as { t: number; price_cents: number }[]) ticks.push({ t: r.t, priceCents: r.price_cents });
    const staleGaps: StaleGap[] = (gaps.all(t0, t1) as { start_at: number; end_at: number | null }[]).map((g) => ({ startAt: g.start_at, endAt: g.end_at }));
    const terms = { windowStart: t0, windowEnd: t1, bandLowCents: bet.band_low_cents, bandHighCents: bet.band_high_cents };
    const staleMs = (threshold.get(t0) as { stale_ms: number } | undefined)?.stale_ms ?? fallbackStaleMs;
    const verdict = resolveBet(terms, { ticks, staleGaps, staleMs, knownUntil: t1 });
    const stored = { status: bet.status, at: bet.resolution_at, priceCents: bet.resolution_price_cents, reason: bet.resolution_reason };
    const again = verdict.status === "open" ? { status: "open" } : { status: verdict.status, at: verdict.at, priceCents: verdict.priceCents, reason: verdict.reason };
    if (JSON.stringify(stored) !== JSON.stringify(again)) {
      problems.push({ check: "re_resolution", message: `bet ${bet.id} re-resolves to ${again.status}, stored ${bet.status}`, details: { betId: bet.id, stored, recomputed: again } });
    }
  }
  return { checked: seen.size, problems };
}
