"""Lazy discovery of indicators: entry points, then every module under each registered package.

The built-in catalogue (`followmoney.indicators`) is registered in the entry-point group
`followmoney.indicators` like any third-party pack, and is also loaded when the package metadata
is missing (running from a source tree), so the catalogue never silently disappears.
"""

from __future__ import annotations

import fnmatch
import importlib
import pkgutil
from collections.abc import Iterable
from importlib.metadata import entry_points

from followmoney.errors import ParameterError
from followmoney.indicator import FAMILIES, Indicator, registered

ENTRY_POINT_GROUP = "followmoney.indicators"
_BUILTIN = "followmoney.indicators"
_loaded = False
_packages: list[str] = []


def _import_package(name: str) -> None:
    package = importlib.import_module(name)
    for info in pkgutil.walk_packages(getattr(package, "__path__", []), prefix=f"{name}."):
        importlib.import_module(info.name)


def load() -> None:
    """Import every indicator module once. Safe to call many times."""
    global _loaded
    if _loaded:
        return
    packages = {_BUILTIN}
    packages.update(ep.value for ep in entry_points(group=ENTRY_POINT_GROUP))
    for name in sorted(packages):
        _import_package(name)
    _packages[:] = sorted(packages)
    _loaded = True
    from followmoney.kernels import cache

    # Before any kernel runs: a kernel cached with other helper sources would run the old helpers.
    cache.refresh([*cache.helper_functions(), *(c.kernel for c in registered().values() if c.kernel is not None)])


def all() -> list[type[Indicator]]:  # noqa: A001 - mirrors the registry vocabulary of the design
    """Every registered indicator, sorted by id."""
    load()
    prefixes = tuple(f"{p}." for p in _packages)
    return [cls for _, cls in sorted(registered().items()) if cls.__module__.startswith(prefixes)]


def get(indicator_id: str) -> type[Indicator]:
    """The indicator with this id or name.

    Raises:
        ParameterError: when no indicator has that id or name.
    """
    for cls in all():
        if indicator_id in (cls.id, cls.name):
            return cls
    raise ParameterError([f"No indicator is called {indicator_id!r}. Run `followmoney indicators` for the list."])


def select(patterns: Iterable[str] | None) -> list[type[Indicator]]:
    """Indicators matching any of the patterns: an id, a name, a family, a typology, or a glob.

    None or an empty selection means every indicator.
    """
    patterns = list(patterns or [])
    if not patterns:
        return all()
    chosen: dict[str, type[Indicator]] = {}
    unmatched = []
    for pat in patterns:
        hits = [
            cls
            for cls in all()
            if pat in (cls.family, FAMILIES[cls.family].letter)
            or pat in cls.typologies
            or fnmatch.fnmatchcase(cls.id, pat)
            or fnmatch.fnmatchcase(cls.name, pat)
        ]
        if not hits:
            unmatched.append(f"No indicator matches {pat!r} (an id, name, family, typology or glob).")
        chosen.update((c.id, c) for c in hits)
    if unmatched:
        raise ParameterError(unmatched)
    return [chosen[k] for k in sorted(chosen)]


def catalogue_version() -> str:
    """Version of the catalogue in use: package version plus a hash of every indicator's definition.

    The hash covers ids, names, parameter defaults and the SQL or kernel source, so a changed rule
    changes the version even when the package version does not.
    """
    import hashlib
    import inspect

    from followmoney import __version__

    h = hashlib.sha256()
    for cls in all():
        h.update(cls.id.encode())
        h.update(cls.name.encode())
        h.update(repr([(p.name, p.default) for p in cls.params]).encode())
        body = cls.sql if cls.sql is not None else inspect.getsource(cls.kernel.py_func)
        h.update(body.encode())
    return f"{__version__}+{h.hexdigest()[:12]}"
