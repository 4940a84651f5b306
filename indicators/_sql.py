"""SQL building blocks shared by the text, merchant and profile indicators.

Patterns that recur across the catalogue are written once here so every indicator that uses
them behaves the same way; among them:

* `name_matches` matches a text column against a name list **once per distinct value**, not once
  per posting: trafficking-relevant merchants are few and names repeat millions of times, so one
  more rule costs a scan of the distinct names, not another full text scan of postings.
* `window_episodes` turns a CTE of qualifying `events` into hits: an event anchors a window of
  the preceding `window` seconds; anchors whose window meets a condition mark their window's events
  as evidence; evidence events closer than the window length form one episode, reported as one hit
  (as CSH01 does for cash). Its kernel twin is `followmoney/kernels/episodes.py`, with `listed` and
  `normalised_key` as the kernel lookups that stand for `name_matches` and `lower(trim(...))`.

Rules over dense event sets with a distinct-counterparty condition (fan-in, fan-out, collector,
gather-scatter) are numba kernels in the shared pass (`followmoney/kernels/flows.py`), not SQL.

Everything here stays inside the portable subset of `engines/dialects.py` (no `* EXCLUDE`, no
list functions), so the indicators built on it run on Spark unchanged.

This module defines no indicator; the registry imports it harmlessly.
"""

from __future__ import annotations

from followmoney.kernels.inputs import ValueLookup, distinct_values


def _list_matches(values: str, list_name: str) -> str:
    """SELECT of `raw, tag` for the values of relation `values` (column `raw`) that contain a list value."""
    return f"""SELECT n.raw, min(l.tag) AS tag
        FROM {values} AS n
        JOIN lists AS l ON l.list_name = '{list_name}' AND contains(lower(trim(n.raw)), l.value)
        GROUP BY n.raw"""


def name_matches(column: str, list_name: str, cte: str = "matched") -> str:
    """A CTE `cte(raw, tag)` of the distinct non-null values of `column` that contain a list value.

    Args:
        column: posting column holding the text (e.g. `counterparty_name`, `memo`).
        list_name: name of the list in the `lists` table.
        cte: name of the CTE to define.

    Returns:
        SQL text `cte AS (...)`, to be placed in a `WITH` clause. `tag` is the first matching tag in
        alphabetical order (null when the list carries none).
    """
    return f"""{cte} AS (
        {_list_matches(distinct_values(column), list_name)}
    )"""


def listed(column: str, list_name: str, value: str = "1") -> ValueLookup:
    """A kernel lookup: `value` (SQL over the matching `tag`) for values `name_matches` matches, else 0.

    The kernel twin of `name_matches`: the same match, once per distinct value of `column`.
    """
    return ValueLookup(column, f"SELECT raw, {value} AS value FROM ({_list_matches('{values}', list_name)}) AS m",
                       "int8", 0)


def normalised_key(column: str) -> ValueLookup:
    """A kernel lookup: one int64 per distinct `lower(trim(column))` (from 0), -1 for NULL.

    The kernel twin of `lower(trim(column)) AS k` for the distinct counts of `window_episodes`.
    """
    return ValueLookup(column, "SELECT raw, dense_rank() OVER (ORDER BY lower(trim(raw))) - 1 AS value FROM {values}",
                       "int64", -1)


def window_episodes(condition: str, window: str, value: str = "count(*)", extra: str = "", ref: bool = False) -> str:
    """Hits from a CTE `events(account_key, txn_idx, ts, ts_s, amount, k)` defined before it.

    Args:
        condition: SQL over the per-anchor window aggregates `n` (events), `n_distinct` (distinct
            non-null `k`), `total` (sum of absolute amounts) and, with `ref`, `ref` (the largest
            `ref` of the window's events, e.g. the holder's declared income) that makes an anchor
            qualify.
        window: window length in seconds, as SQL (e.g. `$window_days * 86400`).
        value: aggregate over an episode's events giving the hit's `value`.
        extra: further `, expr AS name` columns of the episode (they become `details`).
        ref: whether `events` has a numeric `ref` column the condition reads.

    Returns:
        SQL text continuing a `WITH` clause (starting with `, win AS`) and ending in the final
        `SELECT` of hits (`account_key`, `window_start`, `window_end`, `value`, `evidence`).
    """
    ref_col = ", max(e.ref) AS ref" if ref else ""
    return f""",
    win AS (
        SELECT a.account_key, a.ts_s AS end_s, count(*) AS n, count(DISTINCT e.k) AS n_distinct,
               sum(abs(e.amount)) AS total{ref_col}
        FROM events AS a
        JOIN events AS e ON e.account_key = a.account_key AND e.ts_s BETWEEN a.ts_s - {window} AND a.ts_s
        GROUP BY a.account_key, a.txn_idx, a.ts_s
    ),
    anchors AS (SELECT DISTINCT account_key, end_s FROM win WHERE {condition}),
    evidence AS (
        SELECT DISTINCT e.account_key, e.txn_idx, e.ts, e.ts_s, e.amount, e.k
        FROM events AS e
        JOIN anchors AS a ON e.account_key = a.account_key AND e.ts_s BETWEEN a.end_s - {window} AND a.end_s
    ),
    numbered AS (
        SELECT *, sum(CASE WHEN prev_s IS NULL OR ts_s - prev_s > {window} THEN 1 ELSE 0 END)
                  OVER (PARTITION BY account_key ORDER BY ts_s, txn_idx ROWS UNBOUNDED PRECEDING) AS episode
        FROM (SELECT *, lag(ts_s) OVER (PARTITION BY account_key ORDER BY ts_s, txn_idx) AS prev_s FROM evidence)
    )
    SELECT account_key, min(ts) AS window_start, max(ts) AS window_end, CAST({value} AS DOUBLE) AS value,
           list(txn_idx ORDER BY ts_s, txn_idx) AS evidence, round(sum(abs(amount)), 2) AS total_amount{extra}
    FROM numbered
    GROUP BY account_key, episode
    """


