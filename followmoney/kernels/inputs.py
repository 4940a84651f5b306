"""Kernel inputs that are not stored postings columns, defined once for every engine.

A kernel reads numeric arrays of one bucket of postings. Four kinds of input fill them:

* postings columns, read as stored;
* per-posting expressions an indicator declares (`kernel_expressions`): SQL over postings columns,
  evaluated by the engine in the same pass that reads postings, so a text or group test (say
  "merchant group is rent or groceries") costs one projection, not another scan;
* account-level inputs (`ACCOUNT_INPUTS` below): one value per account, gathered onto its postings.
  They come from small tables (`accounts`, `parties`) and cannot be a projection of postings;
* value lookups an indicator declares (`kernel_lookups`, `ValueLookup` below): one value per distinct
  value of a text column, e.g. "this payee name is on the ad-site list" or "the normalised city".
  Text matching against lists is a join, and names repeat millions of times: the lookup runs once
  over the few hundred distinct names, and each posting gets its name's value.

Why gathered and not joined: DuckDB streams postings in their stored order and a join would not
keep it (the pass would have to sort again, the cost the shared pass exists to avoid); Spark
shuffles postings into buckets anyway, so there it is a join before the shuffle. Both give each
posting the same value, so kernels see identical arrays on either engine. For lookups, DuckDB's
pass reads a 64-bit hash of the text column (a projection, so the order holds) and the engine maps
it to the value's code and the code to the lookup's value per bucket (`followmoney.kernels.codes`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

SQL_TYPES = {"int8": "TINYINT", "int16": "SMALLINT", "int32": "INTEGER", "int64": "BIGINT", "float32": "FLOAT",
             "float64": "DOUBLE", "bool": "BOOLEAN"}
"""SQL type (DuckDB dialect, transpiled for Spark) of each kernel input dtype."""


@dataclass(frozen=True)
class AccountInput:
    """One value per account, available to kernels by name.

    Attributes:
        dtype: numpy dtype the kernel receives.
        sql: DuckDB SQL (portable to Spark) returning `account_key` and `value`, at most one row per
            account; accounts without a row get `missing`.
        missing: the value for accounts the query does not return.
        needs: workspace tables the query reads; without them every account gets `missing`.
    """

    dtype: str
    sql: str
    missing: float
    needs: tuple[str, ...] = ()


ACCOUNT_INPUTS: dict[str, AccountInput] = {
    "is_customer": AccountInput(
        "int8", "SELECT account_key, CASE WHEN is_customer THEN 1 ELSE 0 END AS value FROM accounts", 0,
        ("accounts",)),
    # The largest income any party row of the account declares: the one a customer's spending is
    # measured against (joint holders' rows included, as the SQL rules did).
    "declared_income": AccountInput(
        "float64",
        """SELECT c.account_key, max(k.declared_income) AS value
           FROM parties AS k JOIN accounts AS c ON c.account_id = k.account_id
           WHERE k.declared_income IS NOT NULL GROUP BY c.account_key""",
        float("nan"), ("parties", "accounts")),
    # Whether every party row of the account says it is a personal account (no row says otherwise).
    "is_personal": AccountInput(
        "int8",
        """SELECT c.account_key, CASE WHEN bool_and(lower(k.account_type) = 'personal') THEN 1 ELSE 0 END AS value
           FROM parties AS k JOIN accounts AS c ON c.account_id = k.account_id GROUP BY c.account_key""",
        0, ("parties", "accounts")),
    # The end of the data, the same on every row: rules that need complete periods compare to it.
    "data_end_s": AccountInput(
        "int64", "SELECT a.account_key, e.value FROM accounts AS a CROSS JOIN "
                 "(SELECT max(ts_s) AS value FROM postings) AS e", 0, ("accounts",)),
}
"""Account-level kernel inputs by name."""


@dataclass(frozen=True)
class ValueLookup:
    """One value per distinct value of a postings text column, available to a kernel by name.

    Attributes:
        column: the postings column whose values are looked up (e.g. `counterparty_name`).
        sql: DuckDB SQL (portable to Spark) returning `raw` and `value`, at most one row per `raw`.
            It reads the column's distinct non-null values as `{values}`, a relation with the one
            column `raw`; `raw` values it does not return get `missing`.
        dtype: numpy dtype the kernel receives.
        missing: the value for postings whose column is NULL or whose value the query leaves out.
    """

    column: str
    sql: str
    dtype: str
    missing: float = 0

    def over(self, values: str) -> str:
        """The lookup's SQL reading the distinct values from relation `values` (column `raw`)."""
        return self.sql.replace("{values}", values)


