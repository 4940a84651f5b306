"""Base class and helpers for scenario plug-ins.

A scenario plants one red-flag pattern (plus look-alikes that resemble it but
must not alert) into the simulated world.  Plug-ins live one per module in
:mod:`followmoney.simulate.scenarios` and are discovered automatically: any
concrete :class:`Scenario` subclass defined there is picked up.

Writing a plug-in::

    class MyScenario(Scenario):
        name = "my_scenario"                 # key in defaults.yml `scenarios:`
        typology = "labour_exploitation"     # one of schema.TYPOLOGIES
        description = "One line for humans."

        def plant(self, world, rng, n_instances):
            txns = TxnBuilder()
            ...                              # txns.add(...) per batch of rows
            return ScenarioOutput(txns.to_table(), parties, labels.to_table())

Rules every plug-in follows:

* draw all randomness from the ``rng`` it is given (derived from the seed and
  the scenario name), never from the world's streams, so that adding or
  removing a scenario changes no other data;
* create its own accounts with ids namespaced by the scenario (e.g.
  ``S-STRUCT-0001``) rather than taking background ids;
* read numeric parameters from ``self.params`` (``defaults.yml``
  ``scenarios.<name>.params``), not from constants in code;
* label every account it touches (roles from :data:`schema.ROLES`) and tag
  every transaction it generates with a ``scenario_id``.
"""

from __future__ import annotations

import importlib
import pkgutil
import warnings
import zlib
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pyarrow as pa

from followmoney.simulate.schema import (
    CHANNELS,
    LABEL_SCHEMA,
    PARTY_SCHEMA,
    ROLES,
    SCENARIO_TXN_SCHEMA,
    TYPOLOGIES,
)

if TYPE_CHECKING:
    from followmoney.simulate.core import World


def scenario_rng(seed: int, name: str) -> np.random.Generator:
    """Random stream of one scenario, derived from the seed and its name only."""
    return np.random.default_rng(np.random.SeedSequence([int(seed), zlib.crc32(name.encode())]))


@dataclass(frozen=True)
class ScenarioOutput:
    """What a scenario hands back to the simulator.

    Attributes:
        transactions: Rows in :data:`SCENARIO_TXN_SCHEMA` (all transaction
            columns but ``txn_id``, plus ``scenario_id``); every row becomes a
            row of ``label_txns.parquet`` too.  Order does not matter.
        parties: Parties of the accounts the scenario created (:data:`PARTY_SCHEMA`).
        labels: One row per (account, scenario_id) in :data:`LABEL_SCHEMA`.
    """

    transactions: pa.Table
    parties: pa.Table
    labels: pa.Table

    @classmethod
    def empty(cls) -> ScenarioOutput:
        """An output planting nothing (e.g. when the period is too short for the pattern)."""
        return cls(SCENARIO_TXN_SCHEMA.empty_table(), PARTY_SCHEMA.empty_table(),
                   LABEL_SCHEMA.empty_table())

    def validate(self, scenario: Scenario) -> None:
        """Check schemas and vocabularies; raises ``ValueError`` on the first problem."""
        for what, table, schema in (("transactions", self.transactions, SCENARIO_TXN_SCHEMA),
                                    ("parties", self.parties, PARTY_SCHEMA),
                                    ("labels", self.labels, LABEL_SCHEMA)):
            if not table.schema.equals(schema):
                raise ValueError(f"{scenario.name}: {what} schema differs from {schema}")
        txns = self.transactions.to_pydict()
        labels = self.labels.to_pydict()
        if any(a is None or a <= 0 for a in txns["amount"]):
            raise ValueError(f"{scenario.name}: amounts must be positive")
        if not set(txns["channel"]) <= set(CHANNELS):
            raise ValueError(f"{scenario.name}: unknown channel in {set(txns['channel'])}")
        if any(s is None for s in txns["scenario_id"]):
            raise ValueError(f"{scenario.name}: every transaction needs a scenario_id")
        if not set(labels["role"]) <= set(ROLES):
            raise ValueError(f"{scenario.name}: unknown role in {set(labels['role'])}")
        if not set(labels["typology"]) <= set(TYPOLOGIES):
            raise ValueError(f"{scenario.name}: unknown typology in {set(labels['typology'])}")


