/**
 * The aggregate queries of the integrity check (integrity.ts). They run on a reader connection with
 * the history database attached as `hist`; history rows also present in current (an archive run
 * between copy and delete) are skipped by id. Ranges (?1..?2) keep each statement short.
 */

export const MAX_ENTRY_ID = `
SELECT MAX(COALESCE((SELECT MAX(id) FROM main.ledger_entries), 0), COALESCE((SELECT MAX(id) FROM hist.ledger_entries), 0)) AS maxId`;

/** Per account: count and sum of the entries with ids in a range (current + history). */
export const ENTRY_SUMS_BY_ACCOUNT = `
SELECT account_id, COUNT(*) AS n, SUM(amount) AS total FROM (
  SELECT account_id, amount_micro_usd AS amount FROM main.ledger_entries WHERE id BETWEEN ?1 AND ?2
  UNION ALL
  SELECT h.account_id, h.amount_micro_usd FROM hist.ledger_entries h
   WHERE h.id BETWEEN ?1 AND ?2 AND NOT EXISTS (SELECT 1 FROM main.ledger_entries c WHERE c.id = h.id))
GROUP BY account_id`;

export const MAX_BET_ID = `
SELECT MAX(COALESCE((SELECT MAX(id) FROM main.bets), 0), COALESCE((SELECT MAX(id) FROM hist.bets), 0)) AS maxId`;

const BETS_IN_RANGE = `
  SELECT id, account_id, status, stake_micro_usd AS stake, payout_micro_usd AS payout FROM main.bets WHERE id BETWEEN ?1 AND ?2
  UNION ALL
  SELECT h.id, h.account_id, h.status, h.stake_micro_usd, h.payout_micro_usd FROM hist.bets h
   WHERE h.id BETWEEN ?1 AND ?2 AND NOT EXISTS (SELECT 1 FROM main.bets c WHERE c.id = h.id)`;

const ENTRIES_OF_BETS_IN_RANGE = `
  SELECT bet_id, account_id, kind, amount_micro_usd AS amount FROM main.ledger_entries WHERE bet_id BETWEEN ?1 AND ?2
  UNION ALL
  SELECT h.bet_id, h.account_id, h.kind, h.amount_micro_usd FROM hist.ledger_entries h
   WHERE h.bet_id BETWEEN ?1 AND ?2 AND NOT EXISTS (SELECT 1 FROM main.ledger_entries c WHERE c.id = h.id)`;

export const BET_COUNT = `SELECT COUNT(*) AS n FROM (${BETS_IN_RANGE})`;

/**
 * Bets whose entries on their own account are not exactly: one stake of −stake; one payout of
 * +payout if won; one refund of +stake if void; nothing else. (The house side mirrors each transfer;
 * per-account sums and the zero total cover it.)
 */
export const BAD_BETS = `
WITH b AS (${BETS_IN_RANGE}),
e AS (${ENTRIES_OF_BETS_IN_RANGE}),
agg AS (
  SELECT bet_id, account_id,
    SUM(kind = 'stake') AS stakes, COALESCE(SUM(CASE WHEN kind = 'stake' THEN amount END), 0) AS stake_amount,
    SUM(kind = 'payout') AS payouts, COALESCE(SUM(CASE WHEN kind = 'payout' THEN amount END), 0) AS payout_amount,
    SUM(kind = 'refund') AS refunds, COALESCE(SUM(CASE WHEN kind = 'refund' THEN amount END), 0) AS refund_amount,
    COUNT(*) AS n
  FROM e GROUP BY bet_id, account_id)
SELECT b.id, b.status, COALESCE(agg.stakes, 0) AS stakes, COALESCE(agg.payouts, 0) AS payouts,
       COALESCE(agg.refunds, 0) AS refunds, COALESCE(agg.n, 0) AS n
FROM b LEFT JOIN agg ON agg.bet_id = b.id AND agg.account_id = b.account_id
WHERE agg.bet_id IS NULL OR NOT (
  agg.stakes = 1 AND agg.stake_amount = -b.stake
  AND agg.payouts = (b.status = 'won') AND (agg.payouts = 0 OR agg.payout_amount = b.payout)
  AND agg.refunds = (b.status = 'void') AND (agg.refunds = 0 OR agg.refund_amount = b.stake)
  AND agg.n = agg.stakes + agg.payouts + agg.refunds)
ORDER BY b.id LIMIT 100`;

/** Entries naming a bet that does not exist, or on an account that is neither its player's nor the house's. */
export const STRAY_BET_ENTRIES = `
WITH b AS (${BETS_IN_RANGE}), e AS (${ENTRIES_OF_BETS_IN_RANGE})
SELECT e.bet_id, e.account_id, COUNT(*) AS n FROM e LEFT JOIN b ON b.id = e.bet_id
WHERE b.id IS NULL OR (e.account_id <> b.account_id AND e.account_id <> ?3)
GROUP BY e.bet_id, e.account_id ORDER BY e.bet_id LIMIT 100`;

/** Open bets in the current database (history holds settled bets only). */
export const OPEN_TOTALS = `
SELECT COUNT(*) AS n, COALESCE(SUM(stake_micro_usd), 0) AS stake, COALESCE(SUM(payout_micro_usd), 0) AS payout
FROM main.bets WHERE status = 'open'`;

/** Accounts whose open-bet counter (migration 060) differs from their open bets. */
export const OPEN_COUNT_MISMATCH = `
SELECT a.id AS accountId, a.open_bets AS kept, COALESCE(o.n, 0) AS open FROM main.accounts a
  LEFT JOIN (SELECT account_id, COUNT(*) AS n FROM main.bets WHERE status = 'open' GROUP BY account_id) o ON o.account_id = a.id
 WHERE a.open_bets <> COALESCE(o.n, 0) LIMIT 100`;

/** Open bets of windows that ended before ?1 (the stuck-bet check): how many, and the oldest end. */
export const STUCK_OPEN_BETS = `
SELECT COUNT(*) AS n, MIN(window_end) AS oldest FROM main.bets WHERE status = 'open' AND window_end < ?1`;

export const STUCK_OPEN_BET_IDS = `
SELECT id FROM main.bets WHERE status = 'open' AND window_end < ?1 ORDER BY window_end, id LIMIT ?2`;
