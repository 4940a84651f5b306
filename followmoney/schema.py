"""The frozen data contracts: every table followmoney reads or writes, defined once.

`docs/schema.md` and `docs/outputs.md` describe these tables for people; the tests check every
file a scan writes against the definitions here, so the code, the docs and the files cannot drift
apart. Types are DuckDB type names, because the workspace is DuckDB and parquet files are written
from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


@dataclass(frozen=True)
class Column:
    """One column of a contract table.

    Attributes:
        name: canonical column name.
        dtype: DuckDB type of the column as stored in the workspace and written to parquet.
        required: for inputs, whether a file must provide it; for outputs, whether it is never null.
        description: one line for the docs.
    """

    name: str
    dtype: str
    required: bool
    description: str


CHANNELS: tuple[str, ...] = ("cash", "atm", "wire", "ach", "p2p", "transfer", "card", "cheque", "crypto", "other")
"""Canonical payment channels; a profile maps a bank's own codes onto these."""

ROLES: tuple[str, ...] = ("controller", "victim", "mule", "front_business", "look_alike")
"""The one role vocabulary of the project: labels, role hypotheses and cluster members."""

TYPOLOGIES: tuple[str, ...] = ("sexual_exploitation", "labour_exploitation", "laundering_of_proceeds")
"""Typology tags shared by indicators, scenarios and labels."""

RELATIONS: tuple[str, ...] = ("holder", "joint", "authorised")

TRANSACTIONS: tuple[Column, ...] = (
    Column("txn_id", "VARCHAR", True, "Unique transaction id in the source system."),
    Column("ts", "TIMESTAMP", True, "When the transaction happened, stored in UTC (naive inputs are read in the profile's time zone)."),
    Column("amount", "DOUBLE", True, "Amount in `currency`, strictly positive; direction comes from payer and beneficiary."),
    Column("currency", "VARCHAR", True, "ISO 4217 code; a profile may set one default currency for files without the column."),
    Column("payer_account", "VARCHAR", True, "Account the money leaves; empty for cash paid in."),
    Column("beneficiary_account", "VARCHAR", True, "Account the money reaches; empty for cash taken out."),
    Column("channel", "VARCHAR", True, "One of: " + ", ".join(CHANNELS) + "."),
    Column("mcc", "VARCHAR", False, "Merchant category code (4 digits) of a card payment."),
    Column("counterparty_name", "VARCHAR", False, "Name of the merchant, employer, landlord or person on the other side."),
    Column("memo", "VARCHAR", False, "Free text: payment reference, e-transfer message, statement description."),
    Column("payer_country", "VARCHAR", False, "ISO 3166 alpha-2 country of the payer's account."),
    Column("beneficiary_country", "VARCHAR", False, "ISO 3166 alpha-2 country of the beneficiary's account."),
    Column("city", "VARCHAR", False, "City where a card, ATM, branch or cash event took place."),
    Column("region", "VARCHAR", False, "Region, state or province of `city`."),
    Column("branch_id", "VARCHAR", False, "Branch or ATM identifier of a cash or ATM event."),
    Column("atm_owner_type", "VARCHAR", False, "`bank` or `white_label` (non-bank ATM in a store, hotel, casino)."),
    Column("device_id", "VARCHAR", False, "Device that initiated an online transaction."),
    Column("ip", "VARCHAR", False, "IP address that initiated an online transaction."),
    Column("is_refund", "BOOLEAN", False, "True when the row reverses an earlier charge."),
)
"""Canonical transactions: one row per movement of money, as the source reports it."""

PARTIES: tuple[Column, ...] = (
    Column("account_id", "VARCHAR", True, "Account the party is attached to."),
    Column("party_id", "VARCHAR", False, "Customer (party) id; all accounts of one party form one relationship."),
    Column("relation", "VARCHAR", False, "holder, joint or authorised."),
    Column("name", "VARCHAR", False, "Full name."),
    Column("birth_date", "DATE", False, "Date of birth."),
    Column("address", "VARCHAR", False, "Postal address."),
    Column("phone", "VARCHAR", False, "Phone number."),
    Column("email", "VARCHAR", False, "E-mail address."),
    Column("occupation", "VARCHAR", False, "Stated occupation."),
    Column("declared_income", "DOUBLE", False, "Declared annual income in the reporting currency."),
    Column("opened_at", "DATE", False, "Account opening date."),
    Column("account_type", "VARCHAR", False,
           "personal, business, credit_card (a card account: payments in, purchases and cash advances out) "
           "or prepaid (a prepaid card)."),
    Column("business_type", "VARCHAR", False, "Kind of business for business accounts (e.g. restaurant, salon)."),
    Column("business_hours", "VARCHAR", False, "Declared opening hours, `HH-HH` in local time."),
    Column("home_city", "VARCHAR", False, "City where the customer lives or the business operates."),
)
"""Optional KYC: one row per account and party."""

