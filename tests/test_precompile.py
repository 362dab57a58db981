"""``spanfast precompile`` fills the kernel cache: a later process compiles nothing.

Whether anything was compiled is read from Numba itself, never from timings: the
``numba:compile`` event fires only when a function is really compiled (not when
it is loaded from the cache), and every kernel's dispatcher counts its cache
misses.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from numba.core import config

import spanfast

SOURCE_ROOT = str(Path(spanfast.__file__).resolve().parent.parent)
pytestmark = pytest.mark.skipif(config.DISABLE_JIT, reason="NUMBA_DISABLE_JIT compiles nothing")

# A user's first calls, written apart from precompile's own list: lists and Ragged,
# span and token, float32 and float64, int64 arrays and nested ints, >128 classes.
FIRST_CALLS = textwrap.dedent(
    """
    import json
    import numpy as np
    from numba.core import event

    compiled = []

    class Compiles(event.Listener):
        def on_start(self, ev):
            pass

        def on_end(self, ev):
            compiled.append(ev.data["dispatcher"].py_func.__qualname__ + str(ev.data["args"]))

    event.register("numba:compile", Compiles())

    import spanfast
    from spanfast import core, span_classification as span
    from spanfast.testing.data import ner_arrays
    from spanfast.token_classification import filter as token_filter, rank as token_rank
    from spanfast._numba import compiled_kernels

    for dtype in ("float32", "float64"):
        arrays = ner_arrays(500, "documents", seed=7, dtype=dtype)
        offsets = arrays["offsets"]
        cut = offsets[1:-1]
        for kind in ("span", "token"):
            labels, probs = arrays[kind + "_labels"], arrays[kind + "_probs"]
            nested = ([s.tolist() for s in np.split(labels, cut)], list(np.split(probs, cut)))
            ragged = (spanfast.Ragged(labels, offsets), spanfast.Ragged(probs, offsets))
            for data in (nested, ragged):
                if kind == "span":
                    span.find_label_issues(*data)
                    span.get_label_quality_scores(*data, sentence_score_method="softmin")
                else:
                    token_filter.find_label_issues(*data, filter_by="both")
                    token_filter.find_label_issues(*data, low_memory=True)
                    token_rank.get_label_quality_scores(*data, token_score_method="normalized_margin")
        many = np.random.default_rng(1).dirichlet(np.ones(200), 400).astype(dtype)
        core.find_label_issues(np.arange(400) % 200, many, filter_by="confident_learning")

    misses = {
        k.py_func.__qualname__: [str(s) for s in k.stats.cache_misses]
        for k in compiled_kernels()
        if k.stats.cache_misses
    }
    hits = sum(sum(k.stats.cache_hits.values()) for k in compiled_kernels())
    print(json.dumps({"compiled": compiled, "cache_misses": misses, "cache_hits": hits}))
    """
)


def _env(cache_dir: Path, **extra: str) -> dict:
    env = dict(os.environ, NUMBA_CACHE_DIR=str(cache_dir), **extra)
    env["PYTHONPATH"] = os.pathsep.join([SOURCE_ROOT, env.get("PYTHONPATH", "")])
    env.pop("NUMBA_DISABLE_JIT", None)
    return env


def _first_calls(cache_dir: Path, **env: str) -> dict:
    """What a fresh process compiled and missed in the cache while making FIRST_CALLS."""
    result = subprocess.run(
        [sys.executable, "-c", FIRST_CALLS],
        env=_env(cache_dir, **env),
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout.splitlines()[-1])


@pytest.fixture(scope="module")
def precompiled(tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
    cache_dir = tmp_path_factory.mktemp("precompiled-cache")
    env = _env(cache_dir)
    # As a user runs it: small first calls would be interpreted (the suite turns that
    # off), so a kernel that precompile leaves to them is seen as not cached.
    env.pop("SPANFAST_INTERPRET_BELOW", None)
    result = subprocess.run(
        [sys.executable, "-m", "spanfast", "precompile", "--portable"],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    return cache_dir, result


def test_precompile_exits_0_and_says_what_and_where(precompiled):
    cache_dir, result = precompiled
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""  # no "not cached" kernel, no warning
    assert f"cache: {cache_dir}" in result.stdout
    assert "spanfast._kernels.selection.count_noise_rate_keys:" in result.stdout
    assert "compiling for CPU generic" in result.stdout  # the --portable pass
    assert any(path.suffix == ".nbi" for path in cache_dir.rglob("*"))


def test_after_precompile_a_fresh_process_compiles_nothing(precompiled):
    cache_dir, _ = precompiled
    report = _first_calls(cache_dir)
    assert report["compiled"] == []
    assert report["cache_misses"] == {}
    assert report["cache_hits"] > 0


@pytest.mark.skipif(platform.machine() not in ("x86_64", "AMD64"), reason="an x86-64 CPU name")
def test_on_another_cpu_the_portable_entries_are_used(precompiled):
    # NUMBA_CPU_NAME stands in for a machine of another CPU model than the one that
    # ran precompile: nothing in the cache was compiled for it but the portable entries.
    cache_dir, _ = precompiled
    report = _first_calls(cache_dir, NUMBA_CPU_NAME="x86-64-v2")
    assert report["compiled"] == []
    assert report["cache_hits"] > 0


def test_an_empty_cache_is_seen_to_compile(tmp_path):
    # The check above can fail: the same first calls in an empty cache are seen compiling.
    report = _first_calls(tmp_path)
    assert report["compiled"]
    assert "_span_confident_joint" in report["cache_misses"]


def test_precompile_a_second_time_compiles_nothing(precompiled):
    cache_dir, _ = precompiled
    result = subprocess.run(
        [sys.executable, "-m", "spanfast", "precompile"],
        env=_env(cache_dir),
        capture_output=True,
        text=True,
        check=True,
    )
    assert ", 0 of them compiled now" in result.stdout
    assert result.stderr == ""


def test_quiet_prints_only_the_cache_directory(capsys):
    from spanfast.cli import main

    assert main(["precompile", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("cache: ") and len(out.splitlines()) == 1


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="XDG_CACHE_HOME is Linux's")
def test_precompile_without_a_writable_cache_is_an_error(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.touch()  # nothing can be created under a regular file, root included
    result = subprocess.run(
        [sys.executable, "-m", "spanfast", "precompile"],
        env=_env(blocker / "numba", XDG_CACHE_HOME=str(blocker / "user")),
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert result.stderr.startswith("spanfast precompile: ")
    assert "NUMBA_CACHE_DIR" in result.stderr
    assert len(result.stderr.splitlines()) == 1
