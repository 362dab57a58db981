"""The calls ``spanfast precompile`` and the Dask workers' warm-up make: one list.

Every public operation in every mode that selects different kernels, on tiny
datasets of every dtype (see :mod:`spanfast.cli.precompile`). Here, not in the
CLI, so that the library (:mod:`spanfast._dask_parts`) uses it without importing
the command line.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from .options import FILTER_BY, RANK_BY

# Classes of the token datasets: a CoNLL-sized tag set (int8 labels) and one
# just past int8 (int16 labels).
TOKEN_CLASS_COUNTS = (9, 130)
FLOAT_TYPES = ("float64", "float32")
SCORES = RANK_BY  # every ranking score: each selects its own kernels


def datasets() -> Iterator[tuple]:
    """(description, is_span, labels, probs, offsets) of tiny flat datasets, every dtype."""
    import numpy as np

    from .testing.data import ner_arrays

    rng = np.random.default_rng(0)
    for float_type in FLOAT_TYPES:
        arrays = ner_arrays(200, "sentences", dtype=float_type)
        offsets = arrays["offsets"]
        yield f"span, {float_type}", True, arrays["span_labels"], arrays["span_probs"], offsets
        for n_classes in TOKEN_CLASS_COUNTS:
            if n_classes == 9:
                labels, probs = arrays["token_labels"], arrays["token_probs"]
            else:  # every class present, so that every per-class path runs
                labels = np.arange(offsets[-1]) % n_classes
                probs = rng.dirichlet(np.ones(n_classes), offsets[-1]).astype(float_type)
            yield f"token K={n_classes}, {float_type}", False, labels, probs, offsets


def calls(is_span: bool, labels, probs, offsets) -> Iterator[Callable[[], object]]:
    """Every call that selects different kernels, on one dataset, lists and Ragged input."""
    import numpy as np

    from . import core, streaming
    from . import span_classification as span
    from ._positions import stable_order
    from ._read_ahead import checked_with_head
    from ._span_head import checked_with_head as span_halves
    from .errors import InvalidInputError
    from .ragged import Ragged
    from .results import find_issues
    from .token_classification import filter as token_filter
    from .token_classification import rank as token_rank

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
            for score in SCORES:
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
    # Lists read ahead (by default only large ones are), on two threads whatever the cores.
    yield lambda: checked_with_head(
        *lists, noise_rate_candidates=True, n_jobs=2, span=is_span, min_tokens=0
    )
    if is_span:  # span arrays read in halves (likewise), int64 and int8 labels
        for label_type in (np.int64, np.int8):
            halves_of = (Ragged(labels.astype(label_type), offsets), Ragged(probs, offsets))
            yield lambda data=halves_of: span_halves(
                *data, noise_rate_candidates=True, n_jobs=2, min_tokens=0
            )
    # Scores with a NaN (a user's own, ranked by token_classification.rank) are put in
    # order the slower way.
    yield lambda: stable_order(np.array([np.nan, 0.5, 0.25], probs.dtype))
    # The flat core API takes both layouts through every filter and score.
    flat = (labels.astype(np.int64), probs)
    for filter_by in FILTER_BY:
        for score in SCORES:
            for ties in ("position", "numpy"):
                yield lambda filter_by=filter_by, score=score, ties=ties: core.find_label_issues(
                    *flat, filter_by=filter_by, return_indices_ranked_by=score, ties=ties
                )
    yield lambda: core.compute_confident_joint(*flat)
    for score in SCORES:
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
    # low_memory=True in batches: fragments of grid batches, joined (spanfast._low_memory).
    yield lambda: streaming.find_label_issues_in_batches(lambda: halves, low_memory=True)

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


def span_class_calls(float_type: str) -> Iterator[Callable[[], object]]:
    """Several span classes ((T, C) probabilities): labels as 0/1 rows and as id lists."""
    import numpy as np

    from . import span_classification

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
    from .spans import find_span_issues

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