IDENTIFIERS: tuple[Column, ...] = (
    Column("account_id", "VARCHAR", True, "Account the identifier is attached to."),
    Column("kind", "VARCHAR", True, "phone, email, address, device or ip."),
    Column("value", "VARCHAR", True, "Normalised value (trimmed; e-mail lower-cased; phone digits only)."),
    Column("source", "VARCHAR", True, "parties or transactions."),
)
"""Long table of identifiers derived from parties and transactions; the network layer reads it."""

POSTINGS: tuple[Column, ...] = (
    Column("account_key", "INTEGER", True, "Integer code of the account (see `accounts`), assigned once at ingest."),
    Column("ts", "TIMESTAMP", True, "Transaction time, UTC."),
    Column("ts_s", "BIGINT", True, "Transaction time in epoch seconds: the portable window axis."),
    Column("amount", "DOUBLE", True, "Signed amount in the reporting currency: credit > 0, debit < 0."),
    Column("txn_idx", "BIGINT", True, "Integer row key of the transaction; decoded to `txn_id` only for output."),
    Column("counterparty_key", "INTEGER", False, "Integer code of the other account; null for cash."),
    Column("channel", "VARCHAR", True, "Canonical channel."),
    Column("local_hour", "INTEGER", True, "Hour of day in the profile's local time zone, computed once for night-time rules."),
    Column("local_day", "INTEGER", True, "Calendar day in the profile's local time zone, as days since 1970-01-01: the key of same-day rules."),
    Column("merchant_group", "VARCHAR", False, "Merchant group from the MCC dictionary (lodging, rideshare, ...), computed once."),
    Column("channel_code", "TINYINT", True, "Position of `channel` in CHANNELS (0 = cash, 1 = atm, ...): the channel for kernels."),
    Column("city_code", "INTEGER", True, "Dense integer code of `city` within the input; -1 when unknown or the column is absent."),
    Column("branch_code", "INTEGER", True, "Dense integer code of `branch_id` within the input; -1 when unknown or absent."),
    Column("is_white_label", "TINYINT", True, "1 when `atm_owner_type` is `white_label` (non-bank ATM), else 0."),
    Column("is_crypto", "TINYINT", True, "1 when the channel is `crypto` or the MCC's merchant group is `crypto_quasi_cash` (6051), else 0."),
)
"""Per-account view: one leg per side of each transaction, plus the optional transaction columns present."""

ACCOUNTS: tuple[Column, ...] = (
    Column("account_key", "INTEGER", True, "Dense integer code, ordered by account_id."),
    Column("account_id", "VARCHAR", True, "Account id as in the input."),
    Column("party_id", "VARCHAR", False, "Holder's party id when parties are given."),
    Column("is_customer", "BOOLEAN", True, "In the parties table (or every account when no parties are given)."),
)

HITS: tuple[Column, ...] = (
    Column("indicator_id", "VARCHAR", True, "Id of the indicator that fired."),
    Column("account_id", "VARCHAR", True, "Account the hit is about."),
    Column("window_start", "TIMESTAMP", True, "First transaction time of the detection window (UTC)."),
    Column("window_end", "TIMESTAMP", True, "Last transaction time of the detection window (UTC)."),
    Column("value", "DOUBLE", True, "The raw measure (a count, a sum, a ratio), documented per indicator."),
    Column("score", "DOUBLE", True, "Severity in [0, 1], documented per indicator."),
    Column("evidence_txn_ids", "VARCHAR[]", True, "Transactions that make the hit; each inside the window and touching the account."),
    Column("params", "VARCHAR", True, "JSON of the parameters used."),
    Column("details", "VARCHAR", True, "JSON of indicator-specific facts about the hit."),
)
"""One row per detection window, whatever the indicator."""

ALERTS: tuple[Column, ...] = (
    Column("account_id", "VARCHAR", True, "Alerted account."),
    Column("party_id", "VARCHAR", False, "Holder's party id when parties are given."),
    Column("score", "DOUBLE", True, "Combined score in [0, 1], rounded to 1e-6 so engines agree."),
    Column("rank", "BIGINT", True, "Dense rank by score, highest first; ties broken by account_id."),
    Column("alert_reason", "VARCHAR", True, "Human-readable: which rules fired and why the combination alerts."),
    Column("families", "VARCHAR[]", True, "Indicator families that fired."),
    Column("indicators", "VARCHAR[]", True, "Indicator ids that fired."),
    Column("first_ts", "TIMESTAMP", True, "Earliest evidence window start."),
    Column("last_ts", "TIMESTAMP", True, "Latest evidence window end."),
    Column("n_evidence", "BIGINT", True, "Distinct evidence transactions."),
    Column("role_hypothesis", "VARCHAR", False, "Possible role from the project's role vocabulary; null when undetermined."),
)
"""One row per alerted account."""

