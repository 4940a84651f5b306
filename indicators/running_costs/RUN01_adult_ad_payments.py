"""Repeated payments to online classified, adult-ad or escort-directory sites.

## What it flags
Accounts that make at least `min_count` payments within `window_days` days to merchants whose
name contains an entry of the `ad_sites` list, or whose MCC falls in the adult direct-marketing
(5967) or dating/escort (7273) groups. Payments in overlapping qualifying windows form one
episode, reported as one hit; `details.repeated_amounts` counts payments whose amount repeats
exactly inside the episode (fixed ad fees).

## Why it matters
Every business model of sexual exploitation advertises online: short-stay, storefront and
private-residence operations all buy escort and "massage" ads, often as repeated small fixed
fees or premium placements (FINTRAC 2016 and 2021; FinCEN 2014 and 2020 on foreign classified
sites). The person paying for the ads is usually the one organising the bookings.

## Typical false positives
Independent adult workers advertising for themselves (lawful in some jurisdictions: financial
data alone cannot separate lawful sex work from servitude); small businesses buying classified
ads on general sites; a name-list entry that is a substring of an unrelated merchant. The score
is deliberately weak: it should alert only together with other families.

## Data needed
`counterparty_name` of card and online payments; `mcc` helps but is optional. The `ad_sites`
list ships with illustrative defaults; extend it with your own intelligence in the profile.
"""

import numpy as np

from followmoney.indicator import Indicator
from followmoney.indicators._sql import name_matches, window_episodes
from followmoney.params import Interval, Param


class RUN01(Indicator):
    id = "RUN01"
    name = "adult_ad_payments"
    title = "Repeated payments to adult-ad or classified sites"
    family = "running_costs"
    typologies = ("sexual_exploitation",)
    sources = ("FT16", "FT21", "F14(sec)", "F20")
    requires = ("ts", "amount", "counterparty_name")
    requires_lists = ("ad_sites",)
    params = (
        Param("window_days", 30, Interval(int, 1, 366), "Length of the sliding window", "days"),
        Param("min_count", 3, Interval(int, 1, None), "Ad payments needed inside one window"),
    )
    role_hint = None  # the reference's role hypothesis does not name this flag
    score_doc = ("0.25 at `min_count` payments (a weak signal: three families at their minimum combine to "
                 "0.58, above the 0.5 alert threshold), +0.05 per extra payment, capped at 0.4.")
    reason = "{value:.0f} payments to ad sites within {window_days} days"
    # Names are matched once per distinct counterparty name, then joined back to the debits.
    sql = "WITH " + name_matches("counterparty_name", "ad_sites") + """,
    ad_groups AS (
        SELECT merchant_group FROM (VALUES ('adult_direct_marketing'), ('dating_escort')) AS t(merchant_group)
    ),
    ad_debits AS (
        -- Two disjoint scans DuckDB pushes into postings (by MCC group, then by matched name), not one OR;
        -- the groups are a semi join, which is pushed into the scan, where an IN list is not.
        SELECT account_key, txn_idx, ts, ts_s, amount FROM postings
        WHERE amount < 0 AND merchant_group IN (SELECT merchant_group FROM ad_groups)
        UNION ALL
        SELECT account_key, txn_idx, ts, ts_s, amount FROM postings
        WHERE amount < 0 AND counterparty_name IN (SELECT raw FROM matched)
          AND merchant_group IS DISTINCT FROM 'adult_direct_marketing'
          AND merchant_group IS DISTINCT FROM 'dating_escort'
    ),
    events AS (
        SELECT p.account_key, p.txn_idx, p.ts, p.ts_s, p.amount, p.amount AS k
        FROM ad_debits AS p JOIN accounts AS c ON c.account_key = p.account_key
        WHERE c.is_customer
    )""" + window_episodes("n >= $min_count", "$window_days * 86400",
                           extra=", CAST(count(*) - count(DISTINCT amount) AS INTEGER) AS repeated_amounts")

    @classmethod
    def severity(cls, value: np.ndarray, params: dict) -> np.ndarray:
        """0.25 at `min_count`, +0.05 per extra payment, capped at 0.4."""
        return np.clip(0.25 + 0.05 * (value - params["min_count"]), 0.0, 0.4)
