"""Indicator parameters: declared with a default and a constraint, resolved in one place.

Resolution order, later wins: the indicator's default < the profile (jurisdiction, then the
user's YAML) < explicit overrides (API keyword or CLI `--set ID.param=value`). Every invalid value
of every indicator is collected and raised once as a `ParameterError`, worded the scikit-learn
way so the message says what was expected and what was got.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from followmoney.errors import ParameterError


@dataclass(frozen=True)
class Interval:
    """A numeric range constraint.

    Attributes:
        kind: `int` or `float`.
        low: lower bound or None.
        high: upper bound or None.
        closed: which bounds are inclusive: "both", "left", "right" or "neither".
    """

    kind: type
    low: float | None = None
    high: float | None = None
    closed: str = "both"

    def check(self, value: Any) -> bool:
        """Whether `value` satisfies the constraint."""
        if isinstance(value, bool) or not isinstance(value, int | float):
            return False
        if self.kind is int and not float(value).is_integer():
            return False
        if isinstance(value, float) and not math.isfinite(value):
            return False
        left = self.closed in ("both", "left")
        right = self.closed in ("both", "right")
        if self.low is not None and (value < self.low or (not left and value == self.low)):
            return False
        if self.high is not None and (value > self.high or (not right and value == self.high)):
            return False
        return True

    def describe(self) -> str:
        """The constraint in words, e.g. 'a float in the range (0, 1]'."""
        name = "an int" if self.kind is int else "a float"
        if self.low is None and self.high is None:
            return name
        lo = "-inf" if self.low is None else _num(self.low)
        hi = "inf" if self.high is None else _num(self.high)
        lb = "[" if self.closed in ("both", "left") and self.low is not None else "("
        rb = "]" if self.closed in ("both", "right") and self.high is not None else ")"
        return f"{name} in the range {lb}{lo}, {hi}{rb}"

    def invalid_example(self) -> Any:
        """A value that violates the constraint; the contract tests use it."""
        if self.low is not None:
            return self.low - 1 if self.closed in ("both", "left") else self.low
        if self.high is not None:
            return self.high + 1
        return "not a number"


@dataclass(frozen=True)
class OneOf:
    """A constraint to a fixed set of values."""

    options: tuple[Any, ...]

    def check(self, value: Any) -> bool:
        """Whether `value` is one of the options."""
        return value in self.options

    def describe(self) -> str:
        """The constraint in words."""
        return "one of " + ", ".join(repr(o) for o in self.options)

    def invalid_example(self) -> Any:
        """A value outside the options."""
        return "__not_an_option__"


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


@dataclass(frozen=True)
class Param:
    """One parameter of an indicator.

    Attributes:
        name: identifier used in SQL (`$name`), kernels (positional, in declared order) and profiles.
        default: value used when nothing overrides it.
        constraint: an `Interval` or `OneOf`.
        description: one line for the docs.
        unit: unit shown in the docs (e.g. "days", "reporting currency").
    """

    name: str
    default: Any
    constraint: Interval | OneOf
    description: str
    unit: str = ""

    def coerce(self, value: Any) -> Any:
        """Turn a value from YAML or the command line into the declared kind, when that is lossless."""
        if isinstance(self.constraint, Interval) and isinstance(value, str):
            try:
                value = float(value)
            except ValueError:
                return value
        if isinstance(self.constraint, Interval) and not isinstance(value, bool) and isinstance(value, int | float):
            if self.constraint.kind is int and float(value).is_integer():
                return int(value)
            if self.constraint.kind is float:
                return float(value)
        return value


def resolve(
    indicator_id: str,
    params: Sequence[Param],
    *layers: Mapping[str, Any] | None,
    problems: list[str] | None = None,
) -> dict[str, Any]:
    """Resolve an indicator's parameters from its defaults and override layers.

    Args:
        indicator_id: used in messages.
        params: the indicator's declared parameters.
        *layers: mappings of parameter name to value, lowest precedence first.
        problems: when given, problems are appended here instead of raised, so a caller can
            collect the problems of every indicator and raise once.

    Returns:
        The resolved parameters, name to value, in declared order.

    Raises:
        ParameterError: when a value is invalid or a name unknown and `problems` is None.
    """
    own = problems if problems is not None else []
    by_name = {p.name: p for p in params}
    values = {p.name: p.default for p in params}
    for layer in layers:
        for key, raw in (layer or {}).items():
            if key not in by_name:
                hint = difflib.get_close_matches(key, list(by_name), n=1)
                did = f" Did you mean '{hint[0]}'?" if hint else ""
                own.append(
                    f"{indicator_id} has no parameter '{key}'.{did} Known: {', '.join(by_name) or 'none'}."
                )
                continue
            values[key] = by_name[key].coerce(raw)
    for p in params:
        v = values[p.name]
        if not p.constraint.check(v):
            own.append(
                f"The '{p.name}' parameter of {indicator_id} must be {p.constraint.describe()}. Got {v!r} instead."
            )
    if problems is None and own:
        raise ParameterError(own)
    return values
