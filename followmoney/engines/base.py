"""What every engine does, and the part of detection that is the same on all of them.

An engine runs SQL indicators and kernel indicators and hands back raw hits: integer account
keys, window bounds, a value, evidence `txn_idx` lists and a `details` JSON string. Everything
after that (severity, rounding, parameters as JSON) is `Engine.raw_hits`, written once here, so
DuckDB and Spark cannot score the same hit differently. Decoding keys to ids is `write_hits` in the
DuckDB workspace, where `accounts` and `txns` live.
"""

from __future__ import annotations

import json
import logging
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np
import pyarrow as pa

from followmoney.indicator import Indicator

log = logging.getLogger(__name__)

Plan = list[tuple[type[Indicator], dict[str, Any]]]
"""(indicator class, resolved parameters) for each indicator to run."""

KERNEL_PASS = "kernels (one shared pass)"
"""The key of the shared kernel pass in `raw_hits` timings (the others are indicator ids)."""


class Engine(ABC):
    """An execution engine for indicators.

    Subclasses implement `run_sql_indicator` and `run_kernel_indicators`; `raw_hits` combines
    them into scored hit tables the same way for every engine.
    """

    name: ClassVar[str]

    @abstractmethod
    def run_sql_indicator(self, cls: type[Indicator], params: dict[str, Any]) -> pa.Table:
        """Run one SQL indicator.

        Args:
            cls: the indicator; `cls.sql` is DuckDB SQL over `postings`.
            params: resolved parameters, bound by name.

        Returns:
            `RAW_HIT_SCHEMA` columns plus `details` (JSON text of the extra columns).
        """

    @abstractmethod
    def run_kernel_indicators(self, plan: Plan, progress: Callable[[int], None] | None = None) -> dict[str, pa.Table]:
        """Run every kernel indicator of `plan` over postings in one pass.

        Args:
            plan: kernel indicators with their parameters.
            progress: called with the number of postings done, when the engine can tell.

        Returns:
            `KERNEL_HIT_SCHEMA` tables (raw hit columns and `details`) by indicator id.
        """

    def raw_hits(self, plan: Plan, progress: Callable[[int], None] | None = None,
                 timings: dict[str, float] | None = None) -> list[pa.Table]:
        """Run every indicator of `plan` and score its hits; keys are not decoded yet.

        Args:
            plan: indicators with their resolved parameters.
            progress: progress callback for the kernel pass.
            timings: filled with seconds per SQL indicator and for the shared kernel pass.

        Returns:
            One table per indicator: raw hit columns, `details`, `indicator_id`, `score`, `params`.
        """
        kernel_plan = [(c, p) for c, p in plan if c.kernel is not None]
        sql_plan = [(c, p) for c, p in plan if c.kernel is None]
        tables = self._hit_tables(kernel_plan, sql_plan, progress, timings)
        raw: list[pa.Table] = []
        for cls, params in plan:
            table = tables[cls.id]
            raw.append(score_hits(cls, params, table))
            log.info("indicator %s: %d hits (%s)", cls.id, table.num_rows, self.name)
        return raw

    def _hit_tables(self, kernel_plan: Plan, sql_plan: Plan, progress: Callable[[int], None] | None,
                    timings: dict[str, float] | None) -> dict[str, pa.Table]:
        """Unscored hit tables by indicator id: the shared kernel pass, then each SQL indicator.

        Engines that can run the two side by side override this; the tables must not depend on it.
        """
        tables = self._timed_kernel_pass(kernel_plan, progress, timings)
        for cls, params in sql_plan:
            t0 = time.perf_counter()
            tables[cls.id] = self.run_sql_indicator(cls, params)
            if timings is not None:
                timings[cls.id] = time.perf_counter() - t0
        return tables

    def _timed_kernel_pass(self, kernel_plan: Plan, progress: Callable[[int], None] | None,
                           timings: dict[str, float] | None) -> dict[str, pa.Table]:
        t0 = time.perf_counter()
        tables = self.run_kernel_indicators(kernel_plan, progress)
        if timings is not None and kernel_plan:
            timings[KERNEL_PASS] = time.perf_counter() - t0
        return tables


def score_hits(cls: type[Indicator], params: dict[str, Any], table: pa.Table) -> pa.Table:
    """Append `indicator_id`, the rounded severity `score` and the `params` JSON to raw hits."""
    value = table.column("value").to_numpy()
    # Rounded to 1e-6 so that engines agree to the digit (the alerts contract).
    score = np.round(np.asarray(cls.severity(value, params), dtype=np.float64), 6)
    n = table.num_rows
    table = table.append_column("indicator_id", pa.array([cls.id] * n, pa.string()))
    table = table.append_column("score", pa.array(score, pa.float64()))
    return table.append_column("params", pa.array([json.dumps(params, sort_keys=True)] * n, pa.string()))
