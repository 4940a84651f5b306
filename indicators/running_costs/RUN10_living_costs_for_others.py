"""Upkeep spending (lodging, travel, pharmacy, clothing, food) far above the customer's own past and means.

## What it flags
Accounts whose spending in `window_days` days on upkeep merchant groups (lodging, airline, rail,
bus, travel agency, taxi and rideshare, car rental, pharmacy 5912, clothing 5621/5631/5651,
cosmetics 5977, grocery 5411, fast food 5814) reaches both

* `multiple` times the customer's own baseline: the upkeep spend of up to `baseline_days` days
  before the window, scaled to the window's length; and
* `income_share` of the declared income of the same period (`declared_income * window_days /
  365`: half a month's income with the defaults).

The baseline must cover at least half of `baseline_days` (an account without that much history
before the window is not judged: a new customer has no own baseline). The evidence is the upkeep
spending of the qualifying windows; windows closer than `window_days` form one hit. The value is
the largest qualifying window spend as a multiple of the period's declared income.

## Why it matters
FinCEN (2014, 2020) and FINTRAC (2016) describe controllers paying the living costs of the people
they exploit: hotel rooms and short-term rentals, transport, pharmacy, clothing and make-up,
groceries and fast food for several people, out of line with the customer's own profile.

## Typical false positives
A new household member, a family emergency or a move (a sudden jump in groceries, pharmacy and
hotels); a holiday paid by card; understated declared income. Rent (MCC 6513) is not upkeep
here, so a parent paying a student's rent does not count. The reference's second arm for
business accounts (upkeep spending outside the norms of the business type) is not implemented:
it needs per-type spending norms the data does not give. Weak alone.

## Data needed
`mcc` of card payments and the parties column `declared_income` (annual, reporting currency).
"""

import numba
import numpy as np

from followmoney.indicator import Indicator
from followmoney.kernels.inputs import one_of
from followmoney.kernels.living import episode_ends, round_cents
from followmoney.kernels.windows import empty_rows, empty_values
from followmoney.params import Interval, Param

UPKEEP_GROUPS = ("lodging", "airline", "rail", "bus", "travel_agency", "rideshare", "car_rental", "pharmacy",
                 "clothing", "cosmetics", "grocery", "fast_food")
"""Merchant groups of `followmoney/data/mcc_groups.csv` that count as someone's upkeep."""


