-- CSH06 cash_deposits_multi_location: a RANGE window of cash/ATM credits with enough deposits, distinct
-- branches, distinct cities and total.
WITH d AS (
    SELECT account_key, ts_s, amount, branch_id, city FROM postings WHERE channel IN ('cash', 'atm') AND amount > 0
),
w AS (
    SELECT account_key, count(*) OVER win AS n, count(DISTINCT branch_id) OVER win AS n_branches,
           count(DISTINCT city) OVER win AS n_cities, sum(amount) OVER win AS total
    FROM d
    WINDOW win AS (PARTITION BY account_key ORDER BY ts_s RANGE BETWEEN $window_hours * 3600 PRECEDING AND CURRENT ROW)
)
SELECT DISTINCT account_key FROM w
WHERE n >= $min_deposits AND n_branches >= $min_branches AND n_cities >= $min_cities AND total >= $min_total - 1e-6
ORDER BY 1
