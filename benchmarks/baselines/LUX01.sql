-- LUX01 lavish_spend_vs_income: the rule's former SQL (before it became a kernel over the shared pass), unchanged:
-- its events scanned from postings, then indicators/_sql.py window_episodes. One row per hit:
-- bench_catalogue.py takes its distinct accounts, tests/test_indicator_kernels_episodes.py the rows.
WITH matched AS (
        SELECT n.raw, min(l.tag) AS tag
        FROM (SELECT DISTINCT counterparty_name AS raw FROM postings WHERE counterparty_name IS NOT NULL) AS n
        JOIN lists AS l ON l.list_name = 'luxury_merchants' AND contains(lower(trim(n.raw)), l.value)
        GROUP BY n.raw
    ),
    income AS (
        SELECT c.account_key, max(k.declared_income) AS declared_income
        FROM parties AS k JOIN accounts AS c ON c.account_id = k.account_id
        GROUP BY c.account_key
    ),
    luxury_groups AS (
        SELECT merchant_group
        FROM (VALUES ('jewellery'), ('car_dealer'), ('nightlife'), ('medical_cosmetic')) AS t(merchant_group)
    ),
    luxury AS (
        -- Two disjoint scans DuckDB pushes into postings (by MCC group, then by matched name), not one OR;
        -- the groups are a semi join, which is pushed into the scan, where an IN list is not.
        SELECT account_key, txn_idx, ts, ts_s, amount, merchant_group AS k FROM postings
        WHERE amount < 0 AND merchant_group IN (SELECT merchant_group FROM luxury_groups)
        UNION ALL
        SELECT account_key, txn_idx, ts, ts_s, amount, 'luxury_brand' AS k FROM postings
        WHERE amount < 0 AND counterparty_name IN (SELECT raw FROM matched)
          AND merchant_group IS DISTINCT FROM 'jewellery' AND merchant_group IS DISTINCT FROM 'car_dealer'
          AND merchant_group IS DISTINCT FROM 'nightlife'
          AND merchant_group IS DISTINCT FROM 'medical_cosmetic'
    ),
    events AS (
        SELECT p.account_key, p.txn_idx, p.ts, p.ts_s, p.amount, p.k,
               -- The spend that flags in one window; null (never reached) without a declared income.
               CASE WHEN i.declared_income > 0 THEN $income_share * i.declared_income * $window_days / 365.0 END AS ref
        FROM luxury AS p JOIN accounts AS c ON c.account_key = p.account_key
        LEFT JOIN income AS i ON i.account_key = p.account_key
        WHERE c.is_customer
    ),
    win AS (
        SELECT a.account_key, a.ts_s AS end_s, count(*) AS n, count(DISTINCT e.k) AS n_distinct,
               sum(abs(e.amount)) AS total, max(e.ref) AS ref
        FROM events AS a
        JOIN events AS e ON e.account_key = a.account_key AND e.ts_s BETWEEN a.ts_s - $window_days * 86400 AND a.ts_s
        GROUP BY a.account_key, a.txn_idx, a.ts_s
    ),
    anchors AS (SELECT DISTINCT account_key, end_s FROM win WHERE total >= ref OR n_distinct >= $min_categories),
    evidence AS (
        SELECT DISTINCT e.account_key, e.txn_idx, e.ts, e.ts_s, e.amount, e.k
        FROM events AS e
        JOIN anchors AS a ON e.account_key = a.account_key AND e.ts_s BETWEEN a.end_s - $window_days * 86400 AND a.end_s
    ),
    numbered AS (
        SELECT *, sum(CASE WHEN prev_s IS NULL OR ts_s - prev_s > $window_days * 86400 THEN 1 ELSE 0 END)
                  OVER (PARTITION BY account_key ORDER BY ts_s, txn_idx ROWS UNBOUNDED PRECEDING) AS episode
        FROM (SELECT *, lag(ts_s) OVER (PARTITION BY account_key ORDER BY ts_s, txn_idx) AS prev_s FROM evidence)
    )
    SELECT account_key, min(ts) AS window_start, max(ts) AS window_end, CAST(sum(-amount) AS DOUBLE) AS value,
           list(txn_idx ORDER BY ts_s, txn_idx) AS evidence, round(sum(abs(amount)), 2) AS total_amount, CAST(count(DISTINCT k) AS INTEGER) AS n_categories
    FROM numbered
    GROUP BY account_key, episode
