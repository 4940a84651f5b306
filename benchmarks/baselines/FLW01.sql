-- FLW01 rapid_pass_through: a credit >= min_inflow is an event when the debits after it (in posting order)
-- within window_hours reach min_ratio of it: the running debit total at the last posting of the window
-- minus the one at the credit. >= min_events events starting within period_days.
WITH p AS (
    SELECT account_key, ts_s, amount,
           sum(CASE WHEN amount < 0 THEN -amount ELSE 0 END)
               OVER (PARTITION BY account_key ORDER BY ts_s, txn_idx ROWS UNBOUNDED PRECEDING) AS debits
    FROM postings
),
e AS (
    SELECT account_key, ts_s, amount, debits,
           max(debits) OVER (PARTITION BY account_key ORDER BY ts_s
                             RANGE BETWEEN CURRENT ROW AND $window_hours * 3600 FOLLOWING) AS reached
    FROM p
),
events AS (SELECT account_key, ts_s FROM e WHERE amount >= $min_inflow AND reached - debits >= $min_ratio * amount),
counted AS (
    SELECT account_key, count(*) OVER (PARTITION BY account_key ORDER BY ts_s
                                       RANGE BETWEEN CURRENT ROW AND $period_days * 86400 FOLLOWING) AS n
    FROM events
)
SELECT DISTINCT account_key FROM counted WHERE n >= $min_events ORDER BY 1
