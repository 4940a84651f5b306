"""The customer's phone or e-mail appears in a user-supplied list of identifiers from sex ads.

## What it flags
Accounts whose holder's phone (compared on its last ten digits, so a country code or punctuation
does not matter; at least `min_phone_digits` digits are needed) or
e-mail (compared lower-cased) equals an entry of the `ad_identifiers` list: phones and e-mails
scraped from escort and sex ads, or shared by a public-private partnership. The value is the
number of matching identifiers; the evidence is the account's largest credits (up to 20), so an
investigator sees at once what money the advertised contact receives.

## Why it matters
Contact details traceable to escort advertising are among the strongest customer-profile red
flags (FinCEN 2020; FINTRAC 2016 and 2021): the person whose phone answers the ads is usually
the one organising bookings, or a victim whose account is used for them.

## Typical false positives
Recycled phone numbers; shared office or family numbers; stale scrapes. Check the ad's date
against the account's history.

## Data needed
Parties columns `phone` and `email`, and a list named `ad_identifiers` supplied through the
profile (`lists: {ad_identifiers: ads_scrape.csv}`, tag `phone` or `email`). No default list
ships: without one the indicator is skipped with that reason.
"""

import numpy as np

from followmoney.indicator import Indicator
from followmoney.indicators._sql import largest_credits_hits
from followmoney.params import Interval, Param


class EXT01(Indicator):
    id = "EXT01"
    name = "ad_identifier_match"
    title = "Customer phone or e-mail found in sex ads"
    family = "external"
    typologies = ("sexual_exploitation",)
    sources = ("F20", "FT16", "FT21")
    requires = ("ts", "amount")
    requires_parties = ("phone", "email")
    requires_lists = ("ad_identifiers",)
    params = (
        Param("min_phone_digits", 7, Interval(int, 1, None),
              "Digits a phone needs before it is compared (shorter ones match too easily)"),
    )
    role_hint = None
    score_doc = "0.45 for one matching identifier, 0.55 for two or more: a strong profile fact, but not an alert alone."
    reason = "{value:.0f} of the holder's identifiers appear in the ad list"
    # The lists and the parties are small; identifiers are normalised once on each side. Phones keep
    # their last ten digits: the national number, whatever prefix the ad or the KYC form used.
    sql = """
    WITH wanted AS (
        SELECT DISTINCT CASE WHEN coalesce(l.tag, '') = 'email' OR contains(l.value, '@') THEN l.value
                             ELSE right(regexp_replace(l.value, '[^0-9]', '', 'g'), 10) END AS ident
        FROM lists AS l WHERE l.list_name = 'ad_identifiers'
    ),
    held AS (
        SELECT c.account_key, right(regexp_replace(coalesce(k.phone, ''), '[^0-9]', '', 'g'), 10) AS ident
        FROM parties AS k JOIN accounts AS c ON c.account_id = k.account_id
        UNION
        SELECT c.account_key, lower(trim(coalesce(k.email, ''))) AS ident
        FROM parties AS k JOIN accounts AS c ON c.account_id = k.account_id
    ),
    matches AS (
        SELECT h.account_key, count(DISTINCT h.ident) AS n_ident
        FROM held AS h JOIN wanted AS w ON w.ident = h.ident
        -- Tested on the few wanted identifiers (equal to the held one), not on every party's: DuckDB
        -- would otherwise normalise each phone number twice, for this test and for the join.
        WHERE contains(w.ident, '@') OR length(w.ident) >= $min_phone_digits
        GROUP BY h.account_key
    )""" + largest_credits_hits("matches", "max(f.n_ident)")

    @classmethod
    def severity(cls, value: np.ndarray, params: dict) -> np.ndarray:
        """0.45 for one identifier, 0.55 for two or more."""
        return np.where(value >= 2, 0.55, 0.45)