class Scenario(ABC):
    """A plantable pattern.  Subclasses set the class attributes and :meth:`plant`.

    Attributes:
        name: Unique key; also the section in ``defaults.yml`` and the seed salt.
        typology: One of :data:`schema.TYPOLOGIES`.
        description: One-line human description.
        params: The scenario's ``params`` mapping from the configuration.
        plants: Role -> ids of the indicators that must fire on every account of that role the
            scenario labels ``expected_alert``.  Ids, not classes: the simulator never imports the
            catalogue.  Tests check each planted account against it and that every indicator of
            the catalogue is planted by some scenario, so a trainer can demonstrate each one.
    """

    name: ClassVar[str]
    typology: ClassVar[str]
    description: ClassVar[str]
    plants: ClassVar[Mapping[str, tuple[str, ...]]] = {}

    def __init__(self, params: Mapping[str, Any] | None = None) -> None:
        self.params: dict[str, Any] = dict(params or {})

    def too_short(self, world: World, needed_days: float) -> bool:
        """Warn and return True when the period cannot hold one instance of the pattern.

        Plug-ins then return :meth:`ScenarioOutput.empty` rather than label
        accounts whose pattern was never planted.
        """
        if world.days >= needed_days:
            return False
        warnings.warn(f"scenario {self.name!r} needs at least {needed_days:g} days, the period has "
                      f"{world.days}; nothing planted", RuntimeWarning, stacklevel=3)
        return True

    @abstractmethod
    def plant(self, world: World, rng: np.random.Generator, n_instances: int) -> ScenarioOutput:
        """Generate ``n_instances`` instances of the pattern plus its look-alikes.

        Args:
            world: The background world (read-only; use its helpers).
            rng: This scenario's own random stream.
            n_instances: Number of true instances to plant (look-alike counts
                are the plug-in's choice, usually ``lookalike_ratio`` times this).

        Returns:
            The scenario's transactions, parties and labels.
        """


class TxnBuilder:
    """Accumulates scenario transactions column-wise and builds an Arrow table.

    Each :meth:`add` call appends a batch of rows; every argument may be a
    scalar (broadcast) or a sequence of the batch length.  ``ts`` is given in
    int64 microseconds (see ``World.hours_to_ts``).
    """

    _COLUMNS: tuple[str, ...] = tuple(SCENARIO_TXN_SCHEMA.names)

    def __init__(self) -> None:
        self._cols: dict[str, list[np.ndarray]] = {c: [] for c in self._COLUMNS}
        self._n = 0

    def __len__(self) -> int:
        return self._n

    def add(self, *, scenario_id: Any, ts: Any, amount: Any, channel: Any,
            payer_account: Any = None, beneficiary_account: Any = None, **optional: Any) -> None:
        """Append a batch of rows.

        Args:
            scenario_id: Scenario id of the rows.
            ts: Timestamps, int64 microseconds since the epoch.
            amount: Positive amounts (rounded to cents here).
            channel: One of :data:`schema.CHANNELS`.
            payer_account: Payer id, ``None`` for cash deposits.
            beneficiary_account: Beneficiary id, ``None`` for cash withdrawals.
            **optional: Any other transaction column (``mcc``, ``memo``,
                ``city`` ...).  ``currency`` defaults to USD, ``is_refund`` to
                False, country columns to "US" where the side is present.

        Raises:
            KeyError: On an unknown column name.
        """
        unknown = set(optional) - set(self._COLUMNS)
        if unknown:
            raise KeyError(f"unknown transaction columns {sorted(unknown)}")
        values: dict[str, Any] = dict(optional, scenario_id=scenario_id, ts=ts, amount=amount,
                                      channel=channel, payer_account=payer_account,
                                      beneficiary_account=beneficiary_account)
        n = max((len(v) for v in values.values()
                 if isinstance(v, (Sequence, np.ndarray)) and not isinstance(v, str)), default=1)
        if n == 0:
            return
        values.setdefault("currency", "USD")
        values.setdefault("is_refund", False)
        for side in ("payer", "beneficiary"):
            if f"{side}_country" not in values:
                acct = np.broadcast_to(np.asarray(values[f"{side}_account"], dtype=object), (n,))
                values[f"{side}_country"] = np.where(
                    np.array([a is not None for a in acct]), "US", None).astype(object)
        for col in self._COLUMNS:
            v = values.get(col)
            if col == "ts":
                arr = np.asarray(v, dtype=np.int64)
            elif col == "amount":
                arr = np.round(np.asarray(v, dtype=np.float64), 2)
            elif col == "is_refund":
                arr = np.asarray(v, dtype=bool)
            else:
                arr = np.asarray(v, dtype=object)
            self._cols[col].append(np.broadcast_to(arr, (n,)))
        self._n += n

    def to_table(self) -> pa.Table:
        """Rows added so far, in :data:`SCENARIO_TXN_SCHEMA`."""
        arrays = []
        for field in SCENARIO_TXN_SCHEMA:
            parts = self._cols[field.name]
            if field.name == "ts":
                data = np.concatenate(parts) if parts else np.empty(0, np.int64)
                arrays.append(pa.array(data.view("datetime64[us]"), type=field.type))
            else:
                data = np.concatenate(parts) if parts else np.empty(0, object)
                arrays.append(pa.array(data.tolist(), type=field.type))
        return pa.Table.from_arrays(arrays, schema=SCENARIO_TXN_SCHEMA)


