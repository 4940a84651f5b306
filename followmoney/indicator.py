"""The indicator base class: one file, one class, every fact about a red flag in one place.

An indicator subclass declares its metadata as class attributes and either `sql` (DuckDB dialect,
`$named` parameters, reading `postings`) or a numba `kernel` over sorted posting arrays. The class
is checked when it is defined, not when it runs: a broken definition is an
`IndicatorDefinitionError` at import time, naming the file and the rule it breaks.

Both implementations produce the same hit shape (see `followmoney.schema.HITS`):

* SQL returns one row per detection window with the columns `account_key`, `window_start`,
  `window_end`, `value`, `evidence` (BIGINT[] of `txn_idx`) and optionally `details` (JSON text).
* A kernel is called as `kernel(offsets, *inputs, *params)` on one bucket of postings sorted by
  (account_key, ts_s, txn_idx), where `offsets[a]:offsets[a+1]` are the rows of the bucket's
  a-th account, and returns `(start_row, end_row, value, ev_ptr, ev_rows)`: per hit the first and
  last row of its window and its measure, and the evidence rows of hit h in
  `ev_rows[ev_ptr[h]:ev_ptr[h+1]]`. A kernel with `kernel_details` returns a sixth array, one row
  of detail values per hit, which becomes `details` like an SQL indicator's extra columns.
  Inputs are postings columns, per-posting `kernel_expressions`, per-distinct-value
  `kernel_lookups` over a text column, or account-level inputs
  (`followmoney.kernels.inputs.ACCOUNT_INPUTS`), all computed in the one shared pass.

The engine turns either into hits and applies `severity` to get the score, so scoring, clusters,
cases and reports never special-case an indicator.
"""

from __future__ import annotations

import inspect
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from followmoney.errors import IndicatorDefinitionError
from followmoney.params import Param
from followmoney.schema import PARTIES, ROLES, TRANSACTIONS, TYPOLOGIES
from followmoney.sources import SOURCES, base_tag

if TYPE_CHECKING:
    from followmoney.kernels.inputs import ValueLookup


@dataclass(frozen=True)
class Family:
    """An indicator family: one of the categories A-L of the reference catalogue."""

    letter: str
    prefix: str
    name: str
    title: str


FAMILIES: dict[str, Family] = {
    f.name: f
    for f in (
        Family("A", "KYC", "customer_profile", "Customer / KYC profile"),
        Family("B", "BEH", "behavioural", "Behavioural (branch-observed)"),
        Family("C", "CSH", "cash", "Cash and deposit patterns"),
        Family("D", "GEO", "movement", "Movement and geography"),
        Family("E", "RUN", "running_costs", "Running costs of exploitation"),
        Family("F", "FLW", "flow_structure", "Flow structure"),
        Family("G", "PAY", "payment_instruments", "Payment instruments"),
        Family("H", "BUS", "front_business", "Business / front company"),
        Family("I", "LAB", "labour", "Labour exploitation and recruitment"),
        Family("J", "LUX", "lifestyle", "Lifestyle and integration"),
        Family("K", "NET", "network", "Network and shared identifiers"),
        Family("L", "EXT", "external", "External and contextual lists"),
    )
}
"""Families by name. An indicator id is the family's reserved prefix plus two digits."""

DOC_SECTIONS: tuple[str, ...] = ("What it flags", "Why it matters", "Typical false positives", "Data needed")
"""The `##` headings every indicator docstring has, in this order."""

DERIVED_COLUMNS: frozenset[str] = frozenset(
    {"account_key", "ts_s", "txn_idx", "counterparty_key", "local_hour", "local_day", "merchant_group", "channel_code",
     "city_code", "branch_code", "is_white_label", "is_crypto"}
)
"""Posting columns computed at ingest; SQL may read them without listing them in `requires`."""

SUPPORT_COLUMNS: frozenset[str] = frozenset(
    {"account_id", "party_id", "is_customer", "counterparty_country", "list_name", "value", "tag", "mcc",
     "merchant_group"}
)
"""Columns of the workspace's support tables (`accounts`, `lists`, `mcc_groups`) that SQL may read."""

_CANONICAL = frozenset(c.name for c in TRANSACTIONS)
_PARTY_COLUMNS = frozenset(c.name for c in PARTIES)
_ID = re.compile(r"^[A-Z]{3}\d{2}$")
_NAME = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)+$")
_REGISTERED: dict[str, type[Indicator]] = {}


