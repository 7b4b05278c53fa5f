-- Weekly archiver (issue 6): what its per-week queries and checks need in the historical database.

-- Week membership: a settled bet belongs to the week of its settlement, a closed stale gap to the
-- week it ended in (both are final once that week is over), a tick to the week of its t.
CREATE INDEX bets_by_resolved ON bets (resolved_at);
CREATE INDEX stale_gaps_by_end ON stale_gaps (end_at);

-- The totals recorded when a week was first verified (archived_weeks holds counts and the signed
-- ledger sum already); a rerun after a crash checks the history still matches them.
ALTER TABLE archived_weeks ADD COLUMN stale_gaps INTEGER NOT NULL DEFAULT 0;
ALTER TABLE archived_weeks ADD COLUMN payout_micro_usd INTEGER NOT NULL DEFAULT 0;
ALTER TABLE archived_weeks ADD COLUMN ledger_credit_micro_usd INTEGER NOT NULL DEFAULT 0;
ALTER TABLE archived_weeks ADD COLUMN price_sum_cents INTEGER NOT NULL DEFAULT 0;