MAX_WALK_HOPS = 6
"""Longest payment walk `payment_walks` unrolls (the NET04/NET07 parameters stop at 6)."""


def payment_walks(condition: str, levels: int = MAX_WALK_HOPS) -> str:
    """CTEs `walk1` .. `walk{levels}`: time-ordered walks over a CTE `moves(src, dst, ts_s, txn_idx, paid)`.

    `walk{k}` holds walks of k payments with the accounts `n0` (where the money starts) .. `n{k}`,
    the payments `t1` .. `t{k}` (`txn_idx`), `start_s` and `last_s` (epoch seconds of the first and
    the last payment) and `first_paid`. `walk1` is every move of at least `$min_amount`; `walk{k+1}`
    extends a `walk{k}` row `w` by a move `m` out of its last account when `condition` holds.

    The walk is unrolled into one join per level rather than a recursive CTE over arrays: Spark 4.0
    has no recursive CTE, and fixed columns need no list functions, so both engines run it. The
    level limit is part of `condition` (e.g. `{k} < $max_hops`), so deeper levels are empty joins.

    Args:
        condition: SQL over `w` and `m`, formatted per level with `{k}` (the level being extended),
            `{last}` (`w.n{k}`), `{nodes}` (`w.n0, .., w.n{k}`) and `{visited}` (`w.n1, .., w.n{k}`).
        levels: deepest level to build.

    Returns:
        SQL text continuing a `WITH` clause (starting with `, walk1 AS`).
    """
    ctes = [
        "walk1 AS (\n        SELECT src AS n0, dst AS n1, txn_idx AS t1, ts_s AS start_s, ts_s AS last_s, paid AS first_paid\n"
        "        FROM moves WHERE paid >= $min_amount\n    )"
    ]
    for k in range(1, levels):
        nodes = ", ".join(f"w.n{i}" for i in range(k + 1))
        txns = ", ".join(f"w.t{i}" for i in range(1, k + 1))
        cond = condition.format(k=k, last=f"w.n{k}", nodes=nodes, visited=", ".join(f"w.n{i}" for i in range(1, k + 1)))
        ctes.append(
            f"walk{k + 1} AS (\n        SELECT {nodes}, m.dst AS n{k + 1}, {txns}, m.txn_idx AS t{k + 1}, w.start_s,\n"
            f"               m.ts_s AS last_s, w.first_paid\n"
            f"        FROM walk{k} AS w JOIN moves AS m ON m.src = w.n{k}\n"
            f"        WHERE {cond}\n    )"
        )
    return ",\n    " + ",\n    ".join(ctes)


def walk_columns(prefix: str, first: int, last: int, pad_to: int | None = None) -> str:
    """`prefix{first}, .., prefix{last}` (e.g. `n0, n1, n2`), padded with NULLs up to `pad_to`.

    Used to select the nodes or payments of one walk level in a `UNION ALL` over levels, where
    every branch needs the same columns.
    """
    cols = [f"{prefix}{i}" for i in range(first, last + 1)]
    cols += [f"NULL AS {prefix}{i}" for i in range(last + 1, (pad_to or last) + 1)]
    return ", ".join(cols)


def largest_credits_hits(flagged: str, value: str, limit: int = 20) -> str:
    """SQL tail: one hit per account of CTE `flagged`, whose evidence is the account's largest credits.

    For indicators about an account rather than a run of transactions (an identifier on a
    watchlist, unusual joint holders, an identifier shared by strangers): there is no transaction
    that "is" the red flag, so the evidence an investigator opens first is where the most money came
    in. Append after the indicator's own CTEs (it starts with a comma). `flagged` has one row per
    `account_key`; `value` is an aggregate over its columns, aliased `f`. Evidence is ordered by
    time, the hit's window spans it, and `total_amount` sums it.
    """
    return f""",
    top_credits AS (
        SELECT p.account_key, p.txn_idx, p.ts, p.amount,
               row_number() OVER (PARTITION BY p.account_key ORDER BY p.amount DESC, p.txn_idx) AS r
        FROM postings AS p JOIN {flagged} AS f ON f.account_key = p.account_key
        WHERE p.amount > 0
    )
    SELECT t.account_key, min(t.ts) AS window_start, max(t.ts) AS window_end, CAST({value} AS DOUBLE) AS value,
           list(t.txn_idx ORDER BY t.ts, t.txn_idx) AS evidence, round(sum(t.amount), 2) AS total_amount
    FROM top_credits AS t JOIN {flagged} AS f ON f.account_key = t.account_key
    WHERE t.r <= {int(limit)}
    GROUP BY t.account_key
    """
