-- NET02 one_to_many_fanout (the SQL rule before it became a kernel, cut to the flagged accounts):
-- account-to-account debits (p2p, transfer, wire); a debit anchors when the RANGE window of window_days
-- before it (peers included) holds >= min_recipients distinct recipients; a debit is evidence when an
-- anchor follows it within the window (the nearest later anchor, one window pass); evidence closer than
-- the window forms an episode, and an episode is a hit when it pays out >= min_total.
WITH debits AS (
    SELECT account_key, txn_idx, ts_s, -amount AS paid, counterparty_key
    FROM postings
    WHERE amount < 0 AND counterparty_key IS NOT NULL AND channel IN ('p2p', 'transfer', 'wire')
),
counted AS (
    SELECT *, count(DISTINCT counterparty_key) OVER (PARTITION BY account_key ORDER BY ts_s
                  RANGE BETWEEN $window_days * 86400 PRECEDING AND CURRENT ROW) AS n_recipients
    FROM debits
),
evidence AS (
    SELECT *
    FROM (SELECT *, min(CASE WHEN n_recipients >= $min_recipients THEN ts_s END) OVER (PARTITION BY account_key
                        ORDER BY ts_s RANGE BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING) AS next_anchor_s
          FROM counted)
    WHERE next_anchor_s - ts_s <= $window_days * 86400
),
numbered AS (
    SELECT *, sum(CASE WHEN prev_s IS NULL OR ts_s - prev_s > $window_days * 86400 THEN 1 ELSE 0 END)
              OVER (PARTITION BY account_key ORDER BY ts_s, txn_idx ROWS UNBOUNDED PRECEDING) AS episode
    FROM (SELECT *, lag(ts_s) OVER (PARTITION BY account_key ORDER BY ts_s, txn_idx) AS prev_s FROM evidence)
)
SELECT DISTINCT account_key
FROM (SELECT account_key FROM numbered GROUP BY account_key, episode HAVING sum(paid) >= $min_total)
ORDER BY 1
