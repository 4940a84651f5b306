"""Tables derived once at ingest and shared by every later stage: accounts, postings, identifiers.

Account ids are encoded as dense integers here and decoded only for output, so every join,
sort and kernel works on integers. Postings hold one leg per side of a transaction and the
features rules need (epoch seconds, local hour and day, merchant group, integer codes of channel,
city and branch, the white-label ATM and crypto flags), computed once instead of once per rule. Kernels take numeric
arrays only, so every text feature a sequence rule compares is coded to an integer here, once.
They are stored sorted by (account_key, ts_s, txn_idx), the order kernels read.
"""

from __future__ import annotations

from followmoney.schema import CHANNELS, TRANSACTIONS
from followmoney.workspace import Workspace

# Columns whose value belongs to the counterparty's side, by leg.
_SIDE_COLUMNS = {"payer_country", "beneficiary_country"}


def build_accounts(ws: Workspace) -> int:
    """`accounts(account_key, account_id, party_id, is_customer)` from transactions and parties."""
    has_parties = ws.has("parties") and ws.count("parties") > 0
    party_ids = ("SELECT account_id, min(party_id) FILTER (WHERE coalesce(relation, 'holder') = 'holder') AS party_id "
                 "FROM parties GROUP BY account_id") if has_parties else \
        "SELECT CAST(NULL AS VARCHAR) AS account_id, CAST(NULL AS VARCHAR) AS party_id WHERE false"
    ws.sql(
        f"""CREATE OR REPLACE TABLE accounts AS
        WITH ids AS (
            SELECT payer_account AS account_id FROM txns WHERE payer_account IS NOT NULL
            UNION SELECT beneficiary_account FROM txns WHERE beneficiary_account IS NOT NULL
            {"UNION SELECT account_id FROM parties" if has_parties else ""}
        ), p AS ({party_ids})
        SELECT CAST(row_number() OVER (ORDER BY ids.account_id) - 1 AS INTEGER) AS account_key, ids.account_id,
               p.party_id, {"p.account_id IS NOT NULL" if has_parties else "true"} AS is_customer
        FROM ids LEFT JOIN p ON p.account_id = ids.account_id
        ORDER BY account_key"""
    )
    return ws.count("accounts")


