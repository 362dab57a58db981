"""Token and span data on list input, first read on a second core while it is converted
(spanfast._read_ahead): the same checked data and the same issues as the ordinary path,
bit for bit, on every filter, and the ordinary path whenever anything is unusual."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import SPOILED_TOKEN_LISTS, noisy_flat_dataset, noisy_flat_parameters

from spanfast import Ragged, core, options
from spanfast._input.checked import labels_and_probabilities
from spanfast._read_ahead import checked_with_head
from spanfast.errors import InvalidInputError
from spanfast.span_classification import find_label_issues as span_find_label_issues
from spanfast.testing.data import ner_arrays, to_lists
from spanfast.token_classification.filter import find_label_issues

SMALL = dict(chunk_tokens=5, min_tokens=0)  # many chunks


def _lists(seed, n_sentences, n_classes, dtype, span=False):
    labels, probs, offsets = noisy_flat_dataset(seed, n_sentences, n_classes, dtype, span)
    return to_lists(offsets, labels, probs)


def _outcome(data, head, **kwargs):
    """_find's (positions, scores), or the error it raised (type, message)."""
    try:
        return core._find(data, head=head, **kwargs)
    except (InvalidInputError, ValueError) as error:
        return type(error), str(error)


def _assert_same(a, b):
    if isinstance(a[0], type):
        assert a == b
        return
    for x, y in zip(a, b):
        if x is None or y is None:
            assert x is None and y is None
        else:
            np.testing.assert_array_equal(x, y)
            assert x.dtype == y.dtype


@settings(deadline=None, max_examples=60)
@given(
    **noisy_flat_parameters(60),
    filter_by=st.sampled_from(options.FILTER_BY),
    ties=st.sampled_from(["position", "numpy"]),
    n_jobs=st.sampled_from([2, 4]),
    chunk_tokens=st.integers(1, 60),
)
def test_read_ahead_gives_the_ordinary_paths_data_and_issues(
    seed, n_sentences, n_classes, dtype, span, filter_by, ties, n_jobs, chunk_tokens
):
    labels, probs = _lists(seed, n_sentences, n_classes, dtype, span)
    if not sum(map(len, labels)):
        return  # no tokens: nothing to read (checked_with_head returns None)
    read = checked_with_head(
        labels,
        probs,
        noise_rate_candidates=filter_by in ("prune_by_noise_rate", "both") and ties == "position",
        n_jobs=n_jobs,
        span=span,
        chunk_tokens=chunk_tokens,
        min_tokens=0,
    )
    assert read is not None
    data, head = read
    plain = labels_and_probabilities(labels, probs, span=span)
    for name in ("labels", "probs", "offsets"):
        np.testing.assert_array_equal(getattr(data, name), getattr(plain, name), err_msg=name)
        assert getattr(data, name).dtype == getattr(plain, name).dtype, name
    options_ = dict(filter_by=filter_by, ties=ties, n_jobs=n_jobs)
    _assert_same(_outcome(data, head, **options_), _outcome(plain, None, **options_))


def _string_label(labels, probs):
    labels[3][0] = "B-PER"


def _masked(labels, probs):
    probs[2] = np.ma.masked_array(probs[2])
    probs[2][0, 1] = np.ma.masked  # a missing value: the ordinary path names it


@pytest.mark.parametrize("spoil", [*SPOILED_TOKEN_LISTS, _string_label, _masked])
def test_anything_unusual_is_left_to_the_ordinary_path(spoil):
    labels, probs = _lists(3, 60, 4, np.float64)
    labels = [list(sentence) for sentence in labels]
    assert checked_with_head(labels, probs, noise_rate_candidates=True, n_jobs=2, **SMALL)
    spoil(labels, probs)
    assert checked_with_head(labels, probs, noise_rate_candidates=True, n_jobs=2, **SMALL) is None


def test_one_thread_small_data_and_other_inputs_are_not_read_ahead():
    labels, probs = _lists(4, 60, 3, np.float64)
    read = dict(noise_rate_candidates=True, chunk_tokens=5)
    assert checked_with_head(labels, probs, n_jobs=2, min_tokens=0, **read) is not None
    assert checked_with_head(labels, probs, n_jobs=1, min_tokens=0, **read) is None
    assert checked_with_head(labels, probs, n_jobs=2, min_tokens=10**6, **read) is None
    assert checked_with_head(labels, probs, n_jobs="2", min_tokens=0, **read) is None
    spans = [p[:, 1].copy() for p in probs]  # span data: one probability per token
    assert checked_with_head(labels, spans, n_jobs=2, min_tokens=0, **read) is None
    offsets = np.cumsum([0, *map(len, labels)])
    ragged = Ragged(np.concatenate(probs), offsets)  # not a list of arrays
    assert checked_with_head(labels, ragged, n_jobs=2, min_tokens=0, **read) is None
    assert checked_with_head(labels, tuple(probs), n_jobs=2, min_tokens=0, **read) is not None


