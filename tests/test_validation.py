"""Bad input: every mistake raises before any kernel runs, saying what and where."""

from __future__ import annotations

import re

import numpy as np
import pytest

import spanfast
from spanfast.errors import InvalidInputError, InvalidInputTypeError
from spanfast.token_classification.filter import find_label_issues as token_find
from spanfast.token_classification.rank import get_label_quality_scores as token_scores

SPAN_FUNCTIONS = [spanfast.find_label_issues, spanfast.get_label_quality_scores]
TOKEN_FUNCTIONS = [token_find, token_scores]

GOOD_SPAN_LABELS = [[0, 1, 1], [1, 0]]
GOOD_SPAN_PROBS = [np.array([0.1, 0.8, 0.7]), np.array([0.9, 0.2])]
GOOD_TOKEN_PROBS = [
    np.array([[0.9, 0.1], [0.2, 0.8], [0.3, 0.7]]),
    np.array([[0.1, 0.9], [0.8, 0.2]]),
]


@pytest.mark.parametrize("function", SPAN_FUNCTIONS)
@pytest.mark.parametrize(
    ("labels", "message"),
    [
        ([[0, 1, 1], [1, 2]], "sentence 1, token 1 has label 2"),
        ([[0, -1, 1], [1, 0]], "sentence 0, token 1 has label -1"),
        ([[0, 1, 1], [1, 0.5]], "sentence 1, token 1"),
        ([[0, "1", 1], [1, 0]], "Labels cannot be strings"),
        ([[0, 1, None], [1, 0]], "sentence 0, token 2 has label None"),
        ([[0, 1, 1]], "labels has 1 sentences but pred_probs has 2"),
        ([[0, 1], [1, 0]], "sentence 0 has 2 labels but 3 rows"),
        ([[0, 1, 1], [1, 0, 1]], "sentence 1 has 3 labels but 2 rows"),
        ([[0, [1], 1], [1, 0]], "sentence 0, token 1"),
    ],
)
def test_bad_span_labels(function, labels, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        function(labels, GOOD_SPAN_PROBS)


def test_none_label_is_also_a_type_error():
    with pytest.raises(TypeError):
        spanfast.find_label_issues([[0, 1, None], [1, 0]], GOOD_SPAN_PROBS)


@pytest.mark.parametrize("function", SPAN_FUNCTIONS)
@pytest.mark.parametrize(
    ("probs", "message"),
    [
        ([np.array([0.1, np.nan, 0.7]), np.array([0.9, 0.2])], "sentence 0, token 1 has NaN"),
        ([np.array([0.1, 0.8, 0.7]), np.array([np.inf, 0.2])], "sentence 1, token 0 has infinite"),
        ([np.array([0.1, 0.8, 1.5]), np.array([0.9, 0.2])], "sentence 0, token 2 has 1.5"),
        ([np.array([0.1, 0.8, 0.7]), np.array([0.9, -0.2])], "sentence 1, token 1 has -0.2"),
        ([[0.1, 0.8, 0.7], [0.9, None]], "sentence 1, token 1 has None"),
        # (T, 2) rows per sentence are two span classes now (tests/test_multispan.py).
    ],
)
def test_bad_span_probabilities(function, probs, message):
    with pytest.raises(ValueError, match=message):
        function(GOOD_SPAN_LABELS, probs)


@pytest.mark.parametrize("function", TOKEN_FUNCTIONS)
@pytest.mark.parametrize(
    ("probs", "message"),
    [
        (
            [GOOD_TOKEN_PROBS[0], np.array([[0.1, 0.8, 0.1], [0.8, 0.1, 0.1]])],
            "pred_probs\\[1\\] has 3 classes",
        ),
        ([GOOD_TOKEN_PROBS[0], np.array([0.1, 0.9])], "pred_probs\\[1\\] has shape \\(2,\\)"),
        ([GOOD_TOKEN_PROBS[0].tolist(), [[0.1, 0.9], [0.8]]], "sentence 1, token 1"),
        (
            [GOOD_TOKEN_PROBS[0], np.array([[0.1, 0.9], [np.nan, 0.2]])],
            "sentence 1, token 1, class 0 has NaN",
        ),
    ],
)
def test_bad_token_probabilities(function, probs, message):
    with pytest.raises(ValueError, match=message):
        function(GOOD_SPAN_LABELS, probs)


@pytest.mark.parametrize("function", TOKEN_FUNCTIONS)
def test_label_beyond_classes_uses_cleanlab_wording(function):
    with pytest.raises(ValueError, match="pred_probs must have at least 3 columns"):
        function([[0, 1, 2], [1, 0]], GOOD_TOKEN_PROBS)


def test_single_class_other_than_zero_is_rejected_like_cleanlab():
    with pytest.raises(ValueError, match="at least 2 classes"):
        spanfast.find_label_issues([[1, 1], [1]], [np.array([0.9, 0.8]), np.array([0.3])])


def test_all_zero_labels_are_allowed_whatever_their_type():
    # cleanlab accepts this for Python ints but rejects NumPy ints; spanfast accepts both.
    from cleanlab.experimental.span_classification import find_label_issues as cleanlab_find

    probs = [np.array([0.9, 0.2]), np.array([0.1])]
    with pytest.warns(UserWarning, match="too few examples"):
        as_lists = spanfast.find_label_issues([[0, 0], [0]], probs)
        as_arrays = spanfast.find_label_issues([np.zeros(2, int), np.zeros(1, int)], probs)
        oracle = cleanlab_find([[0, 0], [0]], probs)
    assert as_lists == as_arrays == oracle


def test_error_types_derive_from_value_error():
    assert issubclass(InvalidInputError, ValueError)
    assert issubclass(InvalidInputTypeError, TypeError)
    assert issubclass(InvalidInputTypeError, ValueError)


@pytest.mark.parametrize(
    ("kwargs", "exception"),
    [
        ({"filter_by": "nope"}, AssertionError),
        ({"filter_by": "nope"}, ValueError),
        ({"return_indices_ranked_by": "nope"}, ValueError),
        ({"n_jobs": 0}, AssertionError),
        ({"unknown_option": 1}, TypeError),
        ({"filter_by": "confident_learning", "num_to_remove_per_class": [1, 1]}, ValueError),
    ],
)
def test_bad_options(kwargs, exception):
    with pytest.raises(exception):
        token_find(GOOD_SPAN_LABELS, GOOD_TOKEN_PROBS, **kwargs)


def test_bad_sentence_score_method():
    with pytest.raises(AssertionError, match="Select from the following methods"):
        spanfast.get_label_quality_scores(
            GOOD_SPAN_LABELS, GOOD_SPAN_PROBS, sentence_score_method="max"
        )


def test_tokens_must_match_labels():
    with pytest.raises(ValueError, match="tokens\\[1\\] has 1 tokens but labels\\[1\\] has 2"):
        spanfast.get_label_quality_scores(
            GOOD_SPAN_LABELS, GOOD_SPAN_PROBS, tokens=[["a", "b", "c"], ["d"]]
        )


# -- inputs that are unusual but valid ---------------------------------------------------


def test_empty_dataset_gives_empty_results():
    assert spanfast.find_label_issues([], []) == []
    assert token_find([], [], filter_by="both") == []
    assert token_find([], [], low_memory=True) == []
    sentence_scores, token_scores_ = spanfast.get_label_quality_scores([], [])
    assert sentence_scores.shape == (0,) and len(token_scores_) == 0


def test_empty_sentences_give_no_issues_and_score_one():
    labels = [[0, 1, 1], [], [1, 0]]
    probs = [GOOD_SPAN_PROBS[0], np.array([]), GOOD_SPAN_PROBS[1]]
    issues = spanfast.find_label_issues(labels, probs)
    assert all(i != 1 for i, _ in issues)
    without_empty = spanfast.find_label_issues([labels[0], labels[2]], [probs[0], probs[2]])
    assert [(i if i == 0 else i + 1, j) for i, j in without_empty] == issues
    sentence_scores, token_scores_ = spanfast.get_label_quality_scores(labels, probs)
    assert sentence_scores[1] == 1.0
    assert len(token_scores_[1]) == 0


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_readonly_noncontiguous_and_memmapped_inputs(tmp_path, dtype):
    rng = np.random.default_rng(0)
    wide = rng.random((40, 2)).astype(dtype)
    probs = wide[:, 1]  # a strided view
    labels = (rng.random(40) < probs).astype(np.int64)
    offsets = np.array([0, 10, 25, 40])
    expected = spanfast.find_label_issues(
        spanfast.Ragged(labels, offsets), spanfast.Ragged(np.ascontiguousarray(probs), offsets)
    )
    readonly = probs.copy()
    readonly.setflags(write=False)
    assert (
        spanfast.find_label_issues(
            spanfast.Ragged(labels, offsets), spanfast.Ragged(readonly, offsets)
        )
        == expected
    )
    assert (
        spanfast.find_label_issues(
            spanfast.Ragged(labels, offsets), spanfast.Ragged(probs, offsets)
        )
        == expected
    )
    path = tmp_path / "probs.npy"
    np.save(path, np.ascontiguousarray(probs))
    mapped = np.load(path, mmap_mode="r")
    assert (
        spanfast.find_label_issues(
            spanfast.Ragged(labels, offsets), spanfast.Ragged(mapped, offsets)
        )
        == expected
    )


def test_unranked_issues_come_in_position_order():
    """cleanlab maps its boolean mask through (0, j) tuples; spanfast lists the issues."""
    rng = np.random.default_rng(5)
    probs = [rng.dirichlet(np.ones(3), n) for n in (5, 1, 7, 4)]
    labels = [rng.integers(0, 3, len(p)).tolist() for p in probs]
    ranked = token_find(labels, probs)
    unranked = token_find(labels, probs, return_indices_ranked_by=None)
    assert ranked and unranked == sorted(ranked)


def test_core_checks_flat_arrays_before_any_kernel():
    from spanfast import core

    probs = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]])
    with pytest.raises(ValueError, match="token 2 has label 50000000"):
        core.find_label_issues(np.array([0, 1, 50_000_000]), probs)
    with pytest.raises(ValueError, match="token 2 has label -7"):
        core.label_quality_scores(np.array([0, 1, -7]), probs)
    with pytest.raises(ValueError, match="offsets must end at n_tokens"):
        core.sentence_scores(np.array([0.5, 0.2]), np.array([0, 1, 5_000_000]))
    with pytest.raises(ValueError, match="token positions must be in"):
        core.issue_tuples(np.array([10**7]), np.array([0, 2, 3]))
    with pytest.raises(TypeError, match="1-D NumPy array of integers"):
        core.find_label_issues(np.array([0.0, 1.0, 1.0]), probs)


