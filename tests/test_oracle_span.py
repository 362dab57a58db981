"""spanfast.span_classification vs cleanlab.experimental.span_classification (2.9.0).

Span data: one probability (of the span class) per token; cleanlab stacks
``[1 - p, p]`` per sentence and runs token classification with K = 2.
"""

from __future__ import annotations

import numpy as np
import pytest
from cleanlab.experimental import span_classification as cl_span
from hypothesis import assume, given, note
from hypothesis import strategies as st
from strategies import (
    INPUT_FORMS,
    RANK_BY,
    TEMPERATURES,
    TokenData,
    assert_issue_list_type,
    assert_same_exception,
    call_capturing,
    check_issues_modulo_ties,
    compare_quality_scores,
    make_token_data,
    run_token_oracle,
    scaled_settings,
    span_datasets,
)

import spanfast
from spanfast import Ragged
from spanfast import span_classification as sf_span


def _oracle(data, cl_labels, cl_probs, *, stable):
    # cleanlab's span find_label_issues is token find_label_issues on [1 - p, p] with
    # default arguments; n_jobs=1 (set by run_token_oracle) only avoids multiprocessing.
    return run_token_oracle(
        cl_labels,
        cl_span._get_pred_prob_token(cl_probs),
        data.flat_labels,
        data.token_flat_probs(),
        stable=stable,
    )


@scaled_settings(2)
@given(data=span_datasets(), form=st.sampled_from(INPUT_FORMS))
def test_find_label_issues_matches_oracle_modulo_ties(data, form):
    assume(data.cleanlab_accepts_labels())
    note(f"data: {data.description}; form {form}")
    sf_labels, sf_probs, cl_labels, cl_probs = data.inputs(form)
    run = _oracle(data, cl_labels, cl_probs, stable=False)
    assert run.error is None, run.error
    result, error, warns, _ = call_capturing(sf_span.find_label_issues, sf_labels, sf_probs)
    assert error is None, error
    check_issues_modulo_ties(result, run, data.offsets)
    assert warns == run.warnings


@scaled_settings(2)
@given(data=span_datasets(), form=st.sampled_from(INPUT_FORMS))
def test_find_label_issues_equals_oracle_with_position_tie_rule(data, form):
    assume(data.cleanlab_accepts_labels())
    note(f"data: {data.description}; form {form}")
    sf_labels, sf_probs, cl_labels, cl_probs = data.inputs(form)
    run = _oracle(data, cl_labels, cl_probs, stable=True)
    assert run.error is None, run.error
    result = spanfast.find_label_issues(sf_labels, sf_probs)
    assert_issue_list_type(result)
    assert result == run.issues


@st.composite
def span_quality_cases(draw):
    data = draw(span_datasets())
    kwargs = {}
    if draw(st.booleans()):
        kwargs["token_score_method"] = draw(st.sampled_from(RANK_BY))
    if draw(st.booleans()):
        kwargs["sentence_score_method"] = draw(st.sampled_from(["min", "softmin"]))
    if draw(st.booleans()):
        kwargs["sentence_score_kwargs"] = {"temperature": draw(st.sampled_from(TEMPERATURES))}
    return data, kwargs, draw(st.booleans()), draw(st.integers(0, 2**16))


@given(case=span_quality_cases(), form=st.sampled_from(INPUT_FORMS))
def test_get_label_quality_scores_matches_oracle(case, form):
    data, kwargs, with_tokens, seed = case
    compare_quality_scores(
        sf_span.get_label_quality_scores,
        cl_span.get_label_quality_scores,
        data,
        kwargs,
        with_tokens,
        seed,
        form,
    )


@pytest.mark.parametrize("temperature", TEMPERATURES)
@pytest.mark.parametrize("token_score_method", RANK_BY)
def test_softmin_every_temperature_and_method(temperature, token_score_method):
    data = make_token_data(
        seed=3,
        n_sentences=50,
        length_mode="skewed",
        K=2,
        noise=0.2,
        sharpness=3.0,
        class_skew=1.0,
        tie_mode="none",
        decimals=2,
        dtype="float32",
        class_mode="all_twice",
    )
    span = TokenData(
        data.flat_labels,
        np.ascontiguousarray(data.flat_probs[:, 1]),
        data.offsets,
        2,
        data.description,
    )
    kwargs = dict(
        token_score_method=token_score_method,
        sentence_score_method="softmin",
        sentence_score_kwargs={"temperature": temperature},
    )
    for form in INPUT_FORMS:
        compare_quality_scores(
            spanfast.get_label_quality_scores,
            cl_span.get_label_quality_scores,
            span,
            kwargs,
            False,
            0,
            form,
        )


def test_labels_with_one_class_are_rejected_like_cleanlab():
    labels = [[1, 1, 1], [1, 1]]
    probs = [np.array([0.9, 0.8, 0.3]), np.array([0.2, 0.7])]
    with pytest.raises(ValueError, match="Labels must contain at least 2 classes.") as cl_info:
        cl_span.find_label_issues(labels, probs)
    assert_same_exception(lambda: sf_span.find_label_issues(labels, probs), cl_info.value)
    assert_same_exception(
        lambda: sf_span.find_label_issues(Ragged.from_list(labels), Ragged.from_list(probs)),
        cl_info.value,
    )


def test_cleanlab_docstring_example():
    labels = [[0, 0, 1, 1], [1, 1, 0]]
    pred_probs = [np.array([0.9, 0.9, 0.9, 0.1]), np.array([0.1, 0.1, 0.9])]
    expected = cl_span.find_label_issues(labels, pred_probs)
    assert expected  # the example does flag something
    assert sf_span.find_label_issues(labels, pred_probs) == expected
    assert (
        spanfast.find_label_issues(Ragged.from_list(labels), Ragged.from_list(pred_probs))
        == expected
    )
