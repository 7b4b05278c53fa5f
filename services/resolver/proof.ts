import type { AppContext } from "../types.ts";
import { statementCache, type Db } from "../../storage/db.ts";
import { RULE_TEXT, resolveBet, type StaleGap, type Tick } from "../../domain/resolution.ts";
import { BET_COLUMNS, toBetJson, type BetJson } from "../bets/bet-json.ts";
import { toBetRow } from "../bets/rows.ts";
import { windowEvidence } from "./evidence.ts";
import { staleMsAt } from "../price/stale-thresholds.ts";

export interface Proof {
  bet: BetJson;
  rule: string;
  /** The PRICE_STALE_MS in force at the window's start (recorded, migration 090): what the rule was applied with. */
  staleMs: number;
  /** The newest stored tick before the window start (it decides whether the feed was fresh at t0), then every tick of [t0, t1). */
  ticks: { t: number; priceCents: number }[];
  staleGaps: StaleGap[];
  /** The rule applied to `ticks` and `staleGaps`: equals `bet.status` for a settled bet. */
  recomputed: "won" | "lost" | "void" | "open";
  recomputedResolution: { at: number; priceCents: number | null; reason: string } | null;
}

const prepare = (db: Db) => db.prepare(`SELECT ${BET_COLUMNS} FROM bets WHERE id = ? AND account_id = ?`);

const betStatement = statementCache(prepare);

/**
 * The settlement proof of one of a player's bets (SPEC §5, §9): the stored ticks and stale gaps of
 * its window, from the current and the historical database, and the outcome the pure rule gives on
 * them. Undefined for an unknown bet or someone else's.
 */
export function buildProof(ctx: AppContext, accountId: number, betId: number): Proof | undefined {
  const dbs = [ctx.db, ctx.history];
  const raw = dbs.map((db) => betStatement(db).get(betId, accountId)).find((r) => r !== undefined);
  if (!raw) return undefined;
  const row = toBetRow(raw);
  const evidence = windowEvidence(dbs, row.window_start, row.window_end);
  const terms = { windowStart: row.window_start, windowEnd: row.window_end, bandLowCents: row.band_low_cents, bandHighCents: row.band_high_cents };
  // The threshold recorded for the window's start: a later PRICE_STALE_MS does not change old proofs.
  const staleMs = staleMsAt(dbs, row.window_start, ctx.config.PRICE_STALE_MS);
  // An open bet is judged on what is stored so far: ticks up to now (its window may still run).
  const knownUntil = row.status === "open" ? Math.min(ctx.now(), row.window_end) : row.window_end;
  const verdict = resolveBet(terms, { ticks: evidence.ticks, staleGaps: evidence.staleGaps, staleMs, knownUntil });
  return {
    bet: toBetJson(row),
    rule: RULE_TEXT,
    staleMs,
    ticks: evidence.ticks.map((t: Tick) => ({ t: t.t, priceCents: t.priceCents })),
    staleGaps: evidence.staleGaps,
    recomputed: verdict.status,
    recomputedResolution: verdict.status === "open" ? null : { at: verdict.at, priceCents: verdict.priceCents, reason: verdict.reason },
  };
}
