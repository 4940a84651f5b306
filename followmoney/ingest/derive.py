"""Tables derived once at ingest and shared by every later stage: accounts, postings, identifiers.

Account ids are encoded as dense integers here and decoded only for output, so every join,
sort and kernel works on integers. Postings hold one leg per side of a transaction and the
features rules need (epoch seconds, local hour, merchant group), computed once instead of once
per rule. They are stored sorted by (account_key, ts_s, txn_idx), the order kernels read.
"""

from __future__ import annotations

from followmoney.schema import TRANSACTIONS
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
    """Two legs per transaction, signed from the account's point of view, sorted for the kernels."""
    present = set(ws.columns("txns"))
    optional = [c.name for c in TRANSACTIONS if not c.required and c.name in present and c.name not in _SIDE_COLUMNS]
    has_country = {"payer_country", "beneficiary_country"} & present
    local = "t.ts" if timezone == "UTC" else f"timezone('{timezone}', timezone('UTC', t.ts))"
    group = "mg.merchant_group" if "mcc" in present and ws.has("mcc_groups") else "CAST(NULL AS VARCHAR)"
    join_mg = "LEFT JOIN mcc_groups AS mg ON mg.mcc = t.mcc" if "mcc" in present and ws.has("mcc_groups") else ""

    def leg(own: str, other: str, sign: str, cp_country: str | None) -> str:
        extra = "".join(f", t.{c}" for c in optional)
        if has_country:
            extra += f", t.{cp_country} AS counterparty_country" if cp_country in present else \
                ", CAST(NULL AS VARCHAR) AS counterparty_country"
        return f"""SELECT a.account_key, t.ts, CAST(epoch(t.ts) AS BIGINT) AS ts_s, {sign}t.amount_rc AS amount,
                   t.txn_idx, c.account_key AS counterparty_key, t.channel,
                   CAST(hour({local}) AS INTEGER) AS local_hour, {group} AS merchant_group{extra}
            FROM txns AS t JOIN accounts AS a ON a.account_id = t.{own}
            LEFT JOIN accounts AS c ON c.account_id = t.{other} {join_mg}"""

    ws.sql(
        f"""CREATE OR REPLACE TABLE postings AS
        SELECT * FROM ({leg("payer_account", "beneficiary_account", "-", "beneficiary_country")}
                       UNION ALL {leg("beneficiary_account", "payer_account", "", "payer_country")})
        ORDER BY account_key, ts_s, txn_idx"""
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
            parts.append(f"SELECT coalesce(payer_account, beneficiary_account), '{kind}', trim({col}), 'transactions' "
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
