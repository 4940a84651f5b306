-- NET03 collector_forwarder (the SQL rule before it became a kernel, cut to the flagged accounts):
-- account-to-account credits (p2p, transfer, wire, ach) form episodes as in NET01 (anchor: >= min_senders
-- distinct senders in the RANGE window of window_days; evidence: an anchor within the window after it;
-- episodes split at gaps longer than the window). An episode is a hit when the account-to-account debits
-- from its first credit to forward_hours after its last pay its max_recipients largest recipients (by
-- cent-rounded total, ties by counterparty key) >= min_ratio of the cent-rounded inflow.
WITH credits AS (
    SELECT account_key, txn_idx, ts_s, amount, counterparty_key
    FROM postings
    WHERE amount > 0 AND counterparty_key IS NOT NULL AND channel IN ('p2p', 'transfer', 'wire', 'ach')
),
counted AS (
    SELECT *, count(DISTINCT counterparty_key) OVER (PARTITION BY account_key ORDER BY ts_s
                  RANGE BETWEEN $window_days * 86400 PRECEDING AND CURRENT ROW) AS n_senders
    FROM credits
),
evidence AS (
    SELECT *
    FROM (SELECT *, min(CASE WHEN n_senders >= $min_senders THEN ts_s END) OVER (PARTITION BY account_key
                        ORDER BY ts_s RANGE BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING) AS next_anchor_s
          FROM counted)
    WHERE next_anchor_s - ts_s <= $window_days * 86400
),
numbered AS (
    SELECT *, sum(CASE WHEN prev_s IS NULL OR ts_s - prev_s > $window_days * 86400 THEN 1 ELSE 0 END)
              OVER (PARTITION BY account_key ORDER BY ts_s, txn_idx ROWS UNBOUNDED PRECEDING) AS episode
    FROM (SELECT *, lag(ts_s) OVER (PARTITION BY account_key ORDER BY ts_s, txn_idx) AS prev_s FROM evidence)
),
episodes AS (
    SELECT account_key, episode, min(ts_s) AS s0, max(ts_s) AS s1, round(sum(amount), 2) AS inflow
    FROM numbered GROUP BY account_key, episode
),
forward_rows AS (
    SELECT e.account_key, e.episode, p.counterparty_key, -p.amount AS paid
    FROM episodes AS e
    JOIN postings AS p
      ON p.account_key = e.account_key AND p.amount < 0 AND p.counterparty_key IS NOT NULL
     AND p.channel IN ('p2p', 'transfer', 'wire', 'ach')
     AND p.ts_s BETWEEN e.s0 AND e.s1 + $forward_hours * 3600
),
forwards AS (
    SELECT account_key, episode, round(sum(paid), 2) AS paid,
           row_number() OVER (PARTITION BY account_key, episode
                              ORDER BY round(sum(paid), 2) DESC, counterparty_key) AS r
    FROM forward_rows
    GROUP BY account_key, episode, counterparty_key
),
top AS (
    SELECT account_key, episode, round(sum(paid), 2) AS forwarded
    FROM forwards WHERE r <= $max_recipients
    GROUP BY account_key, episode
)
SELECT DISTINCT e.account_key
FROM episodes AS e JOIN top AS t ON t.account_key = e.account_key AND t.episode = e.episode
WHERE t.forwarded >= $min_ratio * e.inflow
ORDER BY 1
