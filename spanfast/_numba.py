"""All Numba machinery in one place: the decorator every kernel uses, and its cache.

Kernels are compiled once per machine and cached on disk, never in the install
directory: Numba's ``cache=True`` writes into ``site-packages/spanfast/**/__pycache__``,
files pip does not know about, so ``pip uninstall`` leaves them behind and the
leftover ``spanfast/`` directory (without ``__init__.py``) later shadows an editable
install as a namespace package.

Where a kernel is cached is decided per function, when it is decorated, by the
first of these locators that can create and write its directory:

1. ``NUMBA_CACHE_DIR`` (``numba.config.CACHE_DIR``), when set, as Numba itself uses it;
2. the per-user cache, ``<user cache>/spanfast/numba/<spanfast version>-numba<numba
   version>`` (``$XDG_CACHE_HOME`` or ``~/.cache`` on Linux, ``~/Library/Caches`` on
   macOS, ``%LOCALAPPDATA%`` on Windows).

Only spanfast's kernels use these locators (their dispatchers get a
:class:`_KernelCache`); Numba's global configuration and other libraries' caching in
the same process are left as they were. ``NUMBA_CACHE_LOCATOR_CLASSES``, when set,
still overrides the locators, as it does for every cached Numba function.

When neither directory is writable, kernels are compiled in memory for the session,
and one :class:`KernelCacheWarning` says so at the first compilation (not at import,
so a program can filter it first). An unreadable cache entry (a truncated or garbled
``.nbi``/``.nbc`` file) is a cache miss: the kernel is recompiled, the entry
overwritten, and one :class:`KernelCacheWarning` per session names the directory.

``fastmath`` stays off: NaN must remain visible and rounding must match NumPy.

Small inputs are not worth a compilation. A kernel called for the first time
with arrays of fewer than :data:`INTERPRET_BELOW` elements in all runs its Python
body instead (the same code ``NUMBA_DISABLE_JIT=1`` runs, with the same answers:
the tests compare both), as do the helpers it calls, until the process has
spent :data:`INTERPRET_SECONDS` in them or met a larger call (large data: every
kernel is worth compiling then); after that kernels are loaded from the cache or
compiled as usual. A first call
on 10K tokens then takes a fraction of a second instead of seconds of
compilation (loading cached kernels alone takes longer than interpreting them
on such inputs). Kernels whose rounding could differ (``np.exp``, ``np.log``) are
marked :func:`always_compiled`. ``SPANFAST_INTERPRET_BELOW=0`` turns this off;
:func:`compiling` turns it off for a block of code (``spanfast precompile``,
the Dask warm-up).
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import numba
import numpy as np
from numba.core import caching, config
from numba.core.dispatcher import Dispatcher
from numba.misc.appdirs import AppDirs

from ._version import __version__
from .errors import KernelCacheWarning  # noqa: F401 - defined there: no Numba to import it

_JIT_OPTIONS: dict[str, Any] = {"nogil": True, "fastmath": False, "error_model": "numpy"}

# Every dispatcher made by kernel(), in definition order, so that ``spanfast
# precompile`` (and its test) can list what was compiled and what was not. Helpers
# are not listed: their code is compiled into, and cached with, the kernels'.
_DISPATCHERS: list[Dispatcher] = []


def user_cache_dir() -> str | None:
    """The per-user directory spanfast caches kernels in when ``NUMBA_CACHE_DIR`` is unset.

    One subdirectory per spanfast and Numba version, so an upgrade starts clean and the
    old directory can simply be deleted. ``None`` when there is no absolute home to put
    it in (``~`` did not expand).
    """
    base = AppDirs(appname="spanfast", appauthor=False).user_cache_dir
    if not os.path.isabs(base):
        return None  # never cache relative to the current directory
    return os.path.join(base, "numba", f"{__version__}-numba{numba.__version__}")


def cache_dir() -> str | None:
    """The directory spanfast's kernels are cached under: ``NUMBA_CACHE_DIR`` or
    :func:`user_cache_dir`. Whether it is writable is decided when kernels compile."""
    return config.CACHE_DIR or user_cache_dir()


class _NumbaCacheDirLocator(caching._SourceFileBackedLocatorMixin, caching._CacheLocator):
    """``NUMBA_CACHE_DIR``, laid out as Numba's own user-provided locator lays it out."""

    @staticmethod
    def _base_dir() -> str | None:
        return config.CACHE_DIR or None

    def __init__(self, py_func: Callable, py_file: str, base_dir: str) -> None:
        self._py_file = py_file
        self._lineno = py_func.__code__.co_firstlineno
        # One directory per source directory (hashed), so two environments sharing a
        # cache directory do not overwrite each other's entries.
        self._cache_path = os.path.join(base_dir, self.get_suitable_cache_subpath(py_file))

    def get_cache_path(self) -> str:
        return self._cache_path

    @classmethod
    def from_function(cls, py_func: Callable, py_file: str):
        base_dir = cls._base_dir()
        if not base_dir or not os.path.exists(py_file):
            return None
        locator = cls(py_func, py_file, base_dir)
        try:
            locator.ensure_cache_path()  # creates it and writes a temporary file
        except OSError:
            return None
        return locator


