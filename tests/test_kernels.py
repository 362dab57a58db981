"""Kernels against NumPy, cleanlab's own helpers, and the slow references in naive.py."""

from __future__ import annotations

import functools

import naive
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spanfast import _counts, _cuts, core
from spanfast._kernels import positions, ranking, selection, sorted_positions, summation, thresholds

seeds = st.integers(0, 2**32 - 1)


@pytest.fixture
def cleanlab_ties_by_position(monkeypatch):
    """cleanlab rounds counts with an unstable argsort; give it spanfast's tie rule."""
    import cleanlab.internal.util

    monkeypatch.setattr(
        cleanlab.internal.util, "round_preserving_sum", _counts.round_preserving_sum
    )


dtypes = st.sampled_from([np.float32, np.float64])


@settings(deadline=None)
@given(seed=seeds, n=st.integers(0, 3000), dtype=dtypes, start=st.integers(0, 20))
def test_pairwise_sum_is_numpys_sum_bit_for_bit(seed, n, dtype, start):
    rng = np.random.default_rng(seed)
    values = rng.random(n + start).astype(dtype)
    if n and rng.random() < 0.3:
        values = np.round(values, 2)
    total = summation.pairwise_sum(values, start, start + n)
    assert dtype(total) == values[start:].sum()


@pytest.mark.parametrize("n", [8191, 8192, 8193, 100_003, 1_000_000])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_pairwise_sum_large(n, dtype):
    values = np.random.default_rng(n).random(n).astype(dtype)
    assert dtype(summation.pairwise_sum(values, 0, n)) == values.sum()


def _dataset(seed, n_tokens, n_classes, dtype, span):
    rng = np.random.default_rng(seed)
    if span:
        probs = rng.random(n_tokens)
        if rng.random() < 0.5:
            probs = np.round(probs, 1)
        labels = (rng.random(n_tokens) < probs).astype(np.int64)
        return labels, probs.astype(dtype)
    logits = rng.normal(size=(n_tokens, n_classes)) * rng.uniform(0.5, 4)
    probs = np.exp(logits)
    probs /= probs.sum(axis=1, keepdims=True)
    if rng.random() < 0.5:
        probs = np.round(probs, 1)
    labels = probs.argmax(axis=1)
    noisy = rng.random(n_tokens) < 0.2
    labels[noisy] = rng.integers(0, n_classes, noisy.sum())
    return labels.astype(np.int64), probs.astype(dtype)


def _as_matrix(probs):
    """What cleanlab's span façade builds: np.stack([1 - p, p])."""
    return probs if probs.ndim == 2 else np.stack([1 - probs, probs], axis=1)


datasets = st.builds(
    _dataset,
    seed=seeds,
    n_tokens=st.integers(1, 400),
    n_classes=st.integers(2, 9),
    dtype=dtypes,
    span=st.booleans(),
)


@settings(deadline=None)
@given(data=datasets)
def test_confident_thresholds_equal_cleanlabs_exactly(data):
    from cleanlab.count import get_confident_thresholds

    labels, probs = data
    ours = core.confident_thresholds(labels, probs)
    theirs = get_confident_thresholds(labels, _as_matrix(probs))
    assert ours.dtype == theirs.dtype
    np.testing.assert_array_equal(ours, theirs)


@settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=datasets)
def test_confident_joint_equals_cleanlabs_exactly(data, cleanlab_ties_by_position):
    from cleanlab.count import compute_confident_joint

    labels, probs = data
    for calibrate in (False, True):
        joint, off_diagonal = core.compute_confident_joint(labels, probs, calibrate=calibrate)
        their_joint, their_indices = compute_confident_joint(
            labels, _as_matrix(probs), calibrate=calibrate, return_indices_of_off_diagonals=True
        )
        np.testing.assert_array_equal(joint, their_joint)
        np.testing.assert_array_equal(np.flatnonzero(off_diagonal), their_indices)


@settings(deadline=None)
@given(data=datasets)
def test_prediction_matches_label_is_cleanlabs_reduce_issues(data):
    from cleanlab.count import _reduce_issues

    labels, probs = data
    margin = probs.dtype.type(1e-6)
    ours = selection.prediction_matches_label(probs, labels, margin)
    np.testing.assert_array_equal(ours, _reduce_issues(_as_matrix(probs), labels))
    # At some positions, read in place: the same answers as at every token.
    positions = np.flatnonzero(np.arange(labels.shape[0]) % 3 != 1)
    at = selection.prediction_matches_label_at(probs, labels, positions, margin)
    np.testing.assert_array_equal(at, ours[positions])


