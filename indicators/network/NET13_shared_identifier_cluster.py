"""Unrelated customers sharing a phone, e-mail, device or address.

## What it flags
Accounts holding a usable identifier key (the normalised keys of stage `link`, after its
exclusions: the shipped lists of shared identifiers, the profile's `link.exclude_identifiers`,
multi-unit buildings and the cap on popular identifiers) that is shared by customers of at least
`min_surnames` different surnames for a phone, e-mail or device, or at least `min_address_surnames`
different surnames for an address. A customer is the account's `party_id` (the account itself
without a parties table); a surname is the last word of a holder's name, and a customer without a
name counts as a surname of its own. The value is the largest number of different surnames on one
of the account's shared keys; the evidence is the account's largest credits (up to 20), as an
identifier has no transaction of its own.

The reference asks for connected components of the identifier graph; a key shared by enough
unrelated customers is the component's core and needs no recursion (which Spark SQL lacks).
Components across keys are what stage `link` builds for the accounts that alert.

## Why it matters
FinCEN (2020) and FINTRAC (2016) name contact details shared between unrelated customers, and an
address reused by many remitters, among the trafficking indicators: a controller registers his
victims' accounts with his own phone or e-mail, operates them from his own phone, or houses them
at one address.

## Typical false positives
Families sharing a landline (same surname: not counted), house-shares, staff housing, carers
operating clients' online banking. Shelters, campuses, hotels, hotlines and role mailboxes are
on the shipped exclusion lists; add local ones through `link.exclude_identifiers`.

## Data needed
A parties table with `name` (skipped without one: "unrelated" is judged by surname) and the
`identifiers` table derived from it and from the `device_id` of transactions.
"""

import numpy as np

from followmoney.indicator import Indicator
from followmoney.indicators._sql import largest_credits_hits
from followmoney.indicators.network._names import surnames_cte
from followmoney.params import Interval, Param


class NET13(Indicator):
    id = "NET13"
    name = "shared_identifier_cluster"
    title = "Identifier shared by unrelated customers"
    family = "network"
    typologies = ("sexual_exploitation", "labour_exploitation", "laundering_of_proceeds")
    sources = ("F20", "FT16", "F14(sec)")
    requires = ("ts", "amount")
    requires_parties = ("name",)
    params = (
        Param("min_surnames", 3, Interval(int, 2, None),
              "Different surnames sharing a phone, e-mail or device"),
        Param("min_address_surnames", 5, Interval(int, 2, None), "Different surnames sharing an address"),
    )
    role_hint = None
    decisive = False
    score_doc = ("0.35 at the minimum number of surnames, +0.03 per extra one, capped at 0.45: never alerts on "
                 "its own.")
    reason = ("identifier shared by customers of {value:.0f} different surnames (needs {min_surnames}, "
              "{min_address_surnames} for an address)")
    # Reads the keys and exclusions stage `link` uses (`followmoney.network.identifiers.prepare_identifiers`
    # builds them before detect), so both agree on what may link; the anti-join is the portable form
    # of `usable_keys_sql`. IP addresses are left out: carrier NAT shares them between strangers.
    sql = """
    WITH usable AS (
        SELECT k.account_id, k.kind, k.key AS key
        FROM identifier_keys AS k
        LEFT JOIN identifier_exclusions AS x ON x.kind = k.kind AND x.key = k.key
        WHERE x.key IS NULL
          AND k.kind IN (SELECT kind FROM (VALUES ('phone'), ('email'), ('device'), ('address')) AS t(kind))
    ),
    linked AS (
        SELECT u.account_id, u.kind, u.key, coalesce(c.party_id, c.account_id) AS customer
        FROM usable AS u
        JOIN accounts AS c ON c.account_id = u.account_id
        WHERE c.is_customer
    ),
    -- Most keys belong to one customer: they are dropped before the surnames are joined. Two distinct
    -- customers is min < max, which needs no distinct hash table per key.
    multi AS (SELECT kind, key FROM linked GROUP BY kind, key HAVING min(customer) < max(customer)),
    multi_accounts AS (
        SELECT DISTINCT l.account_id FROM linked AS l JOIN multi AS m ON m.kind = l.kind AND m.key = l.key
    ),
    -- Surnames only of the holders of shared keys, not of every customer.
    """ + surnames_cte("holder_names", "relation = 'holder' AND account_id IN (SELECT account_id FROM multi_accounts)",
                       home_and_kind=False) + """,
    holders AS (
        SELECT l.account_id, l.kind, l.key, l.customer, coalesce(h.surname, 'customer:' || l.customer) AS surname
        FROM linked AS l
        JOIN multi AS m ON m.kind = l.kind AND m.key = l.key
        LEFT JOIN holder_names AS h ON h.account_id = l.account_id
    ),
    shared AS (
        SELECT kind, key, count(DISTINCT surname) AS n_surnames
        FROM holders GROUP BY kind, key
        HAVING count(DISTINCT customer) >= 2
           AND count(DISTINCT surname) >= CASE WHEN kind = 'address' THEN $min_address_surnames ELSE $min_surnames END
    ),
    flagged AS (
        SELECT c.account_key, max(s.n_surnames) AS n_surnames
        FROM holders AS h JOIN shared AS s ON s.kind = h.kind AND s.key = h.key
        JOIN accounts AS c ON c.account_id = h.account_id
        GROUP BY c.account_key
    )""" + largest_credits_hits("flagged", "max(f.n_surnames)")

    @classmethod
    def severity(cls, value: np.ndarray, params: dict) -> np.ndarray:
        """0.35 at `min_surnames`, +0.03 per extra surname, capped at 0.45."""
        return np.clip(0.35 + 0.03 * (value - params["min_surnames"]), 0.0, 0.45)
