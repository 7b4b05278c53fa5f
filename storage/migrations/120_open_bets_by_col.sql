-- Open bets indexed by column alone (issue 23). Since the writer keeps a player's stake per cell in
-- memory (migration 100, services/bets/writer-state.ts), nothing reads bets_open_by_cell by row,
-- account or stake any more: its readers want the open bets (the writer's load, the exposure report,
-- integrity) or those of the columns before one (the resolver). Keyed by (col, row, account, stake),
-- every bet went to a page of its own within its cell; keyed by column, a bet lands at the end of its
-- column's run (rowids grow), on a page the transaction's other bets in that column share: in commits
-- of 15 bets of random players over 160 cells of 8 columns, the WAL pages of a commit fell from 66 to
-- 60 (`npx tsx scripts/bench-writer-ops.ts --batch 15 --frames`, with and without this index).
DROP INDEX IF EXISTS bets_open_by_cell;
CREATE INDEX bets_open_by_col ON bets (col) WHERE status = 'open';
