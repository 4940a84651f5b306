-- CSH03 white_label_atm_use: >= min_count white-label ATM withdrawals in a RANGE window, >= min_share of ATM ones.
WITH c AS (
    SELECT account_key, ts_s, CAST(coalesce(atm_owner_type = 'white_label', false) AS INTEGER) AS f
    FROM postings WHERE channel = 'atm' AND amount < 0
),
w AS (
    SELECT account_key, sum(f) OVER win AS nf, count(*) OVER win AS nc
    FROM c
    WINDOW win AS (PARTITION BY account_key ORDER BY ts_s RANGE BETWEEN $window_days * 86400 PRECEDING AND CURRENT ROW)
)
SELECT DISTINCT account_key FROM w WHERE nf >= $min_count AND nf >= $min_share * nc ORDER BY 1
