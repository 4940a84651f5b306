"""Profiles: how one bank's files map onto the canonical tables, and the case's thresholds.

A profile is YAML. Layers merge, later wins: built-in defaults < jurisdiction (`US`, `CA`, `EU`,
`UK`, in `followmoney/data/jurisdictions/`) < the user's profile file < explicit options.
Unknown keys are errors with a suggestion, never silently ignored. `docs/profiles.md` documents
every key with an example.
"""

from __future__ import annotations

import copy
import difflib
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import duckdb
import yaml

from followmoney.errors import ProfileError

JURISDICTIONS: tuple[str, ...] = ("US", "CA", "EU", "UK")

DEFAULTS: dict[str, Any] = {
    "name": "default",
    "jurisdiction": None,
    "reporting_currency": "USD",
    "timezone": "UTC",
    "max_reject_rate": 0.01,
    "period": {"since": None, "until": None},
    "rates": None,
    "transactions": {
        "columns": {},
        "codes": {},
        "timestamp_format": None,
        "default_currency": None,
        "default_channel": None,
        "channel_rules": [],
        "statement": None,
        "csv": {"delimiter": None, "encoding": "utf-8", "decimal_comma": False, "thousands": None, "header": True},
    },
    "parties": {
        "columns": {},
        "date_format": None,
        "csv": {"delimiter": None, "encoding": "utf-8", "decimal_comma": False, "thousands": None, "header": True},
    },
    "indicators": {},
    "scoring": {"alert_threshold": 0.5, "weights": {}, "decisive": None, "min_families": 3, "span_days": 90,
                "young_factor": 1.25, "young_max_age": 25, "young_account_days": 180},
    "link": {"max_accounts_per_identifier": 20, "min_shared_beneficiary_senders": 2,
             "default_country_code": None, "max_units_per_building": 6, "exclude_identifiers": [],
             "max_edges": 2_000_000},
    "watchlist": None,
    "lists": {},
    # goAML report header fields and the FIU's own code lists (see followmoney/goaml.py).
    "goaml": {"institution_name": None, "institution_code": None, "rentity_id": None, "rentity_branch": None,
              "country": None, "transmode_codes": {}, "indicator_codes": {}},
}
"""Every key a profile may set, with its default."""

STATEMENT_KEYS = frozenset(
    {"account", "date", "amount", "debit", "credit", "counterparty", "counterparty_name", "description",
     "txn_id", "currency", "channel"}
)