class _UserCacheDirLocator(_NumbaCacheDirLocator):
    """The per-user cache directory of :func:`user_cache_dir`."""

    @staticmethod
    def _base_dir() -> str | None:
        return user_cache_dir()


class _KernelCacheImpl(caching.CompileResultCacheImpl):
    # No in-tree (__pycache__) locator: that is the install directory.
    _locator_classes = [_NumbaCacheDirLocator, _UserCacheDirLocator]


_warned: set[str] = set()  # which once-per-session warnings were given


def _warn_once(topic: str, message: str) -> None:
    if topic in _warned:
        return
    _warned.add(topic)
    warnings.warn(message, KernelCacheWarning, stacklevel=3)


def _warn_unreadable(path: str, cache_path: str, error: BaseException) -> None:
    _warn_once(
        "unreadable",
        f"spanfast: unreadable kernel cache entry {os.path.basename(path)} "
        f"({type(error).__name__}: {error}); recompiling and overwriting it. "
        f"Cache directory: {cache_path}",
    )


class _RecoveringCacheFile(caching.IndexDataCacheFile):
    """Numba's index and data files, where an unreadable file is a miss, not an error."""

    def _load_index(self) -> dict:
        try:
            return super()._load_index()
        except Exception as error:  # garbage unpickles into any exception there is
            # An empty index: the save after recompiling writes a fresh one over it.
            _warn_unreadable(self._index_path, self._cache_path, error)
            return {}

    def _load_data(self, name: str):
        try:
            return super()._load_data(name)
        except OSError:
            raise  # a data file removed under the index: Numba's load() treats it as a miss
        except Exception as error:
            _warn_unreadable(self._data_path(name), self._cache_path, error)
            return None  # a miss: the save after recompiling overwrites this data file


#: The CPU a portable cache entry is compiled for (``spanfast precompile --portable``
#: sets ``NUMBA_CPU_NAME`` to it): the baseline of the architecture, so it runs on
#: every CPU of it. Numba keys each entry by the CPU it was compiled for (name and
#: feature list), so an entry made on a build machine misses on any other CPU model.
PORTABLE_CPU_NAME = "generic"


