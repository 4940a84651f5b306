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
from dataclasses import field as dc_field
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from followmoney.simulate.schema import (
    CHANNELS,
    LABEL_SCHEMA,
    LIST_SCHEMA,
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
        lists: Optional name lists the scenario contributes, list name -> table in
            :data:`LIST_SCHEMA` (``value``, ``tag``): e.g. ``ad_identifiers``, the phones and
            e-mails a scrape of sex ads would hold.  The simulator merges the lists of all
            scenarios and writes each as ``lists/<name>.csv`` in the world folder, in the format
            ``followmoney.lists`` reads (profile ``lists: {<name>: <path>}``).
    """

    transactions: pa.Table
    parties: pa.Table
    labels: pa.Table
    lists: Mapping[str, pa.Table] = dc_field(default_factory=dict)

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
        # Column-wise checks with Arrow compute: at scale a plug-in hands back millions of rows.
        txns = self.transactions
        labels = self.labels.to_pydict()
        amount = txns.column("amount")
        if amount.null_count or (txns.num_rows and pc.min(amount).as_py() <= 0):
            raise ValueError(f"{scenario.name}: amounts must be positive")
        channels = set(pc.unique(txns.column("channel")).to_pylist())
        if not channels <= set(CHANNELS):
            raise ValueError(f"{scenario.name}: unknown channel in {channels}")
        if txns.column("scenario_id").null_count:
            raise ValueError(f"{scenario.name}: every transaction needs a scenario_id")
        if not set(labels["role"]) <= set(ROLES):
            raise ValueError(f"{scenario.name}: unknown role in {set(labels['role'])}")
        if not set(labels["typology"]) <= set(TYPOLOGIES):
            raise ValueError(f"{scenario.name}: unknown typology in {set(labels['typology'])}")
        for name, table in self.lists.items():
            if not table.schema.equals(LIST_SCHEMA):
                raise ValueError(f"{scenario.name}: list {name!r} schema differs from {LIST_SCHEMA}")


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


def _is_batch(value: Any) -> bool:
    """True for a per-row sequence (list, tuple, array), False for a scalar broadcast to the batch."""
    kind = type(value)
    # Fast paths first: the abstract Sequence check is slow and this runs for every column of every batch.
    if kind is np.ndarray:
        return value.ndim > 0
    if kind is list or kind is tuple:
        return True
    if value is None or kind in (str, int, float, bool):
        return False
    if isinstance(value, np.ndarray):
        return value.ndim > 0
    return isinstance(value, Sequence) and not isinstance(value, str)


#: numpy dtype each scenario column is collected in (object for strings).
_TXN_DTYPES: dict[str, Any] = {name: object for name in SCENARIO_TXN_SCHEMA.names} | {
    "ts": np.int64, "amount": np.float64, "is_refund": np.bool_}


class TxnBuilder:
    """Accumulates scenario transactions column-wise and builds an Arrow table.

    Each :meth:`add` call appends a batch of rows; every argument may be a
    scalar (broadcast) or a sequence of the batch length.  ``ts`` is given in
    int64 microseconds (see ``World.hours_to_ts``).  Scalars are kept as
    ``(value, count)`` and expanded once in :meth:`to_table`: plug-ins call
    :meth:`add` many thousand times at scale, so each call must stay cheap.
    """

    _COLUMNS: tuple[str, ...] = tuple(SCENARIO_TXN_SCHEMA.names)

    def __init__(self) -> None:
        self._cols: dict[str, list[tuple[Any, int]]] = {c: [] for c in self._COLUMNS}
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
            ValueError: When sequences of different lengths are given.
        """
        unknown = set(optional) - set(self._COLUMNS)
        if unknown:
            raise KeyError(f"unknown transaction columns {sorted(unknown)}")
        values: dict[str, Any] = dict(optional, scenario_id=scenario_id, ts=ts, amount=amount,
                                      channel=channel, payer_account=payer_account,
                                      beneficiary_account=beneficiary_account)
        lengths = {len(v) for v in values.values() if _is_batch(v)}
        n = max(lengths, default=1)
        if lengths - {1, n}:
            raise ValueError(f"batch columns have different lengths {sorted(lengths)}")
        if n == 0:
            return
        values.setdefault("currency", "USD")
        values.setdefault("is_refund", False)
        for side in ("payer", "beneficiary"):
            if f"{side}_country" not in values:
                acct = values[f"{side}_account"]
                if _is_batch(acct):
                    present = np.not_equal(np.asarray(acct, dtype=object), None)
                    values[f"{side}_country"] = np.where(present, "US", None).astype(object)
                else:
                    values[f"{side}_country"] = None if acct is None else "US"
        for col in self._COLUMNS:
            v = values.get(col)
            if _is_batch(v):
                arr = np.asarray(v, dtype=_TXN_DTYPES[col])
                self._cols[col].append((np.repeat(arr, n) if arr.size == 1 and n > 1 else arr, n))
            else:
                self._cols[col].append((v.item() if isinstance(v, np.generic) else v, n))
        self._n += n

    def to_table(self) -> pa.Table:
        """Rows added so far, in :data:`SCENARIO_TXN_SCHEMA`."""
        arrays = []
        for field in SCENARIO_TXN_SCHEMA:
            dtype = _TXN_DTYPES[field.name]
            if dtype is object:
                # Strings: one Python list built with C-level extends, converted once.
                values: list[Any] = []
                for v, n in self._cols[field.name]:
                    if isinstance(v, np.ndarray):
                        values.extend(v.tolist())
                    else:
                        values.extend([v] * n)
                arrays.append(pa.array(values, type=field.type))
                continue
            parts = [v if isinstance(v, np.ndarray) else np.full(n, v, dtype=dtype)
                     for v, n in self._cols[field.name]]
            data = np.concatenate(parts).astype(dtype, copy=False) if parts else np.empty(0, dtype)
            if field.name == "ts":
                arrays.append(pa.array(data.view("datetime64[us]"), type=field.type))
            elif field.name == "amount":
                arrays.append(pa.array(np.round(data, 2), type=field.type))
            else:
                arrays.append(pa.array(data, type=field.type))
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
