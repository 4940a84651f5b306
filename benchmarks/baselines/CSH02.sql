-- CSH02 night_cash_activity: >= min_count night cash/ATM events in a RANGE window, >= min_share of them.
WITH c AS (
    SELECT account_key, ts_s,
           CAST(local_hour >= $night_start_hour OR local_hour < $night_end_hour AS INTEGER) AS f
    FROM postings WHERE channel IN ('cash', 'atm')
),
w AS (
    SELECT account_key, sum(f) OVER win AS nf, count(*) OVER win AS nc
    FROM c
    WINDOW win AS (PARTITION BY account_key ORDER BY ts_s RANGE BETWEEN $window_days * 86400 PRECEDING AND CURRENT ROW)
)
SELECT DISTINCT account_key FROM w WHERE nf >= $min_count AND nf >= $min_share * nc ORDER BY 1
