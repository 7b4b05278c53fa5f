-- The stale thresholds in force per range of time (current database, migration 090), copied by the
-- archiver with every week, so the history file alone recomputes the outcome of its bets.
CREATE TABLE stale_thresholds (
  from_t   INTEGER PRIMARY KEY,
  stale_ms INTEGER NOT NULL
) WITHOUT ROWID;
