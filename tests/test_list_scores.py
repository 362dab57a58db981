"""Token scores of cleanlab's list input, chunk by chunk (spanfast._list_scores): the
ordinary path's scores bit for bit, and the ordinary path whenever anything is unusual."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import SPOILED_TOKEN_LISTS, noisy_flat_dataset, noisy_flat_parameters

from spanfast import Ragged, core, options
from spanfast._input.checked import labels_and_probabilities
from spanfast._list_scores import scores_of_lists
from spanfast.errors import InvalidInputError
from spanfast.testing.data import to_lists
from spanfast.token_classification.rank import get_label_quality_scores


def _lists(seed, n_sentences, n_classes, dtype):
    labels, probs, offsets = noisy_flat_dataset(seed, n_sentences, n_classes, dtype, False)
    return to_lists(offsets, labels, probs)


@settings(deadline=None, max_examples=60)
@given(
    **{k: v for k, v in noisy_flat_parameters(60).items() if k != "span"},
    method=st.sampled_from(options.RANK_BY),
    chunk_tokens=st.integers(1, 80),
)
def test_chunked_scores_are_the_ordinary_paths(
    seed, n_sentences, n_classes, dtype, method, chunk_tokens
):
    labels, probs = _lists(seed, n_sentences, n_classes, dtype)
    if not sum(map(len, labels)):
        return  # no tokens: no layout to read (scores_of_lists returns None)
    scored = scores_of_lists(labels, probs, method, chunk_tokens=chunk_tokens)
    assert scored is not None
    data = labels_and_probabilities(labels, probs, span=False)
    expected = core._scores(data, method)
    np.testing.assert_array_equal(scored[0], expected)
    assert scored[0].dtype == expected.dtype
    np.testing.assert_array_equal(scored[1], data.offsets)


@pytest.mark.parametrize("spoil", SPOILED_TOKEN_LISTS)
def test_anything_unusual_is_left_to_the_ordinary_path(spoil):
    labels, probs = _lists(3, 60, 4, np.float64)
    labels = [list(sentence) for sentence in labels]
    while not (len(probs[-1]) and len(probs[len(probs) // 2])):
        labels, probs = labels[:-1], probs[:-1]
    assert scores_of_lists(labels, probs, "self_confidence", chunk_tokens=7) is not None
    spoil(labels, probs)
    assert scores_of_lists(labels, probs, "self_confidence", chunk_tokens=7) is None


def test_the_entropy_scores_strict_check_is_the_ordinary_error():
    labels, probs = _lists(4, 30, 3, np.float64)
    i = next(i for i, p in enumerate(probs) if len(p))
    probs[i][0, 0] = 1 + 1e-9  # tolerated by the value check, not by cleanlab's entropy
    assert scores_of_lists(labels, probs, "self_confidence") is not None
    assert scores_of_lists(labels, probs, "confidence_weighted_entropy") is None
    with pytest.raises(ValueError, match=r"interval \[0, 1\]"):
        get_label_quality_scores(labels, probs, token_score_method="confidence_weighted_entropy")


@pytest.mark.parametrize("pooling", ["min", "softmin"])
def test_the_facade_on_lists_equals_it_on_ragged(pooling):
    labels, probs, offsets = noisy_flat_dataset(7, 300, 5, np.float32, False)
    list_labels, list_probs = to_lists(offsets, labels, probs)
    on_lists = get_label_quality_scores(list_labels, list_probs, sentence_score_method=pooling)
    on_ragged = get_label_quality_scores(
        Ragged(labels, offsets), Ragged(probs, offsets), sentence_score_method=pooling
    )
    np.testing.assert_array_equal(on_lists[0], on_ragged[0])
    for a, b in zip(on_lists[1], on_ragged[1]):
        np.testing.assert_array_equal(a.to_numpy(), b.to_numpy())


def test_an_invalid_value_is_the_ordinary_error():
    labels, probs, offsets = noisy_flat_dataset(8, 200, 4, np.float64, False)
    list_labels, list_probs = to_lists(offsets, labels, probs)
    list_probs[-3] = list_probs[-3].copy()
    if not len(list_probs[-3]):
        list_probs[-3] = np.full((1, 4), 0.25)
        list_labels[-3] = [0]
    list_probs[-3][0, 1] = 1.5
    with pytest.raises(InvalidInputError) as from_lists:
        get_label_quality_scores(list_labels, list_probs)
    assert from_lists.value.sentence == len(list_probs) - 3 and from_lists.value.token == 0