@dataclass
class Profile:
    """A resolved profile: the merged settings plus where they came from.

    Attributes:
        settings: merged mapping with every key of `DEFAULTS`.
        sources: the layers merged, in order (e.g. ["defaults", "jurisdiction:US", "file:bank.yml"]).
    """

    settings: dict[str, Any]
    sources: list[str] = field(default_factory=list)

    def __getitem__(self, key: str) -> Any:
        return self.settings[key]

    @property
    def digest(self) -> str:
        """SHA-256 of the merged settings, recorded in the manifest so a run can be reproduced."""
        text = json.dumps(self.settings, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()


def _merge(base: dict[str, Any], layer: Mapping[str, Any], path: str, strict: bool, problems: list[str]) -> None:
    for key, value in layer.items():
        if strict and key not in base:
            hint = difflib.get_close_matches(str(key), [str(k) for k in base], n=1)
            did = f" Did you mean '{hint[0]}'?" if hint else ""
            problems.append(f"Unknown profile key '{path}{key}'.{did}")
            continue
        # Mappings whose keys are the user's own (column names, codes, indicator ids) merge freely.
        free = path + key in {"transactions.columns", "transactions.codes", "parties.columns", "indicators",
                              "scoring.weights", "lists", "goaml.transmode_codes", "goaml.indicator_codes"} or path.startswith(("indicators.", "transactions.codes."))
        if isinstance(value, Mapping) and isinstance(base.get(key), Mapping):
            _merge(base[key], value, f"{path}{key}.", strict and not free, problems)
        else:
            base[key] = copy.deepcopy(value)


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as err:
        raise ProfileError(f"Cannot read profile {path}: {err}") from None
    if not isinstance(data, dict):
        raise ProfileError(f"Profile {path} must be a YAML mapping, got {type(data).__name__}.")
    return data


def jurisdiction_layer(code: str) -> dict[str, Any]:
    """The built-in settings of a jurisdiction."""
    code = code.upper()
    if code not in JURISDICTIONS:
        raise ProfileError(f"Unknown jurisdiction {code!r}; built in: {', '.join(JURISDICTIONS)}.")
    # One segment per joinpath: `followmoney.data` is a namespace package, whose MultiplexedPath takes one.
    text = resources.files("followmoney.data").joinpath("jurisdictions").joinpath(f"{code}.yml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


def _check_period(period: Mapping[str, Any]) -> list[str]:
    """Problems with `period.since` / `period.until`: each must be an ISO date, since <= until."""
    if not isinstance(period, Mapping):
        return ["period must be a mapping with 'since' and/or 'until'."]
    problems, days = [], {}
    for key in ("since", "until"):
        value = period.get(key)
        if value is None:
            continue
        try:
            day = value if isinstance(value, date) else date.fromisoformat(str(value))
            days[key] = day.date() if isinstance(day, datetime) else day
        except ValueError:
            problems.append(f"period.{key} {value!r} is not a date (YYYY-MM-DD).")
    if len(days) == 2 and days["since"] > days["until"]:
        problems.append(f"period.since {days['since']} is after period.until {days['until']}.")
    return problems


def _check_timezone(tz: Any) -> list[str]:
    """A problem when DuckDB, which converts the timestamps, does not know the time zone."""
    try:
        with duckdb.connect() as con:
            con.execute("SELECT timezone($tz, TIMESTAMP '2024-01-01 12:00')", {"tz": str(tz)}).fetchall()
    except duckdb.Error as err:
        return [f"timezone {tz!r} is not a known time zone (an IANA name such as 'Europe/Berlin'): "
                f"{str(err).splitlines()[0]}"]
    return []


def _check_channel_rules(rules: Any) -> list[str]:
    """Problems with `transactions.channel_rules`: a list of {pattern, channel} with patterns DuckDB accepts."""
    if not rules:
        return []
    if not isinstance(rules, list):
        return ["transactions.channel_rules must be a list of {pattern: REGEX, channel: CHANNEL}."]
    problems = []
    with duckdb.connect() as con:
        for n, rule in enumerate(rules, start=1):
            if not isinstance(rule, Mapping) or set(rule) != {"pattern", "channel"}:
                problems.append(f"transactions.channel_rules[{n}] must have exactly 'pattern' and 'channel', got {rule!r}.")
                continue
            try:
                con.execute("SELECT regexp_matches('', $p)", {"p": str(rule["pattern"])}).fetchall()
            except duckdb.Error as err:
                problems.append(f"transactions.channel_rules[{n}] pattern {rule['pattern']!r} is not a valid "
                                f"regular expression: {str(err).splitlines()[0]}")
    return problems


def load_profile(
    profile: str | Path | Mapping[str, Any] | None = None,
    jurisdiction: str | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Profile:
    """Merge defaults, jurisdiction, a profile file (or mapping) and overrides.

    Args:
        profile: path of a YAML profile, or an already-parsed mapping.
        jurisdiction: a built-in jurisdiction code; when None the profile's own `jurisdiction` key is used.
        overrides: top-level keys set last (the API and CLI use it for options such as `period`).

    Raises:
        ProfileError: unreadable file, unknown key or unknown jurisdiction, all problems at once.
    """
    settings = copy.deepcopy(DEFAULTS)
    sources = ["defaults"]
    user: dict[str, Any] = {}
    if isinstance(profile, Mapping):
        user, user_name = dict(profile), "mapping"
    elif profile is not None:
        user, user_name = _read_yaml(Path(profile)), f"file:{Path(profile).name}"
        # Files a profile names are found beside the profile, wherever the scan is started from.
        base = Path(profile).resolve().parent
        for key in ("rates", "watchlist"):
            if isinstance(user.get(key), str) and not Path(user[key]).is_absolute():
                user[key] = str(base / user[key])
        for name, spec in (user.get("lists") or {}).items():
            spec = {"path": spec} if isinstance(spec, str) else dict(spec or {})
            if isinstance(spec.get("path"), str) and not Path(spec["path"]).is_absolute():
                spec["path"] = str(base / spec["path"])
            user["lists"][name] = spec
    code = jurisdiction or user.get("jurisdiction")
    problems: list[str] = []
    if code:
        _merge(settings, jurisdiction_layer(code), "", True, problems)
        sources.append(f"jurisdiction:{str(code).upper()}")
    if user:
        _merge(settings, user, "", True, problems)
        sources.append(user_name)
    if jurisdiction:
        settings["jurisdiction"] = jurisdiction.upper()
    if overrides:
        _merge(settings, overrides, "", True, problems)
        sources.append("overrides")
    statement = settings["transactions"]["statement"]
    if statement is not None:
        unknown = sorted(set(statement) - STATEMENT_KEYS)
        if unknown:
            problems.append(f"Unknown statement keys {unknown}; known: {sorted(STATEMENT_KEYS)}.")
        if "account" not in statement or "date" not in statement:
            problems.append("A statement profile needs at least 'account' and 'date'.")
        if "amount" not in statement and not {"debit", "credit"} <= set(statement):
            problems.append("A statement profile needs 'amount' (signed) or both 'debit' and 'credit'.")
    if not 0 <= float(settings["max_reject_rate"]) < 1:
        problems.append("max_reject_rate must be in [0, 1).")
    problems.extend(_check_period(settings["period"]))
    problems.extend(_check_timezone(settings["timezone"]))
    problems.extend(_check_channel_rules(settings["transactions"]["channel_rules"]))
    if problems:
        raise ProfileError("The profile has problems:\n" + "\n".join(f"  - {p}" for p in problems))
    return Profile(settings, sources)
