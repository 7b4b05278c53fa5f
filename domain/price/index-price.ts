/**
 * The index price (SPEC §4): median of the fresh sources' last prices, after excluding any source
 * that lies more than `outlierBp` basis points from the median of all fresh sources.
 *
 * Why the median of *all* fresh sources and not "of the others": with three sources where one is
 * 10% off, the median of the other two of a good source is the midpoint between the good and the
 * bad price, which would wrongly flag the good source. The median of all three is a good price.
 * With two sources that disagree, neither can be trusted: both are excluded (no index, the circuit
 * opens) rather than picking one at random.
 *
 * A source is stale when its last price is older than `staleMs` (the same boundary as the breaker's
 * "index older than PRICE_STALE_MS").
 */
export interface Observation {
  name: string;
  priceCents: number;
  atMs: number;
}

export type SourceVerdict = "ok" | "stale" | "outlier";

export interface IndexResult {
  /** Undefined when no source is fresh and consistent. */
  priceCents: number | undefined;
  verdicts: Map<string, SourceVerdict>;
  included: number;
}

/** Median of integer prices; the mean of the two middle values (floored) for an even count. */
export function medianCents(values: readonly number[]): number {
  if (values.length === 0) throw new RangeError("median of nothing");
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  if (sorted.length % 2 === 1) return sorted[mid]!;
  return Math.floor((sorted[mid - 1]! + sorted[mid]!) / 2);
}

/** |price - reference| in basis points of the reference, compared without floats drifting. */
export function deviatesBp(priceCents: number, referenceCents: number, limitBp: number): boolean {
  return Math.abs(priceCents - referenceCents) * 10_000 > limitBp * referenceCents;
}

export function computeIndex(
  observations: readonly Observation[],
  nowMs: number,
  staleMs: number,
  outlierBp: number,
): IndexResult {
  const verdicts = new Map<string, SourceVerdict>();
  const fresh: Observation[] = [];
  for (const o of observations) {
    const ageMs = nowMs - o.atMs;
    if (ageMs > staleMs) verdicts.set(o.name, "stale");
    else {
      verdicts.set(o.name, "ok");
      fresh.push(o);
    }
  }
  if (fresh.length === 0) return { priceCents: undefined, verdicts, included: 0 };
  const reference = medianCents(fresh.map((o) => o.priceCents));
  const kept: number[] = [];
  for (const o of fresh) {
    if (deviatesBp(o.priceCents, reference, outlierBp)) verdicts.set(o.name, "outlier");
    else kept.push(o.priceCents);
  }
  if (kept.length === 0) return { priceCents: undefined, verdicts, included: 0 };
  return { priceCents: medianCents(kept), verdicts, included: kept.length };
}
