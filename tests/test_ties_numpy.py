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


# -- find_label_issues -------------------------------------------------------------------

import warnings  # noqa: E402

from cleanlab.experimental.span_classification import (  # noqa: E402
    find_label_issues as cleanlab_span_find,
)
from cleanlab.token_classification.filter import (  # noqa: E402
    find_label_issues as cleanlab_token_find,
)

import spanfast  # noqa: E402
from spanfast.options import FILTER_BY  # noqa: E402
from spanfast.token_classification.filter import find_label_issues as token_find  # noqa: E402


def _tie_heavy_token_data(seed: int, K: int, dtype, n_tokens: int = 3000):
    """Probabilities drawn from a small palette of rows, so many scores are exactly equal."""
    rng = np.random.default_rng(seed)
    palette = rng.dirichlet(np.full(K, 0.3), size=6).astype(dtype)
    rows = palette[rng.integers(0, palette.shape[0], n_tokens)]
    labels = rows.argmax(axis=1)
    flip = rng.random(n_tokens) < 0.2
    labels[flip] = rng.integers(0, K, int(flip.sum()))
    lengths = rng.integers(1, 30, n_tokens)
    cuts = np.cumsum(lengths)
    cuts = cuts[cuts < n_tokens]
    return (
        [s.tolist() for s in np.split(labels, cuts)],
        list(np.split(rows, cuts)),
    )


def _quiet(call):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return call()


@pytest.mark.parametrize("filter_by", FILTER_BY)
@pytest.mark.parametrize(("K", "dtype"), [(2, np.float32), (9, np.float64), (129, np.float32)])
def test_token_find_label_issues_equals_cleanlab_exactly(filter_by, K, dtype):
    labels, probs = _tie_heavy_token_data(K + len(filter_by), K, dtype)
    expected = _quiet(lambda: cleanlab_token_find(labels, probs, filter_by=filter_by, n_jobs=1))
    assert _quiet(lambda: token_find(labels, probs, filter_by=filter_by, ties="numpy")) == expected


@pytest.mark.parametrize("seed", range(3))
def test_token_find_label_issues_equals_cleanlab_exactly_at_300_classes(seed):
    labels, probs = _tie_heavy_token_data(seed, 300, np.float32, n_tokens=6000)
    expected = _quiet(lambda: cleanlab_token_find(labels, probs, n_jobs=1))
    assert _quiet(lambda: token_find(labels, probs, ties="numpy")) == expected


@pytest.mark.parametrize("rank_by", ["self_confidence", "normalized_margin"])
def test_low_memory_equals_cleanlab_exactly(rank_by):
    labels, probs = _tie_heavy_token_data(7, 5, np.float32)
    expected = _quiet(
        lambda: cleanlab_token_find(
            labels, probs, low_memory=True, return_indices_ranked_by=rank_by
        )
    )
    found = _quiet(
        lambda: token_find(
            labels, probs, low_memory=True, return_indices_ranked_by=rank_by, ties="numpy"
        )
    )
    assert found == expected


@pytest.mark.parametrize("seed", range(4))
def test_span_find_label_issues_equals_cleanlab_exactly(seed):
    rng = np.random.default_rng(seed)
    lengths = rng.integers(1, 25, 300)
    p = rng.choice(np.array([0.05, 0.3, 0.5, 0.7, 0.95], np.float32), size=lengths.sum())
    labels = (p > 0.5).astype(int)
    flip = rng.random(p.shape[0]) < 0.15
    labels[flip] = 1 - labels[flip]
    cuts = np.cumsum(lengths)[:-1]
    label_list = [s.tolist() for s in np.split(labels, cuts)]
    prob_list = list(np.split(p, cuts))
    expected = _quiet(lambda: cleanlab_span_find(label_list, prob_list))
    assert (
        _quiet(lambda: spanfast.find_label_issues(label_list, prob_list, ties="numpy")) == expected
    )


@pytest.mark.parametrize("filter_by", ["prune_by_noise_rate", "low_self_confidence"])
def test_the_data_has_ties_that_the_position_rule_breaks_otherwise(filter_by):
    # Without this, the exact comparisons above would prove nothing about ties.
    labels, probs = _tie_heavy_token_data(11, 9, np.float64)
    expected = _quiet(lambda: cleanlab_token_find(labels, probs, filter_by=filter_by, n_jobs=1))
    assert _quiet(lambda: token_find(labels, probs, filter_by=filter_by)) != expected


# -- every runner ---------------------------------------------------------------------------


@pytest.mark.parametrize("filter_by", FILTER_BY)
def test_streamed_and_in_memory_numpy_ties_are_cleanlabs_answer(filter_by):
    from spanfast.results import find_issues
    from spanfast.streaming import find_label_issues_in_batches

    labels, probs = _tie_heavy_token_data(3, 6, np.float32, n_tokens=2000)
    expected = _quiet(lambda: cleanlab_token_find(labels, probs, filter_by=filter_by, n_jobs=1))
    in_memory = _quiet(lambda: find_issues(labels, probs, filter_by=filter_by, ties="numpy"))
    assert in_memory.to_tuples() == expected
    cuts = [0, 7, 40, len(labels)]

    def batches():
        return [(labels[a:b], probs[a:b]) for a, b in zip(cuts[:-1], cuts[1:])]

    streamed = _quiet(
        lambda: find_label_issues_in_batches(batches, filter_by=filter_by, ties="numpy")
    )
    assert streamed.to_tuples() == expected
    np.testing.assert_array_equal(streamed.score, in_memory.score)


def test_scan_takes_ties(tmp_path, capsys):
    import pyarrow as pa
    import pyarrow.parquet as pq

    from spanfast.cli import main

    labels, probs = _tie_heavy_token_data(5, 4, np.float64, n_tokens=1500)
    path = tmp_path / "data.parquet"
    pq.write_table(pa.table({"tags": labels, "p": [p.tolist() for p in probs]}), path)
    out = tmp_path / "issues.csv"
    argv = ["scan", str(path), "--labels", "tags", "--probs", "p", "--out", str(out)]
    assert main([*argv, "--ties", "numpy"]) == 0
    import pandas as pd

    rows = pd.read_csv(out)
    expected = _quiet(lambda: cleanlab_token_find(labels, probs, n_jobs=1))
    assert list(zip(rows["sentence"], rows["token"])) == expected
    assert main([*argv, "--ties", "random"]) == 2
    assert "--ties" in capsys.readouterr().err
