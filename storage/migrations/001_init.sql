-- Current-week database (ADR-001). Money in micro-USD, prices in cents, times in epoch ms.

-- Accounts: players (by address) and the system accounts of the double-entry ledger (ADR-010).
-- 'funding' is where deposits and admin credits come from; 'house' takes stakes and pays payouts.
-- The sum of all balances is always zero.
CREATE TABLE accounts (
  id                INTEGER PRIMARY KEY,
  kind              TEXT    NOT NULL CHECK (kind IN ('player', 'house', 'funding')),
  address           TEXT    UNIQUE,
  balance_micro_usd INTEGER NOT NULL DEFAULT 0,
  created_at        INTEGER NOT NULL,
  CHECK (kind <> 'player' OR (address IS NOT NULL AND balance_micro_usd >= 0))
);
INSERT INTO accounts (id, kind, address, balance_micro_usd, created_at) VALUES
  (1, 'funding', NULL, 0, 0),
  (2, 'house',   NULL, 0, 0);

-- Immutable ledger entries. Every transfer writes two entries with opposite amounts and the
-- same transfer_id; balance_after is the account's balance once the entry applied.
CREATE TABLE ledger_entries (
  id                      INTEGER PRIMARY KEY AUTOINCREMENT,
  transfer_id             INTEGER NOT NULL,
  account_id              INTEGER NOT NULL REFERENCES accounts(id),
  kind                    TEXT    NOT NULL CHECK (kind IN ('deposit', 'stake', 'payout', 'refund', 'adjustment')),
  amount_micro_usd        INTEGER NOT NULL,
  balance_after_micro_usd INTEGER NOT NULL,
  bet_id                  INTEGER,
  reference               TEXT,
  at                      INTEGER NOT NULL
);
CREATE INDEX ledger_by_account ON ledger_entries (account_id, id);
CREATE INDEX ledger_by_bet ON ledger_entries (bet_id) WHERE bet_id IS NOT NULL;
CREATE INDEX ledger_by_at ON ledger_entries (at);
-- Idempotent credits: one transfer per reference and account.
CREATE UNIQUE INDEX ledger_reference ON ledger_entries (account_id, reference) WHERE reference IS NOT NULL;
CREATE TRIGGER ledger_entries_immutable_update BEFORE UPDATE ON ledger_entries
BEGIN SELECT RAISE(ABORT, 'ledger entries are immutable'); END;

-- Bets. Ids come from AUTOINCREMENT so they are never reused after archival deletes rows.
CREATE TABLE bets (
  id                      INTEGER PRIMARY KEY AUTOINCREMENT,
  account_id              INTEGER NOT NULL REFERENCES accounts(id),
  address                 TEXT    NOT NULL,
  col                     INTEGER NOT NULL,
  row                     INTEGER NOT NULL,
  window_start            INTEGER NOT NULL,
  window_end              INTEGER NOT NULL,
  band_low_cents          INTEGER NOT NULL,
  band_high_cents         INTEGER NOT NULL,
  stake_micro_usd         INTEGER NOT NULL CHECK (stake_micro_usd > 0),
  multiplier_hundredths   INTEGER NOT NULL CHECK (multiplier_hundredths > 100),
  payout_micro_usd        INTEGER NOT NULL,
  status                  TEXT    NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'won', 'lost', 'void')),
  placed_at               INTEGER NOT NULL,
  resolved_at             INTEGER,
  resolution_at           INTEGER,
  resolution_price_cents  INTEGER,
  resolution_reason       TEXT,
  idempotency_key         TEXT    NOT NULL,
  request_hash            TEXT    NOT NULL,
  UNIQUE (account_id, idempotency_key)
);
CREATE INDEX bets_open_by_col ON bets (col, row) WHERE status = 'open';
CREATE INDEX bets_by_account ON bets (account_id, id);
CREATE INDEX bets_by_resolved ON bets (resolved_at) WHERE resolved_at IS NOT NULL;

-- Index price ticks: the data every settlement is decided on (SPEC §5). t is strictly increasing.
CREATE TABLE price_ticks (
  t           INTEGER PRIMARY KEY,
  price_cents INTEGER NOT NULL CHECK (price_cents > 0)
) WITHOUT ROWID;

-- Periods when the index was stale (ADR-008). end_at is NULL while the gap is still open.
CREATE TABLE stale_gaps (
  id       INTEGER PRIMARY KEY AUTOINCREMENT,
  start_at INTEGER NOT NULL,
  end_at   INTEGER
);
CREATE INDEX stale_gaps_by_start ON stale_gaps (start_at);

-- Weekly archiver bookkeeping (ADR-006).
CREATE TABLE archive_runs (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  week_start  INTEGER NOT NULL,
  started_at  INTEGER NOT NULL,
  finished_at INTEGER,
  status      TEXT    NOT NULL CHECK (status IN ('running', 'copied', 'done', 'failed')),
  report      TEXT
);
