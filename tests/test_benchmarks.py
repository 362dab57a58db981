"""Keep the asv suite from rotting: run every benchmark once at 10K tokens.

Every ``time_``/``peakmem_``/``timeraw_`` benchmark in ``asv_benchmarks/benchmarks``
is called the way asv calls it (``setup_cache`` -> ``setup`` -> benchmark ->
``teardown``), for both implementations, with ``n_tokens`` forced to 10 000
(the 1M-only peak-memory benchmarks included). ``timeraw_`` code is run in a
fresh interpreter and must exit with status 0 (the cold-compile one really
compiles every kernel into an empty cache: ~10 s of this file's ~40 s).
Nothing here asserts on timings.
"""

from __future__ import annotations

import importlib
import inspect
import itertools
import os
import pkgutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from spanfast.testing import registry

ASV_DIR = Path(__file__).resolve().parents[1] / "asv_benchmarks"
SMALL = 10_000
PREFIXES = ("time_", "peakmem_", "timeraw_", "track_", "mem_")

# Run as its own CI step (``python -m pytest -m benchmark``): the uncached compile makes
# it ~45% of the suite's time, so the README's test command leaves it out.
pytestmark = pytest.mark.benchmark

if str(ASV_DIR) not in sys.path:
    sys.path.insert(0, str(ASV_DIR))
benchmarks = importlib.import_module("benchmarks")
_data = importlib.import_module("benchmarks._data")
MODULES = [
    importlib.import_module(f"benchmarks.{info.name}")
    for info in pkgutil.iter_modules(benchmarks.__path__)
]


def _small_combinations(cls) -> list[tuple]:
    params = getattr(cls, "params", None)
    if params is None:
        return [()]
    names = list(cls.param_names)
    if not isinstance(params, tuple) or (params and not isinstance(params[0], (list, tuple))):
        params = (params,)
    grid = [
        [SMALL] if name == "n_tokens" else list(values)
        for name, values in zip(names, params, strict=True)
    ]
    return list(itertools.product(*grid))


def _cases():
    for module in MODULES:
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ != module.__name__:
                continue
            methods = [name for name in dir(cls) if name.startswith(PREFIXES)]
            for method, combination in itertools.product(methods, _small_combinations(cls)):
                label = "-".join(str(value) for value in combination)
                yield pytest.param(
                    cls,
                    method,
                    combination,
                    id=f"{module.__name__}.{cls.__name__}.{method}[{label}]",
                )


CASES = list(_cases())


def test_every_module_has_benchmarks():
    benchmarked = {case.values[0].__module__ for case in CASES}
    expected = {
        module.__name__ for module in MODULES if not module.__name__.split(".")[-1].startswith("_")
    }
    assert benchmarked == expected


def _collected():
    for case in CASES:
        cls, method, combination = case.values
        yield (cls.__module__, cls.__name__, method), (combination or (None,))[0]


def test_every_timing_of_the_table_is_a_benchmark():
    """The table decides what asv times side by side: each of its timings is collected,
    for both implementations."""
    expected = {
        (f"benchmarks.{timing.suite}", timing.cls, timing.method)
        for suite in ("span", "token")
        for _, timing in registry.timings(suite)
    }
    assert expected, "the table times nothing"
    implementations: dict[tuple, set] = {}
    for key, implementation in _collected():
        implementations.setdefault(key, set()).add(implementation)
    for key in expected:
        assert implementations.get(key) == {"spanfast", "cleanlab"}, key


@pytest.fixture(scope="session")
def cache(tmp_path_factory):
    directory = tmp_path_factory.mktemp("asv-setup-cache")
    old_sizes, old_cwd = _data.SIZES, os.getcwd()
    _data.SIZES = (SMALL,)
    os.chdir(directory)
    try:
        return _data.setup_cache()
    finally:
        _data.SIZES = old_sizes
        os.chdir(old_cwd)


def _run_raw(code) -> None:
    statement, setup = code if isinstance(code, tuple) else (code, "")
    source = textwrap.dedent(setup) + "\n" + textwrap.dedent(statement)
    result = subprocess.run(
        [sys.executable, "-c", source],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-4000:]


@pytest.mark.parametrize(("cls", "method", "combination"), CASES)
def test_benchmark_runs_once(cls, method, combination, cache):
    instance = cls()
    args = ((cache,) if hasattr(cls, "setup_cache") else ()) + tuple(combination)
    if hasattr(instance, "setup"):
        try:
            instance.setup(*args)
        except NotImplementedError:
            pytest.skip("combination skipped by the benchmark itself")
    try:
        outcome = getattr(instance, method)(*args)
        if method.startswith("timeraw_"):
            _run_raw(outcome)
    finally:
        if hasattr(instance, "teardown"):
            instance.teardown(*args)