class Indicator:
    """Base class of every indicator. Subclasses set the class attributes below.

    Attributes:
        id: family prefix plus two digits, e.g. "CSH01". Never reused.
        name: snake_case name from the reference catalogue, e.g. "structuring_below_threshold".
        title: one line for people.
        family: a key of `FAMILIES`.
        typologies: subset of `followmoney.schema.TYPOLOGIES`.
        sources: source tags of the reference (e.g. "F20", "F14(sec)").
        requires: canonical transaction columns the indicator reads.
        requires_parties: KYC columns (of `followmoney.schema.PARTIES`) the indicator reads; without
            them, or with a parties table that leaves them empty, it is skipped with the reason.
        requires_lists: names of the lists (`lists` table: `list_name`, `value`, `tag`) it reads;
            an empty or missing list skips it with the reason.
        params: declared parameters.
        sql: DuckDB SQL over `postings`, or None.
        kernel: numba-jitted function, or None.
        kernel_inputs: inputs passed to the kernel in argument order, with the dtype it expects:
            postings columns, names of `kernel_expressions` or `kernel_lookups`, or account-level
            inputs (`followmoney.kernels.inputs.ACCOUNT_INPUTS`).
        kernel_expressions: per-posting inputs as SQL expressions over postings columns (no
            parameters, joins or subqueries; portable to Spark; never NULL), computed in the pass.
        kernel_lookups: inputs with one value per distinct value of a postings text column
            (`followmoney.kernels.inputs.ValueLookup`), e.g. whether a payee name is on a list.
        kernel_details: extra hit columns the kernel returns, name -> "float64", "int64" or "bool";
            they become the hit's `details` JSON, in this order.
        role_hint: role the indicator suggests for the account it flags, or None.
        decisive: whether a hit alerts on its own, whatever the combined score.
        score_doc: what the score means, for the docs.
        reason: format string for alert reasons; `{value}` and every parameter are available.
    """

    id: ClassVar[str]
    name: ClassVar[str]
    title: ClassVar[str]
    family: ClassVar[str]
    typologies: ClassVar[tuple[str, ...]] = ()
    sources: ClassVar[tuple[str, ...]] = ()
    requires: ClassVar[tuple[str, ...]] = ()
    requires_parties: ClassVar[tuple[str, ...]] = ()
    requires_lists: ClassVar[tuple[str, ...]] = ()
    params: ClassVar[tuple[Param, ...]] = ()
    sql: ClassVar[str | None] = None
    kernel: ClassVar[Callable[..., Any] | None] = None
    kernel_inputs: ClassVar[dict[str, str]] = {}
    kernel_expressions: ClassVar[dict[str, str]] = {}
    kernel_lookups: ClassVar[dict[str, ValueLookup]] = {}
    kernel_details: ClassVar[dict[str, str]] = {}
    role_hint: ClassVar[str | None] = None
    decisive: ClassVar[bool] = False
    score_doc: ClassVar[str] = ""
    reason: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        _check_definition(cls)
        _REGISTERED[cls.id] = cls

    @classmethod
    def severity(cls, value: np.ndarray, params: dict[str, Any]) -> np.ndarray:
        """Map raw hit values to scores in [0, 1]. Every indicator documents its own rule."""
        raise NotImplementedError

    @classmethod
    def explain(cls, value: float, params: dict[str, Any]) -> str:
        """One human-readable line for an alert reason."""
        return f"{cls.id} {cls.name}: " + cls.reason.format(value=value, **params)

    @classmethod
    def doc_sections(cls) -> dict[str, str]:
        """The docstring split into its summary (key "") and its `##` sections.

        The docstring is the class's own, or else its module's: one indicator per file, so the
        module docstring at the top of the file is where readers look first.
        """
        own = cls.__dict__.get("__doc__") or sys.modules[cls.__module__].__doc__ or ""
        return _split_doc(inspect.cleandoc(own))

    @classmethod
    def case_file(cls) -> str:
        """Path of the case file that sits next to the indicator's module."""
        module_file = sys.modules[cls.__module__].__file__ or ""
        return re.sub(r"\.py$", ".cases.yml", module_file)


