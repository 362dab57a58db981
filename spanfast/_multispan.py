"""Several span classes at once: cleanlab's single-class span result for every class.

For span class ``c`` (1..C) the answer is exactly cleanlab 2.9.0's
``experimental.span_classification`` result on that class's binary column
(labels: token in class c; probabilities: ``pred_probs[:, c - 1]``), with the
span façade's defaults (``filter_by="prune_by_noise_rate"``, ranked by
self-confidence). All classes are found in two passes over the ``(T, C)``
matrix (:mod:`spanfast._kernels.multispan`), whose state is indexed by class,
after the class counts:

1. per class and label, NumPy-order running sums (-> the confident thresholds),
   the candidates' (prediction != label) smallest noise-rate margin, and the
   *suspects*: the few entries whose margin is large enough that a candidate
   could have it;
2. the confident joints (C x 2 x 2) -> how many of its largest margins the
   noise-rate cut of a class and label keeps.

Every candidate the cut can keep is among the suspects with a margin at least
the smallest candidate margin of their class and label, which are the largest
margins of it, so the cut is made on them alone (ties by position), and each
class's issues are ranked by self-confidence.

Between passes only O(C) work is done on 2 x 2 matrices (calibration, rounding,
the prune counts): cleanlab's own arithmetic from :mod:`spanfast._counts`.
``ties="numpy"`` reproduces NumPy's unstable sorts over whole classes, so it
runs the single-class plan on each column.
"""

from __future__ import annotations

import warnings

import numpy as np

from . import _counts, _sentences, core
from ._input.checked import Checked, CheckedSpans
from ._kernels import multispan
from ._kernels.running_sum import RunningSums
from ._positions import sentence_and_token
from ._threads import concurrently
from ._token_scores import TokenScores
from .errors import InvalidInputError
from .options import FLOATING_POINT_COMPARISON, check_ties


