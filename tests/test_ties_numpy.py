"""ties="numpy": exactly cleanlab 2.9.0's answers, ties included, on tie-heavy data."""

from __future__ import annotations

import numpy as np
import pytest
from cleanlab.token_classification.rank import issues_from_scores as cleanlab_issues_from_scores

from spanfast.errors import InvalidOptionError
from spanfast.token_classification.rank import issues_from_scores


@pytest.mark.parametrize("seed", range(5))
def test_issues_from_scores_ranks_sentences_as_cleanlab(seed):
    rng = np.random.default_rng(seed)
    # Few distinct values and > 16 of them: NumPy's introsort is not stable here.
    sentence_scores = rng.choice([0.01, 0.02, 0.05, 0.3], size=500)
    expected = cleanlab_issues_from_scores(sentence_scores, threshold=0.1)
    np.testing.assert_array_equal(
        issues_from_scores(sentence_scores, threshold=0.1, ties="numpy"), expected
    )
    by_position = issues_from_scores(sentence_scores, threshold=0.1)
    assert sorted(by_position) == sorted(expected)  # same set; order differs only in ties
    np.testing.assert_array_equal(
        by_position, np.argsort(sentence_scores, kind="stable")[: len(expected)]
    )


def test_unknown_ties_option_is_rejected():
    with pytest.raises(InvalidOptionError, match="ties must be one of"):
        issues_from_scores(np.array([0.1]), ties="random")
