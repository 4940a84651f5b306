"""SQL written once in DuckDB's dialect, rendered for Spark, and the functions allowed in it.

Indicators write DuckDB SQL. The Spark engine renders it with sqlglot (`$name` parameters become
Spark's `:name`, bound by `spark.sql(text, args=params)`), after followmoney's patches:

* DuckDB's ordered aggregate `list(x ORDER BY k1, k2)` would become `COLLECT_LIST(x)`, silently
  dropping the order the evidence contract relies on; it is rewritten to sort an array of structs
  (`TRANSFORM(ARRAY_SORT(COLLECT_LIST(NAMED_STRUCT(...))), s -> s.v)`).
* Spark has no `count(DISTINCT x) OVER (...)`; the distinct count of a window frame is the size of
  the set of its non-null values, `SIZE(COLLECT_SET(x) OVER (...))`, over the same frame.
* `regexp_replace(s, pattern, replacement, 'g')` is allowed only with DuckDB's `'g'` flag: without
  it DuckDB replaces the first match only, Spark always replaces every match.
* Every function must be on `PORTABLE_FUNCTIONS`: a clean translation is not proof. sqlglot passes
  unknown DuckDB functions through unchanged (`to_days`, `list_sum`), and translates some to the
  wrong meaning (`epoch_ms(ts)` became the opposite conversion), so only functions whose behaviour
  was compared on both engines are allowed. `tests/test_transpile.py` checks every registered
  indicator against the list, and the Spark parity tests run every case on both engines.

This module imports sqlglot only: no engine.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import sqlglot
from sqlglot import exp

from followmoney.errors import FollowMoneyError

PORTABLE_FUNCTIONS: frozenset[str] = frozenset({
    # aggregates and window functions
    "Count", "Sum", "Min", "Max", "Avg", "ArrayAgg", "AnyValue", "LogicalOr", "LogicalAnd", "Stddev", "StddevSamp", "StddevPop", "Variance",
    "VariancePop", "Lag", "Lead", "RowNumber", "Rank", "DenseRank", "FirstValue", "LastValue",
    # scalar arithmetic
    "Abs", "Round", "Floor", "Ceil", "Sqrt", "Ln", "Exp", "Pow", "Greatest", "Least", "Sign",
    # conditionals and casts
    "Case", "If", "Coalesce", "Nullif", "Cast", "TryCast",
    # text (`RegexpReplace` only with the 'g' flag, see `check_portable`)
    "Lower", "Upper", "Trim", "Length", "Substring", "Concat", "Contains", "StartsWith", "EndsWith", "Right",
    "RegexpReplace",
    # strpos(s, sub) is Spark's locate(sub, s): 1-based, 0 when absent, NULL with a NULL argument
    "StrPosition",
    # time (epoch seconds are the portable axis; `ts` only for min/max and comparisons)
    "Extract", "DateTrunc", "TimestampTrunc", "Hour",
    # array literals: DuckDB `[a, b]` is Spark `ARRAY(a, b)`
    "Array",
    # arrays built by the rewrite of ordered `list()`; not for indicators to call directly
    "Transform", "ArraySort", "Struct", "StructExtract", "Lambda",
})
"""sqlglot expression classes (by class name) whose DuckDB and Spark behaviour agree.

