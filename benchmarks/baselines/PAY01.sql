-- PAY01 crypto_after_fanin: credits used by an occurrence are not used again, so whether a purchase is an
-- occurrence depends on the previous occurrence: a recursive walk over each account's crypto purchases,
-- carrying the (ts_s, txn_idx) of the last occurrence. >= min_occurrences occurrences within period_days.
WITH RECURSIVE credits AS (
    SELECT account_key, ts_s, txn_idx, counterparty_key FROM postings
    WHERE channel = 'p2p' AND amount > 0 AND counterparty_key IS NOT NULL
),
buys AS (
    SELECT account_key, ts_s, txn_idx, row_number() OVER (PARTITION BY account_key ORDER BY ts_s, txn_idx) AS k
    FROM postings WHERE is_crypto = 1 AND amount < 0
),
walk(account_key, k, used_s, used_idx, occurrence, ts_s) AS (
    SELECT DISTINCT account_key, CAST(0 AS BIGINT), CAST(-1 AS BIGINT), CAST(-1 AS BIGINT), false, CAST(0 AS BIGINT)
    FROM buys
    UNION ALL
    SELECT b.account_key, b.k,
           CASE WHEN q.ok THEN b.ts_s ELSE w.used_s END, CASE WHEN q.ok THEN b.txn_idx ELSE w.used_idx END,
           q.ok, b.ts_s
    FROM walk AS w
    JOIN buys AS b ON b.account_key = w.account_key AND b.k = w.k + 1,
    LATERAL (SELECT count(DISTINCT c.counterparty_key) >= $min_senders AS ok
             FROM credits AS c
             WHERE c.account_key = b.account_key AND c.ts_s >= b.ts_s - $lookback_hours * 3600
               AND (c.ts_s > w.used_s OR (c.ts_s = w.used_s AND c.txn_idx > w.used_idx))
               AND (c.ts_s < b.ts_s OR (c.ts_s = b.ts_s AND c.txn_idx < b.txn_idx))) AS q
),
counted AS (
    SELECT account_key, count(*) OVER (PARTITION BY account_key ORDER BY ts_s
                                       RANGE BETWEEN CURRENT ROW AND $period_days * 86400 FOLLOWING) AS n
    FROM walk WHERE occurrence
)
SELECT DISTINCT account_key FROM counted WHERE n >= $min_occurrences ORDER BY 1
