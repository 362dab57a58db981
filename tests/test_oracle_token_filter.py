"""spanfast.token_classification.filter.find_label_issues vs cleanlab 2.9.0.

Every property test calls cleanlab (with n_jobs=1) on the same data and compares
modulo ties (see strategies.check_issues_modulo_ties); a second family compares
exactly with cleanlab run with stable sorts, i.e. spanfast's documented rule
"ties are broken by position (sentence, then token)".
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, example, given, note
from hypothesis import strategies as st
from strategies import (
    FILTER_BY,
    INPUT_FORMS,
    PRUNE_METHODS,
    RANK_BY,
    TokenData,
    assert_issue_list_type,
    assert_same_exception,
    call_capturing,
    check_issues_modulo_ties,
    make_token_data,
    run_token_oracle,
    scaled_settings,
    token_datasets,
)

from spanfast import Ragged
from spanfast.token_classification.filter import find_label_issues


@st.composite
def filter_cases(draw, *, filter_by=None, low_memory=False):
    """(data, kwargs) for find_label_issues; kwargs as cleanlab takes them."""
    data = draw(token_datasets())
    K = data.K
    kwargs: dict = {
        "return_indices_ranked_by": draw(st.sampled_from(RANK_BY)),
    }
    if low_memory:
        kwargs["low_memory"] = True
        # extra kwargs are ignored by cleanlab there, with a warning each
        if draw(st.booleans()):
            kwargs["filter_by"] = draw(st.sampled_from(FILTER_BY))
        if draw(st.booleans()):
            kwargs["frac_noise"] = 0.5
        return data, kwargs

    filter_by = filter_by or draw(st.sampled_from(FILTER_BY))
    kwargs["filter_by"] = filter_by
    if draw(st.booleans()):
        kwargs["frac_noise"] = draw(
            st.one_of(st.just(1.0), st.sampled_from([0.5, 0.25, 0.1]), st.floats(0.01, 1.0))
        )
    if draw(st.booleans()):
        kwargs["min_examples_per_class"] = draw(st.integers(0, 5))
    if filter_by in PRUNE_METHODS and draw(st.integers(0, 3)) == 0:
        counts = np.bincount(data.flat_labels, minlength=K)
        wanted = draw(st.lists(st.integers(0, 40), min_size=K, max_size=K))
        kwargs["num_to_remove_per_class"] = [min(w, int(c)) for w, c in zip(wanted, counts)]
    if kwargs["return_indices_ranked_by"] != "confidence_weighted_entropy":
        rank_by_kwargs = draw(
            st.sampled_from([None, {}, {"adjust_pred_probs": True}, {"adjust_pred_probs": False}])
        )
        if rank_by_kwargs is not None:
            kwargs["rank_by_kwargs"] = rank_by_kwargs
    cj_mode = draw(st.sampled_from([None, None, None, "calibrated", "uncalibrated"]))
    if cj_mode is not None:
        from cleanlab.count import compute_confident_joint

        kwargs["confident_joint"] = compute_confident_joint(
            data.flat_labels, data.flat_probs, calibrate=cj_mode == "calibrated"
        )
    if draw(st.booleans()):
        kwargs["verbose"] = False
    return data, kwargs


def _describe(data, kwargs, form):
    note(f"data: {data.description}")
    note(f"kwargs: { {k: v for k, v in kwargs.items() if k != 'confident_joint'} }")
    note(f"input form: {form}")


def _compare_with_oracle(data, kwargs, form, *, stable: bool):
    sf_labels, sf_probs, cl_labels, cl_probs = data.inputs(form)
    run = run_token_oracle(
        cl_labels, cl_probs, data.flat_labels, data.flat_probs, stable=stable, **kwargs
    )
    result, error, warns, output = call_capturing(find_label_issues, sf_labels, sf_probs, **kwargs)
    if run.error is not None:
        note(f"cleanlab raised {run.error!r}")
        assert error is not None and isinstance(error, type(run.error)), (
            f"cleanlab raised {run.error!r}, spanfast gave {error!r}"
        )
        return run, result, output
    assert error is None, f"spanfast raised {error!r}; cleanlab returned {run.issues}"
    if stable:
        assert_issue_list_type(result)
        assert result == run.issues, (
            f"differs from cleanlab-with-stable-sorts:\nspanfast {result}\ncleanlab {run.issues}"
        )
    else:
        check_issues_modulo_ties(result, run, data.offsets)
    assert warns == run.warnings, f"warnings: spanfast {warns}, cleanlab {run.warnings}"
    return run, result, output


@pytest.mark.parametrize(
    "stable",
    [
        # cleanlab as it is: the same issues modulo tie groups (strategies.check_issues_modulo_ties)
        pytest.param(False, id="matches_oracle_modulo_ties"),
        # cleanlab with stable sorts: exactly spanfast's rule, ties broken by position
        pytest.param(True, id="equals_oracle_with_position_tie_rule"),
    ],
)
@scaled_settings(4)
@example(
    # float32, rounded probabilities, many exact ties in confidence-weighted entropy: once
    # caught spanfast's float32 entropy being 1 ulp off cleanlab's (ranking order differed)
    case=(
        TokenData.from_description(
            {
                "seed": 0,
                "n_sentences": 200,
                "length_mode": "uniform",
                "K": 3,
                "noise": 0.0,
                "sharpness": 0.0,
                "class_skew": 0.3,
                "tie_mode": "round",
                "decimals": 1,
                "dtype": "float32",
                "class_mode": "all_twice",
            }
        ),
        {
            "return_indices_ranked_by": "confidence_weighted_entropy",
            "filter_by": "prune_by_noise_rate",
        },
    ),
    form="lists",
)
@example(
    # rounding tie in the calibrated confident joint + num_to_remove_per_class
    case=(
        TokenData.from_description(
            {
                "seed": 54,
                "n_sentences": 72,
                "length_mode": "skewed",
                "K": 6,
                "noise": 0.05,
                "sharpness": 6.0,
                "class_skew": 10.0,
                "tie_mode": "none",
                "decimals": 1,
                "dtype": "float32",
                "class_mode": "all_twice",
            }
        ),
        {
            "return_indices_ranked_by": "confidence_weighted_entropy",
            "filter_by": "prune_by_noise_rate",
            "num_to_remove_per_class": [0, 0, 1, 0, 0, 0],
        },
    ),
    form="lists",
)
@given(case=filter_cases(), form=st.sampled_from(INPUT_FORMS))
def test_find_label_issues_against_oracle(stable, case, form):
    data, kwargs = case
    assume(data.cleanlab_accepts_labels())
    _describe(data, kwargs, form)
    _compare_with_oracle(data, kwargs, form, stable=stable)


@pytest.mark.parametrize("filter_by", FILTER_BY)
@scaled_settings(1)
@given(data=st.data())
def test_every_filter_by(filter_by, data):
    """Each filter_by gets its own share of examples (x every ranking, via the strategy)."""
    token_data, kwargs = data.draw(filter_cases(filter_by=filter_by))
    assume(token_data.cleanlab_accepts_labels())
    form = data.draw(st.sampled_from(INPUT_FORMS))
    _describe(token_data, kwargs, form)
    _compare_with_oracle(token_data, kwargs, form, stable=False)


@pytest.mark.parametrize("rank_by", RANK_BY)
@given(case=filter_cases(low_memory=True), form=st.sampled_from(INPUT_FORMS))
def test_low_memory_matches_oracle(rank_by, case, form):
    """low_memory=True: position-ordered issues like cleanlab; same warnings about ignored
    kwargs; and spanfast prints nothing (cleanlab prints tqdm bars and a count line)."""
    data, kwargs = case
    kwargs["return_indices_ranked_by"] = rank_by
    assume(data.cleanlab_accepts_labels())
    _describe(data, kwargs, form)
    run, result, output = _compare_with_oracle(data, kwargs, form, stable=False)
    assert output == "", f"spanfast printed in low_memory mode: {output!r}"
    _compare_with_oracle(data, kwargs, form, stable=True)


@scaled_settings(0.1)
@given(seed=st.integers(0, 2**32 - 1), rank_by=st.sampled_from(RANK_BY))
def test_low_memory_several_batches(seed, rank_by):
    """> 10000 tokens: cleanlab's batched estimator averages thresholds over batches."""
    data = make_token_data(
        seed=seed,
        n_sentences=900,
        length_mode="uniform",
        K=5,
        noise=0.1,
        sharpness=3.0,
        class_skew=1.0,
        tie_mode="none",
        decimals=2,
        dtype="float64",
        class_mode="all_twice",
    )
    assert data.n_tokens > 10000
    kwargs = {"return_indices_ranked_by": rank_by, "low_memory": True}
    _compare_with_oracle(data, kwargs, "ragged", stable=False)
    _compare_with_oracle(data, kwargs, "lists", stable=True)