Before adding one, run the parity tests (`pytest -m spark`) with an indicator that uses it.
"""


class NotPortableError(FollowMoneyError):
    """SQL that uses a function outside the portable allow-list, or a construct Spark cannot mirror."""


def check_portable(sql: str) -> list[str]:
    """Problems that stop `sql` (DuckDB dialect) from running the same way on Spark.

    Args:
        sql: an indicator's SQL in DuckDB's dialect.

    Returns:
        One message per problem; empty when the SQL only uses portable functions.
    """
    tree = sqlglot.parse_one(sql, read="duckdb")
    problems = []
    for node in tree.find_all(exp.Func):
        name = type(node).__name__
        if isinstance(node, exp.Connector | exp.Binary):
            continue  # AND, OR, arithmetic and comparisons: operators, the same on both engines
        if isinstance(node, exp.Anonymous):
            problems.append(f"function {node.name}() is unknown to sqlglot and would pass to Spark untranslated")
        elif name not in PORTABLE_FUNCTIONS:
            problems.append(f"function {node.sql('duckdb')[:60]!r} ({name}) is not on the portable allow-list "
                            "in followmoney/engines/dialects.py")
    for node in tree.find_all(exp.Window):
        if node.find(exp.Distinct) and not _is_windowed_distinct_count(node):
            problems.append(f"{node.this.sql('duckdb')[:60]!r}: DISTINCT inside a window function is supported on "
                            "Spark only as count(DISTINCT x) of one expression")
    for node in tree.find_all(exp.ArrayAgg):
        if isinstance(node.this, exp.Order) and any(o.args.get("desc") for o in node.this.expressions):
            problems.append("list(... ORDER BY ... DESC) is not supported on Spark; order ascending")
        if node.find(exp.Distinct):
            problems.append("list(DISTINCT ...) is not supported on Spark; deduplicate the rows in a subquery")
    for node in tree.find_all(exp.RegexpReplace):
        flags = node.args.get("modifiers")
        if not (isinstance(flags, exp.Literal) and flags.this == "g"):
            problems.append(f"{node.sql('duckdb')[:60]!r}: regexp_replace needs the 'g' flag (DuckDB replaces the "
                            "first match without it, Spark every match)")
        if not isinstance(node.args.get("expression"), exp.Literal):
            problems.append(f"{node.sql('duckdb')[:60]!r}: regexp_replace needs a literal pattern")
    return problems


def _is_windowed_distinct_count(node: exp.Expression) -> bool:
    """Whether `node` is `count(DISTINCT x) OVER (...)` with one expression `x`."""
    return (isinstance(node, exp.Window) and isinstance(node.this, exp.Count)
            and isinstance(node.this.this, exp.Distinct) and len(node.this.this.expressions) == 1)


def _distinct_window_count_to_spark(node: exp.Expression) -> exp.Expression:
    """Rewrite `count(DISTINCT x) OVER (w)` to `SIZE(COLLECT_SET(x) OVER (w))`, the same frame.

    `count(DISTINCT x)` skips nulls and so does `COLLECT_SET`; an empty frame gives an empty set,
    size 0, as DuckDB's count gives 0.
    """
    if not _is_windowed_distinct_count(node):
        return node
    window = node.copy()
    window.set("this", exp.ArrayUniqueAgg(this=node.this.this.expressions[0].copy()))
    return exp.ArraySize(this=window)


def _ordered_list_to_spark(node: exp.Expression) -> exp.Expression:
    """Rewrite DuckDB `list(x ORDER BY k1, k2)` to a Spark expression that keeps the order."""
    if not (isinstance(node, exp.ArrayAgg) and isinstance(node.this, exp.Order)):
        return node
    order = node.this
    value = order.this.sql("spark")
    keys = ", ".join(f"'__k{i}', {o.this.sql('spark')}" for i, o in enumerate(order.expressions))
    # ARRAY_SORT orders structs field by field, so keys first and the value last give the DuckDB order.
    text = f"TRANSFORM(ARRAY_SORT(COLLECT_LIST(NAMED_STRUCT({keys}, '__v', {value}))), __s -> __s.__v)"
    return sqlglot.parse_one(text, read="spark")


@lru_cache(maxsize=512)
def to_spark(sql: str) -> str:
    """Render DuckDB SQL for Spark SQL; cached, since indicators run once per scan but cases often.

    Args:
        sql: SQL in DuckDB's dialect with named `$param` placeholders.

    Returns:
        Spark SQL with `:param` placeholders, for `spark.sql(text, args=params)`.

    Raises:
        NotPortableError: the SQL uses a function outside `PORTABLE_FUNCTIONS`.
    """
    problems = check_portable(sql)
    if problems:
        raise NotPortableError("SQL cannot run on Spark:\n  - " + "\n  - ".join(problems))
    tree = sqlglot.parse_one(sql, read="duckdb").transform(_ordered_list_to_spark)
    tree = tree.transform(_distinct_window_count_to_spark)
    return tree.sql(dialect="spark", unsupported_level=sqlglot.ErrorLevel.RAISE)


def split_portable(plan: list[tuple[Any, dict[str, Any]]]) -> tuple[list[tuple[Any, dict[str, Any]]], dict[str, str]]:
    """Split a plan into what can run on Spark and what cannot, with the reason for each left out.

    Kernel indicators always run (the same adapter on both engines); SQL indicators run when
    `check_portable` finds nothing.

    Args:
        plan: (indicator class, parameters) pairs.

    Returns:
        (the runnable part of the plan, {indicator id: why it cannot run on Spark}).
    """
    runnable, left_out = [], {}
    for cls, params in plan:
        problems = check_portable(cls.sql) if cls.sql is not None else []
        if problems:
            left_out[cls.id] = "; ".join(problems)
        else:
            runnable.append((cls, params))
    return runnable, left_out
