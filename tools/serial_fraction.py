"""How far find_label_issues scales with threads: its serial fraction, measured.

    python tools/serial_fraction.py [--tokens 1_000_000] [--wall]

Runs span and token (K = 9) find_label_issues on Ragged input on one thread and
measures, in CPU time of that thread (less sensitive to a shared machine than wall
time), first the one-thread path (``n_jobs=1``), then the path of many threads
(its steps choosing as on 16: the class sums on token blocks,
:meth:`spanfast._steps.ClassMeans.in_blocks`) run on this one thread: the whole
call and its blockwise parts, the steps of its plan that run on token blocks
shared out among threads (:func:`spanfast.plans.run_in_memory`) and the input
checks that do (the probability values, the label narrowing and the class
counts, one pass). The noise-rate candidates (prune_by_noise_rate, both) run
beside the serial part on a second thread, so from two threads on they are
counted as hidden. The rest is serial (the merges of the blocks' partial
results among it), s its fraction of the two-thread work, and Amdahl's law
gives the expected speed-up on n threads over the one-thread path: its time
divided by the serial time plus the blockwise time over n (the many-thread path
throughout: with 2 threads and the candidates beside, the runner keeps the
one-thread class sums). ``--wall``: instead, the median wall time of
each call with ``n_jobs=1`` and with every core.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from spanfast import Ragged, _span_head, _steps, _threads, plans
from spanfast._input import checked
from spanfast._kernels import selection
from spanfast.span_classification import find_label_issues as span_find
from spanfast.testing.data import ner_arrays
from spanfast.token_classification.filter import find_label_issues as token_find

seconds = {"blockwise": 0.0, "candidates": 0.0, "serial": 0.0}


def _timed(function, what: str):
    def run(*args):
        start = time.thread_time()
        try:
            return function(*args)
        finally:
            seconds[what] += time.thread_time() - start

    return run


def _timed_step(function):
    """A step's time counted as blockwise when the runner runs it on blocks."""
    timed = {what: _timed(function, what) for what in ("blockwise", "serial")}

    def run(step, batch, state):
        return timed["blockwise" if step.in_blocks(state) else "serial"](step, batch, state)

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=lambda s: int(s.replace("_", "")), default=1_000_000)
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--wall", action="store_true", help="wall time, n_jobs=1 vs all cores")
    args = parser.parse_args()
    data = ner_arrays(args.tokens, "sentences", dtype="float32")
    offsets = data["offsets"]
    span = Ragged(data["span_labels"], offsets), Ragged(data["span_probs"], offsets)
    token = Ragged(data["token_labels"], offsets), Ragged(data["token_probs"], offsets)
    if args.wall:
        _wall_times(args, span, token)
        return
    for step in vars(_steps).values():
        if isinstance(step, type) and getattr(step, "blockwise", False):
            step.step = _timed_step(step.step)
    selection.noise_rate_candidates = _timed(selection.noise_rate_candidates, "candidates")
    # the input checks, which run on token blocks (values, label narrowing, class counts)
    checked._check_tokens = _timed(checked._check_tokens, "blockwise")
    # The blocks' class starts (their class counts, counted on blocks) for the class sums
    _steps.ClassMeans.prepare_blocks = _timed(_steps.ClassMeans.prepare_blocks, "blockwise")
    _threads.thread_count = lambda n_jobs: 1  # all on this thread: its CPU time is the work
    # Span data on two to four threads is read in halves, on two threads whatever the
    # cores (spanfast._span_head); from five it takes the plan's blocks, modelled here.
    _span_head.checked_with_head = lambda *args, **kwargs: None
    cases = [
        ("span", span_find, span, {}),
        ("token K=9", token_find, token, {}),
        ("token K=9, filter_by='both'", token_find, token, {"filter_by": "both"}),
    ]
    print(f"{args.tokens:,} tokens, CPU time of one thread, median of {args.repeats}")
    for name, find, (labels, probs), options in cases:
        # The one-thread path (n_jobs=1: the class sums' whole-batch walk), then the
        # work of the many-thread path, its steps choosing as on 16 threads.
        plans.thread_count = lambda n_jobs: 1
        one = _median_times(args.repeats, find, labels, probs, options)[0]
        plans.thread_count = lambda n_jobs: 16
        t, b, c = _median_times(args.repeats, find, labels, probs, options)
        serial = (t - b - c) / (t - c)
        scaling = ", ".join(f"{n}: {one / ((t - b - c) + b / n):.2f}x" for n in (2, 4, 8, 16))
        print(
            f"{name}: one thread {1000 * one:.1f} ms; on blocks for many threads "
            f"{1000 * t:.1f} ms, blockwise {1000 * b:.1f} ms, beside them {1000 * c:.1f} ms, "
            f"serial fraction {serial:.2f}; expected speed-up over one thread {scaling}"
        )


def _median_times(repeats: int, find, labels, probs, options) -> tuple[float, float, float]:
    """Median CPU seconds of the whole call, its blockwise parts and the candidates."""
    find(labels, probs, **options)
    whole, blockwise, candidates = [], [], []
    for _ in range(repeats):
        seconds.update(blockwise=0.0, candidates=0.0)
        start = time.thread_time()
        find(labels, probs, **options)
        whole.append(time.thread_time() - start)
        blockwise.append(seconds["blockwise"])
        candidates.append(seconds["candidates"])
    return tuple(float(np.median(x)) for x in (whole, blockwise, candidates))


def _wall_times(args, span, token) -> None:
    cases = [("span (no n_jobs)", span_find, span, {})] + [
        (f"token K=9{name}, n_jobs={n_jobs}", token_find, token, dict(options, n_jobs=n_jobs))
        for name, options in (("", {}), (", filter_by='both'", {"filter_by": "both"}))
        for n_jobs in (1, None)
    ]
    print(f"{args.tokens:,} tokens, wall time, median of {args.repeats}")
    for name, find, (labels, probs), options in cases:
        find(labels, probs, **options)
        times = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            find(labels, probs, **options)
            times.append(time.perf_counter() - start)
        print(f"{name}: {1000 * float(np.median(times)):.1f} ms")


if __name__ == "__main__":
    main()