class _KernelCache(caching.FunctionCache):
    """A kernel's on-disk cache: spanfast's locators, misses instead of errors, and
    entries compiled for this CPU first, else for :data:`PORTABLE_CPU_NAME`."""

    _impl_class = _KernelCacheImpl

    def __init__(self, py_func: Callable) -> None:
        super().__init__(py_func)
        self._cache_file = _RecoveringCacheFile(
            cache_path=self._cache_path,
            filename_base=self._impl.filename_base,
            source_stamp=self._impl.locator.get_source_stamp(),
        )

    def load_overload(self, sig, target_context):
        try:
            return super().load_overload(sig, target_context)
        except Exception as error:  # files that unpickle but do not rebuild into code
            _warn_unreadable(self._cache_file._index_path, self._cache_path, error)
            return None

    def _load_overload(self, sig, target_context):
        data = super()._load_overload(sig, target_context)
        if data is not None or not self._enabled:
            return data
        key = self._index_key(sig, target_context.codegen())
        triple, cpu_name, _ = key[1]
        if cpu_name == PORTABLE_CPU_NAME:
            return None
        data = self._cache_file.load((key[0], (triple, PORTABLE_CPU_NAME, ""), key[2]))
        return None if data is None else self._impl.rebuild(target_context, data)

    def save_overload(self, sig, data) -> None:
        try:
            super().save_overload(sig, data)
        except OSError as error:  # the directory went away or filled up: keep it in memory
            _warn_once(
                "unwritable",
                f"spanfast: cannot write compiled kernels to {self._cache_path} ({error}); "
                "kernels compiled now are kept in memory for this session only.",
            )


class _InMemoryCache(caching.NullCache):
    """No directory is writable: compile in memory, and say so once at the first compile."""

    def __init__(self, reason: str) -> None:
        self._reason = reason

    def load_overload(self, sig, target_context) -> None:
        _warn_once(
            "uncached",
            f"spanfast: Numba cannot cache compiled kernels here ({self._reason}); "
            "kernels will be compiled in memory on first use each session. "
            "Set NUMBA_CACHE_DIR to a writable directory to keep them.",
        )


# ---------------------------------------------------------------------------------------
# Small inputs: the Python bodies instead of a compilation (see the module docstring)

# Elements, over all array arguments, of a first call that runs the Python body.
INTERPRET_BELOW = int(os.environ.get("SPANFAST_INTERPRET_BELOW", 1 << 17))
# Seconds the process spends in interpreted kernels before it compiles every kernel
# it meets: under one compilation's worth (a span call's kernels compile in ~4 s),
# so a loop of small calls waits at most about that much longer than if it had
# compiled at once, while a first call and a second dtype (a token call on 10K
# tokens, K = 9, interprets in ~0.3 s) stay fast. Time, not elements: the cost that
# matters is the wait, and the answers are the same either way.
INTERPRET_SECONDS = 1.5
_interpreted = [0.0]  # seconds so far (threads add up; races only blur it)
_local = threading.local()  # .depth: interpreted kernels running on this thread
_compiling = [0]  # compiling() blocks open, on any thread
_compiling_lock = threading.Lock()


@contextlib.contextmanager
def compiling() -> Iterator[None]:
    """Kernels called while this block runs are loaded or compiled, never interpreted:
    for filling the cache ahead of time. On every thread of the process, since the
    calls in the block hand kernels to worker threads (the noise-rate candidates,
    blocks of a pass), whose first calls must compile too."""
    with _compiling_lock:
        _compiling[0] += 1
    try:
        yield
    finally:
        with _compiling_lock:
            _compiling[0] -= 1


def _elements(args: tuple) -> int:
    return sum(a.size for a in args if isinstance(a, np.ndarray))


def _run_interpreted(func: Callable) -> Callable:
    def run(*args: Any) -> Any:
        _local.depth = getattr(_local, "depth", 0) + 1
        started = time.perf_counter()
        try:
            with np.errstate(all="ignore"):  # compiled kernels never warn
                return func(*args)
        finally:
            _local.depth -= 1
            _interpreted[0] += time.perf_counter() - started

    return run


def _first_call(dispatcher: Dispatcher, compile_for_args: Callable) -> Callable:
    """What Numba calls when ``dispatcher`` has no compiled code for the arguments
    (it calls whatever this returns): the Python body for a small first call, a
    loaded or compiled kernel otherwise."""

    def first_call(*args: Any) -> Any:
        if getattr(_local, "depth", 0):  # called from an interpreted body
            return dispatcher.py_func
        if not _compiling[0]:
            size = _elements(args)
            if size < INTERPRET_BELOW and _interpreted[0] < INTERPRET_SECONDS:
                return _run_interpreted(dispatcher.py_func)
            _interpreted[0] = INTERPRET_SECONDS  # large data: compile from now on
        return compile_for_args(*args)

    return first_call


