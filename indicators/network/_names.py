"""SQL building block for the network indicators that compare people's names: the surname.

Spark's portable function list has no string split, so the last word of a name is found by
position: the position after the last space is the one whose preceding character is a space and
whose remainder holds none. A name of one word is its own surname. Names are trimmed and
lower-cased first, so `Kane` and `KANE ` are one surname.

This module defines no indicator; the registry imports it harmlessly.
"""

from __future__ import annotations

MAX_NAME_LENGTH = 120
"""Longest name whose surname is found; a longer name's surname is looked for in its first 120 characters."""

_POSITIONS = ", ".join(f"({i})" for i in range(2, MAX_NAME_LENGTH + 1))


def surnames_cte(cte: str, where: str = "TRUE", home_and_kind: bool = True) -> str:
    """CTEs over `parties` ending in `{cte}(account_id, party_id, relation, home, kind, surname)`.

    Args:
        cte: name of the CTE to define (its helpers get the suffixes `_positions` and `_named`).
        where: SQL condition on the `parties` row (columns unqualified), e.g. `relation = 'holder'`.
        home_and_kind: read `address` and `account_type` into `home` and `kind`; without them both are
            empty strings, so an indicator that does not need them does not require those columns.

    Returns:
        SQL text `{cte}_positions AS (...), ..., {cte} AS (...)`, to be placed in a `WITH` clause.
        `relation`, `home` (the address) and `kind` (the account type, `personal` when empty) are
        trimmed and lower-cased; rows without a name are left out.
    """
    home = "lower(trim(coalesce(address, '')))" if home_and_kind else "''"
    kind = "lower(trim(coalesce(account_type, 'personal')))" if home_and_kind else "''"
    return f"""{cte}_positions AS (SELECT t.k AS k FROM (VALUES {_POSITIONS}) AS t(k)),
    {cte}_named AS (
        SELECT DISTINCT account_id, party_id, lower(trim(relation)) AS relation, lower(trim(name)) AS full_name,
               {home} AS home, {kind} AS kind
        FROM parties WHERE name IS NOT NULL AND trim(name) <> '' AND ({where})
    ),
    {cte} AS (
        SELECT m.account_id, m.party_id, m.relation, m.home, m.kind,
               coalesce(max(CASE WHEN substring(m.full_name, n.k - 1, 1) = ' '
                                  AND NOT contains(substring(m.full_name, n.k), ' ')
                                 THEN substring(m.full_name, n.k) END), m.full_name) AS surname
        FROM {cte}_named AS m LEFT JOIN {cte}_positions AS n ON n.k <= length(m.full_name)
        GROUP BY m.account_id, m.party_id, m.relation, m.home, m.kind, m.full_name
    )"""