def find_positions(data: CheckedSpans, ties: str = "position") -> tuple[np.ndarray, np.ndarray]:
    """The issues of every span class: ``(span_class, position)`` int64 arrays, grouped by
    span class (1..C, increasing), each class's issues most likely first."""
    check_ties(ties)
    if data.n_tokens == 0:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    C = data.n_classes
    n_inside = multispan.class_counts(data.labels)
    counts = np.empty(2 * C, np.int64)  # binary class 2c + y
    counts[0::2], counts[1::2] = data.n_tokens - n_inside, n_inside
    for c in np.flatnonzero((n_inside > 0) & (n_inside == data.n_tokens)):
        error = InvalidInputError(
            f"Labels must contain at least 2 classes: every token is in span class {c + 1}.",
            field="labels",
        )
        error.class_ = int(c + 1)
        raise error
    if ties == "numpy":
        return _numpy_order_positions(data)
    P, Y = data.probs, data.labels
    margin = P.dtype.type(FLOATING_POINT_COMPARISON)

    # One pass for the class sums, the candidates' margins and the suspects; the joint
    # counted on two cores (each half of the tokens: counts add up); each half of the
    # classes cut and ranked on its own core: the same result either way.
    sums = RunningSums(counts, P.dtype)
    min_margin, suspects = multispan.class_sums_and_suspects(
        P, Y, margin, sums.frames, sums.cursor, sums.partial, sums.leaf
    )
    means = sums.means()
    margin_thresholds = np.empty((C, 2), np.float64)
    for c in range(C):  # two numbers per class, each in the dtype NumPy gives it
        pair = slice(2 * c, 2 * c + 2)
        thresholds = _counts.thresholds_from_means(means[pair], counts[pair])
        margin_thresholds[c] = thresholds - FLOATING_POINT_COMPARISON

    half = data.n_tokens // 2
    second = concurrently(None, multispan.confident_joints, P[half:], Y[half:], margin_thresholds)
    relevant = multispan.group_relevant(min_margin, *suspects)
    raw_joints = multispan.confident_joints(P[:half], Y[:half], margin_thresholds) + second()
    capacity = _cut_sizes(raw_joints, counts)
    group_start = relevant[-1]
    gathered = (P, Y, *relevant, capacity)
    split = min(int(np.searchsorted(group_start[2::2], group_start[-1] // 2)) + 1, C)
    later = concurrently(None, multispan.cut_and_rank, *gathered, split, C)
    span_class, positions = multispan.cut_and_rank(*gathered, 0, split)
    later_class, later_positions = later()
    span_class = np.concatenate([span_class, later_class])
    positions = np.concatenate([positions, later_positions])
    return span_class + 1, positions


def _cut_sizes(raw_joints: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Per binary class, how many of its largest margins the noise-rate cut keeps
    (cleanlab's prune_count_matrix, as :meth:`Cuts.noise_rate` reads it for K = 2)."""
    C = raw_joints.shape[0]
    capacity = np.zeros(2 * C, np.int64)
    too_few = []
    for c in range(C):
        pair = counts[2 * c : 2 * c + 2]
        joint = _counts.joint_from_counts(raw_joints[c].copy(), pair)
        pruned = _counts.prune_counts(joint, pair, 1, 1.0, None)
        applied = pair > 1  # cleanlab: more than min_examples_per_class (1) tokens
        for y in (0, 1):
            if applied[y]:
                capacity[2 * c + y] = max(min(int(pruned[1 - y, y]), int(pair[y])), 0)
            else:
                too_few.append((c + 1, y))
    for span_class, y in too_few:
        warnings.warn(
            f"May not flag all label issues in class: {y} of span class {span_class}, it has "
            "too few examples (see `min_examples_per_class` argument)",
            stacklevel=4,
        )
    return capacity


def _numpy_order_positions(data: CheckedSpans) -> tuple[np.ndarray, np.ndarray]:
    # NumPy's quicksort orders ties by the whole array it sorts: each class's own.
    found = [core._find(data.column(c), ties="numpy")[0] for c in range(1, data.n_classes + 1)]
    span_class = np.repeat(np.arange(1, data.n_classes + 1), [f.shape[0] for f in found])
    return span_class, np.concatenate(found)


def issues_by_class(data: CheckedSpans, ties: str = "position") -> dict[int, list]:
    """``{c: [(sentence, token), ...]}`` for every span class c in 1..C."""
    span_class, positions = find_positions(data, ties)
    bounds = np.searchsorted(span_class, np.arange(1, data.n_classes + 2))
    sentence, token = sentence_and_token(data.offsets, positions)
    return {
        c: _sentences._issue_tuples(sentence[lo:hi], token[lo:hi])
        for c, lo, hi in zip(range(1, data.n_classes + 1), bounds[:-1], bounds[1:])
    }


def columns_end_to_end(data: CheckedSpans) -> Checked:
    """The span classes' columns laid end to end as one single-class span dataset of
    C x T tokens and C x n sentences (class c's sentence i is sentence ``(c - 1) * n +
    i``): whatever is per token or per sentence is then each class's own answer."""
    C, T, n = data.n_classes, data.n_tokens, data.n_sentences
    labels = np.ascontiguousarray(data.labels.T).reshape(-1).view(np.int8)
    probs = np.ascontiguousarray(data.probs.T).reshape(-1)
    offsets = np.empty(C * n + 1, np.int64)
    offsets[:-1] = (data.offsets[:-1][None, :] + T * np.arange(C)[:, None]).reshape(-1)
    offsets[-1] = C * T
    return Checked(labels, probs, offsets)


def quality_scores_by_class(
    data: CheckedSpans, method: str, sentence_method: str, temperature: float, tokens
) -> tuple[dict, dict]:
    """Token and sentence scores of every span class: the classes' columns laid end to
    end as one span dataset of C x T tokens (scores are per token and pooled per
    sentence, so each class's block is its own single-class answer)."""
    C, T, n = data.n_classes, data.n_tokens, data.n_sentences
    flat = columns_end_to_end(data)
    offsets = flat.offsets
    token_scores = core._scores(flat, method)
    sentence_scores = _sentences._sentence_scores(
        token_scores, offsets, sentence_method, temperature
    )
    by_sentence = sentence_scores.reshape(C, n)
    return (
        {c: by_sentence[c - 1] for c in range(1, C + 1)},
        {
            c: TokenScores(token_scores[(c - 1) * T : c * T], data.offsets, tokens)
            for c in range(1, C + 1)
        },
    )


_SPAN_DEFAULTS = {
    "return_indices_ranked_by": "self_confidence",
    "rank_by_kwargs": None,
    "filter_by": "prune_by_noise_rate",
    "frac_noise": 1.0,
    "num_to_remove_per_class": None,
    "min_examples_per_class": 1,
    "confident_joint": None,
    "low_memory": False,
}


def issue_columns(data: CheckedSpans, ties: str, options: dict) -> dict[str, np.ndarray]:
    """The issue columns of every span class (grouped by class, 1..C, each in rank order):
    ``span_class``, ``sentence``, ``token``, ``score``, ``given_label``, ``predicted_label``
    (0/1 within the class). With the span façade's defaults, the three-pass path;
    with other ``filter_by`` options, the single-class plan on each column."""
    if all(options.get(name, value) == value for name, value in _SPAN_DEFAULTS.items()):
        span_class, positions = find_positions(data, ties)
        column = data.probs[positions, span_class - 1]
        given = data.labels[positions, span_class - 1].astype(np.int64)
        scores = np.where(given == 1, column, data.probs.dtype.type(1) - column)
    else:
        found = [
            core._find(data.column(c), ties=ties, **options) for c in range(1, data.n_classes + 1)
        ]
        span_class = np.repeat(np.arange(1, data.n_classes + 1), [f[0].shape[0] for f in found])
        positions = np.concatenate([f[0] for f in found])
        scores = np.concatenate([f[1] for f in found])
        column = data.probs[positions, span_class - 1]
        given = data.labels[positions, span_class - 1].astype(np.int64)
    sentence, token = sentence_and_token(data.offsets, positions)
    one = data.probs.dtype.type(1)
    return {
        "span_class": span_class.astype(np.int64),
        "sentence": sentence.astype(np.int64),
        "token": token.astype(np.int64),
        "score": scores,
        "given_label": given,
        "predicted_label": (column > one - column).astype(np.int64),  # argmax of [1-p, p]
    }