@pytest.mark.parametrize(
    ("labels", "shown"),
    [([[0, 1e20]], "1e+20"), ([np.array([0, 2**63 + 1], np.uint64)], "9223372036854775809")],
)
def test_huge_labels_are_reported_as_given(labels, shown):
    with pytest.raises(ValueError, match=re.escape(f"token 1 has label {shown}")):
        spanfast.find_label_issues(labels, [np.array([0.1, 0.9])])


@pytest.mark.parametrize("bad", [2, -1, 100, 200, 2**40])
@pytest.mark.parametrize(
    "labels_as", [list, lambda s: np.array(s, np.int8) if -128 <= min(s) <= max(s) < 128 else s]
)
def test_label_out_of_range_is_located_whatever_its_width(bad, labels_as):
    # Nested labels come through as int8 when they fit (else int64), int8 arrays
    # are kept as they are: each way reaches its own range check.
    labels = [labels_as([0, 1, 1]), labels_as([1, 0, bad])]
    probs = [GOOD_TOKEN_PROBS[0], np.array([[0.1, 0.9], [0.8, 0.2], [0.5, 0.5]])]
    wording = "have at least" if bad > 0 else "must be positive"
    with pytest.raises(ValueError, match=f"{wording}.*sentence 1, token 2 has label {bad}"):
        token_find(labels, probs)


