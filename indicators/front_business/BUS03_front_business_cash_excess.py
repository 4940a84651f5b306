"""A cash-intensive venue business taking far more cash than its peers, almost all of its income in cash.

## What it flags
Business accounts whose parties `business_type` is a venue type of the `venue_business_types`
list (massage 7297, beauty and nail salons 7230, spas 7298, bars and nightclubs 5813,
restaurants 5812, escort and dating 7273; the list's tag is the peer type), in a calendar month
where

* cash credits are at least `min_cash_share` of all credits, and
* cash credits exceed the 95th percentile (nearest rank) of the monthly cash credits of the peer
  businesses: the other accounts of the same peer type in the same area (parties `home_city`),
  or of the same type anywhere when the area has fewer than `min_peers` of them.

Only calendar months the data covers completely (not the first and last month of the data) are
judged, and only against at least `min_peers` peer accounts. The evidence is the month's largest
cash credits (up to 20); the value is the month's cash as a multiple of the peer p95.

## Why it matters
FinCEN (2020) and FINTRAC (2021) describe cash-intensive venues (massage parlours, nail salons,
spas, bars, restaurants, escort agencies) used as fronts, whose deposits are larger than the size
of the business suggests and almost all in cash: exploitation revenue is paid in cash and laundered
as takings.

## Typical false positives
A genuinely successful venue in a small peer group; a business type recorded wrongly (a large
restaurant filed as a cafe); seasonal peaks. Few peers make the percentile unstable, hence
`min_peers`. Weak alone.

## Data needed
`channel` marking cash, and the parties columns `business_type` and `home_city` (the area;
a business without one is compared with the other businesses without one). The peers are the business accounts of the data, so
the rule needs a portfolio, not a single account.
"""

import numpy as np

from followmoney.indicator import Indicator
from followmoney.params import Interval, Param


