"""Several span classes at 1M tokens: one multi-class call vs C single-class calls.

    PYTHONPATH=. NUMBA_CACHE_DIR=/tmp/numba-multispan python tools/multispan_speed.py \
        [--tokens 1000000] [--classes 8] [--dtype float64] [--repeat 5] [--no-cleanlab]

Times (best of ``--repeat``, the calls taking turns, after a warm-up call so
compilation is not timed):
spanfast's multi-class ``find_label_issues`` on Ragged (T, C) input; C single-class
spanfast calls on Ragged columns; and, once, cleanlab 2.9.0's single-class
function looped over the C columns (lists of per-sentence arrays, its input).
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np

from spanfast import Ragged
from spanfast import span_classification as spans


def make(n_tokens: int, C: int, dtype, seed: int = 0):
    rng = np.random.default_rng(seed)
    lengths = rng.integers(5, 36, n_tokens // 20 + 1)
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    offsets = offsets[offsets <= n_tokens]
    offsets[-1] = n_tokens
    truth = rng.random((n_tokens, C)) < rng.uniform(0.05, 0.3, C)
    probs = np.clip(np.where(truth, 0.8, 0.1) + rng.normal(0, 0.15, truth.shape), 0, 1)
    labels = (truth ^ (rng.random(truth.shape) < 0.03)).astype(np.uint8)
    return labels, probs.astype(dtype), offsets


def best(functions, repeat: int) -> list[float]:
    """Best time of each function, the functions called in turn ``repeat`` times (so
    that each sees the same load on a shared machine), after one warm-up call each."""
    for function in functions:
        function()
    times = [[] for _ in functions]
    for _ in range(repeat):
        for function, spent in zip(functions, times):
            start = time.perf_counter()
            function()
            spent.append(time.perf_counter() - start)
    return [min(spent) for spent in times]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tokens", type=int, default=1_000_000)
    parser.add_argument("--classes", type=int, default=8)
    parser.add_argument("--dtype", default="float64")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--no-cleanlab", action="store_true")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    labels, probs, offsets = make(args.tokens, args.classes, np.dtype(args.dtype))
    C = args.classes
    multi_labels, multi_probs = Ragged(labels, offsets), Ragged(probs, offsets)
    columns = [
        (Ragged(np.ascontiguousarray(labels[:, c]), offsets), Ragged(probs[:, c].copy(), offsets))
        for c in range(C)
    ]
    multi, single = best(
        [
            lambda: spans.find_label_issues(multi_labels, multi_probs),
            lambda: [spans.find_label_issues(lab, prob) for lab, prob in columns],
        ],
        args.repeat,
    )
    found = spans.find_label_issues(multi_labels, multi_probs)
    assert all(found[c + 1] == spans.find_label_issues(*columns[c]) for c in range(C))
    print(f"{args.tokens} tokens, {len(offsets) - 1} sentences, C = {C}, {args.dtype}")
    print(f"spanfast multi-class, Ragged (T, C):        {multi * 1e3:9.1f} ms")
    print(f"spanfast {C} single-class calls, Ragged:     {single * 1e3:9.1f} ms")
    print(f"  multi / single:                          {multi / single:9.2f}")
    if args.no_cleanlab:
        return
    from cleanlab.experimental.span_classification import find_label_issues

    per_sentence = [
        (
            [labels[a:b, c].tolist() for a, b in zip(offsets[:-1], offsets[1:])],
            [probs[a:b, c] for a, b in zip(offsets[:-1], offsets[1:])],
        )
        for c in range(C)
    ]
    start = time.perf_counter()
    theirs = [find_label_issues(lab, prob) for lab, prob in per_sentence]
    cleanlab = time.perf_counter() - start
    same = sum(sorted(theirs[c]) == sorted(found[c + 1]) for c in range(C))
    print(f"cleanlab 2.9.0 looped over {C} columns:      {cleanlab * 1e3:9.1f} ms")
    print(f"  cleanlab / spanfast multi-class:         {cleanlab / multi:9.1f}x")
    print(f"  classes with the same issue set:         {same} of {C}")


if __name__ == "__main__":
    main()
