"""Data strategies and oracle-comparison helpers for the spanfast oracle suite.

Two halves:

* **Strategies** -- built on :mod:`spanfast.testing.data`: hypothesis draws only *shape parameters* (seed, number of
  sentences, how lengths are distributed, K, noise, tie mode, dtype, ...); the
  values themselves come from a numpy Generator seeded by the drawn seed. That
  keeps generation fast and shrinking meaningful (hypothesis shrinks the shape).

* **Oracle runs and the comparison modulo ties** -- cleanlab 2.9.0 is called on
  the same data; :func:`run_token_oracle` records, besides cleanlab's answer,
  which tokens sit in a *tie at a cut boundary* (so that cleanlab's unstable
  quicksort could have chosen differently) and :func:`check_issues_modulo_ties`
  compares spanfast's answer with that knowledge. See their docstrings.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
import types
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from unittest import mock

import numpy as np
import pandas as pd
import pytest
from hypothesis import note as _hypothesis_note
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

import spanfast.data
from spanfast.data import load_example
from spanfast.options import FILTER_BY, RANK_BY  # noqa: F401 - for the tests
from spanfast.testing.data import Dataset, make_dataset
from spanfast.testing.registry import INPUT_FORMS, labels_and_probs

# --------------------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------------------

PRUNE_METHODS = ["prune_by_noise_rate", "prune_by_class", "both"]


class TokenData(Dataset):
    """One token-classification dataset, flat and nested (see
    :class:`spanfast.testing.data.Dataset`), with the input forms of the oracle tests."""

    def inputs(self, form: str) -> tuple[Any, Any, Any, Any]:
        """(spanfast_labels, spanfast_probs, cleanlab_labels, cleanlab_probs) for an input form.

        * ``lists``: nested python lists of ints + list of arrays, for both.
        * ``np_labels``: list of numpy int arrays + list of arrays, for both.
        * ``ragged``: spanfast gets ``Ragged``; cleanlab gets nested lists + list of arrays.
        """
        if form not in INPUT_FORMS:
            raise ValueError(form)
        return (
            *labels_and_probs(self, "spanfast", form),
            *labels_and_probs(self, "cleanlab", form),
        )


def make_token_data(**params) -> TokenData:
    """:func:`spanfast.testing.data.make_dataset`, as a :class:`TokenData`. Parameters come
    from hypothesis (see :func:`token_datasets`)."""
    return TokenData._from(make_dataset(**params))


@st.composite
def token_datasets(draw, *, min_K: int = 2, max_K: int = 10, span: bool = False) -> TokenData:
    """Token classification data (span data when ``span=True``: K=2, one prob per token)."""
    # size buckets drawn uniformly, so that large datasets are as common as tiny ones
    low, high = draw(st.sampled_from([(1, 3), (4, 20), (21, 80), (81, 200), (200, 200)]))
    n_sentences = draw(st.integers(low, high))
    K = 2 if span else draw(st.integers(min_K, max_K))
    params = dict(
        seed=draw(st.integers(0, 2**32 - 1)),
        n_sentences=n_sentences,
        length_mode=draw(st.sampled_from(["uniform", "skewed", "mixed", "ones"])),
        K=K,
        noise=draw(st.sampled_from([0.0, 0.05, 0.15, 0.4])),
        sharpness=draw(st.sampled_from([0.0, 1.0, 3.0, 6.0])),
        class_skew=draw(st.sampled_from([0.3, 1.0, 10.0])),
        tie_mode=draw(st.sampled_from(["none", "none", "dup_rows", "round"])),
        decimals=draw(st.integers(1, 3)),
        dtype=draw(st.sampled_from(["float32", "float64"])),
        class_mode=draw(st.sampled_from(["all_twice", "all_twice", "all_twice", "free"])),
    )
    data = make_token_data(**params)
    return data.as_span() if span else data


def span_datasets() -> st.SearchStrategy[TokenData]:
    return token_datasets(span=True)


def ragged_token_scores(rng: np.random.Generator, offsets: np.ndarray, tie_mode: str) -> np.ndarray:
    """Flat token scores in [0, 1] for issues_from_scores / softmin tests."""
    n = int(offsets[-1])
    scores = rng.random(n)
    if tie_mode == "round":
        scores = np.round(scores, 1)
    elif tie_mode == "dup_rows":
        scores = rng.choice(scores[: max(1, n // 4)], n)
    return scores


def note(message: str) -> None:
    """hypothesis.note that also works in plain (non-hypothesis) tests."""
    try:
        _hypothesis_note(message)
    except InvalidArgument:
        pass


def scaled_settings(factor: float) -> settings:
    """``settings`` with ``factor`` times the active profile's max_examples (the oracle
    comparisons of find_label_issues are cheap and the most valuable: they get more)."""
    return settings(max_examples=max(3, int(settings().max_examples * factor)))


# --------------------------------------------------------------------------------------
# Running cleanlab
# --------------------------------------------------------------------------------------


def user_warning_messages(records) -> set[str]:
    """Messages of the UserWarnings among recorded warnings (numpy RuntimeWarnings,
    Deprecation/FutureWarnings and Numba's warnings are not part of the contract)."""
    return {str(w.message) for w in records if issubclass(w.category, UserWarning)}


@contextlib.contextmanager
def record_warnings():
    with warnings.catch_warnings(record=True) as records:
        warnings.simplefilter("always")
        yield records


@contextlib.contextmanager
def silenced():
    """Swallow cleanlab's prints and tqdm bars."""
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        yield


def call_capturing(fn, *args, **kwargs):
    """Call ``fn`` silently; return (result, exception, set of UserWarning messages, stdout+stderr)."""
    out, err = io.StringIO(), io.StringIO()
    result, error = None, None
    with record_warnings() as records:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                result = fn(*args, **kwargs)
            except Exception as exc:  # noqa: BLE001 - we compare exceptions
                error = exc
    return result, error, user_warning_messages(records), out.getvalue() + err.getvalue()


class _StableNumpy(types.ModuleType):
    """numpy, except that ``argsort`` is stable: the tie rule spanfast documents."""

    def __init__(self):
        super().__init__("numpy_with_stable_argsort")

    def __getattr__(self, name):
        return getattr(np, name)

    @staticmethod
    def argsort(a, axis=-1, kind=None, order=None, **kwargs):
        return np.argsort(a, axis=axis, kind="stable", order=order)


def _stable_find_top_issues(quality_scores, *, top=10):
    if top is None or top > len(quality_scores):
        top = len(quality_scores)
    return np.argsort(quality_scores, kind="stable")[:top]


def _round_preserving_sum_earlier_first(iterable) -> np.ndarray:
    """cleanlab.internal.util.round_preserving_sum, with ties among equal rounding gaps
    going to the earlier position (cleanlab: ``argsort(gaps)[::-increment]``, unstable)."""
    floats = np.asarray(iterable, dtype=float)
    ints = floats.round()
    orig_sum = np.sum(floats).round()
    int_sum = np.sum(ints).round()
    while abs(int_sum - orig_sum) > 1e-6:
        diff = np.round(orig_sum - int_sum)
        increment = -1 if int(diff < 0.0) else 1
        changes = min(int(abs(diff)), len(iterable))
        gaps = floats - ints
        indices = np.argsort(-increment * gaps, kind="stable")[:changes]
        for i in indices:
            ints[i] = ints[i] + increment
        int_sum = np.sum(ints).round()
    return ints.astype(int)


@contextlib.contextmanager
def cleanlab_with_stable_sorts():
    """Run cleanlab with every argsort it does on our paths made stable.

    cleanlab sorts with numpy's default (unstable; on AVX-512 machines not even stable
    for 5 elements) argsort, so among equal keys its order is unspecified. With
    stable sorts, cleanlab's answer is the one spanfast's documented rule produces:
    every tie broken by position (sentence, then token) -- in the selections
    (prune_by_class, prune_by_noise_rate, low_*, low_memory) and the final ranking --
    and, in ``round_preserving_sum``, equal rounding gaps resolved earlier position first.
    """
    import cleanlab.count
    import cleanlab.experimental.label_issues_batched as batched
    import cleanlab.filter
    import cleanlab.internal.util
    import cleanlab.rank
    import cleanlab.token_classification.rank

    stable = _StableNumpy()
    with contextlib.ExitStack() as stack:
        for module in (
            cleanlab.filter,
            cleanlab.rank,
            cleanlab.count,
            cleanlab.internal.util,
            cleanlab.token_classification.rank,
        ):
            stack.enter_context(mock.patch.object(module, "np", stable))
        stack.enter_context(mock.patch.object(batched, "find_top_issues", _stable_find_top_issues))
        stack.enter_context(
            mock.patch.object(
                cleanlab.internal.util, "round_preserving_sum", _round_preserving_sum_earlier_first
            )
        )
        yield


# ---- rounding ties ---------------------------------------------------------------


def _rounding_tie_positions(row) -> set[int]:
    """Positions of ``row`` involved in a tie at the cut of cleanlab's
    ``round_preserving_sum`` (same loop; which of equally-fractional entries get
    rounded the other way is decided by an unstable argsort)."""
    floats = np.asarray(row, dtype=float)
    ints = floats.round()
    orig_sum = np.sum(floats).round()
    int_sum = np.sum(ints).round()
    tied: set[int] = set()
    guard = 0
    while abs(int_sum - orig_sum) > 1e-6 and guard < 1000:
        guard += 1
        diff = np.round(orig_sum - int_sum)
        increment = -1 if int(diff < 0.0) else 1
        changes = min(int(abs(diff)), len(row))
        gaps = floats - ints
        chosen_idx = np.argsort(gaps, kind="stable")[::-increment][:changes]
        if 0 < changes < len(row):
            boundary = gaps[chosen_idx[-1]]
            chosen = np.zeros(len(row), dtype=bool)
            chosen[chosen_idx] = True
            if np.any((gaps == boundary) & ~chosen):
                tied |= set(np.flatnonzero(gaps == boundary).tolist())
        ints[chosen_idx] += increment
        int_sum = np.sum(ints).round()
    return tied


@contextlib.contextmanager
def _recording_rounding_ties(affected_classes: set[int]):
    """Record classes whose prune counts depend on a rounding tie.

    * ``count.calibrate_confident_joint`` rounds rows of the confident joint: row k
      (given label k) becomes column k of the prune-count matrix -> class k.
    * ``filter`` rounds rows of the prune-count matrix itself (num_to_remove_per_class,
      _keep_at_least_n_per_class): entry (r, j) is used for class j.
    """
    import cleanlab.count
    import cleanlab.filter

    original_count = cleanlab.count.round_preserving_row_totals
    original_filter = cleanlab.filter.round_preserving_row_totals

    def count_wrapper(matrix):
        for k, row in enumerate(np.asarray(matrix)):
            if _rounding_tie_positions(row):
                affected_classes.add(k)
        return original_count(matrix)

    def filter_wrapper(matrix):
        for row in np.asarray(matrix):
            affected_classes.update(_rounding_tie_positions(row))
        return original_filter(matrix)

    with mock.patch.object(cleanlab.count, "round_preserving_row_totals", count_wrapper):
        with mock.patch.object(cleanlab.filter, "round_preserving_row_totals", filter_wrapper):
            yield


# ---- selection ties ----------------------------------------------------------------


def _mark_cut_tie(ambiguous: np.ndarray, members: np.ndarray, keys: np.ndarray, n_take: int):
    """cleanlab takes ``argsort(keys)[:n_take]`` of ``members``. If equal keys straddle
    the cut (the n_take-th smallest equals the (n_take+1)-th), any of the members whose
    key equals that boundary value may be taken or left: mark them ambiguous."""
    n = len(keys)
    if n_take <= 0 or n_take >= n:
        return
    ordered = np.sort(keys)
    boundary = ordered[n_take - 1]
    if ordered[n_take] == boundary:
        ambiguous[members[keys == boundary]] = True


def _prune_ambiguity(
    ambiguous: np.ndarray, labels: np.ndarray, filter_by: str, min_examples_per_class: int
):
    """Ambiguity of cleanlab's per-class cuts, from the very prune counts and per-class
    probabilities the run just used (cleanlab.filter keeps them in module globals when
    n_jobs == 1)."""
    import cleanlab.filter as clf

    pcm_cols = clf.prune_count_matrix_cols
    probs_by_class = clf.pred_probs_by_class
    for k, class_probs in probs_by_class.items():
        members = np.flatnonzero(labels == k)
        n_k = len(members)
        if n_k <= min_examples_per_class or n_k <= 1:
            continue  # nothing pruned in this class (or the mask is discarded)
        column = pcm_cols[k]
        if filter_by in ("prune_by_class", "both"):
            # cut: the num_issues smallest p[k]
            _mark_cut_tie(ambiguous, members, class_probs[:, k], int(n_k - column[k]))
        if filter_by in ("prune_by_noise_rate", "both"):
            # cut for each j != k: the num2prune largest margins p[j] - p[k]
            for j in range(class_probs.shape[1]):
                if j != k and column[j] > 0:
                    neg_margin = -(class_probs[:, j] - class_probs[:, k])
                    _mark_cut_tie(ambiguous, members, neg_margin, int(column[j]))


@dataclass
class OracleRun:
    """cleanlab's answer plus what is needed to compare modulo ties."""

    issues: list | None
    error: Exception | None
    warnings: set[str]
    order_scores: np.ndarray | None  # per-token score cleanlab ranks by; None = by position
    ambiguous: np.ndarray  # per-token: in a tie at a cut boundary
    count_exact: bool  # whether the number of issues is independent of tie resolution
    notes: dict = field(default_factory=dict)


def run_token_oracle(
    cl_labels,
    cl_probs,
    flat_labels: np.ndarray,
    flat_probs: np.ndarray,
    *,
    stable: bool = False,
    return_indices_ranked_by: str = "self_confidence",
    low_memory: bool = False,
    **kwargs,
) -> OracleRun:
    """Call ``cleanlab.token_classification.filter.find_label_issues`` (n_jobs=1) and
    work out where its answer depends on how ties are broken.

    ``flat_probs`` must be (n_tokens, K) exactly as cleanlab flattens them.
    With ``stable=True`` cleanlab runs with stable sorts (spanfast's documented rule).
    """
    import cleanlab.count
    import cleanlab.experimental.label_issues_batched as batched
    import cleanlab.rank
    from cleanlab.token_classification.filter import find_label_issues

    filter_by = kwargs.get("filter_by", "prune_by_noise_rate")
    min_examples_per_class = kwargs.get("min_examples_per_class", 1)
    rank_by_kwargs = kwargs.get("rank_by_kwargs") or {}
    n = len(flat_labels)
    ambiguous = np.zeros(n, dtype=bool)
    affected_classes: set[int] = set()
    top_issue_calls: list[tuple[np.ndarray, int]] = []

    original_find_top_issues = batched.find_top_issues

    def recording_find_top_issues(quality_scores, *, top=10):
        top_issue_calls.append((np.asarray(quality_scores).copy(), top))
        return original_find_top_issues(quality_scores, top=top)

    call_kwargs = dict(kwargs)
    if not low_memory:
        call_kwargs.setdefault("n_jobs", 1)

    with contextlib.ExitStack() as stack:
        if stable:
            stack.enter_context(cleanlab_with_stable_sorts())
        else:
            stack.enter_context(_recording_rounding_ties(affected_classes))
            stack.enter_context(
                mock.patch.object(batched, "find_top_issues", recording_find_top_issues)
            )
        issues, error, warns, _ = call_capturing(
            find_label_issues,
            cl_labels,
            cl_probs,
            return_indices_ranked_by=return_indices_ranked_by,
            low_memory=low_memory,
            **call_kwargs,
        )
        if error is None and not low_memory and filter_by in PRUNE_METHODS and not stable:
            _prune_ambiguity(ambiguous, flat_labels, filter_by, min_examples_per_class)

    run = OracleRun(
        issues=issues,
        error=error,
        warnings=warns,
        order_scores=None,
        ambiguous=ambiguous,
        count_exact=True,
    )
    if error is not None:
        return run

    if low_memory:
        # issues come out in position order (np.where); the cut is find_top_issues on
        # the quality scores, then _reduce_issues removes some -> count may vary.
        if not stable:
            ((scores, top),) = top_issue_calls
            _mark_cut_tie(ambiguous, np.arange(n), scores, int(top))
        run.count_exact = not ambiguous.any()
        return run

    with silenced(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run.order_scores = cleanlab.rank.get_label_quality_scores(
            np.asarray(flat_labels), flat_probs, method=return_indices_ranked_by, **rank_by_kwargs
        )
        if filter_by in ("low_normalized_margin", "low_self_confidence") and not stable:
            cut_scores = cleanlab.rank.get_label_quality_scores(
                np.asarray(flat_labels), flat_probs, method=filter_by[4:], adjust_pred_probs=False
            )
            num_errors = int(cleanlab.count.num_label_issues(np.asarray(flat_labels), flat_probs))
            _mark_cut_tie(ambiguous, np.arange(n), cut_scores, num_errors)
            run.notes["num_errors"] = num_errors

    if filter_by in PRUNE_METHODS and not stable:
        if affected_classes and kwargs.get("num_to_remove_per_class") is not None:
            # the num_to_remove_per_class step divides every column by row sums of the
            # whole prune matrix: one undetermined class count moves all of them
            affected_classes.update(range(flat_probs.shape[1]))
        for k in affected_classes:
            ambiguous[flat_labels == k] = True
        run.notes["rounding_tie_classes"] = sorted(affected_classes)
        # _reduce_issues after a tied cut may remove some of the tied tokens but not
        # others, so then the count depends on the tie resolution too
        run.count_exact = not ambiguous.any()
    return run


# --------------------------------------------------------------------------------------
# Comparing
# --------------------------------------------------------------------------------------


def assert_issue_list_type(issues) -> None:
    """A list of tuples of two Python ints (like cleanlab's)."""
    assert type(issues) is list, f"expected list, got {type(issues).__name__}"
    for item in issues:
        assert type(item) is tuple and len(item) == 2, f"expected (i, j) tuple, got {item!r}"
        assert type(item[0]) is int and type(item[1]) is int, (
            f"expected Python ints, got {type(item[0]).__name__}, {type(item[1]).__name__}"
        )


def issues_to_flat(issues, offsets: np.ndarray) -> np.ndarray:
    """Map (sentence, token) tuples to flat token indices, checking they are in range
    and distinct."""
    n_sentences = len(offsets) - 1
    flat = np.empty(len(issues), dtype=np.int64)
    for pos, (i, j) in enumerate(issues):
        assert 0 <= i < n_sentences, f"sentence index {i} out of range"
        length = offsets[i + 1] - offsets[i]
        assert 0 <= j < length, f"token index {j} out of range for sentence {i} of {length}"
        flat[pos] = offsets[i] + j
    assert len(np.unique(flat)) == len(flat), "duplicate issues"
    return flat


def assert_sorted_with_position_ties(flat: np.ndarray, scores: np.ndarray, who: str) -> None:
    """Scores along ``flat`` are non-decreasing; equal scores are in increasing position."""
    s = scores[flat]
    for a in range(len(flat) - 1):
        assert s[a] <= s[a + 1], (
            f"{who}: not sorted by score at rank {a}: {s[a]!r} (token {flat[a]}) > "
            f"{s[a + 1]!r} (token {flat[a + 1]})"
        )
        if s[a] == s[a + 1]:
            assert flat[a] < flat[a + 1], (
                f"{who}: tie at score {s[a]!r} not broken by position: token {flat[a]} "
                f"before token {flat[a + 1]}"
            )


def check_issues_modulo_ties(spanfast_issues, run: OracleRun, offsets: np.ndarray) -> None:
    """Compare spanfast's issue list with cleanlab's, modulo cleanlab's unstable sort.

    What may legitimately differ, and how it is bounded:

    * **Order among equal scores.** cleanlab orders issues with an unstable argsort of
      ``run.order_scores`` (the ``return_indices_ranked_by`` score computed by
      ``cleanlab.rank.get_label_quality_scores`` on the flat data, with the same
      ``rank_by_kwargs``). We assert spanfast's list is non-decreasing in those exact
      scores with equal scores in increasing (sentence, token) order, and (sanity of
      this helper) that cleanlab's list is non-decreasing too. When the two sets are
      equal, both sequences of scores are therefore identical; we also assert it.
      For ``low_memory=True`` cleanlab returns issues in position order
      (``np.where``), so ``order_scores`` is None and both lists must be increasing
      in position.

    * **Which tied tokens make a top-k cut.** Several filter methods take the k
      smallest keys with an unstable argsort: ``low_*`` (score, then k =
      num_label_issues), ``low_memory`` (quality score, k = estimated count),
      ``prune_by_class`` (per class k: the smallest ``p[k]``, count from the prune
      matrix) and ``prune_by_noise_rate`` (per class k and other class j: the largest
      margins ``p[j] - p[k]``). At such a cut, when the k-th smallest key *equals* the
      (k+1)-th, the tokens whose key equals that boundary value are interchangeable:
      any subset of the right size is a valid cleanlab answer. Those tokens are marked
      ``run.ambiguous`` (keys computed in the oracle's own dtype and arithmetic, from the
      very prune counts cleanlab used). A cut without a straddling tie marks nothing.
      Also, cleanlab rounds the calibrated confident joint with ``round_preserving_sum``,
      whose tie-breaking is another unstable argsort: when a row had a tie at its
      rounding cut, the prune counts of that class are not determined, so every token
      of that class is marked ambiguous.

      We assert that every token in exactly one of the two answers is ambiguous. The
      number of issues must be equal when no token is ambiguous, or for ``low_*``
      methods (their count is fixed: num_label_issues); otherwise a later filter
      (``_reduce_issues``, or the intersection for ``both``) may keep some tied tokens
      and drop others, and we only bound the difference by the number of ambiguous
      tokens.

    Everything else (confident_learning, predicted_neq_given, tie-free cuts) must
    match exactly.
    """
    assert run.error is None
    assert_issue_list_type(spanfast_issues)
    sf = issues_to_flat(spanfast_issues, offsets)
    cl = issues_to_flat(run.issues, offsets)

    only_sf = sorted(set(sf.tolist()) - set(cl.tolist()))
    only_cl = sorted(set(cl.tolist()) - set(sf.tolist()))
    unexplained = [t for t in only_sf + only_cl if not run.ambiguous[t]]
    assert not unexplained, (
        f"issue sets differ outside tie groups: only in spanfast {only_sf}, only in cleanlab "
        f"{only_cl}; not tie-ambiguous: {unexplained}; notes {run.notes}"
    )
    if run.count_exact or not (only_sf or only_cl):
        assert len(sf) == len(cl), f"{len(sf)} issues from spanfast, {len(cl)} from cleanlab"
    else:
        assert abs(len(sf) - len(cl)) <= int(run.ambiguous.sum())

    if run.order_scores is None:
        assert np.all(np.diff(cl) > 0), "helper sanity: cleanlab low_memory order is by position"
        assert np.all(np.diff(sf) > 0), "low_memory issues must be in position order like cleanlab"
        return

    scores = np.asarray(run.order_scores)
    assert np.all(np.diff(scores[cl]) >= 0), "helper sanity: cleanlab's order follows its scores"
    assert_sorted_with_position_ties(sf, scores, "spanfast")
    if not (only_sf or only_cl):
        np.testing.assert_allclose(scores[sf], scores[cl], rtol=1e-12, atol=0)


def assert_same_exception(spanfast_call, oracle_error: Exception, *, match_message: bool = True):
    """spanfast raises the same exception type (and message) as cleanlab did."""
    _, error, _, _ = call_capturing(spanfast_call)
    assert error is not None, f"cleanlab raised {oracle_error!r}; spanfast returned normally"
    assert isinstance(error, type(oracle_error)), (
        f"spanfast raised {error!r}, cleanlab {oracle_error!r}"
    )
    if match_message:
        assert str(error) == str(oracle_error), f"spanfast: {error}\ncleanlab: {oracle_error}"


# --------------------------------------------------------------------------------------
# Quality scores (token and span get_label_quality_scores)
# --------------------------------------------------------------------------------------

TEMPERATURES = [0, 0.01, 0.05, 1, 10, np.inf]


def rtol_for(dtype) -> float:
    return 1e-6 if np.dtype(dtype) == np.float32 else 1e-12


def make_tokens(data: TokenData, seed: int) -> list[list[str]]:
    """Token strings, with repeats inside a sentence (pandas index need not be unique)."""
    return data.tokens(seed)


def assert_token_scores_equal(sf_scores, cl_scores: list, rtol: float) -> None:
    """spanfast's token scores behave like cleanlab's list of pd.Series."""
    assert len(sf_scores) == len(cl_scores)
    for i, expected in enumerate(cl_scores):
        got = sf_scores[i]
        assert isinstance(got, pd.Series), type(got)
        pd.testing.assert_index_equal(got.index, expected.index)
        assert got.dtype == expected.dtype, (i, got.dtype, expected.dtype)
        np.testing.assert_allclose(got.to_numpy(), expected.to_numpy(), rtol=rtol, atol=0)


def assert_sequence_protocol(sf_scores, cl_scores: list, rtol: float) -> None:
    """len, indexing, negative indexing, slicing, iteration, == with a list."""
    n = len(cl_scores)
    assert len(sf_scores) == n
    np.testing.assert_allclose(sf_scores[-1].to_numpy(), cl_scores[-1].to_numpy(), rtol=rtol)
    np.testing.assert_allclose(sf_scores[-n].to_numpy(), cl_scores[0].to_numpy(), rtol=rtol)
    for sl in (slice(None), slice(1, None), slice(None, 3), slice(None, None, -1), slice(0, n, 2)):
        sliced = sf_scores[sl]
        expected = cl_scores[sl]
        assert len(sliced) == len(expected)
        for got, want in zip(sliced, expected):
            np.testing.assert_allclose(got.to_numpy(), want.to_numpy(), rtol=rtol)
    iterated = list(iter(sf_scores))
    assert len(iterated) == n
    for got, want in zip(iterated, cl_scores):
        assert isinstance(got, pd.Series)
        np.testing.assert_allclose(got.to_numpy(), want.to_numpy(), rtol=rtol)
    with pytest.raises(IndexError):
        sf_scores[n]
    # like cleanlab's list: equal to the list of its own elements, not to other lists
    assert sf_scores == list(sf_scores)
    assert not (sf_scores != list(sf_scores))
    assert sf_scores != list(sf_scores)[:-1]
    assert sf_scores != []


def compare_quality_scores(sf_fn, cl_fn, data, kwargs, with_tokens, seed, form):
    note(f"data: {data.description}; kwargs {kwargs}; tokens {with_tokens}; form {form}")
    sf_labels, sf_probs, cl_labels, cl_probs = data.inputs(form)
    if with_tokens:
        kwargs = dict(kwargs, tokens=make_tokens(data, seed))
    expected, cl_error, _, _ = call_capturing(cl_fn, cl_labels, cl_probs, **kwargs)
    got, sf_error, _, _ = call_capturing(sf_fn, sf_labels, sf_probs, **kwargs)
    if cl_error is not None:
        assert sf_error is not None and isinstance(sf_error, type(cl_error)), (cl_error, sf_error)
        return
    assert sf_error is None, sf_error
    cl_sentence, cl_tokens = expected
    assert isinstance(got, tuple) and len(got) == 2
    sf_sentence, sf_tokens = got
    rtol = rtol_for(data.dtype)
    assert isinstance(sf_sentence, np.ndarray)
    assert sf_sentence.shape == cl_sentence.shape
    assert sf_sentence.dtype == cl_sentence.dtype, (sf_sentence.dtype, cl_sentence.dtype)
    # atol: subnormal results (softmin at tiny temperatures) differ in their last bits
    np.testing.assert_allclose(
        sf_sentence, cl_sentence, rtol=rtol, atol=np.finfo(cl_sentence.dtype).tiny
    )
    assert_token_scores_equal(sf_tokens, cl_tokens, rtol)
    assert_sequence_protocol(sf_tokens, cl_tokens, rtol)


def noisy_flat_dataset(seed: int, n_sentences: int, n_classes: int, dtype, span: bool):
    """Flat (labels, probs, offsets): random lengths (empty sentences at times), 15% noisy
    labels, rounded probabilities (ties) half the time; the runner tests' data."""
    rng = np.random.default_rng(seed)
    lengths = rng.integers(0 if rng.random() < 0.2 else 1, 25, n_sentences)
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    T = int(offsets[-1])
    if span:
        probs = rng.beta(0.4, 0.4, T)
        labels = (rng.random(T) < probs).astype(np.int64)
    else:
        logits = rng.normal(size=(T, n_classes)) * rng.uniform(0.5, 4)
        probs = np.exp(logits)
        probs /= probs.sum(axis=1, keepdims=True)
        labels = probs.argmax(axis=1)
        noisy = rng.random(T) < 0.15
        labels[noisy] = rng.integers(0, n_classes, noisy.sum())
    if rng.random() < 0.5:
        probs = np.round(probs, 2)  # ties
    return labels, probs.astype(dtype), offsets


def noisy_flat_parameters(max_sentences: int) -> dict[str, st.SearchStrategy]:
    """Strategies of :func:`noisy_flat_dataset`'s parameters (``seed``, ``n_sentences``
    from 1 to ``max_sentences``, ``n_classes``, ``dtype``, ``span``), to unpack into
    ``@given`` beside a test's own."""
    return dict(
        seed=st.integers(0, 2**32 - 1),
        n_sentences=st.integers(1, max_sentences),
        n_classes=st.integers(2, 5),
        dtype=st.sampled_from([np.float32, np.float64]),
        span=st.booleans(),
    )


def _nan_in_last_sentence(labels, probs):
    probs[-1][-1, 0] = np.nan


def _float32_sentence(labels, probs):
    probs[len(probs) // 2] = probs[len(probs) // 2].astype(np.float32)


def _wider_row(labels, probs):
    probs[-1] = np.hstack([probs[-1], np.zeros((len(probs[-1]), 1))])


def _label_out_of_range(labels, probs):
    labels[-1][0] = 9


def _one_token_more(labels, probs):
    labels[5] = [*labels[5], 0]


# Ways to spoil token data given as cleanlab's lists (labels as lists of ints, K <= 9,
# the last and the middle sentence not empty, at least 6 sentences), in place: each
# sends a fast path for plain lists back to the ordinary one, which says what is wrong.
SPOILED_TOKEN_LISTS = (
    _nan_in_last_sentence,
    _float32_sentence,
    _wider_row,
    _label_out_of_range,
    _one_token_more,
)


# --------------------------------------------------------------------------------------
# Files and commands, as a user has and runs them
# --------------------------------------------------------------------------------------

# The directory that holds the `spanfast` package under test, so that subprocesses
# import the same copy (installed or not).
PACKAGE_PARENT = Path(spanfast.data.__file__).resolve().parents[2]


def run_spanfast(*args: str, cwd: Path | None, **run: Any) -> subprocess.CompletedProcess:
    """``python -m spanfast *args`` in ``cwd`` (None: the tests' own working directory),
    its output captured as text; ``run`` is passed on to :func:`subprocess.run` (e.g.
    ``input=``, or ``text=False`` for bytes)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PACKAGE_PARENT), env.get("PYTHONPATH")]))
    options = dict(capture_output=True, text=True, env=env, cwd=cwd, timeout=600)
    return subprocess.run([sys.executable, "-m", "spanfast", *args], **{**options, **run})


def write_example_jsonl(path: Path, tokens: list[list[str]] | None = None) -> Path:
    """The bundled span example as JSON Lines of ``words``, ``tags`` and ``p`` (with
    ``tokens`` for its words when given)."""
    example = load_example()
    with open(path, "w", encoding="utf-8") as lines:
        for words, labels, probs in zip(
            tokens or example.tokens, example.labels, example.pred_probs
        ):
            record = {
                "words": list(words),
                "tags": np.asarray(labels).tolist(),
                "p": np.asarray(probs, float).tolist(),
            }
            lines.write(json.dumps(record, ensure_ascii=False) + "\n")
    return path


PARQUET_MISTAKES = ("nan", "label out of range", "lengths differ", "null row", "null token")


def write_parquet_with_a_mistake(
    root: Path, files: dict[str, int], bad_file: str, mistake: str
) -> tuple[int, Any]:
    """Parquet files under ``root`` (relative path -> its number of sentences; 0 is a file
    without rows) of K=3 token data, ``tags`` (list<int64>) and ``p``
    (list<list<double>>), with one of :data:`PARQUET_MISTAKES` in a middle row of
    ``bad_file``; (that row, every file's rows joined in the order of ``files``)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pa.schema([("tags", pa.list_(pa.int64())), ("p", pa.list_(pa.list_(pa.float64())))])
    rng = np.random.default_rng(len(files))
    row = files[bad_file] // 2
    tables = []
    for relative, n_rows in files.items():
        lengths = rng.integers(2, 6, n_rows)
        tags = [rng.integers(0, 3, n).tolist() for n in lengths]
        p = [rng.dirichlet(np.ones(3), n).tolist() for n in lengths]
        if relative == bad_file:
            if mistake == "nan":
                p[row][0][1] = float("nan")
            elif mistake == "label out of range":
                tags[row][1] = 3
            elif mistake == "lengths differ":
                p[row] = p[row][:-1]
            elif mistake == "null row":
                tags[row] = None
            elif mistake == "null token":
                p[row][1] = None
            else:
                raise ValueError(mistake)
        table = pa.table({"tags": tags, "p": p}, schema=schema)
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(table, path, row_group_size=3)
        tables.append(table)
    return row, pa.concat_tables(tables)
