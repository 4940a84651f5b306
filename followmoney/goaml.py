"""goAML STR drafts: one XML report per case, in UNODC's goAML report format (schema 5.0.1).

Each draft holds the report header, the case's evidence transactions with their from and to
parties, the reason (the key terms FinCEN and FINTRAC ask for, the subjects and the indicators) and
the narrative as the action text, and the report indicators. It is a draft: the entity reference
starts with `DRAFT-`, the reason opens with "DRAFT - NOT FILED", and what the data cannot know
(the reporting officer, passport or tax numbers) is filled with `TO BE COMPLETED` or the schema's
"unknown" code `-`. Possible victims may appear as parties of transactions; they are never named
as subjects.

Codes FIUs define for themselves (transaction modes, funds types, report indicators) are set from
the profile's `goaml` section where given, and otherwise left as `-`; when a schema is given, a code
that is not in its code list also falls back to `-`, so a draft always validates. Drafts are
deterministic: the report date is the date of the case's last transaction, not the clock.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

from followmoney.workspace import Workspace

log = logging.getLogger("followmoney")

KEY_TERMS = "HUMAN TRAFFICKING FIN-2020-A008 #PROTECT"
"""FinCEN's advisory key term and FINTRAC's Project PROTECT tag, as the two FIUs ask filers to write them."""

TBC = "TO BE COMPLETED"
MAX_TRANSACTIONS = 500
"""Evidence transactions per draft; a larger case lists the first ones and says how many were left out."""


def load_schema(path: str | Path) -> Any:
    """Load a goAML XSD (XSD 1.1) with xmlschema.

    Raises:
        FileNotFoundError: the file does not exist.
    """
    import xmlschema

    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"goAML schema not found: {path}")
    return xmlschema.XMLSchema11(str(path))


def _enum(schema: Any, type_name: str) -> set[str] | None:
    if schema is None:
        return None
    t = schema.types.get(type_name)
    values = getattr(t, "enumeration", None) if t is not None else None
    return set(values) if values else None


def _date(ts: Any) -> str:
    return (ts.strftime("%Y-%m-%dT%H:%M:%S") if hasattr(ts, "strftime") else str(ts)[:19].replace(" ", "T")) \
        if ts is not None else "1900-01-01T00:00:00"


def _sub(parent: ET.Element, tag: str, text: Any = None) -> ET.Element:
    el = ET.SubElement(parent, tag)
    if text is not None:
        el.text = str(text)
    return el


def _clip(text: str | None, n: int) -> str:
    text = text or "-"
    return text if len(text) <= n else text[: n - 1] + "…"


class GoamlWriter:
    """Builds goAML drafts from case records.

    Args:
        ws: the case workspace (KYC parties, accounts, profile settings).
        schema_path: XSD to validate against and to read code lists from; None to skip validation.
    """

    def __init__(self, ws: Workspace, schema_path: str | Path | None = None):
        self.ws = ws
        self.schema = load_schema(schema_path) if schema_path else None
        settings = ws.get_meta("profile", {}) or {}
        self.cfg: dict[str, Any] = settings.get("goaml") or {}
        self.currency = settings.get("reporting_currency") or "USD"
        self.errors: dict[str, list[str]] = {}
        self._indicator_codes = _enum(self.schema, "report_indicator_type")
        self._conduction = _enum(self.schema, "conduction_type")
        self._countries = _enum(self.schema, "country_type")
        self._currencies = _enum(self.schema, "currency_type")
        self.parties = self._parties()
        self.customers = {r[0] for r in ws.sql("SELECT account_id FROM accounts WHERE is_customer").fetchall()}

    def _parties(self) -> dict[str, dict[str, Any]]:
        if not self.ws.has("parties"):
            return {}
        cols = set(self.ws.columns("parties"))
        pick = [c for c in ("name", "birth_date", "phone", "occupation", "opened_at", "home_city") if c in cols]
        if not pick:
            return {}
        rows = self.ws.sql(f"""SELECT account_id, {', '.join(pick)} FROM parties
                               ORDER BY account_id, coalesce(relation, 'holder') <> 'holder', party_id NULLS LAST""").fetchall()
        out: dict[str, dict[str, Any]] = {}
        for r in rows:
            out.setdefault(r[0], dict(zip(pick, r[1:], strict=True)))
        return out

    def _code(self, kind: str, key: str | None, allowed: set[str] | None) -> str:
        code = (self.cfg.get(kind) or {}).get(key) if key else None
        if code is None or (allowed is not None and str(code) not in allowed):
            return "-"
        return str(code)

    def _country(self, code: str | None) -> str:
        if not code or (self._countries is not None and code not in self._countries):
            return "-"
        return code

    def _person_my_client(self, parent: ET.Element, tag: str, account: str) -> None:
        kyc = self.parties.get(account, {})
        first, _, last = (kyc.get("name") or "").strip().rpartition(" ")
        p = _sub(parent, tag)
        _sub(p, "first_name", _clip(first or TBC, 100))
        _sub(p, "last_name", _clip(last or TBC, 100))
        _sub(p, "birthdate", _date(kyc.get("birth_date")))
        _sub(p, "ssn", TBC)
        _sub(p, "nationality1", "-")
        _sub(p, "residence", "-")
        phone = _sub(_sub(p, "phones"), "phone")
        _sub(phone, "tph_contact_type", "-")
        _sub(phone, "tph_communication_type", "-")
        _sub(phone, "tph_country_prefix", "-")
        _sub(phone, "tph_number", _clip(kyc.get("phone") or TBC, 50))
        _sub(p, "occupation", _clip(kyc.get("occupation") or TBC, 255))

    def _account(self, parent: ET.Element, tag: str, account: str, client: bool) -> None:
        a = _sub(parent, tag)
        _sub(a, "institution_name", _clip(self.cfg.get("institution_name") or TBC, 255))
        _sub(a, "institution_code", _clip(self.cfg.get("institution_code") or TBC, 50))
        if client:
            _sub(a, "branch", "-")
        _sub(a, "account", _clip(account, 50))
        if client:
            _sub(a, "currency_code", self.currency if self._currencies is None or self.currency in self._currencies else "-")
            _sub(a, "account_name", _clip(self.parties.get(account, {}).get("name") or account, 255))
            _sub(a, "client_number", _clip(account, 30))
        _sub(a, "personal_account_type", "-")
        signatory = _sub(a, "signatory")
        if client:
            _sub(signatory, "is_primary", "1")
            self._person_my_client(signatory, "t_person", account)
            _sub(signatory, "role", "-")
            _sub(a, "opened", _date(self.parties.get(account, {}).get("opened_at")))
        else:
            person = _sub(signatory, "t_person")
            _sub(person, "first_name", TBC)
            _sub(person, "last_name", "UNKNOWN HOLDER")
        _sub(a, "balance", "0")
        _sub(a, "status_code", "-")

    def _side(self, t: ET.Element, side: str, account: str | None, what: str, country: str | None) -> None:
        """The from or to side of a transaction: our client's account, another account, or an entity."""
        client = account is not None and account in self.customers
        el = _sub(t, f"t_{side}_my_client" if client else f"t_{side}")
        _sub(el, f"{side}_funds_code", "-")
        _sub(el, f"{side}_funds_comment", _clip(what, 255))
        if account is not None:
            self._account(el, f"{side}_account", account, client)
        else:
            _sub(_sub(el, f"{side}_entity"), "name", _clip(what.upper(), 255))
        _sub(el, f"{side}_country", self._country(country))

    def draft(self, record: dict[str, Any]) -> str | None:
        """The goAML XML draft of one case record (see `followmoney.outputs.cases.case_record`).

        Returns None for a case without evidence transactions: a goAML report needs at least one.
        """
        evidence = record["evidence"]
        if not evidence:
            return None
        last = max((e["ts"] for e in evidence), default=record["key_figures"]["last_ts"])
        r = ET.Element("report")
        _sub(r, "rentity_id", int(self.cfg.get("rentity_id") or 1))
        _sub(r, "rentity_branch", _clip(self.cfg.get("rentity_branch") or "-", 255))
        _sub(r, "submission_code", "E")
        _sub(r, "report_code", "STR")
        _sub(r, "entity_reference", _clip(f"DRAFT-{record['case_id']}", 255))
        _sub(r, "report_date", _date(last))
        _sub(r, "currency_code_local", self.currency if self._currencies is None or self.currency in self._currencies else "-")
        person = _sub(r, "reporting_person")
        _sub(person, "first_name", TBC)
        _sub(person, "last_name", TBC)
        _sub(person, "passport_number", TBC)
        loc = _sub(r, "location")
        _sub(loc, "address_type", "-")
        _sub(loc, "address", TBC)
        _sub(loc, "city", TBC)
        _sub(loc, "country_code", self._country(self.cfg.get("country")))
        subjects = ", ".join(s["account_id"] for s in record["subjects"]) or "none identified"
        indicators = ", ".join(f"{i['indicator_id']} ({i['name'] or '-'})" for i in record["indicators"]) or "none"
        reason = (f"DRAFT - NOT FILED. {KEY_TERMS}. Subjects: {subjects}. Indicators: {indicators}. "
                  f"Case {record['case_id']}, score {record['score']:.2f}.")
        _sub(r, "reason", _clip(reason, 8000))
        omitted = max(0, len(evidence) - MAX_TRANSACTIONS)
        action = record["narrative"] + (f"\n{omitted} further evidence transaction(s) are in the case file." if omitted else "")
        _sub(r, "action", _clip(f"{KEY_TERMS}\n{action}", 8000))
        for e in evidence[:MAX_TRANSACTIONS]:
            t = _sub(r, "transaction")
            _sub(t, "transactionnumber", _clip(e["txn_id"], 100))
            _sub(t, "transaction_location", _clip(e.get("city") or "-", 255))
            _sub(t, "transaction_description", _clip(f"{e['channel']} payment, evidence of case {record['case_id']}", 8000))
            _sub(t, "date_transaction", _date(e["ts"]))
            _sub(t, "transmode_code", self._code("transmode_codes", e["channel"], self._conduction))
            _sub(t, "transmode_comment", _clip(e["channel"], 50))
            _sub(t, "amount_local", f"{e['amount']:.2f}")
            cash = e["channel"] in ("cash", "atm")
            self._side(t, "from", e["payer_account"], "cash deposit" if cash and not e["payer_account"] else "account",
                       None)
            to_what = ("cash withdrawal" if cash else e.get("counterparty_name") or f"{e['channel']} payment") \
                if not e["beneficiary_account"] else "account"
            self._side(t, "to", e["beneficiary_account"], to_what, e.get("beneficiary_country"))
        ri = _sub(r, "report_indicators")
        codes = sorted({self._code("indicator_codes", i["indicator_id"], self._indicator_codes)
                        for i in record["indicators"]}) or ["-"]
        for code in codes:
            _sub(ri, "indicator", code)
        ET.indent(r)
        text = ('<?xml version="1.0" encoding="UTF-8"?>\n<!-- DRAFT - NOT FILED: generated by followmoney for review -->\n'
                + ET.tostring(r, encoding="unicode") + "\n")
        if self.schema is not None:
            errors = [f"{e.path}: {e.reason}" for e in self.schema.iter_errors(text)]
            if errors:
                self.errors[record["case_id"]] = errors[:5]
                log.warning("goAML draft of case %s does not validate: %s", record["case_id"], errors[0])
        return text
