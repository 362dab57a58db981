"""Every kernel without a direct test in test_kernels.py, against its slow reference in naive.py.

Data come from the shared generator (spanfast.testing.data through the hypothesis
strategies): span data (p read as [1 - p, p]) and token data, float32 and float64,
ties-heavy and not. Kernels assume validated input (labels in 0..K-1, C-contiguous
float32/64); the input checks get invalid values on purpose.
"""

from __future__ import annotations

import math

import naive
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import span_datasets, token_datasets

from spanfast import _cuts
from spanfast._kernels import checks, confident_joint, pooling, scores, selection, thresholds

seeds = st.integers(0, 2**32 - 1)
datasets = st.one_of(token_datasets(max_K=6), span_datasets())
kernel_settings = settings(deadline=None)


def _rtol(dtype) -> float:
    return 1e-5 if np.dtype(dtype) == np.float32 else 1e-12


def _thresholds(rng, data) -> np.ndarray:
    """Per-class thresholds near typical confident thresholds, in the probabilities' dtype."""
    return rng.uniform(0.2, 0.9, data.K).astype(data.dtype)


# ---------------------------------------------------------------------------- input checks


@st.composite
def probability_arrays(draw):
    rng = np.random.default_rng(draw(seeds))
    shape = draw(st.sampled_from([(0,), (7,), (40,), (13, 3), (5, 9)]))
    values = rng.uniform(-0.2, 1.2, shape).astype(draw(st.sampled_from([np.float32, np.float64])))
    values = np.where(rng.random(shape) < 0.7, np.clip(values, 0, 1), values)
    for bad in (np.nan, np.inf, -np.inf):
        values[rng.random(shape) < 0.03] = bad
    return values


@kernel_settings
@given(values=probability_arrays())
def test_invalid_probabilities(values):
    low, high = 0.0, 1.0
    assert checks.count_invalid_probabilities(values, low, high) == (
        naive.count_invalid_probabilities(values, low, high)
    )
    assert checks.first_invalid_probability(values, low, high) == (
        naive.first_invalid_probability(values, low, high)
    )


@kernel_settings
@given(
    seed=seeds,
    n=st.integers(0, 300),
    K=st.integers(1, 12),
    bad_rate=st.sampled_from([0, 0.01, 0.3]),
)
def test_labels_out_of_range_and_narrowing(seed, n, K, bad_rate):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, K, n)
    bad = rng.random(n) < bad_rate
    labels[bad] = rng.choice([-1, K, K + 5, -(2**40)], int(bad.sum()))
    assert checks.first_label_out_of_range(labels, K) == naive.first_label_out_of_range(labels, K)
    out = np.empty(n, np.int8)
    n_bad = checks.narrow_labels(labels, K, out)
    expected, expected_bad = naive.narrow_labels(labels, K)
    assert n_bad == expected_bad
    assert out.tolist() == expected


@kernel_settings
@given(seed=seeds, n=st.integers(0, 200), drop_rate=st.sampled_from([0, 0.01, 0.2]))
def test_first_decreasing_offset(seed, n, drop_rate):
    rng = np.random.default_rng(seed)
    offsets = np.concatenate([[0], np.cumsum(rng.integers(0, 5, n))]).astype(np.int64)
    drops = rng.random(n + 1) < drop_rate
    offsets[drops] -= rng.integers(1, 10, int(drops.sum()))
    assert checks.first_decreasing_offset(offsets) == naive.first_decreasing_offset(offsets)


# ---------------------------------------------------------------------- counts and argmax


@kernel_settings
@given(data=datasets, narrow=st.booleans())
def test_class_counts(data, narrow):
    labels = data.flat_labels.astype(np.int8) if narrow else data.flat_labels
    assert thresholds.class_counts(labels, data.K).tolist() == naive.class_counts(labels, data.K)


@kernel_settings
@given(data=datasets, seed=seeds)
def test_argmax_rows(data, seed):
    rng = np.random.default_rng(seed)
    positions = rng.integers(0, max(data.n_tokens, 1), int(rng.integers(0, 50)))
    positions = positions[positions < data.n_tokens]
    got = confident_joint.argmax_rows(data.flat_probs, positions)
    assert got.tolist() == naive.argmax_rows(data.flat_probs, positions)