@scaled_settings(0.5)
@given(case=filter_cases())
def test_n_jobs_does_not_change_the_answer(case):
    data, kwargs = case
    assume(data.cleanlab_accepts_labels())
    _describe(data, kwargs, "ragged")
    labels, probs, _, _ = data.inputs("ragged")
    one, err1, warns1, _ = call_capturing(find_label_issues, labels, probs, n_jobs=1, **kwargs)
    two, err2, warns2, _ = call_capturing(find_label_issues, labels, probs, n_jobs=2, **kwargs)
    assert (err1 is None) == (err2 is None), (err1, err2)
    if err1 is None:
        assert_issue_list_type(one)
        assert one == two
        assert warns1 == warns2


# ---- explicit cases -----------------------------------------------------------------


def _small_data():
    return make_token_data(
        seed=7,
        n_sentences=30,
        length_mode="uniform",
        K=3,
        noise=0.2,
        sharpness=3.0,
        class_skew=1.0,
        tie_mode="none",
        decimals=2,
        dtype="float64",
        class_mode="all_twice",
    )


@pytest.mark.parametrize("filter_by", ["prune_by_noise_rate", "low_self_confidence"])
def test_labels_with_one_class_are_rejected_like_cleanlab(filter_by):
    from cleanlab.token_classification.filter import find_label_issues as cl_find

    data = _small_data()
    labels = [[1] * len(sentence) for sentence in data.labels_nested()]
    probs = data.probs_list()
    with pytest.raises(ValueError, match="Labels must contain at least 2 classes.") as cl_info:
        cl_find(labels, probs, filter_by=filter_by, n_jobs=1)
    assert_same_exception(
        lambda: find_label_issues(labels, probs, filter_by=filter_by), cl_info.value
    )
    ragged_labels = Ragged(np.ones(data.n_tokens, dtype=np.int64), data.offsets)
    ragged_probs = Ragged(data.flat_probs, data.offsets)
    assert_same_exception(
        lambda: find_label_issues(ragged_labels, ragged_probs, filter_by=filter_by), cl_info.value
    )


