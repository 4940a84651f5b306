"""SQL written once: every registered indicator's SQL, checked for what Spark can run the same way.

No Spark needed: these run in the default suite, so a new indicator hears about a non-portable
function when it is written. The Spark parity tests (`pytest -m spark`) then run the cases on both
engines, because a clean translation is not proof.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from followmoney import registry
from followmoney.engines.dialects import PORTABLE_FUNCTIONS, NotPortableError, check_portable, to_spark

SQL_INDICATORS = [cls for cls in registry.all() if cls.sql is not None]

SPARK_PENDING: dict[str, str] = {}
"""SQL indicators known not to run on Spark yet, and why. Spark scans leave them out and say so
(manifest: detect notes `not_run_on_spark`). The test is a strict xfail: an indicator that becomes
portable must be taken off this list, and a new indicator cannot join it silently."""


@pytest.mark.parametrize("cls", SQL_INDICATORS, ids=lambda c: c.id)
def test_indicator_sql_is_portable_to_spark(cls, request):
    if cls.id in SPARK_PENDING:
        request.applymarker(pytest.mark.xfail(reason=SPARK_PENDING[cls.id], strict=True))
    assert check_portable(cls.sql) == []
    text = to_spark(cls.sql)
    # Named parameters only: Spark binds `:name` from the same dict DuckDB binds `$name` from.
    assert "$" not in text
    assert set(re.findall(r":([A-Za-z_]\w*)", text)) == {p.name for p in cls.params}


KERNEL_INDICATORS = [cls for cls in registry.all() if cls.kernel_expressions or cls.kernel_lookups]


@pytest.mark.parametrize("cls", KERNEL_INDICATORS, ids=lambda c: c.id)
def test_kernel_expressions_and_lookups_are_portable_to_spark(cls):
    """The Spark kernel pass computes them in its own SQL (`engines/spark.py::_kernel_input_query`)."""
    from followmoney.kernels.inputs import distinct_values

    texts = [f"SELECT {expr} AS v FROM postings" for expr in cls.kernel_expressions.values()]
    texts += [lookup.over(distinct_values(lookup.column)) for lookup in cls.kernel_lookups.values()]
    for text in texts:
        assert check_portable(text) == [], text
        to_spark(text)


def test_pending_list_names_only_registered_sql_indicators():
    assert set(SPARK_PENDING) <= {c.id for c in SQL_INDICATORS}


@pytest.mark.parametrize(("sql", "why"), [
    ("SELECT list_sum(x) AS v FROM postings", "unknown to sqlglot"),  # passes through untranslated
    ("SELECT to_days(3) AS v FROM postings", "ToDays"),  # translated verbatim; Spark has no TO_DAYS
    ("SELECT epoch_ms(ts) AS v FROM postings", "UnixToTime"),  # translated to the opposite conversion
    ("SELECT quantile_cont(amount, 0.5) AS v FROM postings", "not on the portable allow-list"),
    ("SELECT sum(DISTINCT k) OVER (PARTITION BY a) AS v FROM postings", "DISTINCT inside a window"),
    ("SELECT count(DISTINCT k, j) OVER (PARTITION BY a) AS v FROM postings", "DISTINCT inside a window"),
    ("SELECT list(x ORDER BY ts_s DESC) AS v FROM postings", "DESC"),
    ("SELECT list(DISTINCT x ORDER BY x) AS v FROM postings", "list(DISTINCT"),
    # Without 'g' DuckDB replaces the first match only; Spark always replaces all of them.
    ("SELECT regexp_replace(memo, '[0-9]', '') AS v FROM postings", "'g' flag"),
    ("SELECT regexp_replace(memo, memo, '', 'g') AS v FROM postings", "literal pattern"),
    ("SELECT list_concat(a, b) AS v FROM postings", "ArrayConcat"),  # Spark's CONCAT is null if either is
    ("SELECT arg_min(a, b) AS v FROM postings", "ArgMin"),  # which row wins a tie differs by engine
])
def test_non_portable_sql_is_rejected(sql, why):
    assert any(why in p for p in check_portable(sql))
    with pytest.raises(NotPortableError):
        to_spark(sql)


def test_ordered_list_keeps_its_order_on_spark():
    # sqlglot alone turns list(x ORDER BY k) into COLLECT_LIST(x), which loses the order.
    text = to_spark("SELECT list(txn_idx ORDER BY ts_s, txn_idx) AS evidence FROM postings GROUP BY account_key")
    assert "ARRAY_SORT(COLLECT_LIST(STRUCT(ts_s AS __k0, txn_idx AS __k1, txn_idx AS __v)))" in text
    assert text.startswith("SELECT TRANSFORM(")


def test_distinct_count_over_a_window_is_the_size_of_the_frame_set_on_spark():
    text = to_spark("SELECT count(DISTINCT k) OVER (PARTITION BY a ORDER BY ts_s "
                    "RANGE BETWEEN $w * 86400 PRECEDING AND CURRENT ROW) AS n FROM postings")
    # The same frame, bound by the same parameter; COLLECT_SET skips nulls as count(DISTINCT) does.
    assert text == ("SELECT SIZE(COLLECT_SET(k) OVER (PARTITION BY a ORDER BY ts_s NULLS LAST "
                    "RANGE BETWEEN :w * 86400 PRECEDING AND CURRENT ROW)) AS n FROM postings")
    named = to_spark("SELECT count(DISTINCT CASE WHEN amount > 0 THEN k END) OVER win AS n FROM postings "
                     "WINDOW win AS (PARTITION BY a ORDER BY ts_s)")
    assert "SIZE(COLLECT_SET(CASE WHEN amount > 0 THEN k END) OVER win)" in named
    # A plain (non-window) distinct count stays what it is on both engines.
    assert to_spark("SELECT count(DISTINCT k) AS n FROM postings GROUP BY a") == \
        "SELECT COUNT(DISTINCT k) AS n FROM postings GROUP BY a"


def test_array_literals_and_global_regexp_replace_render_to_their_spark_twins():
    text = to_spark("SELECT [t1, t2] AS txns, right(regexp_replace(memo, '[^0-9]', '', 'g'), 10) AS d FROM postings")
    assert text == "SELECT ARRAY(t1, t2) AS txns, RIGHT(REGEXP_REPLACE(memo, '[^0-9]', ''), 10) AS d FROM postings"


def test_allow_list_names_real_sqlglot_expressions():
    from sqlglot import exp

    assert all(isinstance(getattr(exp, name, None), type) for name in PORTABLE_FUNCTIONS)


def test_spark_modules_never_import_duckdb():
    root = Path(__file__).parents[1] / "followmoney" / "engines"
    for name in ("spark.py", "dialects.py", "base.py"):
        tree = ast.parse((root / name).read_text(encoding="utf-8"))
        imported = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        imported |= {(n.module or "") for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
        assert not {m for m in imported if m.startswith(("duckdb", "followmoney.workspace", "followmoney.engines.duckdb"))}, name


def test_missing_pyspark_explains_the_extra(monkeypatch):
    import sys

    from followmoney.engines.spark import require_pyspark
    from followmoney.errors import FollowMoneyError

    # A None entry in sys.modules makes `import pyspark` fail as if it were not installed.
    monkeypatch.setitem(sys.modules, "pyspark", None)
    monkeypatch.setitem(sys.modules, "pyspark.sql", None)
    with pytest.raises(FollowMoneyError, match=r"pip install followmoney\[spark\]"):
        require_pyspark()


def test_the_ci_command_runs_the_spark_parity_tests():
    # pyproject's addopts deselect `spark` for a plain `pytest`; the README/CI command passes its own
    # `-m "not slow"`, which replaces that expression (the last -m wins), so CI runs the parity tests.
    import shlex
    import subprocess
    import sys

    root = Path(__file__).parents[1]
    ci = (root / ".ci" / "run").read_text(encoding="utf-8")
    command = next(line for line in ci.splitlines() if "python -m pytest" in line and not line.lstrip().startswith("#"))
    args = shlex.split(command.split("python -m pytest", 1)[1])
    out = subprocess.run([sys.executable, "-m", "pytest", *args, "--collect-only", "-q", "tests/test_spark_engine.py"],
                         cwd=root, capture_output=True, text=True, timeout=120)
    assert "test_end_to_end_alerts_are_identical_on_both_engines" in out.stdout, out.stdout[-2000:]
    assert "test_every_case_gives_the_same_hits_on_spark" in out.stdout