def _split_doc(doc: str) -> dict[str, str]:
    parts: dict[str, list[str]] = {"": []}
    current = ""
    for line in doc.splitlines():
        if line.startswith("## "):
            current = line[3:].strip()
            parts[current] = []
        else:
            parts[current].append(line)
    return {k: "\n".join(v).strip() for k, v in parts.items()}


def _check_definition(cls: type[Indicator]) -> None:
    where = f"{cls.__module__}.{cls.__qualname__}"
    problems: list[str] = []

    def need(cond: bool, msg: str) -> None:
        if not cond:
            problems.append(msg)

    for attr in ("id", "name", "title", "family"):
        need(isinstance(getattr(cls, attr, None), str), f"class attribute '{attr}' must be a string")
    if problems:
        raise IndicatorDefinitionError(f"{where}: " + "; ".join(problems))

    need(bool(_ID.match(cls.id)), f"id {cls.id!r} must be three capital letters and two digits")
    prior = _REGISTERED.get(cls.id)
    need(prior is None or prior.__qualname__ == cls.__qualname__ and prior.__module__ == cls.__module__,
         f"id {cls.id} is already used by {prior.__module__ if prior else ''}")
    need(bool(_NAME.match(cls.name)), f"name {cls.name!r} must be snake_case")
    fam = FAMILIES.get(cls.family)
    need(fam is not None, f"family {cls.family!r} is not one of {', '.join(FAMILIES)}")
    if fam is not None:
        need(cls.id.startswith(fam.prefix), f"id {cls.id} must start with {fam.prefix}, the prefix of {fam.name}")
    need(bool(cls.typologies) and set(cls.typologies) <= set(TYPOLOGIES),
         f"typologies must be a non-empty subset of {TYPOLOGIES}")
    need(bool(cls.sources), "sources must not be empty")
    unknown = [s for s in cls.sources if base_tag(s) not in SOURCES]
    need(not unknown, f"unknown source tags {unknown}; known: {', '.join(SOURCES)}")
    need(cls.role_hint is None or cls.role_hint in ROLES, f"role_hint must be one of {ROLES} or None")
    need(set(cls.requires) <= _CANONICAL, f"requires {sorted(set(cls.requires) - _CANONICAL)} are not canonical columns")
    need(set(cls.requires_parties) <= _PARTY_COLUMNS,
         f"requires_parties {sorted(set(cls.requires_parties) - _PARTY_COLUMNS)} are not parties columns")
    sections = cls.doc_sections()
    found = [k for k in sections if k]
    need(found == list(DOC_SECTIONS), f"docstring needs the sections {list(DOC_SECTIONS)} in order, found {found}")
    need(bool(sections.get("")), "docstring needs a summary line before the sections")
    need(bool(cls.score_doc), "score_doc must say what the score means")
    need(bool(cls.reason), "reason must be a format string for alert reasons")
    need("severity" in cls.__dict__, "severity() must be defined")
    need((cls.sql is None) != (cls.kernel is None), "set exactly one of sql and kernel")
    names = [p.name for p in cls.params]
    need(len(names) == len(set(names)), "parameter names must be unique")
    if cls.sql is not None:
        problems.extend(_check_sql(cls.sql, set(names), set(cls.requires) | set(cls.requires_parties)))
    if cls.kernel is not None:
        py = getattr(cls.kernel, "py_func", None)
        need(py is not None, "kernel must be a numba.njit function (cache=True, in an importable module)")
        if py is not None:
            args = list(inspect.signature(py).parameters)
            inputs = list(cls.kernel_inputs)
            need(args[1 : 1 + len(inputs)] == inputs,
                 f"kernel arguments after offsets must be the kernel_inputs {inputs}, got {args[1:1 + len(inputs)]}")
            need(args[1 + len(inputs):] == names, f"kernel arguments after the inputs must be the params {names}")
        from followmoney.kernels.inputs import ACCOUNT_INPUTS

        allowed = (set(cls.requires) | DERIVED_COLUMNS | set(cls.kernel_expressions) | set(cls.kernel_lookups)
                   | set(ACCOUNT_INPUTS))
        need(set(cls.kernel_inputs) <= allowed, f"kernel_inputs {sorted(set(cls.kernel_inputs) - allowed)} not in requires, "
             "kernel_expressions, kernel_lookups or the account-level inputs")
        for attr in ("kernel_expressions", "kernel_lookups"):
            extra = set(getattr(cls, attr)) - set(cls.kernel_inputs)
            need(not extra, f"{attr} {sorted(extra)} are not kernel_inputs")
        need(not set(cls.kernel_expressions) & set(cls.kernel_lookups), "an input is an expression or a lookup, not both")
        for name, lookup in cls.kernel_lookups.items():
            need(lookup.column in cls.requires, f"kernel_lookups[{name!r}] reads {lookup.column!r}, not in requires")
            need(lookup.dtype == cls.kernel_inputs.get(name, lookup.dtype),
                 f"kernel_lookups[{name!r}] gives {lookup.dtype}, kernel_inputs says {cls.kernel_inputs.get(name)}")
            problems.extend(f"kernel_lookups[{name!r}]: {p}" for p in _check_sql(
                lookup.over(f"(SELECT {lookup.column} AS raw FROM postings)"), set(),
                set(cls.requires) | set(cls.requires_parties)))
        for name, expr in cls.kernel_expressions.items():
            problems.extend(f"kernel_expressions[{name!r}]: {p}" for p in _check_sql(
                f"SELECT {expr} FROM postings", set(), set(cls.requires) | set(cls.requires_parties)))
            problems.extend(f"kernel_expressions[{name!r}]: {p}" for p in _check_streamable(expr))
        bad = {k: v for k, v in cls.kernel_details.items() if v not in ("float64", "int64", "bool")}
        need(not bad, f"kernel_details dtypes must be float64, int64 or bool: {bad}")
    if cls.reason:
        try:
            cls.reason.format(value=1.0, **{p.name: p.default for p in cls.params})
        except (KeyError, IndexError, ValueError) as err:
            problems.append(f"reason does not format with value and the params: {err}")
    if problems:
        raise IndicatorDefinitionError(f"{where} breaks the indicator rules:\n  - " + "\n  - ".join(problems))


