"""All Numba machinery in one place: the decorator every kernel uses.

Kernels are compiled once per machine and cached on disk (``cache=True``).
When no cache directory is writable (a read-only install, a locked-down home),
Numba refuses to build the cache locator when the kernel is decorated; we then
fall back to compiling in memory for the session instead of failing at import.
``fastmath`` stays off: NaN must remain visible and rounding must match NumPy.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numba

_JIT_OPTIONS: dict[str, Any] = {"nogil": True, "fastmath": False, "error_model": "numpy"}

_warned_about_cache = False


def kernel(func: Callable) -> Callable:
    """Compile ``func`` with spanfast's Numba options, caching when possible."""
    global _warned_about_cache
    try:
        return numba.njit(cache=True, **_JIT_OPTIONS)(func)
    except RuntimeError as error:  # "cannot cache function ...: no locator available"
        if not _warned_about_cache:
            _warned_about_cache = True  # one warning per session, not one per kernel
            warnings.warn(
                f"spanfast: Numba cannot cache compiled kernels here ({error}); "
                "kernels will be compiled in memory on first use each session. "
                "Set NUMBA_CACHE_DIR to a writable directory to keep them.",
                RuntimeWarning,
                stacklevel=2,
            )
    return numba.njit(cache=False, **_JIT_OPTIONS)(func)


def helper(func: Callable) -> Callable:
    """A small function called from kernels; its code is cached with theirs.

    Not ``inline="always"``: Numba's IR inlining types the body again at every
    call site, which cost ~2 s of a cold compile; LLVM still inlines small
    helpers. From kernels, pass integer constants to helpers and other kernels as
    ``np.int64(c)``, not ``c``: a Python literal compiles one more specialization
    of the callee per constant.
    """
    return numba.njit(**_JIT_OPTIONS)(func)
