"""Pseudonymisation for sharing: identifiers replaced by keyed hashes at `collect`.

With `--pseudonymise`, every identifier of the input (account ids, party ids, names, phones,
e-mails, addresses, devices, IP addresses) is replaced by an HMAC-SHA256 of its normalised value
under a secret key, right after loading and before anything is derived, so no raw identifier
reaches the derived tables, charts or outputs. The same key gives the same pseudonyms in every run
(two institutions sharing a key can match each other's pseudonyms, as a 314(b)-style partnership
would); without the key they cannot be reversed or recomputed.

Free text that may hold identifiers is not kept as it is: `memo` is dropped (the indicators that
read it are then skipped, with that reason), and a `counterparty_name` that contains a name, an
account id, an e-mail, a phone number or an IP address is removed, while plain merchant names stay.
The rows of the quarantine keep their reason and position but lose the raw record and any raw
identifier value.

Pseudonyms keep the shape the normalisations of later stages expect, so they survive them
unchanged: phones are digits, e-mails are lower-case addresses at `pseudonym.invalid`.

The key is read from the environment variable `FOLLOWMONEY_PSEUDONYM_KEY` or from a key file, never
from the command line (where it would land in shell histories and process lists), and the manifest
records that pseudonymisation was applied and where the key came from, never the key.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from pathlib import Path
from typing import Any

from followmoney.errors import ParameterError
from followmoney.workspace import Workspace

ENV_VAR = "FOLLOWMONEY_PSEUDONYM_KEY"
MIN_KEY_BYTES = 16

# Identifier columns and the kind each is hashed as (the kind keeps an e-mail and a name that happen to
# be the same text apart).
TXN_COLUMNS = {"payer_account": "account", "beneficiary_account": "account", "device_id": "device", "ip": "ip"}
PARTY_COLUMNS = {"account_id": "account", "party_id": "party", "name": "name", "phone": "phone", "email": "email",
                 "address": "address"}
FREE_TEXT_DROPPED = ("memo",)

# Patterns of identifiers inside free text.
_EMAIL = r"[^\s@]+@[^\s@]+\.[^\s@]+"
_PHONE = r"\+?[0-9][0-9 ()./-]{6,}[0-9]"
_IP = r"\b[0-9]{1,3}(\.[0-9]{1,3}){3}\b"


def load_key(key_file: str | Path | None = None) -> tuple[bytes, str]:
    """The pseudonymisation key and where it came from (`file <path>` or the environment variable).

    Raises:
        ParameterError: no key, or a key shorter than 16 bytes.
    """
    if key_file is not None:
        key = Path(key_file).read_bytes().strip()
        source = f"file {key_file}"
    else:
        key = os.environ.get(ENV_VAR, "").encode()
        source = f"environment variable {ENV_VAR}"
    if not key:
        raise ParameterError([f"--pseudonymise needs a key: set {ENV_VAR} or pass --pseudonym-key-file "
                              "(the key is never taken from the command line)"])
    if len(key) < MIN_KEY_BYTES:
        raise ParameterError([f"the pseudonymisation key from the {source} is shorter than {MIN_KEY_BYTES} bytes"])
    return key, source


def normalise(kind: str, value: str) -> str:
    """The form of a value that is hashed, so that formatting differences do not split one identifier."""
    value = value.strip()
    if kind == "phone":
        return "".join(ch for ch in value if ch.isdigit())
    if kind in ("email", "address", "device"):
        return " ".join(value.lower().split())
    return value


def pseudonym(key: bytes, kind: str, value: str | None) -> str | None:
    """The keyed pseudonym of one identifier (None stays None).

    Args:
        key: the secret key.
        kind: account, party, name, phone, email, address, device or ip.
        value: the raw identifier.
    """
    if value is None or not str(value).strip():
        return None
    digest = hmac.new(key, f"{kind}\x1f{normalise(kind, str(value))}".encode(), hashlib.sha256).hexdigest()
    if kind == "phone":
        return "+999" + str(int(digest[:15], 16))[:12]
    if kind == "email":
        return f"{digest[:20]}@pseudonym.invalid"
    prefix = {"account": "acct", "party": "party", "name": "name", "address": "addr", "device": "dev", "ip": "ip"}[kind]
    return f"{prefix}-{digest[:20]}"


def _mapping(ws: Workspace, key: bytes, table: str, column: str, kind: str) -> None:
    """A temp table (raw, pseudonym) for the distinct values of one column: one hash per distinct value."""
    values = [r[0] for r in ws.sql(f'SELECT DISTINCT "{column}" FROM "{table}" WHERE "{column}" IS NOT NULL').fetchall()]
    import pyarrow as pa

    ws.put(f"__fm_map_{kind}_{column}", pa.table({"raw": pa.array(values, pa.string()),
                                                  "pseudo": pa.array([pseudonym(key, kind, v) for v in values],
                                                                     pa.string())}))


def _replace_columns(ws: Workspace, key: bytes, table: str, columns: dict[str, str]) -> list[str]:
    present = [c for c in columns if c in ws.columns(table)]
    for c in present:
        _mapping(ws, key, table, c, columns[c])
    if not present:
        return []
    select = ", ".join(f'm_{c}.pseudo AS "{c}"' if c in present else f't."{c}"' for c in ws.columns(table))
    joins = " ".join(f'LEFT JOIN "__fm_map_{columns[c]}_{c}" AS m_{c} ON m_{c}.raw = t."{c}"' for c in present)
    order = "ORDER BY t.txn_idx" if "txn_idx" in ws.columns(table) else ""
    ws.sql(f'CREATE OR REPLACE TABLE "{table}" AS SELECT {select} FROM "{table}" AS t {joins} {order}')
    for c in present:
        ws.sql(f'DROP TABLE "__fm_map_{columns[c]}_{c}"')
    return present


def pseudonymise_collected(ws: Workspace, key_file: str | Path | None = None) -> dict[str, Any]:
    """Pseudonymise the freshly loaded `txns`, `parties` and `quarantine` tables in place.

    Run by `collect` after loading and before accounts, postings and identifiers are derived.

    Returns:
        Facts for the manifest (what was replaced, dropped and scrubbed; where the key came from).
    """
    key, source = load_key(key_file)
    facts: dict[str, Any] = {"applied": True, "method": "HMAC-SHA256 of the normalised value", "key_source": source}
    # Known raw identifiers (names and accounts), gathered before they are replaced, for scrubbing free text.
    known: set[str] = set()
    for col in ("payer_account", "beneficiary_account"):
        known |= {r[0] for r in ws.sql(f"SELECT DISTINCT {col} FROM txns WHERE {col} IS NOT NULL").fetchall()}
    if ws.has("parties"):
        for col in ("account_id", "name", "phone", "email", "address"):
            if col in ws.columns("parties"):
                known |= {r[0] for r in ws.sql(f"SELECT DISTINCT {col} FROM parties WHERE {col} IS NOT NULL").fetchall()}
    cols = ws.columns("txns")
    if "counterparty_name" in cols:
        import re

        import pyarrow as pa

        # One alternation of every known identifier, longest first, searched in each distinct name once.
        alternatives = sorted({re.escape(v.lower()) for v in known if len(v.strip()) >= 3}, key=lambda v: (-len(v), v))
        pattern = re.compile("|".join([_EMAIL, _PHONE, _IP, *alternatives]))
        names = [r[0] for r in ws.sql("SELECT DISTINCT counterparty_name FROM txns WHERE counterparty_name IS NOT NULL")
                 .fetchall()]
        # A name that holds an identifier is removed whole: partial scrubbing would leave fragments behind.
        bad = [n for n in names if pattern.search(n.lower())]
        ws.put("__fm_bad_names", pa.table({"v": pa.array(bad, pa.string())}))
        ws.sql("UPDATE txns SET counterparty_name = NULL WHERE counterparty_name IN (SELECT v FROM __fm_bad_names)")
        ws.sql("DROP TABLE __fm_bad_names")
        facts["counterparty_names_removed"] = len(bad)
    dropped = [c for c in FREE_TEXT_DROPPED if c in cols]
    for c in dropped:
        ws.sql(f'ALTER TABLE txns DROP COLUMN "{c}"')
    facts["dropped_columns"] = dropped
    facts["transactions"] = _replace_columns(ws, key, "txns", TXN_COLUMNS)
    if ws.has("parties"):
        facts["parties"] = _replace_columns(ws, key, "parties", PARTY_COLUMNS)
    if ws.has("quarantine"):
        sensitive = ", ".join(f"'{c}'" for c in (*TXN_COLUMNS, *PARTY_COLUMNS, *FREE_TEXT_DROPPED, "counterparty_name"))
        ws.sql(f"""UPDATE quarantine SET raw_record = NULL,
                   raw_value = CASE WHEN column_name IN ({sensitive}) THEN NULL ELSE raw_value END""")
    # Free the pages that held raw values, so they do not linger in the database file.
    ws.sql("CHECKPOINT")
    return facts