def _interpretable(dispatcher: Dispatcher) -> Dispatcher:
    dispatcher._compile_only = dispatcher._compile_for_args
    dispatcher._compile_for_args = _first_call(dispatcher, dispatcher._compile_for_args)
    return dispatcher


def always_compiled(dispatcher: Callable) -> Callable:
    """Never run ``dispatcher``'s Python body (put above ``@kernel``): for kernels whose
    answer could differ in the last bit, such as ``np.exp`` and ``np.log``, whose NumPy
    and Numba implementations may round differently."""
    if isinstance(dispatcher, Dispatcher):
        dispatcher._compile_for_args = dispatcher._compile_only
    return dispatcher


def kernel(func: Callable) -> Callable:
    """Compile ``func`` with spanfast's Numba options, caching when possible."""
    dispatcher = numba.njit(cache=False, **_JIT_OPTIONS)(func)
    if not isinstance(dispatcher, Dispatcher):  # NUMBA_DISABLE_JIT=1: the Python function
        return dispatcher
    _DISPATCHERS.append(dispatcher)
    _interpretable(dispatcher)
    try:
        dispatcher._cache = _KernelCache(func)  # what cache=True does, with our cache class
    except RuntimeError:  # "cannot cache function ...: no locator available"
        tried = [f"NUMBA_CACHE_DIR={config.CACHE_DIR}"] if config.CACHE_DIR else []
        tried.append(user_cache_dir() or "no home directory for a per-user cache")
        dispatcher._cache = _InMemoryCache(f"no writable directory among {', '.join(tried)}")
    return dispatcher


def helper(func: Callable) -> Callable:
    """A small function called from kernels; its code is cached with theirs.

    Not ``inline="always"``: Numba's IR inlining types the body again at every
    call site, which cost ~2 s of a cold compile; LLVM still inlines small
    helpers. From kernels, pass integer constants to helpers and other kernels as
    ``np.int64(c)``, not ``c``: a Python literal compiles one more specialization
    of the callee per constant.
    """
    dispatcher = numba.njit(**_JIT_OPTIONS)(func)
    return _interpretable(dispatcher) if isinstance(dispatcher, Dispatcher) else dispatcher


def kernel_modules() -> list[str]:
    """Names of the spanfast modules that define kernels (``@kernel`` in their source).

    Found by reading the package's source files, so that a kernel module added
    anywhere (not only in ``spanfast._kernels``) is precompiled and checked too.
    """
    package_dir = os.path.dirname(os.path.abspath(__file__))
    package = __name__.rpartition(".")[0]
    names = []
    for directory, subdirectories, files in os.walk(package_dir):
        subdirectories[:] = sorted(d for d in subdirectories if d.isidentifier())
        for file in sorted(files):
            if not file.endswith(".py"):
                continue
            with open(os.path.join(directory, file), encoding="utf-8") as source:
                if "\n@kernel\n" not in source.read():
                    continue
            relative = os.path.relpath(os.path.join(directory, file[:-3]), package_dir)
            names.append(".".join([package, *relative.split(os.sep)]))
    return names


def compiled_kernels() -> list[Dispatcher]:
    """Every spanfast kernel's dispatcher, with all kernel modules imported.

    ``dispatcher.signatures`` lists what a dispatcher holds (compiled now or loaded
    from the cache) and ``dispatcher.stats`` how many of those came from the cache.
    Empty under ``NUMBA_DISABLE_JIT=1``, where there is nothing to compile.
    """
    import importlib

    modules = kernel_modules()
    for name in modules:
        importlib.import_module(name)
    # Only the library's own: kernel() also serves functions defined elsewhere (tests).
    return [d for d in _DISPATCHERS if d.py_func.__module__ in modules]
