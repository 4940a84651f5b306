"""Cached kernels are recompiled when the helpers compiled into them change (followmoney.kernels.cache)."""

from __future__ import annotations

import importlib.util
import sys
import textwrap
from pathlib import Path

import numpy as np

from followmoney.kernels import cache

KERNEL = textwrap.dedent("""
    import numba

    @numba.njit(cache=True)
    def kernel(x):
        return x.sum()
""")


def _fresh(path, name):
    """Import the module at `path` anew, as a new process would (a new dispatcher, the on-disk cache)."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module.kernel


def _loaded_from_cache(kernel) -> bool:
    kernel(np.arange(3.0))
    return bool(kernel.stats.cache_hits)


def test_a_new_helper_fingerprint_flushes_cached_kernels_once(tmp_path):
    path = tmp_path / "fm_cache_probe.py"
    path.write_text(KERNEL, encoding="utf-8")
    assert not _loaded_from_cache(_fresh(path, "fm_cache_probe_1")), "first use compiles"
    kernel = _fresh(path, "fm_cache_probe_2")
    assert _loaded_from_cache(kernel), "second use loads the cache"

    # No stamp yet: the cached code may predate the helpers, so it is flushed and the folder stamped.
    assert cache.refresh([kernel], fingerprint="helpers-v1") == 1
    assert (tmp_path / "__pycache__" / cache.STAMP).read_text(encoding="utf-8") == "helpers-v1"
    kernel = _fresh(path, "fm_cache_probe_3")
    assert not _loaded_from_cache(kernel), "a flushed kernel compiles again"

    # Same helpers: the cache is kept.
    assert cache.refresh([kernel], fingerprint="helpers-v1") == 0
    kernel = _fresh(path, "fm_cache_probe_4")
    assert _loaded_from_cache(kernel)

    # Helpers changed: flushed again.
    assert cache.refresh([kernel], fingerprint="helpers-v2") == 1
    assert not _loaded_from_cache(_fresh(path, "fm_cache_probe_5"))


def test_kernels_without_a_disk_cache_are_left_alone():
    import numba

    @numba.njit
    def uncached(x):
        return x + 1

    assert cache.refresh([uncached, len], fingerprint="any") == 0


def test_the_fingerprint_covers_every_helper_module_and_the_registry_stamps_kernel_folders():
    from followmoney import registry
    from followmoney.indicator import registered

    registry.load()
    fingerprint = cache.helpers_fingerprint()
    assert {f.__module__.rsplit(".", 1)[1] for f in cache.helper_functions()} == set(cache.HELPER_MODULES)
    # The shipped kernels (tests define uncached ones of their own, which must not count here).
    folders = {c.kernel._cache.cache_path for c in registered().values()
               if c.kernel is not None and c.__module__.startswith("followmoney.indicators.")}
    assert folders
    for folder in folders:
        assert (Path(folder) / cache.STAMP).read_text(encoding="utf-8") == fingerprint, folder