@kernel_settings
@given(data=datasets)
def test_predicted_neq_given(data):
    got = selection.predicted_neq_given(data.flat_probs, data.flat_labels)
    assert got.tolist() == naive.predicted_neq_given(data.flat_probs, data.flat_labels)


@kernel_settings
@given(data=datasets, seed=seeds)
def test_count_confident_disagreements(data, seed):
    limits = _thresholds(np.random.default_rng(seed), data)
    got = selection.count_confident_disagreements(data.flat_probs, data.flat_labels, limits)
    assert got == naive.count_confident_disagreements(data.flat_probs, data.flat_labels, limits)


@kernel_settings
@given(data=datasets, seed=seeds)
def test_confident_joint_before_calibration(data, seed):
    # Both the general (T, K) kernel and the branch-free span kernel.
    limits = _thresholds(np.random.default_rng(seed), data)
    counts, off_diagonal = confident_joint.confident_joint(
        data.flat_probs, data.flat_labels, limits
    )
    expected_counts, expected_off = naive.confident_joint(data.flat_probs, data.flat_labels, limits)
    np.testing.assert_array_equal(counts, expected_counts)
    assert off_diagonal.tolist() == expected_off


@kernel_settings
@given(data=datasets)
def test_noise_rate_candidates(data):
    margin = data.dtype.type(1e-6)
    entries, above, disagree_below = selection.noise_rate_candidates(
        data.flat_probs, data.flat_labels, margin
    )
    expected = naive.noise_rate_candidates(data.flat_probs, data.flat_labels, margin)
    shift = selection.entry_shift(data.K)
    decoded = [(e >> shift, (e & ((1 << shift) - 1)) >> 10, e & 1023) for e in entries.tolist()]
    assert sorted({token for token, _, _ in decoded}) == expected[0]
    assert decoded == expected[3]
    np.testing.assert_array_equal(above, expected[1])
    np.testing.assert_array_equal(disagree_below, expected[2])


@kernel_settings
@given(data=datasets, seed=seeds)
def test_prune_by_class_cut(data, seed):
    # count_class_keys / split_class_keys through the Cuts that drive them
    rng = np.random.default_rng(seed)
    counts = thresholds.class_counts(data.flat_labels, data.K)
    n_to_prune = rng.integers(-1, np.maximum(counts, 1) + 2)
    eligible = rng.random(data.K) < 0.8
    cuts = _cuts.Cuts.by_class(n_to_prune, counts, eligible)
    got = _cuts.kept_positions(cuts, data.flat_probs, data.flat_labels)
    expected = naive.prune_by_class(data.flat_probs, data.flat_labels, n_to_prune, eligible)
    assert got.tolist() == sorted(expected)


# ------------------------------------------------------------------------------- scores


@kernel_settings
@given(data=datasets)
def test_self_confidence_and_normalized_margin_exactly(data):
    probs, labels = data.flat_probs, data.flat_labels
    got = scores.self_confidence(probs, labels)
    assert got.dtype == probs.dtype
    np.testing.assert_array_equal(got, np.array(naive.self_confidence(probs, labels), probs.dtype))
    got = scores.normalized_margin(probs, labels)
    assert got.dtype == probs.dtype
    np.testing.assert_array_equal(
        got, np.array(naive.normalized_margin(probs, labels), probs.dtype)
    )


@kernel_settings
@given(data=datasets)
def test_entropy_over_confidence(data):
    probs, labels = data.flat_probs, data.flat_labels
    got = scores.entropy_over_confidence(probs, labels, math.log(data.K), 1e-6)
    assert got.dtype == np.float64
    expected = naive.entropy_over_confidence(probs, labels, math.log(data.K), 1e-6)
    np.testing.assert_allclose(got, expected, rtol=_rtol(data.dtype), atol=1e-300)


