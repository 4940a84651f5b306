"""Several devices operating one account's online payments within a short window.

## What it flags
Customer accounts whose online payments out (debits with a `device_id`: the device initiated them) come from at least
`min_devices` distinct devices inside any window of `window_days` days. Payments of overlapping
qualifying windows form one episode, reported as one hit valued at the number of distinct devices.

The reference counts devices "or phone numbers" on online banking and adds "or a device also used
by an unrelated customer". Log-in events and the phone numbers behind them are not part of the
transaction contract, so the devices that initiated payments stand for them; a device shared with
another customer is the shared-identifier rule (`shared_identifier_cluster`), not this one.

## Why it matters
When a trafficker or several members of a network operate a victim's online banking, the
account is used from their phones as well as the victim's own: several devices on one person's
account within weeks (FINTRAC, Project PROTECT). The victim side of the same control shows up as
the account being emptied from devices that are not the holder's.

## Typical false positives
A new phone plus a tablet and a work laptop, a browser that resets its device id, a carer helping
an elderly customer. Check whether the devices also appear on other customers' accounts.

## Data needed
`device_id` of online payments (p2p, transfer, wire initiated online). No parties table is needed.
"""

import numpy as np

from followmoney.indicator import Indicator
from followmoney.indicators._sql import window_episodes
from followmoney.params import Interval, Param


class NET09(Indicator):
    id = "NET09"
    name = "many_devices_one_account"
    title = "Several devices operating one account"
    family = "network"
    typologies = ("sexual_exploitation", "labour_exploitation")
    sources = ("FT21",)
    requires = ("ts", "amount", "device_id")
    params = (
        Param("min_devices", 3, Interval(int, 2, None), "Distinct devices inside one window"),
        Param("window_days", 30, Interval(int, 1, 366), "Length of the sliding window", "days"),
    )
    role_hint = "victim"
    decisive = False
    score_doc = ("0.3 at `min_devices` devices, +0.05 per extra one, capped at 0.45: never alerts on its own "
                 "(new phones and tablets are common).")
    reason = "{value:.0f} different devices used on the account within {window_days} days"
    # Only accounts that ever used `min_devices` devices enter the windowed self-join: most use one.
    # Devices are normalised once per distinct (account, device id), not once per payment (blank ids
    # are left out of the count, not filtered row by row): few accounts use enough devices, and only
    # their payments are read again as events.
    sql = """
    WITH device_keys AS (
        SELECT p.account_key, lower(trim(p.device_id)) AS k
        FROM (SELECT DISTINCT account_key, device_id FROM postings WHERE amount < 0 AND device_id IS NOT NULL) AS p
        JOIN accounts AS c ON c.account_key = p.account_key
        WHERE c.is_customer
    ),
    candidates AS (
        SELECT account_key FROM device_keys GROUP BY account_key
        HAVING count(DISTINCT CASE WHEN k <> '' THEN k END) >= $min_devices
    ),
    events AS (
        SELECT p.account_key, p.txn_idx, p.ts, p.ts_s, p.amount, lower(trim(p.device_id)) AS k
        FROM postings AS p JOIN candidates AS c ON c.account_key = p.account_key
        WHERE p.amount < 0 AND p.device_id IS NOT NULL AND trim(p.device_id) <> ''
    )""" + window_episodes("n_distinct >= $min_devices", "$window_days * 86400", value="count(DISTINCT k)")

    @classmethod
    def severity(cls, value: np.ndarray, params: dict) -> np.ndarray:
        """0.3 at `min_devices`, +0.05 per extra device, capped at 0.45."""
        return np.clip(0.3 + 0.05 * (value - params["min_devices"]), 0.0, 0.45)