def test_all_zero_python_int_labels_are_allowed_like_cleanlab():
    """cleanlab allows a single class when it is 0 and labels are python ints."""
    data = _small_data()
    labels = [[0] * len(sentence) for sentence in data.labels_nested()]
    probs = data.probs_list()
    flat_labels = np.zeros(data.n_tokens, dtype=np.int64)
    run = run_token_oracle(labels, probs, flat_labels, data.flat_probs)
    assert run.error is None, run.error
    result, error, warns, _ = call_capturing(find_label_issues, labels, probs)
    assert error is None, error
    check_issues_modulo_ties(result, run, data.offsets)
    assert warns == run.warnings


def test_adjust_pred_probs_with_confidence_weighted_entropy_raises():
    from cleanlab.token_classification.filter import find_label_issues as cl_find

    data = _small_data()
    labels, probs = data.labels_nested(), data.probs_list()
    kwargs = dict(
        return_indices_ranked_by="confidence_weighted_entropy",
        rank_by_kwargs={"adjust_pred_probs": True},
    )
    with pytest.raises(ValueError) as cl_info:
        cl_find(labels, probs, n_jobs=1, **kwargs)
    assert_same_exception(lambda: find_label_issues(labels, probs, **kwargs), cl_info.value)


@pytest.mark.parametrize(
    "filter_by",
    ["confident_learning", "predicted_neq_given", "low_normalized_margin", "low_self_confidence"],
)
def test_num_to_remove_per_class_rejected_outside_prune_methods(filter_by):
    from cleanlab.token_classification.filter import find_label_issues as cl_find

    data = _small_data()
    labels, probs = data.labels_nested(), data.probs_list()
    kwargs = dict(filter_by=filter_by, num_to_remove_per_class=[1, 1, 1])
    with pytest.raises(ValueError) as cl_info:
        cl_find(labels, probs, n_jobs=1, **kwargs)
    assert_same_exception(lambda: find_label_issues(labels, probs, **kwargs), cl_info.value)


def test_docstring_example_of_cleanlab():
    labels = [[0, 0, 1], [0, 1]]
    pred_probs = [
        np.array([[0.9, 0.1], [0.7, 0.3], [0.05, 0.95]]),
        np.array([[0.8, 0.2], [0.8, 0.2]]),
    ]
    from cleanlab.token_classification.filter import find_label_issues as cl_find

    expected = cl_find(labels, pred_probs, n_jobs=1)
    assert find_label_issues(labels, pred_probs) == expected
    assert find_label_issues(Ragged.from_list(labels), Ragged.from_list(pred_probs)) == expected