def _check_streamable(expr: str) -> list[str]:
    """Problems that would make DuckDB plan a kernel expression as a join.

    The kernel pass trusts the stored order of postings; a join in its projection loses it and the
    pass falls back to a full sort. DuckDB plans `x IN (...)` with five or more values as a join
    (measured with duckdb 2.0), and any subquery as one.
    """
    import sqlglot
    from sqlglot import exp

    try:
        tree = sqlglot.parse_one(f"SELECT {expr}", read="duckdb")
    except sqlglot.errors.ParseError:
        return []  # reported by _check_sql
    problems = []
    if any(isinstance(n, exp.Select) for n in tree.find_all(exp.Select) if n is not tree):
        problems.append("no subqueries: the pass reads postings alone")
    for node in tree.find_all(exp.In):
        if len(node.expressions) >= 5:
            problems.append(f"an IN list of {len(node.expressions)} values is planned as a join by DuckDB, which "
                            "loses the stored order of postings: use followmoney.kernels.inputs.one_of")
    return problems


def _check_sql(sql: str, param_names: set[str], requires: set[str]) -> list[str]:
    import sqlglot
    from sqlglot import exp

    try:
        tree = sqlglot.parse_one(sql, read="duckdb")
    except sqlglot.errors.ParseError as err:
        return [f"sql does not parse as DuckDB SQL: {err}"]
    problems = []
    placeholders = {p.name for p in tree.find_all(exp.Placeholder)} | {
        p.this for p in tree.find_all(exp.Parameter) if isinstance(p.this, str)
    }
    placeholders |= {v.this.this for v in tree.find_all(exp.Parameter) if isinstance(v.this, exp.Var)}
    if placeholders != param_names:
        problems.append(f"sql placeholders {sorted(placeholders)} must equal the params {sorted(param_names)}")
    aliases = {a.alias for a in tree.find_all(exp.Alias)} | {c.alias_or_name for c in tree.find_all(exp.CTE)}
    columns = {c.name for c in tree.find_all(exp.Column)} - aliases
    extra = columns - requires - DERIVED_COLUMNS - SUPPORT_COLUMNS
    if extra:
        problems.append(f"sql reads columns {sorted(extra)} that are not in requires")
    return problems


def registered() -> dict[str, type[Indicator]]:
    """Every indicator class defined so far, by id. Use `followmoney.registry` to discover them."""
    return dict(_REGISTERED)