@numba.njit(cache=True, nogil=True)
def living_costs_kernel(offsets, ts_s, local_day, amount, is_upkeep, is_customer, declared_income, window_days,
                        baseline_days, multiple,
                        income_share):  # pragma: no cover - jitted; tested against the former SQL and a reference
    """Upkeep-spending episodes per account (kernel hit contract of `followmoney.indicator`, with details).

    Calendar days are `local_day`. For each day with upkeep spending (a debit of an upkeep merchant
    group), `recent` sums the upkeep of the window's days `[d - window_days + 1, d]` and `prior` that
    of the `baseline_days` days before them; the day anchors when the baseline covers at least half
    of `baseline_days` since the account's first posting and `recent` reaches both `multiple` times
    the baseline scaled to the window and `income_share` of the period's declared income. Upkeep
    debits on the days of some anchor's window are evidence, carrying the largest ratio of the
    anchors covering them; evidence closer than `window_days` days forms one hit. Details: the hit's
    upkeep spend rounded to cents.
    """
    w = np.int64(window_days)
    b = np.int64(baseline_days)
    gap_s = w * 86400
    start_row = empty_rows()
    end_row = empty_rows()
    value = empty_values()
    ev_ptr = [np.int64(0)]
    ev_rows = empty_rows()
    spends = empty_values()
    # Scratch arrays sized for the longest account, reused account after account.
    longest = 0
    for a in range(len(offsets) - 1):
        longest = max(longest, offsets[a + 1] - offsets[a])
    rows_buf = np.empty(longest, dtype=np.int64)
    day_buf = np.empty(longest, dtype=np.int64)
    days_buf = np.empty(longest, dtype=np.int64)
    daily_buf = np.empty(longest, dtype=np.float64)
    prefix_buf = np.empty(longest + 1, dtype=np.float64)
    for a in range(len(offsets) - 1):
        lo, hi = offsets[a], offsets[a + 1]
        if hi <= lo:
            continue
        income = declared_income[lo]
        # Only customers with a positive declared income are judged (NaN: none declared).
        if is_customer[lo] != 1 or not income > 0:
            continue
        first_day = np.int64(local_day[lo])
        for j in range(lo, hi):
            first_day = min(first_day, np.int64(local_day[j]))
        # An anchor's baseline covers half of `baseline_days`, so its window starts that many days after
        # the first posting: no window holds more than the upkeep from then on. Accounts whose such
        # upkeep cannot reach the income test are skipped (with a margin far above the rounding of
        # summing in another order).
        earliest = first_day + (b + 1) // 2
        n_up = 0
        total = 0.0
        for j in range(lo, hi):
            if amount[j] < 0 and is_upkeep[j] == 1:
                n_up += 1
                if local_day[j] >= earliest:
                    total -= amount[j]
        if n_up == 0 or total < income_share * income * w / 365.0 * (1 - 1e-9):
            continue
        rows = rows_buf[:n_up]
        row_day = day_buf[:n_up]
        k = 0
        monotone = True
        for j in range(lo, hi):
            if amount[j] < 0 and is_upkeep[j] == 1:
                rows[k] = j
                row_day[k] = local_day[j]
                if k and row_day[k] < row_day[k - 1]:
                    monotone = False
                k += 1
        # Daily upkeep totals, summed in posting order like the SQL's GROUP BY day. Days follow posting
        # order (local time is monotone in UTC) except around a DST change at midnight: sort then.
        if monotone:
            n_days = 0
            for k in range(n_up):
                if k == 0 or row_day[k] != row_day[k - 1]:
                    days_buf[n_days] = row_day[k]
                    daily_buf[n_days] = 0.0
                    n_days += 1
                daily_buf[n_days - 1] -= amount[rows[k]]
            days = days_buf[:n_days]
            daily = daily_buf[:n_days]
        else:
            days = np.unique(row_day)
            daily = np.zeros(len(days), dtype=np.float64)
            for k in range(n_up):
                daily[np.searchsorted(days, row_day[k])] -= amount[rows[k]]
        n_days = len(days)
        # Range sums over days as differences of prefix sums (an empty range is exactly 0).
        prefix = prefix_buf[:n_days + 1]
        prefix[0] = 0.0
        for k in range(n_days):
            prefix[k + 1] = prefix[k] + daily[k]
        period_income = income * w / 365.0
        anchor_day = empty_rows()
        anchor_ratio = empty_values()
        r0 = 0
        p0 = 0
        for k in range(n_days):
            d = days[k]
            covered = min(b, d - w + 1 - first_day)
            if 2 * covered < b:
                continue
            # Days are sorted, so the window's and the baseline's first days only move forward.
            while days[r0] < d - w + 1:
                r0 += 1
            while days[p0] < d - w - b + 1:
                p0 += 1
            recent = prefix[k + 1] - prefix[r0]
            prior = prefix[r0] - prefix[p0]
            if (recent >= multiple * prior * w / max(covered, 1)
                    and recent >= income_share * income * w / 365.0):
                anchor_day.append(d)
                anchor_ratio.append(recent / period_income)
        if len(anchor_day) == 0:
            continue
        adays = np.array(anchor_day, dtype=np.int64)
        aratio = np.array(anchor_ratio, dtype=np.float64)
        evidence = empty_rows()
        ratio = empty_values()
        for k in range(n_up):
            # Anchors whose window [a - w + 1, a] holds this day: a in [day, day + w - 1].
            i0 = np.searchsorted(adays, row_day[k], side="left")
            i1 = np.searchsorted(adays, row_day[k] + w - 1, side="right")
            if i1 > i0:
                evidence.append(rows[k])
                ratio.append(aratio[i0:i1].max())
        ev = np.array(evidence, dtype=np.int64)
        ends = episode_ends(ev, ts_s, gap_s)
        s = 0
        for e in ends:
            best = ratio[s]
            total = 0.0
            for k in range(s, e):
                best = max(best, ratio[k])
                total -= amount[ev[k]]
                ev_rows.append(ev[k])
            start_row.append(ev[s])
            end_row.append(ev[e - 1])
            value.append(best)
            spends.append(round_cents(total))
            ev_ptr.append(len(ev_rows))
            s = e
    details = np.empty((len(spends), 1), dtype=np.float64)
    for h in range(len(spends)):
        details[h, 0] = spends[h]
    return (np.array(start_row, dtype=np.int64), np.array(end_row, dtype=np.int64),
            np.array(value, dtype=np.float64), np.array(ev_ptr, dtype=np.int64),
            np.array(ev_rows, dtype=np.int64), details)


class RUN10(Indicator):
    id = "RUN10"
    name = "living_costs_for_others"
    title = "Upkeep spending far above the customer's own past and means"
    family = "running_costs"
    typologies = ("sexual_exploitation", "labour_exploitation")
    sources = ("F20", "F14(sec)", "FT16")
    requires = ("ts", "amount", "mcc")
    requires_parties = ("declared_income",)
    params = (
        Param("window_days", 30, Interval(int, 1, 366), "Length of the sliding window", "days"),
        Param("baseline_days", 180, Interval(int, 2, 1096), "Days before the window that form the own baseline", "days"),
        Param("multiple", 2.0, Interval(float, 0, None, closed="neither"),
              "Window spend, as a multiple of the baseline scaled to the window, that flags"),
        Param("income_share", 0.5, Interval(float, 0, None, closed="neither"),
              "Window spend, as a share of the declared income of the same period, that flags"),
    )
    # The reference's role hypothesis: the one paying others' upkeep is the possible controller.
    role_hint = "controller"
    score_doc = ("0.3 at `income_share` of the period's declared income, +0.1 per further whole period income, "
                 "capped at 0.45.")
    reason = ("upkeep spending of {value:.1f}x the declared income of {window_days} days, at least {multiple}x "
              "the customer's own baseline")
    kernel = living_costs_kernel
    kernel_inputs = {"ts_s": "int64", "local_day": "int64", "amount": "float64", "is_upkeep": "int8",
                     "is_customer": "int8", "declared_income": "float64"}
    kernel_expressions = {"is_upkeep": one_of("merchant_group", UPKEEP_GROUPS)}
    kernel_details = {"upkeep_spend": "float64"}

    @classmethod
    def severity(cls, value: np.ndarray, params: dict) -> np.ndarray:
        """0.3 at `income_share`, +0.1 per further whole period income, capped at 0.45."""
        return np.clip(0.3 + 0.1 * (value - params["income_share"]), 0.3, 0.45)
