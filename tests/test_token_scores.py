"""The token scores of get_label_quality_scores behave as cleanlab's list of Series."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest
from cleanlab.token_classification.rank import get_label_quality_scores as cleanlab_scores

from spanfast.token_classification.rank import get_label_quality_scores, issues_from_scores

LABELS = [[0, 1, 1], [1, 0], [0]]
PROBS = [
    np.array([[0.9, 0.1], [0.2, 0.8], [0.7, 0.3]]),
    np.array([[0.4, 0.6], [0.8, 0.2]]),
    np.array([[0.3, 0.7]]),
]


def _both():
    _, ours = get_label_quality_scores(LABELS, PROBS)
    _, theirs = cleanlab_scores(LABELS, PROBS)
    return ours, theirs


def _same(ours, theirs):
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        pd.testing.assert_series_equal(a, b)


EXTRA = pd.Series([0.5])

OPERATIONS = {
    "add": lambda x: x + [EXTRA],
    "radd": lambda x: [EXTRA] + x,
    "mul": lambda x: x * 2,
    "slice": lambda x: x[1:],
    "reversed": lambda x: list(reversed(x)),
    "append": lambda x: (x.append(EXTRA), x)[1],
    "extend": lambda x: (x.extend([EXTRA, EXTRA]), x)[1],
    "iadd": lambda x: x.__iadd__([EXTRA]),
    "insert": lambda x: (x.insert(1, EXTRA), x)[1],
    "pop": lambda x: (x.pop(0), x)[1],
    "delitem": lambda x: (x.__delitem__(-1), x)[1],
    "setitem": lambda x: (x.__setitem__(0, EXTRA), x)[1],
    "reverse": lambda x: (x.reverse(), x)[1],
    "sort": lambda x: (x.sort(key=len), x)[1],
    "copy": lambda x: x.copy(),
    "copy.copy": lambda x: copy.copy(x),
    "list": list,
}


@pytest.mark.parametrize("operation", OPERATIONS)
def test_list_operations_give_what_they_give_on_cleanlabs_list(operation):
    ours, theirs = _both()
    _same(OPERATIONS[operation](ours), OPERATIONS[operation](theirs))


def test_index_count_contains_and_len_after_changes():
    ours, theirs = _both()
    assert ours[1] is ours[1]  # each Series is built once, as a list holds it
    assert ours.index(ours[0]) == 0 and theirs.index(theirs[0]) == 0
    assert ours[0] in ours
    ours.append(EXTRA)
    theirs.append(EXTRA)
    assert len(ours) == 4 and ours[-1] is EXTRA
    _same(ours, theirs)


def test_a_copy_changes_apart_from_the_original():
    ours, _ = _both()
    duplicate = ours.copy()
    duplicate.append(EXTRA)
    assert len(duplicate) == 4 and len(ours) == 3


def test_flat_scores_follow_the_changes():
    ours, _ = _both()
    np.testing.assert_array_equal(ours.offsets, [0, 3, 5, 6])
    ours.append(EXTRA)
    np.testing.assert_array_equal(ours.offsets, [0, 3, 5, 6, 7])
    assert ours.values[-1] == 0.5
    # issues_from_scores reads the changed scores
    assert issues_from_scores(np.zeros(4), token_scores=ours, threshold=0.55) == [
        (0, 2),
        (2, 0),
        (3, 0),
    ]


def test_not_a_list_subclass():
    ours, _ = _both()
    assert not isinstance(ours, list)  # documented in the README