@settings(deadline=None)
@given(seed=seeds, n=st.integers(0, 500), m=st.integers(-2, 520), dtype=dtypes)
def test_smallest_breaks_ties_by_position(seed, n, m, dtype):
    rng = np.random.default_rng(seed)
    scores = np.round(rng.random(n), int(rng.integers(0, 3))).astype(dtype)
    positions = _cuts.smallest(scores, m)
    assert positions.tolist() == sorted(naive.smallest_by_position(scores, m))


def _prune_by_noise_rate(probs, labels, prune_counts, counts, eligible, candidates):
    """The noise-rate cuts as the in-memory runner makes them (restricted when it may)."""
    cuts = _cuts.Cuts.noise_rate(prune_counts, counts, eligible)
    cuts = _cuts.restricted_noise_rate(cuts, candidates) or cuts
    return _cuts.kept_positions(cuts, probs, labels)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_kept_entries_near_the_margin_are_looked_at_again(dtype):
    """Two classes: a kept token is settled without its row only when the other class
    leads by clearly more than the margin; around it, the row decides (as cleanlab)."""
    leads = np.array([0.25e-6, 0.5e-6, 1e-6, 1.5e-6, 2e-6, 3.9e-6, 4e-6, 4.1e-6, 8e-6, 1e-3])
    p = np.concatenate([0.5 + leads / 2, 0.5 - leads / 2]).astype(dtype)  # p[1] - p[0] = lead
    labels = np.repeat([0, 1], leads.shape[0]).astype(np.int8)
    margin = dtype(1e-6)
    candidates = selection.noise_rate_candidates(p, labels, margin)
    counts = thresholds.class_counts(labels, 2)
    cuts = _cuts.Cuts.noise_rate(np.full((2, 2), p.shape[0]), counts, np.ones(2, bool))
    cuts = _cuts.restricted_noise_rate(cuts, candidates)
    assert cuts is not None
    kept = _cuts.kept_positions(cuts, p, labels)
    disagreeing = ~selection.prediction_matches_label(p, labels, margin)
    expected = [i for i in kept.tolist() if disagreeing[i]]
    assert 0 < len(expected) < kept.shape[0]  # some kept tokens are dropped, some not
    np.testing.assert_array_equal(cuts.kept_disagreeing(p, labels, margin), expected)


