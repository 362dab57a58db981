"""spanfast.token_classification.summary against cleanlab.token_classification.summary.

The oracle always gets what cleanlab accepts (nested-list labels, a list of arrays for
pred_probs, a list of tuples for issues); spanfast gets the same data in every form it accepts
(nested lists, lists of arrays, ``spanfast.Ragged``; tuples, numpy-int tuples, ``(M, 2)``
arrays). Printed text is compared exactly, DataFrames with ``assert_frame_equal``.

Ties: ``common_label_issues`` ranks tokens (and each token's label swaps) with cleanlab's
``np.argsort(...)[::-1]``, whose order among equal counts is unspecified. spanfast orders equal
counts by first appearance in ``issues`` (swaps by ``(given, predicted)``). The tests therefore
re-order cleanlab's printed blocks by that rule within each equal-count group and compare the
result exactly; the token cut at ``top`` may then differ only inside the last tie group, which
is checked by comparing the counts cleanlab prints. DataFrames need no such care: cleanlab builds
them with the stable ``sorted``, which already orders ties by first appearance.

The deliberate differences from cleanlab are tested on their own at the end of the file.
"""

from __future__ import annotations

import inspect
import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from cleanlab.experimental import span_classification as oracle_span
from cleanlab.token_classification import summary as oracle
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spanfast import Ragged
from spanfast.token_classification import summary

