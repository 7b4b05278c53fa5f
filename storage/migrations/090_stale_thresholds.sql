-- Proofs do not drift with configuration (issue 13): the settlement rule calls the index stale when
-- its newest tick is older than PRICE_STALE_MS, so a later change of that setting would change the
-- recomputed outcome of old bets. The threshold in force is recorded per range of time instead:
-- from `from_t` on (until the next row) the rule used `stale_ms`. A process records its setting at
-- start-up when it differs from the newest row; the resolver, proofs and the integrity check read
-- the row in force at a window's start. Rows are never deleted (one per change of the setting).
CREATE TABLE stale_thresholds (
  from_t   INTEGER PRIMARY KEY,
  stale_ms INTEGER NOT NULL CHECK (stale_ms > 0)
) WITHOUT ROWID;
