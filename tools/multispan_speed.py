"""Several span classes and span-level issues at 1M tokens, side by side in one run.

    PYTHONPATH=. NUMBA_CACHE_DIR=/tmp/numba-multispan python tools/multispan_speed.py \
        [--tokens 1000000] [--classes 8] [--dtype float64] [--repeat 5] [--no-cleanlab]

Times (best of ``--repeat``, the calls taking turns, after a warm-up call so
compilation is not timed):

- spanfast's multi-class ``find_label_issues`` on Ragged (T, C) input; C single-class
  spanfast calls on Ragged columns; and, once, cleanlab 2.9.0's single-class function
  looped over the C columns (lists of per-sentence arrays, its input);
- ``find_span_issues`` on the asv benchmarks' K = 9 BIO data
  (:func:`spanfast.testing.data.ner_arrays`, Ragged) vs token ``find_label_issues``
  on the same data;
- the peak memory each call adds to the process (``VmHWM`` after a reset, Linux),
  in bytes per token.
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import time
import warnings

import numpy as np

from spanfast import Ragged, find_span_issues
from spanfast import span_classification as spans
from spanfast.testing.data import ner_arrays
from spanfast.token_classification.filter import find_label_issues


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


def peak_extra(function) -> int:
    """Bytes the call adds to the resident set at its peak (Linux: VmHWM reset first)."""
    gc.collect()
    ctypes.CDLL("libc.so.6").malloc_trim(0)
    with open("/proc/self/clear_refs", "w") as clear_refs:
        clear_refs.write("5")
    before = _status("VmRSS")
    function()
    return _status("VmHWM") - before


def _status(field: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise LookupError(field)


def span_issues_speed(n_tokens: int, repeat: int) -> None:
    arrays = ner_arrays(n_tokens, "sentences")
    labels = Ragged(arrays["token_labels"], arrays["offsets"])
    probs = Ragged(arrays["token_probs"], arrays["offsets"])
    names = ["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC", "B-MISC", "I-MISC"]
    token, entity = best(
        [
            lambda: find_label_issues(labels, probs),
            lambda: find_span_issues(labels, probs, class_names=names),
        ],
        repeat,
    )
    print(f"\n{n_tokens} tokens, K = 9 BIO tags (ner_arrays), Ragged")
    print(f"token find_label_issues:                   {token * 1e3:9.1f} ms")
    print(f"find_span_issues:                          {entity * 1e3:9.1f} ms")
    print(f"  find_span_issues / token find:           {entity / token:9.2f}")
    for name, call in (
        ("token find_label_issues", lambda: find_label_issues(labels, probs)),
        ("find_span_issues", lambda: find_span_issues(labels, probs, class_names=names)),
    ):
        print(f"  peak extra memory, {name + ':':26s}{peak_extra(call) / n_tokens:6.1f} B/token")


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
    extra = peak_extra(lambda: spans.find_label_issues(multi_labels, multi_probs))
    print(f"  peak extra memory, multi-class:          {extra / args.tokens:6.1f} B/token")
    span_issues_speed(args.tokens, args.repeat)
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
