"""Rent paid to several landlords or property managers in the same month.

## What it flags
Accounts that pay rent to at least `min_landlords` distinct payees within `window_days` days.
A debit is rent when its merchant group is real-estate rental / property management (MCC 6513)
or its memo contains the word "rent" or "lease". Payees are told apart by their normalised name
(or account when the name is missing). The value is the number of distinct payees in the episode.

## Why it matters
Controllers rent several apartments or rooms at once to house victims or run incall locations;
FINTRAC (2021 and 2016) names rent paid to several landlords or property managers, often monthly.
The reference's role hypothesis counts it among the controller/beneficiary signals.

## Typical false positives
Moving house (old and new landlord in the same month), landlords who pay their own property
managers, parents paying a student's rent besides their own. Weak alone.

## Data needed
`memo` and `counterparty_name` of payments; `mcc` improves recall.
"""

import numba
import numpy as np

from followmoney.indicator import Indicator
from followmoney.kernels.episodes import distinct_episodes
from followmoney.kernels.inputs import ValueLookup, one_of
from followmoney.params import Interval, Param


@numba.njit(cache=True, nogil=True)
def rent_landlords_kernel(offsets, ts_s, ts, amount, is_customer, is_rental, rent_memo, landlord_name, counterparty,
                          window_days, min_landlords):  # pragma: no cover - jitted
    """Customers' rent payments to `min_landlords` distinct landlords within the window."""
    events = np.empty(len(ts_s), dtype=np.int64)
    m = 0
    for r in range(len(ts_s)):
        if (rent_memo[r] == 1 or is_rental[r] == 1) and amount[r] < 0 and is_customer[r] == 1:
            events[m] = r
            m += 1
    events = events[:m]
    # The landlord is the normalised payee name, else the payee account (see LANDLORD_NAME).
    landlord = np.empty(m, dtype=np.int64)
    for j in range(m):
        r = events[j]
        landlord[j] = landlord_name[r] if landlord_name[r] >= 0 else (2 * counterparty[r] if counterparty[r] >= 0 else -1)
    return distinct_episodes(offsets, ts_s, ts, amount, events, landlord,
                             window_days * 86400, 0, min_landlords, False)


RENT_MEMO = ValueLookup("memo", r"SELECT raw, 1 AS value FROM {values} WHERE regexp_matches(lower(raw), '\b(rent|lease)\b')",
                        "int8", 0)
"""Memos that say rent or lease, classified once per distinct memo."""

LANDLORD_NAME = ValueLookup(
    "counterparty_name",
    """SELECT raw, CASE WHEN regexp_matches(lower(trim(raw)), '^(0|[1-9][0-9]{0,8})$')
                        THEN 2 * CAST(lower(trim(raw)) AS BIGINT)
                        ELSE 2 * dense_rank() OVER (ORDER BY lower(trim(raw))) + 1 END AS value
       FROM {values}""", "int64", -1)
"""The landlord key of a payee name: the SQL keyed landlords by `coalesce(lower(trim(name)),
CAST(counterparty_key AS VARCHAR))`, so a name spelling an account key (digits, no leading zero; keys
are dense from 0, so nine digits cover any real workspace) is that account: even keys are accounts
(2 x key), odd keys other names."""


class RUN08(Indicator):
    id = "RUN08"
    name = "multi_rent_property"
    title = "Rent paid to several landlords"
    family = "running_costs"
    typologies = ("sexual_exploitation", "labour_exploitation")
    sources = ("FT21", "FT16")
    requires = ("ts", "amount", "memo", "counterparty_name")
    params = (
        Param("window_days", 31, Interval(int, 1, 366), "Length of the sliding window", "days"),
        Param("min_landlords", 2, Interval(int, 2, None), "Distinct rent payees needed inside one window"),
    )
    # The reference's role hypothesis names multiple rents as a controller/beneficiary signal.
    role_hint = "controller"
    score_doc = "0.25 at `min_landlords` payees, +0.05 per extra payee, capped at 0.4."
    reason = "rent paid to {value:.0f} landlords within {window_days} days"
    # A kernel in the shared pass (its former SQL: benchmarks/baselines/RUN08.sql); memos and payee
    # names are classified once per distinct value.
    kernel = rent_landlords_kernel
    kernel_inputs = {"ts_s": "int64", "ts": "int64", "amount": "float64", "is_customer": "int8", "is_rental": "int8",
                     "rent_memo": "int8", "landlord_name": "int64", "counterparty": "int64"}
    kernel_expressions = {"is_rental": one_of("merchant_group", ("property_rental",)),
                          "counterparty": "coalesce(counterparty_key, -1)"}
    kernel_lookups = {"rent_memo": RENT_MEMO, "landlord_name": LANDLORD_NAME}
    kernel_details = {"total_amount": "float64"}

    @classmethod
    def severity(cls, value: np.ndarray, params: dict) -> np.ndarray:
        """0.25 at `min_landlords`, +0.05 per extra payee, capped at 0.4."""
        return np.clip(0.25 + 0.05 * (value - params["min_landlords"]), 0.0, 0.4)