def build_postings(ws: Workspace, timezone: str) -> int:
    """Two legs per transaction, signed from the account's point of view, sorted for the kernels.

    The legs carry what needs a join (account keys, merchant group, city and branch codes) and the
    transaction's own columns; the features computed from a leg's own values (local hour and day,
    channel code, white-label and crypto flags) are added after the sort, so the sort moves narrower
    rows: sorting the wide legs is most of this step.
    """
    present = set(ws.columns("txns"))
    optional = [c.name for c in TRANSACTIONS if not c.required and c.name in present and c.name not in _SIDE_COLUMNS]
    has_country = {"payer_country", "beneficiary_country"} & present
    local = "ts" if timezone == "UTC" else f"timezone('{timezone}', timezone('UTC', ts))"
    group = "mg.merchant_group" if "mcc" in present and ws.has("mcc_groups") else "CAST(NULL AS VARCHAR)"
    join_mg = "LEFT JOIN mcc_groups AS mg ON mg.mcc = t.mcc" if "mcc" in present and ws.has("mcc_groups") else ""
    # Integer codes for the kernels: channel by its position in CHANNELS (stable across inputs),
    # city and branch by a dense code over the distinct values of this input (-1 = unknown).
    channel_code = "CASE channel " + " ".join(f"WHEN '{c}' THEN {i}" for i, c in enumerate(CHANNELS)) + " ELSE -1 END"
    joins = join_mg
    coded = ""
    for col, table in (("city", "city_codes"), ("branch_id", "branch_codes")):
        code = f"{col.split('_')[0]}_code"
        if col in present:
            ws.sql(f"""CREATE OR REPLACE TABLE {table} AS
                SELECT {col} AS value, CAST(row_number() OVER (ORDER BY {col}) - 1 AS INTEGER) AS code
                FROM (SELECT DISTINCT {col} FROM txns WHERE {col} IS NOT NULL)""")
            joins += f" LEFT JOIN {table} AS {table} ON {table}.value = t.{col}"
            coded += f", coalesce({table}.code, -1) AS {code}"
        else:
            coded += f", CAST(-1 AS INTEGER) AS {code}"
    white = "atm_owner_type = 'white_label'" if "atm_owner_type" in present else "false"
    # Crypto exchanges are recognised by channel or by MCC 6051 (quasi-cash / crypto), not by name.
    crypto = "channel = 'crypto' OR merchant_group = 'crypto_quasi_cash'"
    country = ", counterparty_country" if has_country else ""

    def leg(own: str, other: str, sign: str, cp_country: str | None) -> str:
        extra = coded + "".join(f", t.{c}" for c in optional)
        if has_country:
            extra += f", t.{cp_country} AS counterparty_country" if cp_country in present else \
                ", CAST(NULL AS VARCHAR) AS counterparty_country"
        return f"""SELECT a.account_key, t.ts, CAST(epoch(t.ts) AS BIGINT) AS ts_s, {sign}t.amount_rc AS amount,
                   t.txn_idx, c.account_key AS counterparty_key, t.channel, {group} AS merchant_group{extra}
            FROM txns AS t JOIN accounts AS a ON a.account_id = t.{own}
            LEFT JOIN accounts AS c ON c.account_id = t.{other} {joins}"""

    # The outer projection keeps the sorted order (a projection preserves it) and lays the columns out
    # as the POSTINGS contract orders them.
    ws.sql(
        f"""CREATE OR REPLACE TABLE postings AS
        SELECT account_key, ts, ts_s, amount, txn_idx, counterparty_key, channel,
               CAST(hour({local}) AS INTEGER) AS local_hour,
               CAST(date_diff('day', DATE '1970-01-01', CAST({local} AS DATE)) AS INTEGER) AS local_day,
               merchant_group, CAST({channel_code} AS TINYINT) AS channel_code, city_code, branch_code,
               CAST(coalesce({white}, false) AS TINYINT) AS is_white_label,
               CAST(coalesce({crypto}, false) AS TINYINT) AS is_crypto{''.join(f", {c}" for c in optional)}{country}
        FROM ({leg("payer_account", "beneficiary_account", "-", "beneficiary_country")}
              UNION ALL {leg("beneficiary_account", "payer_account", "", "payer_country")}
              ORDER BY account_key, ts_s, txn_idx)"""
    )
    return ws.count("postings")


def build_identifiers(ws: Workspace) -> int:
    """`identifiers(account_id, kind, value, source)` from parties and transactions, normalised lightly.

    Phone numbers keep digits and a leading '+', e-mails are lower-cased, addresses lower-cased with
    collapsed spaces; the network layer applies its stricter normalisation on top.
    """
    parts = []
    if ws.has("parties"):
        parts += [
            "SELECT account_id, 'phone' AS kind, regexp_replace(phone, '[^0-9+]', '', 'g') AS value, 'parties' AS source FROM parties",
            "SELECT account_id, 'email', lower(trim(email)), 'parties' FROM parties",
            "SELECT account_id, 'address', lower(regexp_replace(trim(address), '\\s+', ' ', 'g')), 'parties' FROM parties",
        ]
    present = set(ws.columns("txns"))
    for col, kind in (("device_id", "device"), ("ip", "ip")):
        if col in present:
            # The initiating side of an online transaction is the payer (the beneficiary for a cash-in).
            # Aliased: without parties this is the first SELECT of the union and names its columns.
            parts.append(f"SELECT coalesce(payer_account, beneficiary_account) AS account_id, '{kind}' AS kind, "
                         f"trim({col}) AS value, 'transactions' AS source "
                         f"FROM txns WHERE {col} IS NOT NULL")
    if not parts:
        ws.sql("CREATE OR REPLACE TABLE identifiers (account_id VARCHAR, kind VARCHAR, value VARCHAR, source VARCHAR)")
        return 0
    ws.sql(
        f"""CREATE OR REPLACE TABLE identifiers AS
        SELECT DISTINCT account_id, kind, value, source FROM ({' UNION ALL '.join(parts)})
        WHERE account_id IS NOT NULL AND value IS NOT NULL AND value <> ''
        ORDER BY kind, value, account_id, source"""
    )
    return ws.count("identifiers")
