-- Idempotency across the weekly archive (issue 13): the archiver's purge moves a settled bet to the
-- historical database, and with it the UNIQUE (account_id, idempotency_key) of `bets` that made a
-- retry find its bet. In the same purge operation the key is kept here, with what a retry needs
-- (the bet's id, to read it from history, and the request fingerprint, to tell a retry from a
-- conflict), so a key is always either in `bets` or here. Rows leave IDEMPOTENCY_KEY_RETENTION_MS
-- after the bet was placed (the documented retry horizon; the archive job prunes them).
CREATE TABLE archived_bet_keys (
  account_id      INTEGER NOT NULL,
  idempotency_key TEXT    NOT NULL,
  bet_id          INTEGER NOT NULL,
  request_hash    TEXT    NOT NULL,
  placed_at       INTEGER NOT NULL,
  PRIMARY KEY (account_id, idempotency_key)
) WITHOUT ROWID;
CREATE INDEX archived_bet_keys_by_placed ON archived_bet_keys (placed_at);

-- A new bet row whose key is among them is refused inside the insert itself (no extra statement
-- on the placement hot path); the bet's operation turns this into the archived bet's answer.
CREATE TRIGGER bets_key_not_archived BEFORE INSERT ON bets
WHEN EXISTS (SELECT 1 FROM archived_bet_keys WHERE account_id = NEW.account_id AND idempotency_key = NEW.idempotency_key)
BEGIN SELECT RAISE(ABORT, 'archived_idempotency_key'); END;

-- Bets archived before this migration left their keys behind: the next archive run copies the keys
-- of history's bets placed within the retention horizon here once, then records that it did.
CREATE TABLE archived_bet_keys_backfill (
  id      INTEGER PRIMARY KEY CHECK (id = 1),
  done_at INTEGER NOT NULL
);