def _find_issues_everywhere():
    """find_issues in memory, streamed and on Dask, each on one tiny sentence."""
    from spanfast import dask as sf_dask
    from spanfast import results, streaming

    labels, probs = [[0, 1]], [[0.2, 0.9]]
    return {
        "memory": lambda **o: results.find_issues(labels, probs, **o),
        "streamed": lambda **o: streaming.find_label_issues_in_batches(
            lambda: [(labels, probs)], **o
        ),
        "dask": lambda **o: sf_dask.find_issues([], **o),
    }


@pytest.mark.parametrize(
    "options, message, where",
    [
        ({"task": "spans"}, 'task must be "span" or "token", got \'spans\'.', "all"),
        # streaming never took task's former name
        ({"task": "token", "span": True}, "span=True contradicts task='token'.", "memory dask"),
    ],
)
def test_task_is_checked_alike_in_memory_streamed_and_on_dask(options, message, where):
    """One check of ``task`` (and its former name ``span``) behind every find_issues."""
    pytest.importorskip("dask")
    for name, find in _find_issues_everywhere().items():
        if where != "all" and name not in where.split():
            continue
        with pytest.raises(spanfast.errors.InvalidOptionError) as raised:
            find(**options)
        assert str(raised.value) == message, name


@pytest.mark.parametrize(
    "labels, dtype",
    [
        ([[0, 1], [127]], np.int8),
        ([[0, True], [np.int64(5)]], np.int8),
        ([[0, 1], [128]], np.int64),
        ([[255], [0]], np.int64),
        ([[256], [0]], np.int64),
        ([[-1], [0]], np.int8),
        ([[], []], np.int8),
    ],
)
def test_nested_labels_keep_their_values(labels, dtype):
    # Nested ints are read as bytes when they fit in 0..127, else more widely: the
    # same values either way.
    from spanfast._input.checked import as_labels

    ragged = as_labels(labels)
    assert ragged.values.dtype == dtype
    assert ragged.values.tolist() == [int(v) for s in labels for v in s]
    assert ragged.offsets.tolist() == [0, len(labels[0]), len(labels[0]) + len(labels[1])]


@pytest.mark.parametrize("bad", [1.5, "1", None, b"\x01"])
def test_nested_labels_refuse_what_is_not_an_integer(bad):
    with pytest.raises((ValueError, TypeError), match="Labels"):
        spanfast.find_label_issues([[0, 1], [bad]], [np.array([0.1, 0.9]), np.array([0.5])])


@pytest.mark.parametrize(
    "labels, sentence, token, shown",
    [
        ([[0, 1, 0], [1, "x", 0]], 1, 1, "'x'"),  # NumPy makes the mix strings: '0' first
        ([[0, 1, 0], [1, 0, "B-PER"]], 1, 2, "'B-PER'"),
        ([["O", "B", "I"], ["O", "O", "O"]], 0, 0, "'O'"),
    ],
)
def test_a_string_among_integer_labels_is_located(labels, sentence, token, shown):
    """The string itself is named, not the first label NumPy turned into one."""
    probs = [np.full((3, 2), 0.5), np.full((3, 2), 0.5)]
    with pytest.raises(InvalidInputError) as raised:
        token_find(labels, probs)
    assert (raised.value.sentence, raised.value.token) == (sentence, token)
    assert f"(sentence {sentence}, token {token} has label {shown})" in str(raised.value)
