"""Kernel compilation settings: caching, and the fallback when caching is impossible."""

from __future__ import annotations

import numba
import pytest

from spanfast import _numba


def test_kernels_compile_in_memory_when_no_cache_is_writable(monkeypatch):
    real_njit = numba.njit

    def njit_without_cache_locator(*args, cache=False, **options):
        if cache:  # what Numba raises when neither __pycache__ nor a cache dir is writable
            raise RuntimeError("cannot cache function 'add_one': no locator available for file")
        return real_njit(*args, **options)

    monkeypatch.setattr(_numba.numba, "njit", njit_without_cache_locator)
    monkeypatch.setattr(_numba, "_warned_about_cache", False)
    with pytest.warns(RuntimeWarning, match="cannot cache compiled kernels"):
        add_one = _numba.kernel(lambda x: x + 1)
    assert add_one(41) == 42
    # Later kernels fall back silently: one warning per session, not one per kernel.
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert _numba.kernel(lambda x: x * 2)(21) == 42


def test_kernels_are_cached_without_fastmath():
    from spanfast._kernels.scores import self_confidence

    assert self_confidence._cache.__class__.__name__ != "NullCache"
    assert not self_confidence.targetoptions.get("fastmath")
    assert self_confidence.targetoptions.get("nogil")