class BUS03(Indicator):
    id = "BUS03"
    name = "front_business_cash_excess"
    title = "Venue business with outsized, almost all-cash takings versus its peers"
    family = "front_business"
    typologies = ("sexual_exploitation", "labour_exploitation", "laundering_of_proceeds")
    sources = ("F20", "FT21")
    requires = ("ts", "amount", "channel")
    requires_parties = ("business_type", "home_city")
    requires_lists = ("venue_business_types",)
    params = (
        Param("min_cash_share", 0.8, Interval(float, 0, 1, closed="right"),
              "Cash share of the month's credits that flags"),
        Param("min_peers", 5, Interval(int, 1, None), "Peer accounts needed for a percentile (area first, then type)"),
    )
    # The reference's role hypothesis names the front-business owner; the account is the business.
    role_hint = "front_business"
    score_doc = "0.3 just above the peer p95, +0.1 per further multiple of it, capped at 0.45."
    reason = "monthly cash of {value:.1f}x the peer 95th percentile, at least {min_cash_share:.0%} of credits in cash"
    sql = """
    WITH venue_types AS (
        -- Business types are matched once per distinct value, then joined back to the parties.
        SELECT n.raw, l.tag
        FROM (SELECT DISTINCT business_type AS raw FROM parties WHERE business_type IS NOT NULL) AS n
        JOIN lists AS l ON l.list_name = 'venue_business_types' AND l.value = lower(trim(n.raw))
    ),
    venue AS (
        SELECT c.account_key, min(v.tag) AS vtype, coalesce(min(lower(trim(k.home_city))), '') AS area
        FROM parties AS k JOIN accounts AS c ON c.account_id = k.account_id
        JOIN venue_types AS v ON v.raw = k.business_type
        GROUP BY c.account_key
    ),
    bounds AS (SELECT date_trunc('month', min(ts)) AS first_m, date_trunc('month', max(ts)) AS last_m FROM postings),
    monthly AS (
        SELECT p.account_key, date_trunc('month', p.ts) AS month,
               sum(CASE WHEN p.channel = 'cash' THEN p.amount ELSE 0 END) AS cash, sum(p.amount) AS credits
        FROM postings AS p JOIN venue AS v ON v.account_key = p.account_key CROSS JOIN bounds AS b
        WHERE p.amount > 0 AND date_trunc('month', p.ts) > b.first_m AND date_trunc('month', p.ts) < b.last_m
        GROUP BY p.account_key, date_trunc('month', p.ts)
    ),
    area_peers AS (
        SELECT v.account_key, count(o.account_key) AS n
        FROM venue AS v JOIN venue AS o ON o.vtype = v.vtype AND o.area = v.area AND o.account_key <> v.account_key
        GROUP BY v.account_key
    ),
    grouped AS (
        -- A venue's peers are the other venues of its group: its type in its area when the area has
        -- `min_peers` others, else its type everywhere.
        SELECT v.account_key, v.vtype, coalesce(ap.n, 0) >= $min_peers AS by_area,
               CASE WHEN coalesce(ap.n, 0) >= $min_peers THEN v.area ELSE '' END AS garea
        FROM venue AS v LEFT JOIN area_peers AS ap ON ap.account_key = v.account_key
    ),
    members AS (
        SELECT g.vtype, g.by_area, g.garea, o.account_key
        FROM (SELECT DISTINCT vtype, by_area, garea FROM grouped) AS g
        JOIN venue AS o ON o.vtype = g.vtype AND (o.area = g.garea OR NOT g.by_area)
    ),
    group_months AS (
        -- Each group's months are ranked once, not once per venue over its peers' months.
        SELECT b.vtype, b.by_area, b.garea, m.account_key, m.cash,
               row_number() OVER (PARTITION BY b.vtype, b.by_area, b.garea ORDER BY m.cash, m.account_key, m.month) AS rk,
               count(*) OVER (PARTITION BY b.vtype, b.by_area, b.garea) AS months
        FROM members AS b JOIN monthly AS m ON m.account_key = b.account_key
    ),
    judged AS (
        -- Venues with `min_peers` peers; k is the nearest rank of the p95 among their peers' months.
        SELECT g.account_key, g.vtype, g.by_area, g.garea, coalesce(c.n, 0) AS own,
               ceil(0.95 * (t.months - coalesce(c.n, 0))) AS k
        FROM grouped AS g
        JOIN (SELECT vtype, by_area, garea, count(*) AS size FROM members GROUP BY vtype, by_area, garea) AS s
          ON s.vtype = g.vtype AND s.by_area = g.by_area AND s.garea = g.garea
        JOIN (SELECT DISTINCT vtype, by_area, garea, months FROM group_months) AS t
          ON t.vtype = g.vtype AND t.by_area = g.by_area AND t.garea = g.garea
        LEFT JOIN (SELECT account_key, count(*) AS n FROM monthly GROUP BY account_key) AS c
          ON c.account_key = g.account_key
        WHERE s.size - 1 >= $min_peers
    ),
    p95 AS (
        -- Without the venue's own months a group month's rank drops by the own months ranked before
        -- it, so the peers' k-th month is among the group's ranks k .. k + own.
        SELECT account_key, min(cash) AS p95
        FROM (SELECT j.account_key, j.k, x.rk, x.cash, count(o.rk) AS own_before
              FROM judged AS j
              JOIN group_months AS x ON x.vtype = j.vtype AND x.by_area = j.by_area AND x.garea = j.garea
               AND x.account_key <> j.account_key AND x.rk BETWEEN j.k AND j.k + j.own
              LEFT JOIN group_months AS o ON o.vtype = j.vtype AND o.by_area = j.by_area AND o.garea = j.garea
               AND o.account_key = j.account_key AND o.rk < x.rk
              GROUP BY j.account_key, j.k, x.rk, x.cash)
        WHERE rk - own_before >= k
        GROUP BY account_key
    ),
    flagged AS (
        SELECT m.account_key, m.month, m.cash / q.p95 AS ratio
        FROM monthly AS m JOIN p95 AS q ON q.account_key = m.account_key
        WHERE q.p95 > 0 AND m.cash > q.p95 AND m.cash >= $min_cash_share * m.credits
    ),
    ranked AS (
        SELECT p.account_key, p.txn_idx, p.ts, p.ts_s, f.month, f.ratio,
               row_number() OVER (PARTITION BY p.account_key, f.month ORDER BY p.amount DESC, p.txn_idx) AS r
        FROM postings AS p JOIN flagged AS f
          ON f.account_key = p.account_key AND date_trunc('month', p.ts) = f.month
        WHERE p.amount > 0 AND p.channel = 'cash'
    )
    SELECT account_key, min(ts) AS window_start, max(ts) AS window_end, CAST(any_value(ratio) AS DOUBLE) AS value,
           list(txn_idx ORDER BY ts_s, txn_idx) AS evidence
    FROM ranked WHERE r <= 20
    GROUP BY account_key, month
    """

    @classmethod
    def severity(cls, value: np.ndarray, params: dict) -> np.ndarray:
        """0.3 just above the peer p95, +0.1 per further multiple of it, capped at 0.45."""
        return np.clip(0.3 + 0.1 * (value - 1.0), 0.3, 0.45)