CLUSTERS: tuple[Column, ...] = (
    Column("cluster_id", "VARCHAR", True, "Stable id for the same input: derived from the sorted member ids."),
    Column("account_id", "VARCHAR", True, "Member account."),
    Column("role", "VARCHAR", False, "Member role from the role vocabulary; null when undetermined."),
    Column("cluster_score", "DOUBLE", True, "Score of the cluster: the highest member alert score."),
)
"""One row per cluster member."""

QUARANTINE: tuple[Column, ...] = (
    Column("source_file", "VARCHAR", True, "File (or in-memory source name) the row came from."),
    Column("source_row", "BIGINT", True, "Line number in a CSV file (header = line 1); 1-based row number in other sources."),
    Column("table_name", "VARCHAR", True, "transactions or parties."),
    Column("reason", "VARCHAR", True, "Reason code, see `ReasonCode`."),
    Column("column_name", "VARCHAR", False, "Column the reason is about."),
    Column("raw_value", "VARCHAR", False, "Offending value as read."),
    Column("raw_record", "VARCHAR", False, "The whole record as read (JSON) or the CSV line."),
)
"""Rows that were not loaded, each with where it came from and why."""

LABELS: tuple[Column, ...] = (
    Column("account_id", "VARCHAR", True, "Account touched by a planted scenario or look-alike."),
    Column("scenario_id", "VARCHAR", True, "Scenario instance id."),
    Column("typology", "VARCHAR", True, "One of: " + ", ".join(TYPOLOGIES) + "."),
    Column("role", "VARCHAR", True, "One of: " + ", ".join(ROLES) + "."),
    Column("expected_alert", "BOOLEAN", True, "Whether a correct scan should alert on the account."),
)
"""Ground truth written by the simulator; background accounts are omitted."""

LABEL_TXNS: tuple[Column, ...] = (
    Column("txn_id", "VARCHAR", True, "Transaction planted by a scenario."),
    Column("scenario_id", "VARCHAR", True, "Scenario instance id."),
)


class ReasonCode(StrEnum):
    """Why a row went to the quarantine. Stable strings: reports and tests use them."""

    MALFORMED_LINE = "malformed_line"
    MISSING_VALUE = "missing_value"
    UNPARSEABLE_TIMESTAMP = "unparseable_timestamp"
    UNPARSEABLE_AMOUNT = "unparseable_amount"
    AMOUNT_NOT_POSITIVE = "amount_not_positive"
    UNKNOWN_CHANNEL = "unknown_channel"
    UNKNOWN_CURRENCY = "unknown_currency"
    NO_ACCOUNT = "no_account"
    DUPLICATE_TXN_ID = "duplicate_txn_id"
    NO_EXCHANGE_RATE = "no_exchange_rate"
    OUT_OF_SCOPE = "out_of_scope"


REASON_TEXT: dict[ReasonCode, str] = {
    ReasonCode.MALFORMED_LINE: "the CSV line could not be split into the header's columns",
    ReasonCode.MISSING_VALUE: "a required value is empty",
    ReasonCode.UNPARSEABLE_TIMESTAMP: "the timestamp does not parse with the profile's format",
    ReasonCode.UNPARSEABLE_AMOUNT: "the amount is not a number",
    ReasonCode.AMOUNT_NOT_POSITIVE: "the amount is zero or negative (direction comes from payer and beneficiary)",
    ReasonCode.UNKNOWN_CHANNEL: "the channel is not a canonical channel after the profile's code mapping",
    ReasonCode.UNKNOWN_CURRENCY: "the currency is not an ISO 4217 code",
    ReasonCode.NO_ACCOUNT: "neither payer nor beneficiary account is given",
    ReasonCode.DUPLICATE_TXN_ID: "the txn_id was already loaded from an earlier row",
    ReasonCode.NO_EXCHANGE_RATE: "no exchange rate to the reporting currency on or before that date",
    ReasonCode.OUT_OF_SCOPE: "outside the scope's period (--since/--until)",
}

OUTPUT_TABLES: dict[str, tuple[Column, ...]] = {
    "alerts": ALERTS,
    "hits": HITS,
    "clusters": CLUSTERS,
    "quarantine": QUARANTINE,
}
"""Parquet files of the output folder and the contract each follows."""


def column_names(columns: tuple[Column, ...]) -> list[str]:
    """Names of a contract's columns, in order."""
    return [c.name for c in columns]


def required_names(columns: tuple[Column, ...]) -> list[str]:
    """Names of the columns a contract requires."""
    return [c.name for c in columns if c.required]