class LabelBuilder:
    """Collects label rows (account, scenario_id, typology, role, expected_alert)."""

    def __init__(self, typology: str) -> None:
        self.typology = typology
        self._rows: list[tuple[str, str, str, str, bool]] = []

    def add(self, account_id: str, scenario_id: str, role: str, expected_alert: bool) -> None:
        """Label one account's role in one scenario instance."""
        self._rows.append((account_id, scenario_id, self.typology, role, bool(expected_alert)))

    def to_table(self) -> pa.Table:
        """Rows added so far, in :data:`LABEL_SCHEMA`."""
        cols = list(zip(*self._rows, strict=True)) if self._rows else [[] for _ in LABEL_SCHEMA]
        return pa.Table.from_arrays([pa.array(list(c), type=f.type) for c, f in zip(cols, LABEL_SCHEMA, strict=True)],
                                    schema=LABEL_SCHEMA)


def concat_parties(tables: Sequence[pa.Table]) -> pa.Table:
    """Concatenate party tables (empty table when there are none)."""
    return pa.concat_tables(list(tables)) if tables else PARTY_SCHEMA.empty_table()


def schedule_episodes(rng: np.random.Generator, days: float, n: int, span: float,
                      gap: float) -> np.ndarray:
    """Start days of ``n`` non-overlapping episodes inside ``[0, days)``.

    Each episode lasts ``span`` days and the next one starts at least ``gap``
    days after it ends.  When the period is too short, fewer episodes are
    returned (at least one if a single episode fits at all).

    Args:
        rng: Random stream.
        days: Length of the period.
        n: Wanted number of episodes.
        span: Duration of an episode in days.
        gap: Minimum idle days between consecutive episodes.

    Returns:
        Sorted float array of episode start days.
    """
    while n > 0 and days - n * span - (n - 1) * gap < 0:
        n -= 1
    if n == 0:
        return np.empty(0)
    slack = days - n * span - (n - 1) * gap
    offsets = np.sort(rng.uniform(0.0, slack, n))
    return offsets + np.arange(n) * (span + gap)


def discover_scenarios() -> dict[str, type[Scenario]]:
    """Import every module of :mod:`followmoney.simulate.scenarios` and collect plug-ins.

    Returns:
        Scenario name -> class, sorted by name (the order scenarios are planted in).

    Raises:
        ValueError: If two plug-ins share a name or a plug-in has a bad typology.
    """
    from followmoney.simulate import scenarios as package

    found: dict[str, type[Scenario]] = {}
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        for obj in vars(module).values():
            if (isinstance(obj, type) and issubclass(obj, Scenario) and obj is not Scenario
                    and obj.__module__ == module.__name__ and not getattr(obj, "__abstractmethods__", None)):
                if obj.name in found and found[obj.name] is not obj:
                    raise ValueError(f"duplicate scenario name {obj.name!r}")
                if obj.typology not in TYPOLOGIES:
                    raise ValueError(f"scenario {obj.name!r} has unknown typology {obj.typology!r}")
                found[obj.name] = obj
    return dict(sorted(found.items()))


def draw_int(rng: np.random.Generator, bounds: Sequence[int]) -> int:
    """A random integer in the closed range `bounds` (a [low, high] pair from defaults.yml)."""
    return int(rng.integers(int(bounds[0]), int(bounds[1]) + 1))


def draw_uniform(rng: np.random.Generator, bounds: Sequence[float], n: int | None = None) -> np.ndarray:
    """Uniform draws in `bounds` (a [low, high] pair from defaults.yml); one float when `n` is None."""
    return rng.uniform(float(bounds[0]), float(bounds[1]), n)