@pytest.fixture(scope="module")
def large():
    """Token data above the read-ahead's size (2^18 tokens), as cleanlab's lists."""
    arrays = ner_arrays(300_000, "sentences")
    offsets, labels, probs = arrays["offsets"], arrays["token_labels"], arrays["token_probs"]
    return (labels, probs, offsets), to_lists(offsets, labels, probs)


@pytest.mark.parametrize("n_jobs", [None, 1, 2, 4])
@pytest.mark.parametrize("filter_by", ["prune_by_noise_rate", "both", "confident_learning"])
def test_the_token_facade_on_lists_equals_it_on_ragged(large, n_jobs, filter_by):
    (labels, probs, offsets), (list_labels, list_probs) = large
    read = checked_with_head(list_labels, list_probs, noise_rate_candidates=True, n_jobs=n_jobs)
    assert (read is None) == (n_jobs == 1)  # read ahead on two threads and more
    expected = find_label_issues(Ragged(labels, offsets), Ragged(probs, offsets), n_jobs=1)
    if filter_by != "prune_by_noise_rate":
        expected = find_label_issues(
            Ragged(labels, offsets), Ragged(probs, offsets), filter_by=filter_by, n_jobs=1
        )
    assert find_label_issues(list_labels, list_probs, filter_by=filter_by, n_jobs=n_jobs) == (
        expected
    )


def _span_nan(labels, probs):
    probs[-2][0] = np.nan


def _span_float32_sentence(labels, probs):
    probs[len(probs) // 2] = probs[len(probs) // 2].astype(np.float32)


def _span_rows(labels, probs):  # a sentence of (n_tokens, C) rows among span values
    probs[4] = np.stack([probs[4], 1 - probs[4]], axis=1)


def _span_label_2(labels, probs):
    labels[-1][0] = 2


def _span_one_token_fewer(labels, probs):
    labels[7] = labels[7][:-1]


@pytest.mark.parametrize(
    "spoil",
    [_span_nan, _span_float32_sentence, _span_rows, _span_label_2, _span_one_token_fewer],
)
def test_anything_unusual_in_span_data_is_left_to_the_ordinary_path(spoil):
    labels, probs = _lists(5, 60, 2, np.float64, span=True)
    labels = [list(sentence) for sentence in labels]
    while not all(map(len, probs[4:8])):  # the spoilers change these sentences
        labels, probs = labels[1:], probs[1:]
    read = dict(noise_rate_candidates=True, n_jobs=2, span=True, **SMALL)
    assert checked_with_head(labels, probs, **read)
    spoil(labels, probs)
    assert checked_with_head(labels, probs, **read) is None


def test_the_kind_of_data_must_match():
    labels, probs = _lists(6, 40, 3, np.float64)
    spans = [p[:, 1].copy() for p in probs]
    read = dict(noise_rate_candidates=True, n_jobs=2, **SMALL)
    assert checked_with_head(labels, probs, span=True, **read) is None
    assert checked_with_head(labels, spans, span=False, **read) is None
    assert checked_with_head([[int(x > 0.5) for x in s] for s in spans], spans, span=True, **read)


@pytest.fixture(scope="module")
def large_spans():
    """Span data above the read-ahead's size (2^18 tokens), as cleanlab's lists."""
    arrays = ner_arrays(300_000, "sentences")
    offsets, labels, probs = arrays["offsets"], arrays["span_labels"], arrays["span_probs"]
    return (labels, probs, offsets), to_lists(offsets, labels, probs)


@pytest.mark.parametrize("ties", ["position", "numpy"])
def test_the_span_facade_on_lists_equals_it_on_ragged(large_spans, ties):
    (labels, probs, offsets), (list_labels, list_probs) = large_spans
    read = checked_with_head(list_labels, list_probs, noise_rate_candidates=True, span=True)
    assert read is not None  # read ahead: at least two cores here
    expected = span_find_label_issues(Ragged(labels, offsets), Ragged(probs, offsets), ties=ties)
    assert span_find_label_issues(list_labels, list_probs, ties=ties) == expected


@pytest.mark.parametrize(
    "kind, find, where",
    [("token", find_label_issues, (1, 2)), ("span", span_find_label_issues, (1,))],
)
def test_an_invalid_probability_late_in_the_list_is_the_ordinary_error(request, kind, find, where):
    data = request.getfixturevalue("large" if kind == "token" else "large_spans")
    (labels, probs, offsets), (list_labels, list_probs) = data
    spoiled = [p.copy() if i == len(list_probs) - 3 else p for i, p in enumerate(list_probs)]
    spoiled[-3][where] = 1.5
    with pytest.raises(InvalidInputError) as from_lists:
        find(list_labels, spoiled)
    flat = np.concatenate(spoiled)
    with pytest.raises(InvalidInputError) as from_ragged:
        find(Ragged(labels, offsets), Ragged(flat, offsets))
    assert str(from_lists.value) == str(from_ragged.value)
    assert from_lists.value.location == from_ragged.value.location
    assert from_lists.value.sentence == len(list_probs) - 3 and from_lists.value.token == 1
