-- Performance (bet placement at 3 000/s): ledger_by_at was never read by any query (ledger reads go
-- by account, by bet or by id range), yet every transfer paid for two more B-tree insertions in it.
DROP INDEX IF EXISTS ledger_by_at;
