"""Keep numba's on-disk cache of kernels in step with the shared helpers they are compiled with.

Kernels are `cache=True`: compiled once, then loaded from `__pycache__` (or `NUMBA_CACHE_DIR`).
numba decides whether a cached kernel is still valid from the kernel's own source file only. A
kernel calling a helper of `followmoney.kernels` (windows, flows, living, episodes) has the helper compiled
into it, so after the helper changes (an upgrade of followmoney, or an edit) the cached kernel would
keep running the old helper code: silently stale hits, for our indicators and for a bank's own.

So each cache folder holding kernels gets a stamp: a fingerprint of the helper sources. When the
registry loads, folders whose stamp differs have their kernels' caches flushed (numba's own
`flush`, which empties the cache index); they recompile on first use and the stamp is rewritten.
"""

from __future__ import annotations

import hashlib
import logging
from collections import defaultdict
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

HELPER_MODULES = ("windows", "flows", "living", "episodes")
"""Modules of `followmoney.kernels` whose njit functions are compiled into indicator kernels."""

STAMP = "followmoney-kernel-helpers.sha256"
"""File, in each cache folder, holding the helper fingerprint its kernels were compiled with."""


def helpers_fingerprint() -> str:
    """SHA-256 over the sources of the helper modules (and numba's version, which owns the format)."""
    import numba

    digest = hashlib.sha256(numba.__version__.encode())
    here = Path(__file__).parent
    for name in HELPER_MODULES:
        digest.update((here / f"{name}.py").read_bytes())
    return digest.hexdigest()


def helper_functions() -> list[Callable[..., Any]]:
    """The njit functions of the helper modules: helpers that call each other go stale the same way."""
    import importlib

    functions = []
    for name in HELPER_MODULES:
        module = importlib.import_module(f"followmoney.kernels.{name}")
        functions += [f for f in vars(module).values() if getattr(f, "py_func", None) is not None
                      and getattr(f, "__module__", None) == module.__name__]
    return functions


def refresh(kernels: Iterable[Callable[..., Any]], fingerprint: str | None = None) -> int:
    """Flush the cache of every kernel whose cache folder was stamped with other helper sources.

    Args:
        kernels: njit dispatchers (kernels without `cache=True` are ignored).
        fingerprint: the current helper fingerprint (default: `helpers_fingerprint()`).

    Returns:
        How many kernels' caches were flushed.
    """
    fingerprint = fingerprint or helpers_fingerprint()
    by_folder: dict[Path, list[Any]] = defaultdict(list)
    for kernel in kernels:
        cache = getattr(kernel, "_cache", None)
        folder = getattr(cache, "cache_path", None)
        if folder:
            by_folder[Path(folder)].append(cache)
    flushed = 0
    for folder, caches in by_folder.items():
        stamp = folder / STAMP
        try:
            if stamp.read_text(encoding="utf-8") == fingerprint:
                continue
        except OSError:
            pass  # no stamp yet: kernels there may predate it
        try:
            for cache in caches:
                cache.flush()
                flushed += 1
            folder.mkdir(parents=True, exist_ok=True)
            stamp.write_text(fingerprint, encoding="utf-8")
        except OSError as err:
            # numba falls back to recompiling when it cannot write either; say why it is slow.
            log.warning("cannot refresh the kernel cache in %s (%s): kernels may recompile on every run", folder, err)
    return flushed
