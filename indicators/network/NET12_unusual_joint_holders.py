"""A personal account with several joint holders or authorised users who are not family of the holder.

## What it flags
Personal accounts (parties `account_type` `personal`, or empty on the holder's row) on which at least `min_parties`
distinct parties are joint holders or authorised users (`relation` `joint` or `authorised`) whose
surname (the last word of `name`) differs from the holder's **and** whose address differs from the
holder's. The value is the number of such parties; the evidence is the account's largest credits
(up to 20), the money those people can reach.

The reference asks for such users "added within 90 days". The parties contract has no date on
which a party joined the account (`opened_at` is the account's opening date), so the window is not
applied: every current non-family joint holder or authorised user counts. Where a bank's export
gives the date a party was added, the window can be added on that column.

## Why it matters
FINTRAC (2016, 2021) lists unusually many joint holders or authorised card users, and joint
accounts with victims, among the trafficking indicators: a trafficker puts victims or nominees
on an account (or himself on theirs) to move their earnings and pay their costs without
appearing as the holder.

## Typical false positives
Carers and attorneys of elderly customers, step-families and partners with different surnames
who live apart, house-shares with a common account. Check how the users are related to the holder.

## Data needed
A parties table with `relation`, `name`, `address` and `account_type` (skipped without them). Surnames are
compared lower-cased; a party without a name does not count.
"""

import numpy as np

from followmoney.indicator import Indicator
from followmoney.indicators._sql import largest_credits_hits
from followmoney.indicators.network._names import surnames_cte
from followmoney.params import Interval, Param

_CANDIDATES = """account_id IN (
        SELECT account_id FROM parties WHERE lower(trim(relation)) IN ('joint', 'authorised')
        GROUP BY account_id HAVING count(DISTINCT party_id) >= $min_parties)"""
"""Only accounts with enough joint holders or authorised users have their names parsed: most have none."""


class NET12(Indicator):
    id = "NET12"
    name = "unusual_joint_holders"
    title = "Several non-family joint holders or authorised users"
    family = "network"
    typologies = ("sexual_exploitation", "labour_exploitation", "laundering_of_proceeds")
    sources = ("FT16", "FT21")
    requires = ("ts", "amount")
    requires_parties = ("relation", "name", "address", "account_type")
    params = (
        Param("min_parties", 3, Interval(int, 1, None), "Non-family joint holders or authorised users needed"),
    )
    role_hint = "controller"
    decisive = False
    score_doc = "0.3 at `min_parties` parties, +0.05 per extra one, capped at 0.45: never alerts on its own."
    reason = "{value:.0f} joint holders or authorised users with another surname and address (needs {min_parties})"
    # Surnames come from `_names.surnames_cte`: the last word of the name, found without split functions.
    sql = """
    WITH """ + surnames_cte("surnames", _CANDIDATES) + """,
    unusual AS (
        SELECT c.account_key, count(DISTINCT o.party_id) AS n_parties
        FROM surnames AS h
        JOIN surnames AS o ON o.account_id = h.account_id AND o.party_id <> h.party_id
        JOIN accounts AS c ON c.account_id = h.account_id
        WHERE h.relation = 'holder' AND h.kind = 'personal' AND o.relation IN ('joint', 'authorised')
          AND o.surname <> h.surname AND o.home <> h.home
        GROUP BY c.account_key
        HAVING count(DISTINCT o.party_id) >= $min_parties
    )""" + largest_credits_hits("unusual", "max(f.n_parties)")

    @classmethod
    def severity(cls, value: np.ndarray, params: dict) -> np.ndarray:
        """0.3 at `min_parties`, +0.05 per extra party, capped at 0.45."""
        return np.clip(0.3 + 0.05 * (value - params["min_parties"]), 0.0, 0.45)
