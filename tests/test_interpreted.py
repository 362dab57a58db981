"""Small first calls run the kernels' Python bodies: the same answers as compiled kernels.

A child process with an empty kernel cache interprets every kernel (no compilation
happens there: Numba's compile events are counted) and pickles the answer of every
public function of the registry, for every case and input form, on a set of random
datasets; this process, where the suite compiles kernels, computes the same and
compares them exactly (values, dtypes, printed text, warnings, errors).
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from strategies import call_capturing
from test_oracle_table import assert_agree

from spanfast import find_span_issues, options
from spanfast.results import find_issues
from spanfast.span_classification import find_label_issues as span_find
from spanfast.span_classification import get_label_quality_scores as span_scores
from spanfast.testing import data
from spanfast.testing.registry import ENTRIES

DATASETS = [  # (seed, n_sentences, K, dtype, tie mode); K = 2 also gives the span data
    (0, 30, 2, "float64", "none"),
    (1, 60, 2, "float32", "round"),
    (2, 40, 3, "float64", "round"),
    (3, 80, 5, "float32", "none"),
    (4, 25, 9, "float64", "dup_rows"),
    (5, 120, 4, "float32", "round"),
]


def _datasets(kind: str):
    for seed, n_sentences, K, dtype, tie_mode in DATASETS:
        if kind == "span" and K != 2:
            continue
        dataset = data.make_dataset(
            seed=seed, n_sentences=n_sentences, K=K, dtype=dtype, tie_mode=tie_mode, noise=0.15
        )
        yield dataset.as_span() if kind == "span" else dataset


def answers() -> dict:
    """Every registry entry's answer on every dataset, case and form (run in both processes)."""
    out = {}
    for name, entry in ENTRIES.items():
        for d, dataset in enumerate(_datasets(entry.data)):
            for c, case in enumerate(entry.cases):
                for form in entry.forms:
                    args, kwargs = entry.arguments(dataset, "spanfast", form, case)
                    result, error, warned, printed = call_capturing(
                        entry.function("spanfast"), *args, **kwargs
                    )
                    error = None if error is None else (type(error).__name__, str(error))
                    out[name, d, c, form] = (result, error, sorted(warned), printed)
    for task in ("span", "token"):  # and the array-native results, every filter
        for d, dataset in enumerate(_datasets(task)):
            for filter_by in options.FILTER_BY:
                result, error, warned, printed = call_capturing(
                    find_issues,
                    dataset.labels_nested,
                    dataset.probs_list,
                    task=task,
                    filter_by=filter_by,
                )
                error = None if error is None else (type(error).__name__, str(error))
                out["find_issues", task, d, filter_by] = (result, error, sorted(warned), printed)
    for d, dataset in enumerate(_datasets("token")):  # span-level issues, tags of K classes
        names = ["O"] + [f"{p}-T{k}" for k in range(1, dataset.K) for p in ("B", "I")]
        names = names[: dataset.K] if dataset.K % 2 else names[: dataset.K - 1] + ["O2"]
        result = call_capturing(
            find_span_issues, dataset.labels_nested, dataset.probs_list, class_names=names
        )
        out["find_span_issues", d] = _comparable(result)
    rng = np.random.default_rng(11)
    for C in (1, 3, 6):  # several span classes: (T, C) probabilities, class-id labels
        probs = [rng.random((int(rng.integers(1, 12)), C)).round(2) for _ in range(60)]
        labels = [[[k + 1 for k in np.flatnonzero(row > 0.6)] for row in p] for p in probs]
        for function in (span_find, span_scores):
            out[function.__name__, C] = _comparable(call_capturing(function, labels, probs))
    return out


def _comparable(captured: tuple) -> tuple:
    result, error, warned, printed = captured
    error = None if error is None else (type(error).__name__, str(error))
    if hasattr(result, "to_pandas"):  # SpanIssues: compared as its table
        result = result.to_pandas()
    return _without_dicts(result), error, sorted(warned), printed


