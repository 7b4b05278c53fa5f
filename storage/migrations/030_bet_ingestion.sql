-- Bet ingestion (issue 5): what the limit checks inside a bet's batch operation read and write.

-- A player's open bets: the open-bet count (≤ OPEN_BETS_MAX rows to count) and the stake already in
-- a cell, both answered from the index alone. The resolver's status update drops a bet out of it.
CREATE INDEX bets_open_by_account ON bets (account_id, col, row, stake_micro_usd) WHERE status = 'open';

-- Potential payouts of every bet placed in a cell / a column (house exposure caps, SPEC §4).
-- Only columns still open for bets are ever checked against the caps, and no bet of such a column
-- can be settled yet (its window has not started), so "placed" equals "open" wherever it matters and
-- nothing has to be decremented on settlement. Rows of past columns are pruned by the bets module.
CREATE TABLE cell_exposure (
  col              INTEGER NOT NULL,
  row              INTEGER NOT NULL,
  payout_micro_usd INTEGER NOT NULL CHECK (payout_micro_usd >= 0),
  PRIMARY KEY (col, row)
) WITHOUT ROWID;

CREATE TABLE column_exposure (
  col              INTEGER PRIMARY KEY,
  payout_micro_usd INTEGER NOT NULL CHECK (payout_micro_usd >= 0)
) WITHOUT ROWID;
