-- PAY05 payment_processor_inflows: the rule's former SQL (before it became a kernel over the shared pass), unchanged:
-- its events scanned from postings, then indicators/_sql.py window_episodes. One row per hit:
-- bench_catalogue.py takes its distinct accounts, tests/test_indicator_kernels_episodes.py the rows.
WITH matched AS (
        SELECT n.raw, min(l.tag) AS tag
        FROM (SELECT DISTINCT counterparty_name AS raw FROM postings WHERE counterparty_name IS NOT NULL) AS n
        JOIN lists AS l ON l.list_name = 'payment_processors' AND contains(lower(trim(n.raw)), l.value)
        GROUP BY n.raw
    ),
    personal AS (
        SELECT c.account_key
        FROM parties AS k JOIN accounts AS c ON c.account_id = k.account_id
        GROUP BY c.account_key
        HAVING bool_and(lower(k.account_type) = 'personal')
    ),
    events AS (
        -- k counts adult-tagged credits (null for the others, which count(DISTINCT k) skips).
        SELECT p.account_key, p.txn_idx, p.ts, p.ts_s, p.amount,
               CASE WHEN m.tag = 'adult' THEN p.txn_idx END AS k
        FROM postings AS p JOIN matched AS m ON m.raw = p.counterparty_name
        JOIN personal AS pe ON pe.account_key = p.account_key
        WHERE p.amount > 0
    ),
    win AS (
        SELECT a.account_key, a.ts_s AS end_s, count(*) AS n, count(DISTINCT e.k) AS n_distinct,
               sum(abs(e.amount)) AS total
        FROM events AS a
        JOIN events AS e ON e.account_key = a.account_key AND e.ts_s BETWEEN a.ts_s - $window_days * 86400 AND a.ts_s
        GROUP BY a.account_key, a.txn_idx, a.ts_s
    ),
    anchors AS (SELECT DISTINCT account_key, end_s FROM win WHERE n_distinct >= $min_adult OR n >= $min_any),
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
    SELECT account_key, min(ts) AS window_start, max(ts) AS window_end, CAST(count(*) AS DOUBLE) AS value,
           list(txn_idx ORDER BY ts_s, txn_idx) AS evidence, round(sum(abs(amount)), 2) AS total_amount, CAST(count(k) AS INTEGER) AS adult_credits
    FROM numbered
    GROUP BY account_key, episode
