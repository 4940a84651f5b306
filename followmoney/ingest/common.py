"""What both ingests share, DuckDB's (`ingest.transactions`) and Spark's (`engines.spark_collect`).

Kept free of duckdb and pyspark so either engine imports it: the per-file reconciliation record,
the accepted currency codes and how a source's columns map onto the canonical names.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from followmoney.schema import TRANSACTIONS

OPTIONAL = [c.name for c in TRANSACTIONS if not c.required]
"""Canonical transaction columns a source may lack."""


def iso_currencies() -> list[str]:
    """The ISO 4217 codes followmoney accepts."""
    text = resources.files("followmoney.data").joinpath("iso4217.txt").read_text(encoding="utf-8")
    return sorted({w for line in text.splitlines() if not line.startswith("#") for w in line.split()})


@dataclass
class FileCount:
    """Reconciliation of one input file: read = loaded + quarantined."""

    file: str
    sha256: str | None
    read: int = 0
    loaded: int = 0
    quarantined: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """Plain mapping for the manifest."""
        return {"file": self.file, "sha256": self.sha256, "read": self.read, "loaded": self.loaded,
                "quarantined": sum(self.quarantined.values()),
                "quarantined_by_reason": dict(sorted(self.quarantined.items()))}


def resolve_columns(available: Mapping[str, str], mapping: Mapping[str, str]) -> dict[str, str]:
    """Canonical name -> source column: the profile's mapping, else the same name (any case)."""
    lower = {k.lower(): k for k in available}
    out = {}
    for canon in [c.name for c in TRANSACTIONS]:
        if canon in mapping:
            src = mapping[canon]
            out[canon] = lower.get(str(src).lower(), str(src)) if src not in available else src
        elif canon in lower:
            out[canon] = lower[canon]
    return out
