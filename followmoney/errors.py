"""The one error tree of followmoney.

Every problem a user can cause (bad input, a bad profile, a bad parameter) is a
`FollowMoneyError`. Its message is written for the user and is what the CLI prints, with exit
code 2; a traceback is never the message. Problems are collected and raised once, so a user
fixes everything in one pass instead of one error per run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field


class FollowMoneyError(Exception):
    """Base class of every error followmoney raises on purpose."""

    exit_code = 2


@dataclass(frozen=True)
class SchemaProblem:
    """One fatal problem with an input file: which file, which column, why, and examples."""

    file: str
    column: str
    reason: str
    detail: str
    examples: tuple[str, ...] = field(default_factory=tuple)


def _format_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))
    body = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    return "\n".join([line, "  ".join("-" * w for w in widths), *body])


class InputSchemaError(FollowMoneyError):
    """Input that cannot be loaded at all: missing columns, unusable types, a wrong mapping.

    Attributes:
        problems: every problem found, across all files, before giving up.
    """

    def __init__(self, problems: Sequence[SchemaProblem], headline: str = "The input cannot be loaded."):
        self.problems = tuple(problems)
        rows = [
            (p.file, p.column, p.reason, p.detail, ", ".join(repr(e) for e in p.examples[:3]))
            for p in self.problems
        ]
        table = _format_table(("file", "column", "reason", "expected", "examples"), rows)
        super().__init__(f"{headline} {len(self.problems)} problem(s):\n{table}")


class MappingError(InputSchemaError):
    """Too many rows of one file fail for one reason: the column mapping is wrong, not the rows."""


class ParameterError(FollowMoneyError):
    """One or more invalid parameter values; every problem is listed, each on its own line."""

    def __init__(self, problems: Sequence[str]):
        self.problems = tuple(problems)
        super().__init__("Invalid parameters:\n" + "\n".join(f"  - {p}" for p in self.problems))


class ProfileError(FollowMoneyError):
    """A profile (YAML mapping and thresholds) that is malformed or names unknown things."""


class IndicatorDefinitionError(FollowMoneyError):
    """An indicator class that breaks the registry's rules; raised when it is defined."""


class EngineError(FollowMoneyError):
    """The engine failed running an indicator or stage; carries the indicator id and the SQL."""

    def __init__(self, message: str, *, indicator: str | None = None, sql: str | None = None):
        self.indicator = indicator
        self.sql = sql
        where = f" (indicator {indicator})" if indicator else ""
        super().__init__(f"{message}{where}")


class PipelineError(FollowMoneyError):
    """A stage was asked to run without the artefacts it needs, or an unknown stage was named."""
