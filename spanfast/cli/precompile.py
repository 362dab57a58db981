"""``spanfast precompile``: compile every kernel for every dtype the library uses, into the cache.

The first call of a kernel in a process with an empty cache compiles it (seconds
in total); every later process loads it from the cache (milliseconds). Running
this once — in a container image's build step, or on a cluster's shared
``NUMBA_CACHE_DIR`` — moves all of that compilation to build time.

What is compiled is what the library's own calls compile: every public operation
in every mode that selects different kernels (span and token layouts, lists and
Ragged input, the seven ``filter_by`` methods, the three scores, ``low_memory``,
both poolings, ``ties="numpy"``, streaming, the error locators) on tiny datasets,
for float32 and float64 probabilities and for int8 and int16 labels (int16: more
than 128 classes). int32 labels (more than 32768 classes) are left to compile on
first use. Answers are not affected: the cache holds the same machine code the
first call would have compiled.

Numba keys a cache entry by the CPU it was compiled for, so entries made on one
CPU model miss on another. ``--portable`` also compiles every kernel for the
architecture's baseline CPU (``NUMBA_CPU_NAME=generic``, in a second process);
spanfast loads those where nothing was compiled for the CPU at hand. Same
answers (no fast-math either way), without the newer vector instructions.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
import warnings
from collections.abc import Callable, Iterator

NAME = "precompile"

# Classes of the token datasets: a CoNLL-sized tag set (int8 labels) and one
# just past int8 (int16 labels).
_TOKEN_CLASS_COUNTS = (9, 130)
_FLOAT_TYPES = ("float64", "float32")
_FILTER_BY = (
    "prune_by_noise_rate",
    "prune_by_class",
    "both",
    "confident_learning",
    "predicted_neq_given",
    "low_normalized_margin",
    "low_self_confidence",
)
_SCORES = ("self_confidence", "normalized_margin", "confidence_weighted_entropy")


def add_parser(commands: argparse._SubParsersAction) -> None:
    """Add ``spanfast precompile`` to the sub-commands."""
    precompile = commands.add_parser(
        NAME,
        help="compile every kernel into the kernel cache (for images and clusters)",
        description=(
            "Compile every spanfast kernel for every dtype the library uses (float32 "
            "and float64 probabilities, int8 and int16 labels, span and token layouts) "
            "and store them in the kernel cache: NUMBA_CACHE_DIR when set, else the "
            "per-user cache directory. Later processes using that cache start without "
            "compiling. Exit status: 0, or 2 when no cache directory is writable."
        ),
    )
    precompile.add_argument(
        "--portable",
        action="store_true",
        help=(
            "also compile for the baseline CPU of this architecture, used where the cache "
            "has nothing for the CPU at hand (an image built on one machine, run on others)"
        ),
    )
    precompile.add_argument(
        "-q", "--quiet", action="store_true", help="print only the cache directory"
    )
    precompile.set_defaults(run=run, parser=precompile)


def _datasets() -> Iterator[tuple]:
    """(description, is_span, labels, probs, offsets) of tiny flat datasets, every dtype."""
    import numpy as np

    from ..testing.data import ner_arrays

    rng = np.random.default_rng(0)
    for float_type in _FLOAT_TYPES:
        arrays = ner_arrays(200, "sentences", dtype=float_type)
        offsets = arrays["offsets"]
        yield f"span, {float_type}", True, arrays["span_labels"], arrays["span_probs"], offsets
        for n_classes in _TOKEN_CLASS_COUNTS:
            if n_classes == 9:
                labels, probs = arrays["token_labels"], arrays["token_probs"]
            else:  # every class present, so that every per-class path runs
                labels = np.arange(offsets[-1]) % n_classes
                probs = rng.dirichlet(np.ones(n_classes), offsets[-1]).astype(float_type)
            yield f"token K={n_classes}, {float_type}", False, labels, probs, offsets


def _calls(is_span: bool, labels, probs, offsets) -> Iterator[Callable[[], object]]:
    """Every call that selects different kernels, on one dataset, lists and Ragged input."""
    import numpy as np

    from .. import core, streaming
    from .. import span_classification as span
    from ..errors import InvalidInputError
    from ..ragged import Ragged
    from ..results import find_issues
    from ..token_classification import filter as token_filter
    from ..token_classification import rank as token_rank

    cut = offsets[1:-1]
    nested_labels = [sentence.tolist() for sentence in np.split(labels, cut)]  # int8 after input
    arrays = (Ragged(labels.astype(np.int64), offsets), Ragged(probs, offsets))
    lists = (nested_labels, [sentence.copy() for sentence in np.split(probs, cut)])
    for data in (lists, arrays):
        if is_span:
            for ties in ("position", "numpy"):
                yield lambda data=data, ties=ties: span.find_label_issues(*data, ties=ties)
            for pooling in ("min", "softmin"):
                yield lambda data=data, pooling=pooling: span.get_label_quality_scores(
                    *data, sentence_score_method=pooling
                )
            yield lambda data=data: span.get_label_quality_scores(  # the mean
                *data,
                sentence_score_method="softmin",
                sentence_score_kwargs={"temperature": np.inf},
            )
        else:
            for score in _SCORES:
                yield lambda data=data, score=score: token_filter.find_label_issues(
                    *data, return_indices_ranked_by=score, low_memory=True
                )
                for pooling in ("min", "softmin"):
                    yield (
                        lambda data=data, score=score, pooling=pooling: (
                            token_rank.get_label_quality_scores(
                                *data, token_score_method=score, sentence_score_method=pooling
                            )
                        )
                    )
            yield lambda data=data: token_rank.get_label_quality_scores(  # the mean
                *data,
                sentence_score_method="softmin",
                sentence_score_kwargs={"temperature": np.inf},
            )
        yield lambda data=data: find_issues(*data, span=is_span)
        yield from _span_issue_calls(data, is_span, probs)
    # The flat core API takes both layouts through every filter and score.
    flat = (labels.astype(np.int64), probs)
    for filter_by in _FILTER_BY:
        for score in _SCORES:
            for ties in ("position", "numpy"):
                yield lambda filter_by=filter_by, score=score, ties=ties: core.find_label_issues(
                    *flat, filter_by=filter_by, return_indices_ranked_by=score, ties=ties
                )
    yield lambda: core.compute_confident_joint(*flat)
    for score in _SCORES:
        yield lambda score=score: core.find_label_issues_low_memory(*flat, method=score)
        for adjust in (False, True) if score != "confidence_weighted_entropy" else (False,):
            yield lambda score=score, adjust=adjust: core.label_quality_scores(
                *flat, method=score, adjust_pred_probs=adjust
            )
    # Batches whose class sums do not fall on NumPy's tree leaves: the partial sums.
    middle = len(offsets) // 2
    halves = [
        tuple(
            Ragged(values[offsets[a] : offsets[b]], offsets[a : b + 1] - offsets[a])
            for values in (labels, probs)
        )
        for a, b in ((0, middle), (middle, len(offsets) - 1))
    ]
    yield lambda: streaming.find_label_issues_in_batches(lambda: halves)

    def bad_input() -> None:  # the kernels that locate an error in the input
        for bad_labels, bad_probs in (
            (labels, np.where(np.arange(len(probs)) == 3, np.nan, probs.T).T),
            (labels + 200, probs),
        ):
            try:
                core.confident_thresholds(bad_labels.astype(labels.dtype), bad_probs)
            except InvalidInputError:
                pass
        try:
            Ragged(labels, offsets[::-1].copy()).check()
        except InvalidInputError:
            pass

    yield bad_input


def _span_class_calls(float_type: str) -> Iterator[Callable[[], object]]:
    """Several span classes ((T, C) probabilities): labels as 0/1 rows and as id lists."""
    import numpy as np

    from .. import span_classification

    rng = np.random.default_rng(1)
    n_classes, lengths = 3, rng.integers(1, 20, 60)
    probs = [rng.random((n, n_classes)).astype(float_type) for n in lengths]
    rows = [(p > 0.5) ^ (rng.random(p.shape) < 0.1) for p in probs]
    rows = [r.astype(np.int8) for r in rows]
    id_lists = [[list(np.flatnonzero(row) + 1) for row in sentence] for sentence in rows]
    for labels in (rows, id_lists):
        yield lambda labels=labels: span_classification.find_label_issues(labels, probs)
        yield lambda labels=labels: span_classification.get_label_quality_scores(labels, probs)


# CoNLL tags for the K = 9 token data, so that entity-level issues can be formed.
_BIO_TAGS = ("O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC", "B-MISC", "I-MISC")


def _span_issue_calls(data, is_span: bool, probs) -> Iterator[Callable[[], object]]:
    """Entity-level issues (``spanfast.spans``, where this version of spanfast has them)."""
    import importlib.util

    if importlib.util.find_spec("spanfast.spans") is None:
        return
    from ..spans import find_span_issues

    if is_span:
        class_names = None
    elif probs.shape[1] == len(_BIO_TAGS):
        class_names = list(_BIO_TAGS)
    else:
        return  # no tag scheme for the many-class data
    for score_method in ("likelihood_ratio", "min_self_confidence"):
        yield lambda score_method=score_method: find_span_issues(
            *data, class_names=class_names, score_method=score_method
        )


def run(args: argparse.Namespace) -> int:
    """Compile every kernel into the cache; print what was compiled and where."""
    import numpy as np
    from numba.core.registry import cpu_target

    from .._numba import PORTABLE_CPU_NAME, _KernelCache, cache_dir, compiled_kernels, compiling
    from .errors import CommandError

    started = time.perf_counter()
    kernels = compiled_kernels()
    if not kernels:  # NUMBA_DISABLE_JIT=1: kernels run as Python, nothing to compile
        print(f"cache: {cache_dir()} (nothing to compile: JIT disabled)")
        return 0
    uncached = [k for k in kernels if not isinstance(k._cache, _KernelCache)]
    if uncached:
        raise CommandError(
            cache_dir() or "~",
            "no writable kernel cache directory; set NUMBA_CACHE_DIR to a writable directory",
        )
    say = (lambda *parts, **options: None) if args.quiet else print
    cpu_name = cpu_target.target_context.codegen().magic_tuple()[1]
    say(f"compiling for CPU {cpu_name}", flush=True)
    with np.errstate(all="ignore"), warnings.catch_warnings(), compiling():
        warnings.simplefilter("ignore")  # too few examples of a class: the data is tiny
        for description, is_span, labels, probs, offsets in _datasets():
            say(f"compiling for {description} ...", flush=True)
            for call in _calls(is_span, labels, probs, offsets):
                call()
        for float_type in _FLOAT_TYPES:
            say(f"compiling for several span classes, {float_type} ...", flush=True)
            for call in _span_class_calls(float_type):
                call()
    seconds = time.perf_counter() - started
    n_compiled = n_cached = 0
    missing = []
    for dispatcher in kernels:
        compiled = sum(dispatcher.stats.cache_misses.values())
        # What the cache holds for it (a kernel only called from other kernels is
        # loaded with them, never on its own, but was cached when first compiled).
        cached = len(dispatcher._cache._cache_file._load_index())
        n_compiled += compiled
        n_cached += cached
        name = f"{dispatcher.py_func.__module__}.{dispatcher.py_func.__qualname__}"
        if not cached:
            missing.append(name)
        say(f"  {name}: {cached} signatures cached ({compiled} compiled now)")
    say(
        f"{len(kernels)} kernels, {n_cached} signatures in the cache, "
        f"{n_compiled} of them compiled now ({seconds:.1f} s)"
    )
    if missing:  # a kernel no call above reaches: the list of calls needs it
        print(f"not cached (no call reaches them): {', '.join(missing)}", file=sys.stderr)
    if args.portable and cpu_name != PORTABLE_CPU_NAME:
        # Numba fixes the CPU target when it starts: the portable pass is another
        # process. Not run beside this one: two processes adding entries to one
        # kernel's index at once can lose one of them.
        portable = subprocess.run(
            [sys.executable, "-m", "spanfast", NAME, *(["--quiet"] if args.quiet else [])],
            env=dict(os.environ, NUMBA_CPU_NAME=PORTABLE_CPU_NAME),
            stdout=subprocess.DEVNULL if args.quiet else None,
        )
        if portable.returncode:
            return portable.returncode
    where = {dispatcher._cache._cache_path for dispatcher in kernels}
    print(f"cache: {cache_dir()} ({', '.join(sorted(where))})")
    return 0
