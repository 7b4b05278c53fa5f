-- Performance (bet placement at 3 000/s): every bet already has its stake entry in ledger_by_account
-- (account_id, id), in the same order as the bets (one writer: a bet and its entries take their ids
-- together), so a player's bets are listed through those entries and this index, which cost every
-- placement a B-tree insertion at a random page, goes. The history file keeps its copy (no hot writes).
DROP INDEX bets_by_account;
