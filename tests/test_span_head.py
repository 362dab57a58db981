"""One span class as arrays, first read half of the tokens per core (spanfast._span_head):
the ordinary path's checked data, class sums, candidates and issues, bit for bit, and
the ordinary path whenever anything is unusual."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import noisy_flat_dataset

from spanfast import Ragged, _cuts, _span_head, _steps, _threads, core
from spanfast._class_sums import InOrder
from spanfast._input.checked import as_labels, as_probabilities, labels_and_probabilities
from spanfast._kernels import running_sum, selection, summation
from spanfast._kernels.confident_joint import confident_joint
from spanfast.errors import InvalidInputError
from spanfast.span_classification import find_label_issues
from spanfast.testing.data import ner_arrays


@settings(deadline=None, max_examples=200)
@given(n=st.integers(1, 5000), position=st.integers(0, 5000), dtype=st.sampled_from([np.float32, np.float64]), seed=st.integers(0, 2**32 - 1))  # fmt: skip
def test_two_walks_split_at_a_leaf_give_numpys_sum(n, position, dtype, seed):
    values = np.random.default_rng(seed).random(n).astype(dtype)
    labels = np.ones(n, np.int8)  # every value is class 1's: p
    counts = np.array([0, n])
    begin = np.array([0, running_sum.first_leaf_from(n, min(position, n))])
    assert begin[1] in (0, n) or begin[1] >= min(position, n)
    first, later = (
        running_sum.RunningSums(counts, dtype),
        running_sum.RunningSums(counts, dtype, begin),
    )
    running_sum.RunningSums.add_batch(first, values[: begin[1]], labels[: begin[1]])
    running_sum.RunningSums.add_batch(later, values[begin[1] :], labels[begin[1] :])
    sums, complete = running_sum.joined_sums(
        counts, begin, first.partial, first.cursor, later.partial, later.cursor
    )
    assert complete
    assert sums[1].tobytes() == dtype(summation.sum_like_numpy(values)).tobytes()
    assert sums[1] == np.add.reduce(values)  # NumPy's own pairwise sum, bit for bit


def test_a_walk_that_got_a_value_too_many_is_not_complete():
    values = np.full(1000, 0.5)
    counts, begin = np.array([0, 1000]), np.array([0, 512])
    first, later = (
        running_sum.RunningSums(counts, values.dtype),
        running_sum.RunningSums(counts, values.dtype, begin),
    )
    first.add_batch(values[:513], np.ones(513, np.int8))  # one past the split
    later.add_batch(values[512:], np.ones(488, np.int8))
    args = (first.partial, first.cursor, later.partial, later.cursor)
    assert not running_sum.joined_sums(counts, begin, *args)[1]


def _arrays(labels, probs, offsets):
    P = as_probabilities(Ragged(probs, offsets), span=None, check_values=False)
    return as_labels(Ragged(labels, offsets.copy()), checked_offsets=P.offsets), P


def _read(labels, probs, offsets, candidates=True, **kwargs):
    return _span_head.checked_with_head(
        *_arrays(labels, probs, offsets),
        noise_rate_candidates=candidates,
        n_jobs=2,
        min_tokens=0,
        **kwargs,
    )


def _assert_same_head(data, head, labels, probs, offsets):
    plain = labels_and_probabilities(Ragged(labels, offsets), Ragged(probs, offsets), span=True)
    for name in ("labels", "probs", "offsets"):
        np.testing.assert_array_equal(getattr(data, name), getattr(plain, name), err_msg=name)
        assert getattr(data, name).dtype == getattr(plain, name).dtype, name
    np.testing.assert_array_equal(head.counts, plain.class_counts)
    whole = InOrder(plain.class_counts, plain.probs.dtype)
    whole.add(plain.probs, plain.labels)
    for ours, theirs in zip(head.class_sums.pieces, whole.sums().pieces):
        assert [(lo, hi, s.tobytes()) for lo, hi, s in ours] == [
            (lo, hi, s.tobytes()) for lo, hi, s in theirs
        ]
    thresholds = _steps.margin_thresholds(whole.sums(), plain.class_counts)
    joint = confident_joint(plain.probs, plain.labels, thresholds, False)[0]
    np.testing.assert_array_equal(head.joint, joint)  # [guess, given]
    margin = plain.probs.dtype.type(1e-6)
    for ours, theirs in zip(
        head.noise_rate_candidates,
        selection.noise_rate_candidates(plain.probs, plain.labels, margin),
    ):
        np.testing.assert_array_equal(ours, theirs)
    return plain


@settings(deadline=None, max_examples=80)
@given(
    seed=st.integers(0, 2**32 - 1),
    n_sentences=st.integers(1, 3000),
    dtype=st.sampled_from([np.float32, np.float64]),
    label_dtype=st.sampled_from([np.int8, np.int64, np.uint16]),
    in_span=st.sampled_from([None, 0.0, 1.0, 0.01]),
    ties=st.sampled_from(["position", "numpy"]),
    stretch_tokens=st.sampled_from([1, 7, 64, 1 << 14]),
)
def test_the_halves_give_the_ordinary_paths_data_head_and_issues(
    seed, n_sentences, dtype, label_dtype, in_span, ties, stretch_tokens
):
    labels, probs, offsets = noisy_flat_dataset(seed, n_sentences, 2, dtype, span=True)
    if in_span is not None:  # one class alone, or almost
        labels = (np.random.default_rng(seed).random(labels.shape[0]) < in_span).astype(int)
    labels = labels.astype(label_dtype)
    if not labels.shape[0]:
        assert _read(labels, probs, offsets) is None  # no tokens: nothing to read
        return
    candidates = ties == "position"
    data, head = _read(labels, probs, offsets, candidates, stretch_tokens=stretch_tokens)
    plain = _assert_same_head(data, head, labels, probs, offsets) if ties == "position" else None
    plain = plain or labels_and_probabilities(
        Ragged(labels, offsets), Ragged(probs, offsets), span=True
    )
    ours, theirs = _issues(data, head, ties), _issues(plain, None, ties)
    if isinstance(ours[0], type):  # one class alone that is not class 0: the same error
        assert ours == theirs
        return
    for a, b in zip(ours, theirs):
        np.testing.assert_array_equal(a, b)


def _issues(data, head, ties):
    """(sentence, token, score) of _find's issues, or the error it raised (type, message)."""
    try:
        (sentence, token), scores = core._find(data, head=head, ties=ties, located=True)
    except InvalidInputError as error:
        return type(error), str(error)
    return sentence, token, scores