@settings(deadline=None)
@given(data=datasets, seed=seeds)
def test_prune_by_noise_rate_matches_reference(data, seed):
    labels, probs = data
    matrix = _as_matrix(probs)
    K = matrix.shape[1]
    rng = np.random.default_rng(seed)
    counts = thresholds.class_counts(labels, K)
    prune_counts = rng.integers(0, max(2, labels.shape[0] // K), size=(K, K))
    eligible = rng.random(K) < 0.8
    margin = probs.dtype.type(1e-6)
    candidates = selection.noise_rate_candidates(probs, labels, margin)
    ours = _prune_by_noise_rate(probs, labels, prune_counts, counts, eligible, candidates)
    # Counted and split in blocks of tokens (as threads and batches do), merged in order.
    cuts = _cuts.Cuts.noise_rate(prune_counts, counts, eligible)
    cuts = _cuts.restricted_noise_rate(cuts, candidates) or cuts
    bounds = np.unique(np.r_[0, rng.integers(0, labels.shape[0] + 1, 3), labels.shape[0]])
    blocks = [(a, probs[a:b], labels[a:b]) for a, b in zip(bounds[:-1], bounds[1:])]
    histogram = sum(cuts.count(p, y, first_position=a) for a, p, y in blocks)
    plan = cuts.plan(histogram)
    picks = functools.reduce(
        _cuts.Picks.merge, [plan.split(p, y, first_position=a) for a, p, y in blocks]
    )
    np.testing.assert_array_equal(plan.resolve(picks), ours)
    reference = naive.prune_by_noise_rate(matrix, labels, prune_counts, eligible)
    # Kept tokens may differ only by some that _reduce_issues drops anyway.
    disagreeing = set(np.flatnonzero(~selection.prediction_matches_label(probs, labels, margin)))
    assert np.all(np.diff(ours) > 0)
    assert set(ours.tolist()) <= reference
    assert set(ours.tolist()) & disagreeing == reference & disagreeing
    if cuts.entries is not None:  # restricted: the in-memory runner's one-call path too
        kept = cuts.kept_disagreeing(probs, labels, margin)
        np.testing.assert_array_equal(kept, [i for i in ours.tolist() if i in disagreeing])
        assert kept.dtype == np.int64


@settings(deadline=None)
@given(data=datasets)
def test_low_memory_thresholds_equal_label_inspectors(data):
    from cleanlab.experimental.label_issues_batched import LabelInspector

    labels, probs = data
    matrix = _as_matrix(probs)
    batch = 37  # small batches so several are folded together
    inspector = LabelInspector(num_class=matrix.shape[1], verbose=False, n_jobs=1)
    for start in range(0, len(labels), batch):
        inspector.update_confident_thresholds(
            labels[start : start + batch], matrix[start : start + batch]
        )
    counts, batch_thresholds = thresholds.grid_batch_thresholds(
        probs, labels, 0, len(labels), batch, 2e-6, probs.dtype.type(2e-6), 2.0,
        probs.dtype == np.float32,
    )  # fmt: skip
    ours = thresholds.fold_batch_thresholds(counts, batch_thresholds, 2e-6)
    np.testing.assert_array_equal(ours, inspector.get_confident_thresholds(silent=True))


def test_round_preserving_sum_breaks_ties_by_position():
    # Five entries lose 0.2 each when rounded up; the total needs one of them lowered.
    floats = np.array([1.8, 1.8, 1.8, 0.0, 1.8, 0.0, 28.8])
    rounded = _counts.round_preserving_sum(floats)
    assert rounded.sum() == round(floats.sum())
    lowered = np.flatnonzero(rounded < np.round(floats))
    assert len(lowered) == 1


@settings(deadline=None)
@given(data=datasets, seed=seeds)
def test_running_sums_give_np_mean_whatever_the_batches(data, seed):
    from spanfast._kernels.running_sum import RunningSums

    labels, probs = data
    rng = np.random.default_rng(seed)
    counts = thresholds.class_counts(labels, _as_matrix(probs).shape[1])
    sums = RunningSums(counts, probs.dtype)
    cuts = np.sort(rng.integers(0, labels.shape[0] + 1, int(rng.integers(0, 6))))
    bounds = [0, *cuts.tolist(), labels.shape[0]]
    for start, stop in zip(bounds[:-1], bounds[1:]):
        sums.add_batch(probs[start:stop], labels[start:stop])
    expected = [
        _as_matrix(probs)[labels == k, k].mean() if counts[k] else 0 for k in range(len(counts))
    ]
    np.testing.assert_array_equal(sums.means(), np.array(expected, probs.dtype))


@settings(deadline=None)
@given(seed=seeds, n_sentences=st.integers(1, 300), longest=st.sampled_from([1, 3, 20, 200, 900]))
def test_sentence_and_token_of_is_searchsorted(seed, n_sentences, longest):
    rng = np.random.default_rng(seed)
    lengths = rng.integers(0, longest + 1, n_sentences)  # empty sentences included
    if rng.random() < 0.3:  # runs of empty sentences: buckets searched by bisection
        lengths[rng.random(n_sentences) < 0.8] = 0
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    tokens = rng.integers(0, max(offsets[-1], 1), int(rng.integers(0, 400)))
    tokens = tokens[tokens < offsets[-1]]
    expected = np.searchsorted(offsets, tokens, side="right") - 1
    sentence, token = positions.sentence_and_token_of(offsets, tokens)
    np.testing.assert_array_equal(sentence, expected)
    np.testing.assert_array_equal(token, tokens - offsets[expected])


@settings(deadline=None)
@given(seed=seeds, n_a=st.integers(0, 300), n_b=st.integers(0, 300), spread=st.integers(1, 1000))
def test_sorted_union_is_union1d(seed, n_a, n_b, spread):
    rng = np.random.default_rng(seed)
    a = np.sort(rng.integers(0, spread, n_a))  # repeats within each array, too
    b = np.sort(rng.integers(0, spread, n_b))
    union = sorted_positions.sorted_union(a, b)
    assert union.dtype == np.int64
    np.testing.assert_array_equal(union, np.union1d(a, b))


@settings(deadline=None)
@given(seed=seeds, n_flagged=st.integers(0, 300), share=st.floats(0, 1), stray=st.booleans())
def test_disagreeing_among_is_a_lookup_of_matches(seed, n_flagged, share, stray):
    rng = np.random.default_rng(seed)
    flagged = np.sort(rng.choice(10 * n_flagged + 1, n_flagged, replace=False)).astype(np.int64)
    matches = rng.random(n_flagged) < 0.5
    positions = np.sort(flagged[rng.random(n_flagged) < share])
    if stray:  # a position that was not flagged: counted, never returned
        positions = np.unique(np.append(positions, 10 * n_flagged + 1))
    known = np.isin(positions, flagged)
    rows = np.searchsorted(flagged, positions[known])
    disagreeing, n_missing = sorted_positions.disagreeing_among(flagged, matches, positions)
    np.testing.assert_array_equal(disagreeing, positions[known][~matches[rows]])
    assert n_missing == np.count_nonzero(~known)


@settings(deadline=None)
@given(seed=seeds, n=st.integers(0, 3000), decimals=st.integers(0, 6), dtype=dtypes)
def test_sort_ties_by_index_is_a_stable_argsort(seed, n, decimals, dtype):
    rng = np.random.default_rng(seed)
    keys = np.round(rng.random(n), decimals).astype(dtype)
    keys[rng.random(n) < 0.004] = np.nan
    keys[rng.random(n) < 0.004] = -0.0
    order = np.argsort(keys)
    if ranking.sort_ties_by_index(order, keys):
        np.testing.assert_array_equal(order, np.argsort(keys, kind="stable"))
    else:  # a long run of equal keys: left to the caller
        assert np.unique(keys, return_counts=True)[1].max() > ranking._LONGEST_TIE


@settings(deadline=None)
@given(
    seed=seeds,
    n=st.integers(0, 3000),
    kind=st.sampled_from(["rounded", "signed", "low bits", "tiny", "nan"]),
    dtype=dtypes,
)
def test_stable_order_is_a_stable_argsort(seed, n, kind, dtype):
    from spanfast._positions import stable_order

    rng = np.random.default_rng(seed)
    keys = {
        "rounded": lambda: np.round(rng.random(n), int(rng.integers(0, 6))),
        "signed": lambda: np.round(rng.normal(size=n), 2) * rng.choice([-0.0, 0.0, 1.0], n),
        # Keys that differ only in the bits the index takes, in runs longer and shorter
        # than the insertion sort takes.
        "low bits": lambda: 0.5 + rng.integers(0, int(rng.integers(1, 200)), n) * 2.0**-50,
        "tiny": lambda: (rng.random(n) - 0.5) * 1e-310,  # subnormal
        "nan": lambda: np.where(rng.random(n) < 0.01, np.nan, rng.random(n)),
    }[kind]().astype(dtype)
    np.testing.assert_array_equal(stable_order(keys), np.argsort(keys, kind="stable"))


def test_running_sums_refuse_more_classes_than_counted():
    from spanfast._kernels.running_sum import RunningSums

    sums = RunningSums(np.array([2, 1]), np.dtype(np.float64))
    with pytest.raises(ValueError, match="2 classes cannot add probabilities of 3"):
        sums.add_batch(np.full((3, 3), 1 / 3), np.array([0, 1, 2], np.int8))


def test_gather_by_class_stays_in_bounds_when_counts_are_wrong():
    probs = np.array([0.1, 0.2, 0.3, 0.4, 0.5, 0.6])
    labels = np.array([1, 1, 1, 1, 0, 1], np.int8)  # five of class 1
    buffer = np.full(8, -1.0)
    wrong = np.array([1, 2], np.int64)  # says two
    thresholds._gather_by_class(probs, labels, 0, labels.shape[0], wrong, buffer)
    np.testing.assert_array_equal(buffer[3:], -1.0)  # nothing written past the groups
    np.testing.assert_array_equal(buffer[:3], [0.5, 0.1, 0.2])


def test_a_split_with_more_boundary_tokens_than_counted_raises():
    from spanfast.errors import InvalidInputError

    cuts = _cuts.Cuts.smallest(2, 10)
    plan = cuts.plan(cuts.count(np.full(3, 0.5)))
    with pytest.raises(InvalidInputError, match="more tokens fall on a cut's boundary"):
        plan.split(np.full(10, 0.5))
    with pytest.raises(InvalidInputError, match="not those counted"):
        plan.resolve(plan.split(np.full(2, 0.5)))


@settings(deadline=None)
@given(seed=seeds, n=st.integers(0, 20_000), miscount=st.integers(-3, 3), dtype=dtypes)
def test_span_running_sums_walk_the_general_kernels_tree(seed, n, miscount, dtype):
    # The span kernel (values sorted into runs per chunk) leaves the same state as the
    # general one, batch after batch, also when the counts are wrong (data changed).
    from spanfast._kernels import running_sum

    rng = np.random.default_rng(seed)
    probs = rng.random(n).astype(dtype)
    labels = (rng.random(n) < rng.random()).astype(np.int8)
    counts = thresholds.class_counts(labels, 2)
    counts[int(rng.integers(0, 2))] += miscount
    counts = np.maximum(counts, 0)
    bounds = [0, *np.sort(rng.integers(0, n + 1, 3)).tolist(), n]
    states = []
    for add in (running_sum._add_batch, running_sum._add_span_batch):
        sums = running_sum.RunningSums(counts, probs.dtype)
        for a, b in zip(bounds[:-1], bounds[1:]):
            add(probs[a:b], labels[a:b], sums.frames, sums.cursor, sums.partial, sums.leaf)
        states.append((sums.means(), sums.complete, sums.cursor[:, running_sum._EXTRA]))
    np.testing.assert_array_equal(states[0][0], states[1][0])
    assert states[0][1] == states[1][1]
    np.testing.assert_array_equal(states[0][2], states[1][2])