def _without_dicts(value):
    """Dicts ({class: ...}) as tuples of items, which the comparison walks."""
    if isinstance(value, dict):
        return tuple((key, _without_dicts(item)) for key, item in value.items())
    if isinstance(value, tuple):
        return tuple(_without_dicts(item) for item in value)
    return value


CHILD = textwrap.dedent(
    """
    import pickle, sys
    sys.path.insert(0, TESTS)
    from numba.core.event import install_recorder
    from spanfast import _numba
    _numba.INTERPRET_SECONDS = float("inf")  # interpret everything, however long
    import test_interpreted
    with install_recorder("numba:compile") as events:
        answers = test_interpreted.answers()
    compiled, depth = set(), 0  # kernels compiled for their own call, not for a caller's
    for _, event in events.buffer:
        if event.is_start:
            if depth == 0:
                compiled.add(event.data["dispatcher"].py_func.__name__)
            depth += 1
        else:
            depth -= 1
    marked = {
        d.py_func.__name__ for d in _numba._DISPATCHERS
        if d._compile_for_args == d._compile_only
    }
    with open(sys.argv[1], "wb") as out:
        pickle.dump((answers, compiled, marked), out)
    """
)


@pytest.fixture(scope="module")
def interpreted(tmp_path_factory) -> tuple[dict, set, set]:
    tmp = tmp_path_factory.mktemp("interpreted")
    env = dict(
        os.environ,
        SPANFAST_INTERPRET_BELOW=str(10**12),
        NUMBA_CACHE_DIR=str(tmp / "empty-cache"),
        PYTHONPATH=os.pathsep.join(filter(None, [str(Path.cwd()), os.environ.get("PYTHONPATH")])),
    )
    script = f"TESTS = {str(Path(__file__).parent)!r}\n" + CHILD
    subprocess.run(
        [sys.executable, "-c", script, str(tmp / "answers.pkl")],
        env=env,
        check=True,
        timeout=600,
    )
    with open(tmp / "answers.pkl", "rb") as file:
        return pickle.load(file)


def test_only_kernels_marked_always_compiled_are_compiled_when_calls_are_small(interpreted):
    answers, compiled, marked = interpreted
    assert len(answers) > 100
    assert marked >= {"sentence_softmin", "entropy_over_confidence"}
    assert compiled <= marked


def test_interpreted_answers_are_the_compiled_ones(interpreted):
    got = interpreted[0]
    expected = answers()
    assert got.keys() == expected.keys()
    for key, (result, error, warned, printed) in expected.items():
        assert got[key][1] == error, key
        assert got[key][2] == warned, key
        assert got[key][3] == printed, key
        assert_agree(got[key][0], result, rtol=0, where=str(key))


FIRST_CALL = textwrap.dedent(
    """
    import sys
    import numpy as np
    from numba.core.event import install_recorder
    from spanfast import _numba
    from spanfast.span_classification import find_label_issues
    rng = np.random.default_rng(0)
    n = int(sys.argv[1])
    probs = [rng.random(10) for _ in range(n // 10)]
    labels = [(p > 0.5).astype(int) ^ (rng.random(10) < 0.1) for p in probs]
    with install_recorder("numba:compile") as compiles:
        if sys.argv[2] == "compiling":
            with _numba.compiling():
                find_label_issues(labels, probs)
        else:
            find_label_issues(labels, probs)
    print(len(compiles.buffer))
    """
)


@pytest.mark.parametrize(
    "n_tokens, mode, compiles",
    [(10_000, "default", False), (10_000, "compiling", True), (300_000, "default", True)],
)
def test_a_first_call_compiles_only_when_large_or_asked(tmp_path, n_tokens, mode, compiles):
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path / "cache"))
    env.pop("SPANFAST_INTERPRET_BELOW")  # the default a user has
    run = subprocess.run(
        [sys.executable, "-c", FIRST_CALL, str(n_tokens), mode],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    assert (int(run.stdout) > 0) is compiles, run.stderr
    cached = [p for p in (tmp_path / "cache").rglob("*") if p.suffix in (".nbi", ".nbc")]
    assert bool(cached) is compiles