# Repeated words (so counts tie and exceed 1), punctuation, regex specials, quotes. No
# backslash: cleanlab's color_sentence breaks on it (see test_utils.py).
VOCABULARY = [
    "the", "the", "cat", "Cat", "sat", ".", ",", "(", ")", "-", "'s", "a+b", "[x]",
    "C++", "?weird", "U.S.", "can't", "New York", "é", "",
]  # fmt: skip
CLASS_NAMES = ["O", "B-PER", "I-PER", "MISC x"]
PROBABILITIES = [0.0, 0.1, 0.25, 0.5, 0.9]  # few values, so argmax ties occur
oracle_settings = settings(
    deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


# ------------------------------------------------------------------------------- strategies


@st.composite
def datasets(draw, span: bool = False):
    """tokens, labels (nested lists), pred_probs (list of arrays), K and every position."""
    n_classes = 2 if span else draw(st.integers(2, 4))
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    lengths = draw(st.lists(st.integers(0, 6), min_size=1, max_size=5))
    tokens = [draw(st.lists(st.sampled_from(VOCABULARY), min_size=n, max_size=n)) for n in lengths]
    labels = [
        draw(st.lists(st.integers(0, n_classes - 1), min_size=n, max_size=n)) for n in lengths
    ]
    width = 1 if span else n_classes
    pred_probs = []
    for n in lengths:
        flat = draw(
            st.lists(st.sampled_from(PROBABILITIES), min_size=n * width, max_size=n * width)
        )
        shape = (n,) if span else (n, n_classes)
        pred_probs.append(np.array(flat, dtype=dtype).reshape(shape))
    positions = [(i, j) for i, n in enumerate(lengths) for j in range(n)]
    return tokens, labels, pred_probs, n_classes, positions


def as_form(nested, form):
    """The same per-token data as nested lists, a list of arrays, or a Ragged."""
    if form == "lists":
        return [np.asarray(sentence).tolist() for sentence in nested]
    # Keep the dtype of an empty sentence's list (np.asarray([]) would make it float64).
    dtype = np.result_type(
        *[np.asarray(sentence) for sentence in nested if len(sentence)], np.int64
    )
    arrays = [np.asarray(sentence, dtype=dtype) for sentence in nested]
    return arrays if form == "arrays" else Ragged.from_list(arrays)


def issues_as_form(issues, form):
    if form == "tuples":
        return list(issues)
    if form == "numpy tuples":
        return [(np.int64(i), np.int64(j)) for i, j in issues]
    return np.array(issues, dtype=np.int64).reshape(-1, 2)


def stacked(span_probs):
    """cleanlab's span -> token conversion: one row [1 - p, p] per token."""
    return [np.stack([1 - p, p], axis=1) for p in span_probs]


issue_forms = st.sampled_from(["tuples", "numpy tuples", "array"])
data_forms = st.sampled_from(["lists", "arrays", "ragged"])


@st.composite
def display_cases(draw, span: bool = False):
    tokens, labels, pred_probs, n_classes, positions = draw(datasets(span))
    issues = (
        draw(st.lists(st.sampled_from(positions), min_size=1, max_size=12)) if positions else []
    )
    exclude = draw(
        st.lists(
            st.tuples(st.integers(0, n_classes - 1), st.integers(0, n_classes - 1)), max_size=3
        )
    )
    return dict(
        tokens=tokens,
        labels=labels,
        pred_probs=pred_probs,
        issues=issues,
        exclude=exclude,
        class_names=draw(st.sampled_from([None, CLASS_NAMES[:n_classes]])),
        use_labels=draw(st.booleans()),
        use_pred_probs=draw(st.booleans()),
        top=draw(st.integers(1, 15)),
        label_form=draw(data_forms),
        prob_form=draw(data_forms),
        issue_form=draw(issue_forms),
    )


def spanfast_arguments(case):
    return dict(
        labels=as_form(case["labels"], case["label_form"]) if case["use_labels"] else None,
        pred_probs=as_form(case["pred_probs"], case["prob_form"])
        if case["use_pred_probs"]
        else None,
        exclude=case["exclude"],
        class_names=case["class_names"],
    )


def oracle_arguments(case, span=False):
    pred_probs = stacked(case["pred_probs"]) if span else case["pred_probs"]
    return dict(
        labels=case["labels"] if case["use_labels"] else None,
        pred_probs=pred_probs if case["use_pred_probs"] else None,
        exclude=case["exclude"],
        class_names=case["class_names"],
    )


def printed(capsys, function, *args, **kwargs):
    capsys.readouterr()
    result = function(*args, **kwargs)
    return capsys.readouterr().out, result


# ------------------------------------------------------------------------------- signatures


@pytest.mark.parametrize("name", ["display_issues", "common_label_issues", "filter_by_token"])
def test_signature_matches_cleanlab(name):
    ours = inspect.signature(getattr(summary, name)).parameters.values()
    theirs = inspect.signature(getattr(oracle, name)).parameters.values()
    assert [(p.name, p.kind, p.default) for p in ours] == [
        (p.name, p.kind, p.default) for p in theirs
    ]


@pytest.mark.parametrize("name", ["display_issues", "common_label_issues"])
def test_private_hook_adds_only_span(name):
    public = inspect.signature(getattr(summary, name)).parameters
    private = inspect.signature(getattr(summary, "_" + name)).parameters
    assert list(private) == [*public, "span"]
    assert all(private[p].kind == public[p].kind for p in public)
    assert private["span"].kind is inspect.Parameter.KEYWORD_ONLY


# --------------------------------------------------------------------------- display_issues


@oracle_settings
@given(case=display_cases())
def test_display_issues_matches_cleanlab(capsys, case):
    if not case["issues"]:
        return  # cleanlab raises IndexError; see test_display_issues_empty
    theirs, _ = printed(
        capsys, oracle.display_issues, case["issues"], case["tokens"], **oracle_arguments(case),
        top=case["top"],
    )  # fmt: skip
    ours, result = printed(
        capsys,
        summary.display_issues,
        issues_as_form(case["issues"], case["issue_form"]),
        case["tokens"],
        **spanfast_arguments(case),
        top=case["top"],
    )
    assert result is None
    assert ours == theirs


@oracle_settings
@given(case=display_cases(span=True))
def test_span_display_issues_matches_cleanlab_on_stacked_probabilities(capsys, case):
    # The correct answer for span data is cleanlab's token display on [1 - p, p] rows.
    if not case["issues"]:
        return
    theirs, _ = printed(
        capsys, oracle.display_issues, case["issues"], case["tokens"],
        **oracle_arguments(case, span=True), top=case["top"],
    )  # fmt: skip
    ours, _ = printed(
        capsys,
        summary._display_issues,
        issues_as_form(case["issues"], case["issue_form"]),
        case["tokens"],
        **spanfast_arguments(case),
        top=case["top"],
        span=True,
    )
    assert ours == theirs


@oracle_settings
@given(data=datasets(), top=st.integers(1, 8), as_array=st.booleans(), st_data=st.data())
def test_sentence_issues_match_cleanlab(capsys, data, top, as_array, st_data):
    tokens = data[0]
    sentence_issues = st_data.draw(st.lists(st.integers(0, len(tokens) - 1), min_size=1))
    if as_array:
        sentence_issues = np.array(sentence_issues)
    theirs, _ = printed(capsys, oracle.display_issues, sentence_issues, tokens, top=top)
    ours, _ = printed(capsys, summary.display_issues, sentence_issues, tokens, top=top)
    assert ours == theirs


# ---------------------------------------------------------------------- common_label_issues

TOKEN_LINE = re.compile(
    r"^Token '(.*)' is potentially mislabeled (\d+) times throughout the dataset$"
)
SWAP_LINE = re.compile(r"^labeled as class `?(.*?)`? but predicted to actually be class `?(.*?)`? (\d+) times$")  # fmt: skip


def blocks_of(text):
    """Split printed output into (header, [(token, count, block lines), ...]), newlines kept."""
    header, blocks = [], []
    for line in text.splitlines(keepends=True):
        match = TOKEN_LINE.match(line.rstrip("\n"))
        if match:
            blocks.append((match.group(1), int(match.group(2)), [line]))
        elif blocks:
            blocks[-1][2].append(line)
        else:
            header.append(line)
    return header, blocks


def with_spanfast_ties(text, first_appearance, class_names):
    """Re-order cleanlab's printout by spanfast's tie rule (see the module docstring)."""

    def class_index(name):
        return class_names.index(name) if class_names else int(name)

    def swap_key(line):
        given, predicted, count = SWAP_LINE.match(line.rstrip("\n")).groups()
        return (-int(count), class_index(given), class_index(predicted))

    header, blocks = blocks_of(text)
    reordered = []
    for token, count, lines in blocks:
        swaps = [line for line in lines if SWAP_LINE.match(line.rstrip("\n"))]
        rest = [line for line in lines if not SWAP_LINE.match(line.rstrip("\n"))]
        body = rest[:2] if len(rest) > 2 and rest[1].startswith("---") else rest[:1]
        reordered.append((token, count, body + sorted(swaps, key=swap_key) + rest[len(body) :]))
    reordered.sort(key=lambda block: (-block[1], first_appearance[block[0]]))
    return header, reordered


def join(header, blocks):
    return "".join(header + [line for _, _, lines in blocks for line in lines])


def check_common_label_issues(capsys, case, span):
    issues = case["issues"]
    first_appearance = {}
    for number, (i, j) in enumerate(issues):
        first_appearance.setdefault(case["tokens"][i][j], number)
    oracle_kwargs = oracle_arguments(case, span=span)
    verbose, top = case["verbose"], case["top"]

    everything, theirs_df = printed(
        capsys, oracle.common_label_issues, issues, case["tokens"], **oracle_kwargs,
        top=10**9, verbose=verbose,
    )  # fmt: skip
    theirs_top, _ = printed(
        capsys, oracle.common_label_issues, issues, case["tokens"], **oracle_kwargs,
        top=top, verbose=verbose,
    )  # fmt: skip
    ours, ours_df = printed(
        capsys,
        summary._common_label_issues,
        issues_as_form(issues, case["issue_form"]),
        case["tokens"],
        **spanfast_arguments(case),
        top=top,
        verbose=verbose,
        span=span,
    )

    header, blocks = with_spanfast_ties(everything, first_appearance, case["class_names"])
    assert ours == join(header, blocks[:top])
    # cleanlab's own cut at `top` picks the same counts (ties may pick other tokens).
    assert [count for _, count, _ in blocks_of(theirs_top)[1]] == [
        count for _, count, _ in blocks[:top]
    ]
    pd.testing.assert_frame_equal(ours_df, theirs_df)


@st.composite
def common_cases(draw, span: bool = False):
    case = draw(display_cases(span))
    case["verbose"] = draw(st.booleans())
    case["top"] = draw(st.integers(0, 8))
    return case


@oracle_settings
@given(case=common_cases())
def test_common_label_issues_matches_cleanlab_modulo_ties(capsys, case):
    check_common_label_issues(capsys, case, span=False)


@oracle_settings
@given(case=common_cases(span=True))
def test_span_common_label_issues_matches_cleanlab_on_stacked_probabilities(capsys, case):
    check_common_label_issues(capsys, case, span=True)


def test_common_label_issues_ties_by_first_appearance(capsys):
    tokens = [["b", "a", "c", "a", "b"]]
    issues = [(0, 2), (0, 0), (0, 1), (0, 3), (0, 4)]  # c: 1, b: 2, a: 2 -> b before a
    out, df = printed(capsys, summary.common_label_issues, issues, tokens, top=2)
    assert [line for line in out.split("\n") if line] == [
        "Token 'b' is potentially mislabeled 2 times throughout the dataset",
        "Token 'a' is potentially mislabeled 2 times throughout the dataset",
    ]
    assert df["token"].tolist() == ["b", "a", "c"]


def test_common_label_issues_swaps_tie_by_class_pair(capsys):
    tokens = [["x", "x", "x", "x"]]
    labels = [[2, 0, 1, 2]]
    pred_probs = [np.array([[1.0, 0, 0], [0, 0, 1], [1, 0, 0], [0, 1, 0]])]
    out, df = printed(
        capsys, summary.common_label_issues, [(0, 0), (0, 1), (0, 2), (0, 3)], tokens,
        labels=labels, pred_probs=pred_probs,
    )  # fmt: skip
    assert out.split("\n")[5:9] == [
        "labeled as class 0 but predicted to actually be class 2 1 times",
        "labeled as class 1 but predicted to actually be class 0 1 times",
        "labeled as class 2 but predicted to actually be class 0 1 times",
        "labeled as class 2 but predicted to actually be class 1 1 times",
    ]
    assert df[["given_label", "predicted_label"]].values.tolist() == [
        [0, 2],
        [1, 0],
        [2, 0],
        [2, 1],
    ]


def test_common_label_issues_word_with_only_excluded_swaps_is_printed_with_zero(capsys):
    # Same as cleanlab: the word is ranked (with 0 issues) but has no DataFrame row.
    tokens = [["x", "y"]]
    arguments = dict(
        labels=[[0, 1]], pred_probs=[np.array([[0.1, 0.9], [0.2, 0.8]])], exclude=[(0, 1)]
    )
    theirs, theirs_df = printed(
        capsys, oracle.common_label_issues, [(0, 0), (0, 1)], tokens, **arguments
    )
    ours, ours_df = printed(
        capsys, summary.common_label_issues, [(0, 0), (0, 1)], tokens, **arguments
    )
    assert ours == theirs
    assert "Token 'x' is potentially mislabeled 0 times" in ours
    pd.testing.assert_frame_equal(ours_df, theirs_df)


@pytest.mark.parametrize("with_probs", [False, True])
def test_common_label_issues_no_issues(capsys, with_probs):
    arguments = dict(labels=[[0]], pred_probs=[np.array([[0.3, 0.7]])]) if with_probs else {}
    theirs, theirs_df = printed(capsys, oracle.common_label_issues, [], [["a"]], **arguments)
    ours, ours_df = printed(capsys, summary.common_label_issues, [], [["a"]], **arguments)
    assert ours == theirs
    pd.testing.assert_frame_equal(ours_df, theirs_df)


# --------------------------------------------------------------------------- filter_by_token


@given(data=datasets(), issue_form=issue_forms, st_data=st.data())
def test_filter_by_token_matches_cleanlab(data, issue_form, st_data):
    tokens, positions = data[0], data[4]
    issues = st_data.draw(st.lists(st.sampled_from(positions))) if positions else []
    token = st_data.draw(st.sampled_from(VOCABULARY))
    token = st_data.draw(st.sampled_from([token, token.upper(), token.lower()]))
    theirs = oracle.filter_by_token(token, issues, tokens)
    ours = summary.filter_by_token(token, issues_as_form(issues, issue_form), tokens)
    assert ours == theirs
    assert all(type(issue) is tuple for issue in ours)


def test_filter_by_token_returns_the_given_issue_objects():
    issues = [(0, 1), (0, 0)]
    assert summary.filter_by_token("A", issues, [["a", "b"]])[0] is issues[1]


# ------------------------------------------------- deliberate differences from cleanlab 2.9.0


@pytest.mark.parametrize("empty", [[], np.array([], dtype=int), np.zeros((0, 2), dtype=int)])
def test_display_issues_empty(capsys, empty):
    # cleanlab raises IndexError on issues[0]; spanfast prints only the class-names hint.
    with pytest.raises(IndexError):
        oracle.display_issues([], [["a"]])
    out, result = printed(capsys, summary.display_issues, empty, [["a"]])
    assert (out, result) == ("", None)
    out, _ = printed(capsys, summary.display_issues, empty, [["a"]], labels=[[0]])
    assert out == (
        "Classes will be printed in terms of their integer index since `class_names` was not "
        "provided.\nSpecify this argument to see the string names of each class.\n\n"
    )


@pytest.mark.parametrize("top", [0, -1])
def test_display_issues_top_at_most_zero_shows_nothing(capsys, top):
    # cleanlab never reaches shown == top, so it prints every issue.
    theirs, _ = printed(capsys, oracle.display_issues, [(0, 0)], [["a"]], top=top)
    assert "Token: a" in theirs
    ours, _ = printed(capsys, summary.display_issues, [(0, 0)], [["a"]], top=top)
    assert ours == ""


def test_common_label_issues_negative_top_shows_nothing(capsys):
    # cleanlab slices [:top], so top=-1 prints all tokens but the last ranked one.
    out, df = printed(capsys, summary.common_label_issues, [(0, 0), (0, 1)], [["a", "b"]], top=-1)
    assert out == ""
    assert len(df) == 2


def test_span_display_shows_the_predicted_label(capsys):
    tokens = [["in", "out", "tie"]]
    pred_probs = [np.array([0.9, 0.2, 0.5], dtype=np.float32)]
    theirs, _ = printed(capsys, oracle_span.display_issues, [(0, 0)], tokens, pred_probs=pred_probs)
    assert "pred_probs: 0" in theirs  # cleanlab's bug: argmax of a scalar is always 0
    ours, _ = printed(
        capsys, summary._display_issues, [(0, 0), (0, 1), (0, 2)], tokens, labels=None,
        pred_probs=Ragged.from_list(pred_probs), exclude=[], class_names=["O", "SPAN"],
        top=20, span=True,
    )  # fmt: skip
    predicted = re.findall(r"pred_probs: (\w+)", ours)
    assert predicted == ["SPAN", "O", "O"]  # a tie (p == 1 - p) goes to class 0


def test_span_common_label_issues_counts_predicted_label(capsys):
    out, df = printed(
        capsys, summary._common_label_issues, [(0, 0), (0, 1)], [["x", "x"]],
        labels=[[0, 0]], pred_probs=[np.array([0.9, 0.7])], class_names=None, top=10,
        exclude=[], verbose=False, span=True,
    )  # fmt: skip
    assert df.values.tolist() == [["x", 0, 1, 2]]


def test_labels_and_pred_probs_as_arrays_are_accepted(capsys):
    # cleanlab's `if pred_probs:` raises "truth value of an array is ambiguous" here.
    tokens = [["a", "b"], ["c", "d"]]
    labels = np.array([[0, 1], [1, 1]])
    pred_probs = np.array([[[0.9, 0.1], [0.4, 0.6]], [[0.3, 0.7], [0.8, 0.2]]])
    with pytest.raises(ValueError, match="ambiguous"):
        oracle.display_issues([(1, 1)], tokens, labels=labels, pred_probs=pred_probs)
    out, _ = printed(
        capsys, summary.display_issues, [(1, 1)], tokens, labels=labels, pred_probs=pred_probs
    )
    assert "Given label: 1, predicted label according to provided pred_probs: 0" in out


@pytest.mark.parametrize("exclude", [[[1, 0]], np.array([[1, 0]]), [(np.int64(1), np.int64(0))]])
def test_exclude_pairs_in_any_form(capsys, exclude):
    # cleanlab compares with `in` on a list of tuples, so [[1, 0]] silently excludes nothing.
    arguments = dict(
        labels=[[1, 1]], pred_probs=[np.array([[0.9, 0.1], [0.1, 0.9]])], exclude=exclude
    )
    out, _ = printed(capsys, summary.display_issues, [(0, 0), (0, 1)], [["a", "b"]], **arguments)
    assert "Token: a" not in out and "Token: b" in out
    _, df = printed(
        capsys, summary.common_label_issues, [(0, 0), (0, 1)], [["a", "b"]], **arguments
    )
    assert df["token"].tolist() == ["b"] or df.empty  # (1, 1) is not a label issue swap
    assert "a" not in df["token"].tolist()


# ------------------------------------------------------------------------------------ errors


@pytest.mark.parametrize(
    ("issue", "message"),
    [((5, 0), r"i=5.*out of range.*2 sentences"), ((1, 7), r"j=7.*sentence 1.*1 tokens")],
)
def test_out_of_range_issue_names_sentence_and_token(capsys, issue, message):
    tokens, labels = [["a", "b"], ["c"]], [[0, 0], [1]]
    pred_probs = Ragged.from_list([np.eye(2), np.eye(2)[:1]])
    with pytest.raises(IndexError, match=message):
        summary.display_issues([issue], tokens, labels=labels, pred_probs=pred_probs)
    with pytest.raises(IndexError, match=message):
        summary.common_label_issues([issue], tokens, labels=labels, pred_probs=pred_probs)
    with pytest.raises(IndexError, match=message):
        summary.filter_by_token("a", [issue], tokens)


def test_sentence_issue_out_of_range(capsys):
    with pytest.raises(IndexError, match="i=3"):
        summary.display_issues([3], [["a"]])


def test_label_outside_classes_names_the_token(capsys):
    with pytest.raises(ValueError, match=r"i=0, j=1.*given label 2"):
        summary.common_label_issues([(0, 1)], [["a", "b"]], labels=[[0, 2]], pred_probs=[np.eye(2)])


def test_sentence_issues_rejected_where_pairs_are_needed():
    with pytest.raises(ValueError, match="sentence indices"):
        summary.common_label_issues([0, 1], [["a"], ["b"]])
    with pytest.raises(ValueError, match="sentence indices"):
        summary.filter_by_token("a", np.array([0]), [["a"]])


def test_malformed_issue():
    with pytest.raises(ValueError, match=r"issues\[1\]"):
        summary.filter_by_token("a", [(0, 0), (0, 0, 1)], [["a"]])


def test_import_needs_neither_pandas_nor_termcolor():
    code = (
        "import sys, spanfast, spanfast.token_classification.summary, "
        "spanfast.token_classification.utils; "
        "print(sorted({'pandas', 'termcolor'} & set(sys.modules)))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def test_malformed_inputs_raise_clear_errors(capsys):
    tokens = [["a", "b"]]
    with pytest.raises(ValueError, match=r"shape \(1, 3\)"):
        summary.display_issues(np.zeros((1, 3), dtype=int), tokens)
    with pytest.raises(ValueError, match="exclude must be"):
        summary.display_issues(
            [(0, 0)], tokens, labels=[[0, 1]], pred_probs=[np.eye(2)], exclude=[1]
        )
    with pytest.raises(IndexError, match=r"i=0, j=1.*class_names"):
        summary.display_issues([(0, 1)], tokens, labels=[[0, 1]], class_names=["O"])
    ragged_rows = [[[0.5, 0.5], [0.2, 0.3, 0.5]]]
    with pytest.raises(ValueError, match=r"i=0, j=1.*3 class probabilities.*2"):
        summary.common_label_issues(
            [(0, 0), (0, 1)], tokens, labels=[[0, 1]], pred_probs=ragged_rows
        )
