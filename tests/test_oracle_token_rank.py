"""spanfast.token_classification.rank vs cleanlab 2.9.0.

get_label_quality_scores (sentence scores + per-sentence pandas token scores),
issues_from_scores and _softmin_sentence_score, on the same data.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from cleanlab.token_classification import rank as cl_rank
from hypothesis import given, note
from hypothesis import strategies as st
from strategies import (
    INPUT_FORMS,
    RANK_BY,
    TEMPERATURES,
    call_capturing,
    compare_quality_scores,
    make_token_data,
    rtol_for,
    token_datasets,
)

from spanfast import Ragged
from spanfast.token_classification import rank as sf_rank


@st.composite
def quality_score_cases(draw, *, span=False):
    data = draw(token_datasets(span=span))
    kwargs = {
        "token_score_method": draw(st.sampled_from(RANK_BY)),
        "sentence_score_method": draw(st.sampled_from(["min", "softmin"])),
    }
    kwargs_choice = draw(st.integers(0, 2))
    if kwargs_choice == 1:
        kwargs["sentence_score_kwargs"] = {"temperature": draw(st.sampled_from(TEMPERATURES))}
    elif kwargs_choice == 2:
        kwargs["sentence_score_kwargs"] = {}
    with_tokens = draw(st.booleans())
    return data, kwargs, with_tokens, draw(st.integers(0, 2**16))


@given(case=quality_score_cases(), form=st.sampled_from(INPUT_FORMS))
def test_get_label_quality_scores_matches_oracle(case, form):
    data, kwargs, with_tokens, seed = case
    compare_quality_scores(
        sf_rank.get_label_quality_scores,
        cl_rank.get_label_quality_scores,
        data,
        kwargs,
        with_tokens,
        seed,
        form,
    )


@pytest.mark.parametrize("temperature", TEMPERATURES)
@pytest.mark.parametrize("token_score_method", RANK_BY)
def test_softmin_temperatures_and_methods(temperature, token_score_method):
    data = make_token_data(
        seed=11,
        n_sentences=60,
        length_mode="skewed",
        K=4,
        noise=0.2,
        sharpness=3.0,
        class_skew=1.0,
        tie_mode="round",
        decimals=2,
        dtype="float64",
        class_mode="all_twice",
    )
    kwargs = {
        "token_score_method": token_score_method,
        "sentence_score_method": "softmin",
        "sentence_score_kwargs": {"temperature": temperature},
    }
    for form in INPUT_FORMS:
        compare_quality_scores(
            sf_rank.get_label_quality_scores,
            cl_rank.get_label_quality_scores,
            data,
            kwargs,
            True,
            3,
            form,
        )


# ---- issues_from_scores ---------------------------------------------------------------


@st.composite
def score_cases(draw):
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    n_sentences = draw(st.one_of(st.integers(1, 10), st.integers(1, 150)))
    lengths = rng.integers(1, draw(st.integers(2, 31)), n_sentences)
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    tie_mode = draw(st.sampled_from(["none", "round", "dup"]))
    token_scores = rng.random(int(offsets[-1]))
    if tie_mode == "round":
        token_scores = np.round(token_scores, 1)
    elif tie_mode == "dup":
        token_scores = rng.choice(token_scores[: max(1, len(token_scores) // 4)], len(token_scores))
    token_scores = token_scores.astype(draw(st.sampled_from(["float64", "float32"])))
    sentence_scores = np.minimum.reduceat(token_scores, offsets[:-1])
    threshold = draw(st.one_of(st.sampled_from([0.0, 0.1, 0.5, 1.0, 1.5]), st.floats(0, 1)))
    return offsets, token_scores, sentence_scores, threshold


def nested(flat, offsets, kind):
    parts = [flat[a:b] for a, b in zip(offsets[:-1], offsets[1:])]
    if kind == "lists":
        return [p.tolist() for p in parts]
    if kind == "arrays":
        return [p.copy() for p in parts]
    if kind == "series":
        return [pd.Series(p) for p in parts]
    raise ValueError(kind)


@given(case=score_cases(), kind=st.sampled_from(["lists", "arrays", "series"]))
def test_issues_from_token_scores_matches_oracle(case, kind):
    offsets, token_scores, sentence_scores, threshold = case
    note(f"threshold {threshold}, kind {kind}")
    nested_scores = nested(token_scores, offsets, kind)
    expected = cl_rank.issues_from_scores(
        sentence_scores, token_scores=nested_scores, threshold=threshold
    )
    got = sf_rank.issues_from_scores(
        sentence_scores, token_scores=nested_scores, threshold=threshold
    )
    # cleanlab uses Python's stable sorted(): exact equality, ties by position
    assert got == expected
    assert all(type(i) is int and type(j) is int for i, j in got)
    # A Ragged holds the scores in their dtype, as per-sentence arrays do (a float32
    # score is compared in float32; Python floats from "lists" compare in float64).
    ragged = Ragged(token_scores, offsets)
    expected_in_dtype = cl_rank.issues_from_scores(
        sentence_scores, token_scores=nested(token_scores, offsets, "arrays"), threshold=threshold
    )
    assert (
        sf_rank.issues_from_scores(sentence_scores, token_scores=ragged, threshold=threshold)
        == expected_in_dtype
    )


@given(case=score_cases())
def test_issues_from_sentence_scores_matches_oracle_modulo_ties(case):
    """Sentence level: cleanlab argsorts (unstable) and returns an int array. It crashes
    with IndexError when every sentence is below the threshold (a bug spanfast fixes:
    all sentences, ranked)."""
    _, _, sentence_scores, threshold = case
    expected, error, _, _ = call_capturing(
        cl_rank.issues_from_scores, sentence_scores, threshold=threshold
    )
    below = np.flatnonzero(sentence_scores < threshold)
    if error is not None:
        assert isinstance(error, IndexError) and len(below) == len(sentence_scores)
        expected = np.argsort(sentence_scores, kind="stable")
    got = sf_rank.issues_from_scores(sentence_scores, threshold=threshold)
    assert isinstance(got, np.ndarray) and np.issubdtype(got.dtype, np.integer)
    assert sorted(got.tolist()) == below.tolist() == sorted(expected.tolist())
    np.testing.assert_array_equal(sentence_scores[got], sentence_scores[expected])
    # spanfast's tie rule: equal scores in increasing sentence order
    assert got.tolist() == np.argsort(sentence_scores, kind="stable")[: len(below)].tolist()


def test_issues_from_scores_all_sentences_below_threshold():
    sentence_scores = np.array([0.05, 0.01, 0.05, 0.02])
    with pytest.raises(IndexError):
        cl_rank.issues_from_scores(sentence_scores, threshold=0.5)  # cleanlab's bug
    got = sf_rank.issues_from_scores(sentence_scores, threshold=0.5)
    assert got.tolist() == [1, 3, 0, 2]
    assert sf_rank.issues_from_scores(np.array([0.3]), threshold=0.5).tolist() == [0]
    assert sf_rank.issues_from_scores(np.array([0.7]), threshold=0.5).tolist() == []


@pytest.mark.parametrize("kind", ["2d_array", "ragged", "array_list"])
def test_issues_from_scores_with_array_token_scores(kind):
    """cleanlab raises ValueError for a numpy array (ambiguous truth value); spanfast takes
    arrays and Ragged and gives the answer cleanlab gives for the equivalent lists."""
    rng = np.random.default_rng(5)
    token_matrix = np.round(rng.random((6, 4)), 1)
    sentence_scores = token_matrix.min(axis=1)
    expected = cl_rank.issues_from_scores(
        sentence_scores, token_scores=token_matrix.tolist(), threshold=0.3
    )
    if kind == "2d_array":
        token_scores = token_matrix
        with pytest.raises(ValueError):
            cl_rank.issues_from_scores(sentence_scores, token_scores=token_scores, threshold=0.3)
    elif kind == "ragged":
        token_scores = Ragged(token_matrix.ravel(), np.arange(0, 25, 4, dtype=np.int64))
    else:
        token_scores = list(token_matrix)
    got = sf_rank.issues_from_scores(sentence_scores, token_scores=token_scores, threshold=0.3)
    assert got == expected
    assert len(expected) > 0


@given(case=quality_score_cases(), threshold=st.sampled_from([0.1, 0.5, 0.9]))
def test_issues_from_scores_on_returned_token_scores(case, threshold):
    """The token_scores object spanfast returns feeds issues_from_scores like cleanlab's."""
    data, kwargs, _, _ = case
    labels, probs, cl_labels, cl_probs = data.inputs("ragged")
    cl_sentence, cl_tokens = cl_rank.get_label_quality_scores(cl_labels, cl_probs, **kwargs)
    sf_sentence, sf_tokens = sf_rank.get_label_quality_scores(labels, probs, **kwargs)
    expected = cl_rank.issues_from_scores(cl_sentence, token_scores=cl_tokens, threshold=threshold)
    got = sf_rank.issues_from_scores(sf_sentence, token_scores=sf_tokens, threshold=threshold)
    if data.dtype == np.float64:
        assert got == expected
        return
    # float32: scores agree to rtol 1e-6, so only tokens that close to the threshold, or
    # that close to each other, may be classified or ordered differently
    flat_scores = np.concatenate([np.asarray(s, dtype=np.float64) for s in cl_tokens])
    offsets = data.offsets
    got_flat = [int(offsets[i]) + j for i, j in got]
    exp_flat = [int(offsets[i]) + j for i, j in expected]
    near = np.abs(flat_scores - threshold) <= 1e-6 * max(threshold, 1e-30)
    for token in set(got_flat) ^ set(exp_flat):
        assert near[token], (token, flat_scores[token], threshold)
    along = flat_scores[got_flat]
    assert np.all(np.diff(along) >= -1e-6 * np.maximum(np.abs(along[1:]), 1e-30))