def test_large_data_read_in_halves_is_the_ordinary_paths():
    arrays = ner_arrays(300_000, "sentences")
    labels, probs, offsets = arrays["span_labels"], arrays["span_probs"], arrays["offsets"]
    read = _span_head.checked_with_head(
        *_arrays(labels, probs, offsets), noise_rate_candidates=True, n_jobs=2
    )
    assert read is not None  # 2^18 tokens and more, two cores
    _assert_same_head(*read, labels, probs, offsets)


def _label_2(labels, probs):
    labels[len(labels) // 2 + 3] = 2


def _negative_label(labels, probs):
    labels[0] = -1


def _nan_in_the_second_half(labels, probs):
    probs[-5] = np.nan


def _too_big_in_the_first_half(labels, probs):
    probs[7] = 1.5


@pytest.mark.parametrize(
    "spoil", [_label_2, _negative_label, _nan_in_the_second_half, _too_big_in_the_first_half]
)
def test_anything_to_report_is_left_to_the_ordinary_path(spoil):
    labels, probs, offsets = noisy_flat_dataset(7, 400, 2, np.float64, span=True)
    assert _read(labels, probs, offsets) is not None
    spoil(labels, probs)
    assert _read(labels, probs, offsets) is None
    with pytest.raises(InvalidInputError) as error:
        find_label_issues(Ragged(labels, offsets), Ragged(probs, offsets))
    with pytest.raises(InvalidInputError) as ordinary:
        labels_and_probabilities(Ragged(labels, offsets), Ragged(probs, offsets), span=True)
    assert str(error.value) == str(ordinary.value)
    assert error.value.location == ordinary.value.location


def test_one_thread_small_data_rows_and_misaligned_data_are_not_read_in_halves():
    labels, probs, offsets = noisy_flat_dataset(8, 300, 2, np.float64, span=True)
    arrays = _arrays(labels, probs, offsets)
    read = dict(noise_rate_candidates=True)
    for n_jobs in (2, 3, 4):
        assert _span_head.checked_with_head(*arrays, n_jobs=n_jobs, min_tokens=0, **read)
    for n_jobs in (1, 5, 16, "2"):  # one thread; the ordinary path's blocks; not a count
        assert _span_head.checked_with_head(*arrays, n_jobs=n_jobs, min_tokens=0, **read) is None
    assert _span_head.checked_with_head(*arrays, n_jobs=2, **read) is None  # below MIN_TOKENS
    rows = as_probabilities(Ragged(np.stack([1 - probs, probs], 1), offsets), span=None)
    assert _span_head.checked_with_head(arrays[0], rows, n_jobs=2, min_tokens=0, **read) is None
    moved = offsets.copy()
    moved[1:-1] = np.maximum(moved[1:-1] - 1, moved[:-2])  # same tokens, other sentences
    shifted = as_labels(Ragged(labels, moved))
    assert _span_head.checked_with_head(shifted, arrays[1], n_jobs=2, min_tokens=0, **read) is None


@pytest.mark.parametrize("ties", ["position", "numpy"])
def test_the_span_facade_on_ragged_is_the_ordinary_paths(monkeypatch, ties):
    labels, probs, offsets = noisy_flat_dataset(9, 3000, 2, np.float32, span=True)
    inputs = Ragged(labels, offsets), Ragged(probs, offsets.copy())
    monkeypatch.setattr(_span_head, "MIN_TOKENS", 10**9)
    expected = find_label_issues(*inputs, ties=ties)
    monkeypatch.setattr(_span_head, "MIN_TOKENS", 0)
    monkeypatch.setattr(_threads, "available_cores", lambda: 2)  # the default n_jobs: 2
    real, reads = _span_head.checked_with_head, []
    monkeypatch.setattr(
        _span_head, "checked_with_head", lambda *a, **k: reads.append(real(*a, **k)) or reads[-1]
    )
    kept, one_call = [], _cuts.Cuts.kept_disagreeing
    monkeypatch.setattr(_cuts.Cuts, "kept_disagreeing", lambda *a: kept.append(1) or one_call(*a))
    assert find_label_issues(*inputs, ties=ties) == expected
    assert reads and reads[0] is not None  # read in halves
    assert (len(kept) == 1) == (ties == "position")  # the cuts on the candidates' entries


def test_a_second_half_that_fails_before_counting_is_not_waited_for(monkeypatch):
    """The first half waits for the second's label counts a bounded number of looks; the
    second half's error then reaches the caller (nothing hangs)."""
    labels, probs, offsets = noisy_flat_dataset(10, 400, 2, np.float64, span=True)

    def failing(*args):
        def result():
            raise RuntimeError("the second half's call failed before counting")

        return result

    monkeypatch.setattr(_span_head, "beside", failing)
    monkeypatch.setattr(_span_head, "_PATIENCE", 1000)
    with pytest.raises(RuntimeError, match="failed before counting"):
        _read(labels, probs, offsets)