@kernel_settings
@given(data=datasets, seed=seeds)
def test_adjusted_probabilities(data, seed):
    limits = np.random.default_rng(seed).uniform(0.2, 0.9, data.K)  # float64, as in core
    got = scores.adjusted_probabilities(data.flat_probs, limits)
    assert got.dtype == limits.dtype and got.shape == (data.n_tokens, data.K)
    expected = np.array(naive.adjusted_probabilities(data.flat_probs, limits)).reshape(got.shape)
    np.testing.assert_allclose(got, expected, rtol=_rtol(data.dtype), atol=1e-7)


# ------------------------------------------------------------------------------ pooling


@st.composite
def token_scores(draw):
    """(flat scores, offsets with empty sentences) in float32 or float64, some tied."""
    data = draw(datasets)
    rng = np.random.default_rng(data.seed)
    values = rng.random(data.n_tokens).astype(data.dtype)
    if rng.random() < 0.5:
        values = np.round(values, 1)
    lengths = np.diff(data.offsets)
    lengths[rng.random(len(lengths)) < 0.1] = 0  # empty sentences
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    return np.ascontiguousarray(values[: offsets[-1]]), offsets


@kernel_settings
@given(case=token_scores())
def test_sentence_min_and_mean(case):
    values, offsets = case
    got = pooling.sentence_min(values, offsets, 1.0)
    assert got.dtype == values.dtype
    np.testing.assert_array_equal(
        got, np.array(naive.sentence_min(values, offsets, 1.0), values.dtype)
    )
    got = pooling.sentence_mean(values, offsets, 1.0)
    expected = naive.sentence_mean(values, offsets, 1.0)
    np.testing.assert_allclose(got, expected, rtol=_rtol(values.dtype))


@kernel_settings
@given(case=token_scores(), temperature=st.sampled_from([0.01, 0.05, 0.5, 1.0, 10.0]))
def test_sentence_softmin(case, temperature):
    values, offsets = case
    got = pooling.sentence_softmin(values, offsets, temperature, 1.0)
    assert got.dtype == values.dtype
    expected = naive.sentence_softmin(values, offsets, temperature, 1.0)
    # the kernel takes the element-wise steps in the scores' dtype, the reference in float64
    rtol = 1e-4 if values.dtype == np.float32 else 1e-10
    np.testing.assert_allclose(got, expected, rtol=rtol, atol=1e-12)


def test_noise_rate_candidates_grow_their_entries():
    # Every token labelled with its least likely class: K - 1 entries each, far more
    # than the first guess of room, so the entries array grows several times.
    rng = np.random.default_rng(7)
    probs = rng.dirichlet(np.ones(9), 6000)
    labels = probs.argmin(axis=1).astype(np.int8)
    margin = probs.dtype.type(1e-6)
    entries, above, disagree_below = selection.noise_rate_candidates(probs, labels, margin)
    expected = naive.noise_rate_candidates(probs, labels, margin)
    shift = selection.entry_shift(9)
    decoded = [(e >> shift, (e & ((1 << shift) - 1)) >> 10, e & 1023) for e in entries.tolist()]
    assert len(decoded) == 8 * 6000
    assert decoded == expected[3]
    np.testing.assert_array_equal(above, expected[1])
    np.testing.assert_array_equal(disagree_below, expected[2])


def test_span_noise_rate_candidates_grow_their_entries():
    # Span data, every token labelled against its probability: one entry each, far
    # more than the first guess of room (an eighth of the tokens), over many chunks.
    rng = np.random.default_rng(8)
    p = rng.random(9000)
    labels = (p < 0.5).astype(np.int8)
    margin = p.dtype.type(1e-6)
    entries, above, disagree_below = selection.noise_rate_candidates(p, labels, margin)
    expected = naive.noise_rate_candidates(np.stack([1 - p, p], axis=1), labels, margin)
    shift = selection.entry_shift(2)
    decoded = [(e >> shift, (e & ((1 << shift) - 1)) >> 10, e & 1023) for e in entries.tolist()]
    assert len(decoded) == np.count_nonzero(p != 0.5)
    assert decoded == expected[3]
    np.testing.assert_array_equal(above, expected[1])
    np.testing.assert_array_equal(disagree_below, expected[2])
