"""Kernel compilation settings: where kernels are cached, a corrupted cache, no cache."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import numba
import pytest
from numba.core import config

import spanfast
from spanfast import _numba
from spanfast._kernels.scores import self_confidence

PACKAGE_DIR = Path(spanfast.__file__).resolve().parent
pytestmark = pytest.mark.skipif(config.DISABLE_JIT, reason="NUMBA_DISABLE_JIT compiles nothing")


def _unwritable(tmp_path: Path) -> str:
    """A path no one can create, root included: its parent is a regular file."""
    blocker = tmp_path / "a-file"
    blocker.touch()
    return str(blocker / "cache")


def test_kernels_are_cached_without_fastmath():
    assert isinstance(self_confidence._cache, _numba._KernelCache)
    assert not self_confidence.targetoptions.get("fastmath")
    assert self_confidence.targetoptions.get("nogil")


def test_numba_cache_dir_wins(monkeypatch, tmp_path):
    monkeypatch.setattr(config, "CACHE_DIR", str(tmp_path / "numba-cache"))
    cache = _numba._KernelCache(self_confidence.py_func)
    assert Path(cache.cache_path).parent == tmp_path / "numba-cache"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="XDG_CACHE_HOME is Linux's")
def test_per_user_cache_dir_when_numba_cache_dir_is_unset(monkeypatch, tmp_path):
    monkeypatch.setattr(config, "CACHE_DIR", "")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    cache = _numba._KernelCache(self_confidence.py_func)
    version_dir = (
        tmp_path / "spanfast" / "numba" / f"{spanfast.__version__}-numba{numba.__version__}"
    )
    assert Path(cache.cache_path).parent == version_dir
    assert _numba.cache_dir() == str(version_dir)


def test_an_unwritable_numba_cache_dir_falls_back_to_the_per_user_dir(monkeypatch, tmp_path):
    monkeypatch.setattr(config, "CACHE_DIR", _unwritable(tmp_path))
    monkeypatch.setattr(_numba, "user_cache_dir", lambda: str(tmp_path / "user"))
    cache = _numba._KernelCache(self_confidence.py_func)
    assert Path(cache.cache_path).parent == tmp_path / "user"


def test_never_the_install_directory(monkeypatch, tmp_path):
    # Numba's own chain would pick the in-tree __pycache__ here (it is writable).
    monkeypatch.setattr(config, "CACHE_DIR", "")
    monkeypatch.setattr(_numba, "user_cache_dir", lambda: _unwritable(tmp_path))
    with pytest.raises(RuntimeError, match="no locator available"):
        _numba._KernelCache(self_confidence.py_func)


def test_other_functions_keep_numbas_own_locators(monkeypatch, tmp_path):
    tests_dir = Path(__file__).resolve().parent
    if not os.access(tests_dir, os.W_OK):
        pytest.skip("Numba's in-tree locator needs a writable tests/ directory")
    monkeypatch.setattr(config, "CACHE_DIR", "")
    theirs = numba.njit(cache=True)(lambda x: x + 1)  # another library's cached function
    assert Path(theirs._cache.cache_path) == tests_dir / "__pycache__"


def test_a_kernel_is_written_to_the_cache_dir_and_read_back(monkeypatch, tmp_path):
    monkeypatch.setattr(config, "CACHE_DIR", str(tmp_path))

    def add_one(x):
        return x + 1

    assert _numba.kernel(add_one)(41) == 42
    assert [p.suffix for p in sorted(tmp_path.rglob("*.nb?"))] == [".nbc", ".nbi"]
    reloaded = _numba.kernel(add_one)  # a new session's dispatcher, same source
    assert reloaded(41) == 42
    assert reloaded.stats.cache_hits and not reloaded.stats.cache_misses


def test_kernels_compile_in_memory_when_no_cache_is_writable(monkeypatch, tmp_path):
    monkeypatch.setattr(config, "CACHE_DIR", _unwritable(tmp_path))
    monkeypatch.setattr(_numba, "user_cache_dir", lambda: _unwritable(tmp_path))
    monkeypatch.setattr(_numba, "_warned", set())
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing at decoration: a program can filter first
        add_one = _numba.kernel(lambda x: x + 1)
        double = _numba.kernel(lambda x: x * 2)
    assert isinstance(add_one._cache, _numba._InMemoryCache)
    with pytest.warns(_numba.KernelCacheWarning, match="cannot cache compiled kernels") as caught:
        assert add_one(41) == 42
    assert issubclass(caught[0].category, RuntimeWarning)
    assert "a-file" in str(caught[0].message)  # names the directories it tried
    # Later kernels fall back silently: one warning per session, not one per kernel.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert double(21) == 42


# --- a corrupted cache, by fault injection in fresh interpreters -------------------------

LABELS = [[0, 1, 1, 0], [1, 1, 0], [0, 0, 1, 1, 1]]
PRED_PROBS = [[0.1, 0.9, 0.2, 0.3], [0.9, 0.95, 0.9], [0.1, 0.2, 0.8, 0.9, 0.15]]
SCRIPT = f"""
import json, warnings
import numpy as np
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    import spanfast
    issues = spanfast.find_label_issues({LABELS}, [np.array(p) for p in {PRED_PROBS}])
print(json.dumps({{
    "issues": [[int(i), int(j)] for i, j in issues],
    "warnings": [[w.category.__name__, str(w.message)] for w in caught],
}}))
"""


def _run(cache_dir: Path) -> dict:
    env = dict(os.environ, NUMBA_CACHE_DIR=str(cache_dir))
    env["PYTHONPATH"] = os.pathsep.join([str(PACKAGE_DIR.parent), env.get("PYTHONPATH", "")])
    env.pop("NUMBA_DISABLE_JIT", None)
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def filled_cache(tmp_path_factory) -> tuple[Path, dict]:
    cache_dir = tmp_path_factory.mktemp("filled") / "cache"
    clean = _run(cache_dir)
    assert clean["warnings"] == []
    assert clean["issues"]  # the inputs flag something, so a wrong answer shows
    return cache_dir, clean


def _garble(path: Path) -> None:
    path.write_bytes(b"\x80\x05 not a pickle \x00" * 8)


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 3])


@pytest.mark.parametrize(
    ("pattern", "corrupt"),
    [("*.nbi", _garble), ("*.nbi", _truncate), ("*.nbc", _garble), ("*.nbc", _truncate)],
    ids=["index-garbage", "index-truncated", "data-garbage", "data-truncated"],
)
def test_a_corrupted_cache_entry_is_recompiled_and_overwritten(
    filled_cache, tmp_path, pattern, corrupt
):
    filled, clean = filled_cache
    cache_dir = tmp_path / "cache"
    shutil.copytree(filled, cache_dir)
    # The largest file of that kind: a kernel find_label_issues certainly loads.
    victim = max(cache_dir.rglob(pattern), key=lambda p: p.stat().st_size)
    corrupt(victim)
    damaged = victim.read_bytes()

    recovered = _run(cache_dir)
    assert recovered["issues"] == clean["issues"]
    assert len(recovered["warnings"]) == 1, recovered["warnings"]
    category, message = recovered["warnings"][0]
    assert category == "KernelCacheWarning"
    assert str(cache_dir) in message and "recompiling" in message

    assert victim.read_bytes() != damaged  # the entry was overwritten ...
    assert _run(cache_dir) == clean  # ... so the next process reads it without a warning
