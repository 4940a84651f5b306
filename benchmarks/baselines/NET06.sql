-- NET06 gather_scatter (the SQL rule before it became a kernel, cut to the flagged accounts): moves are
-- account-to-account postings with another account; a move anchors when the RANGE window of window_days
-- before it (peers included) holds >= min_senders distinct senders, >= min_recipients distinct recipients
-- and pays out >= min_ratio of a positive inflow. Every anchor is evidence of an episode and every episode
-- is a hit, so an account is flagged exactly when it has an anchor.
WITH moves AS (
    SELECT account_key, ts_s, amount, counterparty_key
    FROM postings
    WHERE counterparty_key IS NOT NULL AND counterparty_key <> account_key
      AND channel IN ('p2p', 'transfer', 'wire', 'crypto')
),
windows AS (
    SELECT account_key,
           count(DISTINCT CASE WHEN amount > 0 THEN counterparty_key END) OVER win AS n_senders,
           count(DISTINCT CASE WHEN amount < 0 THEN counterparty_key END) OVER win AS n_recipients,
           sum(CASE WHEN amount > 0 THEN amount ELSE 0 END) OVER win AS inflow,
           sum(CASE WHEN amount < 0 THEN -amount ELSE 0 END) OVER win AS outflow
    FROM moves
    WINDOW win AS (PARTITION BY account_key ORDER BY ts_s
                   RANGE BETWEEN $window_days * 86400 PRECEDING AND CURRENT ROW)
)
SELECT DISTINCT account_key FROM windows
WHERE n_senders >= $min_senders AND n_recipients >= $min_recipients AND inflow > 0
  AND outflow >= $min_ratio * inflow
ORDER BY 1
