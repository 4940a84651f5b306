-- RUN10 living_costs_for_others: the rule's former SQL (before it became a kernel), unchanged: calendar-day
-- RANGE windows over local_day of upkeep spend against the own baseline and the declared income. One row
-- per hit: bench_catalogue.py takes its distinct accounts, tests/test_indicator_kernels_running.py the rows.
WITH income AS (
    SELECT c.account_key, max(k.declared_income) AS declared_income
    FROM parties AS k JOIN accounts AS c ON c.account_id = k.account_id
    GROUP BY c.account_key
    HAVING max(k.declared_income) > 0
),
history AS (SELECT account_key, min(local_day) AS first_day FROM postings GROUP BY account_key),
upkeep AS (
    SELECT p.account_key, p.txn_idx, p.ts, p.ts_s, p.local_day, -p.amount AS spend
    FROM postings AS p JOIN income AS i ON i.account_key = p.account_key
    JOIN accounts AS c ON c.account_key = p.account_key
    WHERE c.is_customer AND p.amount < 0 AND p.merchant_group IN ('lodging', 'airline', 'rail', 'bus', 'travel_agency', 'rideshare', 'car_rental', 'pharmacy', 'clothing', 'cosmetics', 'grocery', 'fast_food')
),
daily AS (SELECT account_key, local_day, sum(spend) AS spend FROM upkeep GROUP BY account_key, local_day),
sliding AS (
    SELECT d.account_key, d.local_day, h.first_day, i.declared_income,
           sum(d.spend) OVER (PARTITION BY d.account_key ORDER BY d.local_day
                              RANGE BETWEEN $window_days - 1 PRECEDING AND CURRENT ROW) AS recent,
           coalesce(sum(d.spend) OVER (PARTITION BY d.account_key ORDER BY d.local_day
                                       RANGE BETWEEN $window_days + $baseline_days - 1 PRECEDING
                                             AND $window_days PRECEDING), 0) AS prior
    FROM daily AS d JOIN history AS h ON h.account_key = d.account_key
    JOIN income AS i ON i.account_key = d.account_key
),
anchors AS (
    -- covered: days of baseline before the window that the account's history spans.
    SELECT account_key, local_day, recent / (declared_income * $window_days / 365.0) AS ratio
    FROM (SELECT *, least($baseline_days, local_day - $window_days + 1 - first_day) AS covered FROM sliding)
    WHERE 2 * covered >= $baseline_days
      AND recent >= $multiple * prior * $window_days / greatest(covered, 1)
      AND recent >= $income_share * declared_income * $window_days / 365.0
),
evidence AS (
    SELECT u.account_key, u.txn_idx, min(u.ts) AS ts, min(u.ts_s) AS ts_s, min(u.spend) AS spend,
           max(a.ratio) AS ratio
    FROM upkeep AS u JOIN anchors AS a
      ON a.account_key = u.account_key AND u.local_day BETWEEN a.local_day - $window_days + 1 AND a.local_day
    GROUP BY u.account_key, u.txn_idx
),
numbered AS (
    SELECT *, sum(CASE WHEN prev_s IS NULL OR ts_s - prev_s > $window_days * 86400 THEN 1 ELSE 0 END)
              OVER (PARTITION BY account_key ORDER BY ts_s, txn_idx ROWS UNBOUNDED PRECEDING) AS episode
    FROM (SELECT *, lag(ts_s) OVER (PARTITION BY account_key ORDER BY ts_s, txn_idx) AS prev_s FROM evidence)
)
SELECT account_key, min(ts) AS window_start, max(ts) AS window_end, CAST(max(ratio) AS DOUBLE) AS value,
       list(txn_idx ORDER BY ts_s, txn_idx) AS evidence, round(sum(spend), 2) AS upkeep_spend
FROM numbered
GROUP BY account_key, episode