# ---- _softmin_sentence_score --------------------------------------------------------


@given(
    case=score_cases(),
    temperature=st.one_of(st.sampled_from(TEMPERATURES), st.floats(1e-3, 100)),
    kind=st.sampled_from(["lists", "arrays"]),
)
def test_softmin_sentence_score_matches_oracle(case, temperature, kind):
    offsets, token_scores, _, _ = case
    nested_scores = nested(token_scores, offsets, kind)
    expected = cl_rank._softmin_sentence_score(nested_scores, temperature=temperature)
    got = sf_rank._softmin_sentence_score(nested_scores, temperature=temperature)
    assert isinstance(got, np.ndarray)
    assert got.dtype == expected.dtype, (got.dtype, expected.dtype)
    rtol = 1e-12 if kind == "lists" or token_scores.dtype == np.float64 else 1e-6
    # atol: below the normal range (softmin of a 0 score at tiny temperatures), float32
    # results are subnormals whose last-bit differences are huge relative errors
    np.testing.assert_allclose(got, expected, rtol=rtol, atol=np.finfo(expected.dtype).tiny)
    # a Ragged carries the scores in their own dtype, like the list of arrays
    expected_arrays = cl_rank._softmin_sentence_score(
        nested(token_scores, offsets, "arrays"), temperature=temperature
    )
    ragged = sf_rank._softmin_sentence_score(Ragged(token_scores, offsets), temperature=temperature)
    assert ragged.dtype == expected_arrays.dtype, (ragged.dtype, expected_arrays.dtype)
    np.testing.assert_allclose(
        ragged,
        expected_arrays,
        rtol=rtol_for(token_scores.dtype),
        atol=np.finfo(expected_arrays.dtype).tiny,
    )


def test_softmin_default_temperature():
    token_scores = [[0.9, 0.6], [0.0, 0.8, 0.8], [0.8]]
    np.testing.assert_allclose(
        sf_rank._softmin_sentence_score(token_scores),
        cl_rank._softmin_sentence_score(token_scores),
        rtol=1e-12,
    )


def test_float32_scores_meet_the_threshold_in_float32():
    # NumPy compares a float32 score with a Python float in float32 (NEP 50): a
    # threshold that underflows there flags nothing, in cleanlab and here.
    sentence_scores = np.array([0.0, 0.5], np.float32)
    token_scores = [np.array([0.0, 0.7], np.float32), np.array([0.5], np.float32)]
    for kwargs in ({}, {"token_scores": token_scores}):
        expected = cl_rank.issues_from_scores(sentence_scores, threshold=1e-300, **kwargs)
        got = sf_rank.issues_from_scores(sentence_scores, threshold=1e-300, **kwargs)
        assert list(got) == list(expected) == []
