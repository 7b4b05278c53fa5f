-- Performance (bet placement at 3 000/s): the per-player open-bet limit is read from a counter on the
-- account row, which the bet's debit already writes, instead of counting up to OPEN_BETS_MAX entries
-- of a per-account index that every placement and every settlement had to update at a random page.
-- Triggers keep the counter exact for every writer of bets (placement, settlement, archive, tools).
ALTER TABLE accounts ADD COLUMN open_bets INTEGER NOT NULL DEFAULT 0;
UPDATE accounts SET open_bets = (SELECT count(*) FROM bets WHERE bets.account_id = accounts.id AND bets.status = 'open');

CREATE TRIGGER bets_open_count_insert AFTER INSERT ON bets WHEN NEW.status = 'open'
BEGIN UPDATE accounts SET open_bets = open_bets + 1 WHERE id = NEW.account_id; END;
CREATE TRIGGER bets_open_count_update AFTER UPDATE OF status ON bets WHEN OLD.status = 'open' AND NEW.status <> 'open'
BEGIN UPDATE accounts SET open_bets = open_bets - 1 WHERE id = NEW.account_id; END;
CREATE TRIGGER bets_open_count_reopen AFTER UPDATE OF status ON bets WHEN OLD.status <> 'open' AND NEW.status = 'open'
BEGIN UPDATE accounts SET open_bets = open_bets + 1 WHERE id = NEW.account_id; END;
CREATE TRIGGER bets_open_count_delete AFTER DELETE ON bets WHEN OLD.status = 'open'
BEGIN UPDATE accounts SET open_bets = open_bets - 1 WHERE id = OLD.account_id; END;

-- A player's stake already in a cell comes from the open bets of that cell, by account: one index
-- serves that check, the resolver's per-column reads and the exposure report, and its pages are
-- those of the few columns open for bets.
DROP INDEX bets_open_by_account;
DROP INDEX bets_open_by_col;
CREATE INDEX bets_open_by_cell ON bets (col, row, account_id, stake_micro_usd) WHERE status = 'open';
