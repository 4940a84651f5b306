-- NET01 many_to_one_fanin (the SQL rule before it became a kernel, cut to the flagged accounts): small
-- account-to-account credits; a credit anchors when the RANGE window of window_days before it (peers
-- included) holds >= min_senders distinct senders. Every anchor is evidence of some episode and every
-- episode is a hit, so an account is flagged exactly when it has an anchor.
WITH credits AS (
    SELECT account_key, ts_s, counterparty_key
    FROM postings
    WHERE amount > 0 AND amount <= $max_amount AND counterparty_key IS NOT NULL
      AND channel IN ('p2p', 'transfer', 'wire', 'ach')
),
counted AS (
    SELECT account_key, count(DISTINCT counterparty_key) OVER (PARTITION BY account_key ORDER BY ts_s
               RANGE BETWEEN $window_days * 86400 PRECEDING AND CURRENT ROW) AS n_senders
    FROM credits
)
SELECT DISTINCT account_key FROM counted WHERE n_senders >= $min_senders ORDER BY 1
