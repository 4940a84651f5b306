-- CSH04 cash_only_no_ach: >= min_cash_credits cash credits and no ACH credit in a RANGE window, after enough history.
WITH c AS (
    SELECT account_key, ts_s, CAST(channel = 'cash' AS INTEGER) AS f
    FROM postings WHERE amount > 0 AND channel IN ('cash', 'ach')
),
w AS (
    SELECT account_key, ts_s, sum(f) OVER win AS nf, count(*) OVER win AS nc
    FROM c
    WINDOW win AS (PARTITION BY account_key ORDER BY ts_s RANGE BETWEEN $window_days * 86400 PRECEDING AND CURRENT ROW)
)
SELECT DISTINCT w.account_key
FROM w JOIN (SELECT account_key, min(ts_s) AS t0 FROM postings GROUP BY 1) AS first USING (account_key)
WHERE nf >= $min_cash_credits AND nf >= nc AND w.ts_s - first.t0 >= $min_history_days * 86400
ORDER BY 1
