"""Registry-wide contract checks (the scikit-learn check_estimator idea) and definition errors."""

from __future__ import annotations

import re

import numba
import pytest

from followmoney import registry
from followmoney.errors import IndicatorDefinitionError, ParameterError
from followmoney.indicator import DOC_SECTIONS, FAMILIES, Indicator
from followmoney.params import Interval, Param, resolve
from followmoney.sources import SOURCES, base_tag

ALL = registry.all()


def test_ids_are_unique_and_prefixed_by_family():
    ids = [c.id for c in ALL]
    assert len(ids) == len(set(ids))
    for cls in ALL:
        assert re.fullmatch(r"[A-Z]{3}\d{2}", cls.id)
        assert cls.id.startswith(FAMILIES[cls.family].prefix)


@pytest.mark.parametrize("cls", ALL, ids=lambda c: c.id)
def test_docstring_sections_and_sources(cls):
    sections = cls.doc_sections()
    assert [k for k in sections if k] == list(DOC_SECTIONS)
    assert all(sections[k] for k in DOC_SECTIONS)
    assert cls.sources and all(base_tag(s) in SOURCES for s in cls.sources)


@pytest.mark.parametrize("cls", ALL, ids=lambda c: c.id)
def test_every_invalid_parameter_value_is_rejected_and_all_are_reported(cls):
    bad = {p.name: p.constraint.invalid_example() for p in cls.params}
    with pytest.raises(ParameterError) as err:
        resolve(cls.id, cls.params, bad)
    assert len(err.value.problems) == len(cls.params)
    for p in cls.params:
        assert f"The '{p.name}' parameter of {cls.id} must be" in str(err.value)


@pytest.mark.parametrize("cls", ALL, ids=lambda c: c.id)
def test_defaults_are_valid(cls):
    assert resolve(cls.id, cls.params) == {p.name: p.default for p in cls.params}


def test_unknown_parameter_suggests_the_close_name():
    cls = registry.get("CSH01")
    with pytest.raises(ParameterError, match="Did you mean 'threshold'"):
        resolve(cls.id, cls.params, {"treshold": 5000})


def test_interval_wording_follows_scikit_learn():
    assert Interval(float, 0, 1, closed="neither").describe() == "a float in the range (0, 1)"
    assert Interval(int, 1, None).describe() == "an int in the range [1, inf)"


def test_select_by_family_typology_name_and_glob():
    # The cash family grows with the catalogue: select it by name and by glob, and get the same set.
    cash = [c.id for c in registry.select(["cash"])]
    assert "CSH01" in cash and all(i.startswith("CSH") for i in cash)
    assert "FLW01" in [c.id for c in registry.select(["labour_exploitation"])]
    assert [c.id for c in registry.select(["rapid_pass_through"])] == ["FLW01"]
    assert [c.id for c in registry.select(["CSH*"])] == cash
    with pytest.raises(ParameterError, match="No indicator matches 'nope'"):
        registry.select(["nope"])


def test_catalogue_version_is_stable():
    assert registry.catalogue_version() == registry.catalogue_version()


_DOC = """Summary.

## What it flags
x
## Why it matters
x
## Typical false positives
x
## Data needed
x
"""


def _sql_indicator(**overrides):
    attrs = dict(__doc__=_DOC, __module__=__name__, id="CSH98", name="test_indicator", title="t", family="cash",
                 typologies=("sexual_exploitation",), sources=("F20",), requires=("ts", "amount", "channel"),
                 params=(Param("limit", 1.0, Interval(float, 0, None), "d"),), score_doc="s", reason="{value}",
                 sql="SELECT account_key, ts AS window_start, ts AS window_end, amount AS value, [txn_idx] AS evidence "
                     "FROM postings WHERE channel = 'cash' AND amount > $limit",
                 severity=classmethod(lambda cls, v, p: v))
    attrs.update(overrides)
    return type("Broken", (Indicator,), attrs)


def test_a_valid_definition_registers_but_stays_out_of_the_catalogue():
    cls = _sql_indicator(id="CSH97")
    assert cls.id == "CSH97"
    # Only modules of registered packages form the catalogue, so stray subclasses never run in a scan.
    assert "CSH97" not in [c.id for c in registry.all()]


@pytest.mark.parametrize(("overrides", "message"), [
    ({"id": "X1"}, "three capital letters"),
    ({"id": "FLW96"}, "must start with CSH"),
    ({"name": "Bad Name"}, "snake_case"),
    ({"sources": ()}, "sources must not be empty"),
    ({"sources": ("NOPE1",)}, "unknown source tags"),
    ({"__doc__": "Only a summary."}, "docstring needs the sections"),
    ({"sql": "SELECT account_key FROM postings WHERE amount > $other"}, "placeholders"),
    ({"sql": "SELECT account_key FROM postings WHERE memo = 'x' AND amount > $limit"}, "not in requires"),
    ({"sql": "SELEC nonsense ((("}, "does not parse"),
    ({"reason": "{missing}"}, "reason does not format"),
])
def test_definition_errors_are_raised_at_import(overrides, message):
    with pytest.raises(IndicatorDefinitionError, match=message):
        _sql_indicator(**{"id": "CSH96", **overrides})


def test_kernel_arguments_must_match_inputs_and_params():
    @numba.njit
    def kernel(offsets, ts_s, wrong_name):  # pragma: no cover - never called
        return offsets

    with pytest.raises(IndicatorDefinitionError, match="after the inputs must be the params"):
        _sql_indicator(id="CSH95", sql=None, kernel=kernel, kernel_inputs={"ts_s": "int64"})