def lookups_of(plan: list) -> dict[str, ValueLookup]:
    """{pass column alias: lookup} for every value lookup of `plan`."""
    return {expression_alias(cls.id, name): lookup for cls, _ in plan for name, lookup in cls.kernel_lookups.items()}


def lookup_columns(plan: list) -> list[str]:
    """The postings columns the lookups of `plan` read, in first-use order."""
    return list(dict.fromkeys(lookup.column for lookup in lookups_of(plan).values()))


def distinct_values(column: str) -> str:
    """The relation of a column's distinct non-null values as `raw`, for `ValueLookup.over`."""
    return f"(SELECT DISTINCT {column} AS raw FROM postings WHERE {column} IS NOT NULL)"


def account_inputs_of(plan: list) -> list[str]:
    """Names of the account-level inputs the kernels of `plan` read, in first-use order."""
    names: list[str] = []
    for cls, _ in plan:
        for col in cls.kernel_inputs:
            if col in ACCOUNT_INPUTS and col not in cls.kernel_expressions and col not in cls.kernel_lookups \
                    and col not in names:
                names.append(col)
    return names


def expression_alias(ind_id: str, name: str) -> str:
    """Column name an indicator's expression or lookup input gets in the pass (indicators may reuse names)."""
    return f"__fm_{ind_id}__{name}"


def bucket_column(cls: Any, name: str) -> str:
    """The bucket column that holds kernel input `name` of indicator `cls`."""
    return expression_alias(cls.id, name) if name in cls.kernel_expressions or name in cls.kernel_lookups else name


CODED_COLUMNS = ("merchant_group", "channel")
"""Postings columns whose values come from followmoney's own vocabularies (`data/mcc_groups.csv`,
`schema.CHANNELS`): snake_case words, never a `|` (tested), so `one_of` is exact on them."""


def one_of(column: str, values: tuple[str, ...] | list[str]) -> str:
    """A kernel expression: whether `column` (merchant group or channel) is one of `values`; never NULL.

    Written as a search in one delimited string, `contains('|a|b|', '|' || column || '|')`, not as
    `CASE column WHEN 'a' ... END` or `column IN (...)`: DuckDB evaluates it once per distinct value of
    the column's dictionary, 4x faster than a CASE of 12 values over 20 M postings (measured), and it
    keeps the stored order (no join; an IN list of five values or more is planned as one). Exact
    because the column's vocabulary holds no `|`.
    """
    if column not in CODED_COLUMNS:
        raise ValueError(f"one_of is exact only on {CODED_COLUMNS}, not {column!r}")
    if any("|" in v or not v for v in values):
        raise ValueError(f"values must be non-empty and without '|': {values}")
    return f"coalesce(contains('|{'|'.join(values)}|', '|' || {column} || '|'), false)"


def code_in(column: str, values: tuple[str, ...] | list[str]) -> str:
    """A kernel expression: a distinct positive code for each of `values` in `column`, 0 for any other.

    `one_of`'s delimited-string search, with the match's position as the code (so also evaluated per
    dictionary entry, and exact on the same columns).
    """
    one_of(column, values)  # the same checks
    return f"coalesce(strpos('|{'|'.join(values)}|', '|' || {column} || '|'), 0)"


def expressions_of(plan: list) -> dict[str, tuple[str, str]]:
    """{pass column alias: (SQL expression, dtype)} for every expression input of `plan`."""
    out = {}
    for cls, _ in plan:
        for name, expr in cls.kernel_expressions.items():
            out[expression_alias(cls.id, name)] = (expr, cls.kernel_inputs[name])
    return out


def dense_account_array(table: pa.Table, name: str, n_accounts: int) -> np.ndarray:
    """A value per account key 0..n_accounts-1 from an (account_key, value) table, `missing` elsewhere."""
    spec = ACCOUNT_INPUTS[name]
    out = np.full(n_accounts, spec.missing, dtype=spec.dtype)
    if table.num_rows:
        keys = table.column("account_key").to_numpy().astype(np.int64)
        values = table.column("value").to_numpy(zero_copy_only=False)
        present = ~np.isnan(values.astype(np.float64)) if values.dtype.kind == "f" else np.ones(len(keys), bool)
        out[keys[present]] = values[present].astype(spec.dtype)
    return out
