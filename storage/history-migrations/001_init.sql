-- Historical database (ADR-006): closed weeks, written only by the archiver, read-only for the API.
-- Same row shapes as the current database so history reads use the same mapping.
CREATE TABLE ledger_entries (
  id                      INTEGER PRIMARY KEY,
  transfer_id             INTEGER NOT NULL,
  account_id              INTEGER NOT NULL,
  kind                    TEXT    NOT NULL,
  amount_micro_usd        INTEGER NOT NULL,
  balance_after_micro_usd INTEGER NOT NULL,
  bet_id                  INTEGER,
  reference               TEXT,
  at                      INTEGER NOT NULL
);
CREATE INDEX ledger_by_account ON ledger_entries (account_id, id);
CREATE INDEX ledger_by_bet ON ledger_entries (bet_id) WHERE bet_id IS NOT NULL;

CREATE TABLE bets (
  id                      INTEGER PRIMARY KEY,
  account_id              INTEGER NOT NULL,
  address                 TEXT    NOT NULL,
  col                     INTEGER NOT NULL,
  row                     INTEGER NOT NULL,
  window_start            INTEGER NOT NULL,
  window_end              INTEGER NOT NULL,
  band_low_cents          INTEGER NOT NULL,
  band_high_cents         INTEGER NOT NULL,
  stake_micro_usd         INTEGER NOT NULL,
  multiplier_hundredths   INTEGER NOT NULL,
  payout_micro_usd        INTEGER NOT NULL,
  status                  TEXT    NOT NULL,
  placed_at               INTEGER NOT NULL,
  resolved_at             INTEGER,
  resolution_at           INTEGER,
  resolution_price_cents  INTEGER,
  resolution_reason       TEXT,
  idempotency_key         TEXT    NOT NULL,
  request_hash            TEXT    NOT NULL
);
CREATE INDEX bets_by_account ON bets (account_id, id);

CREATE TABLE price_ticks (
  t           INTEGER PRIMARY KEY,
  price_cents INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE stale_gaps (
  id       INTEGER PRIMARY KEY,
  start_at INTEGER NOT NULL,
  end_at   INTEGER
);

CREATE TABLE archived_weeks (
  week_start        INTEGER PRIMARY KEY,
  bets              INTEGER NOT NULL,
  ledger_entries    INTEGER NOT NULL,
  price_ticks       INTEGER NOT NULL,
  stake_micro_usd   INTEGER NOT NULL,
  ledger_sum_micro_usd INTEGER NOT NULL,
  archived_at       INTEGER NOT NULL
);
