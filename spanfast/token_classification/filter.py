"""Drop-in for ``cleanlab.token_classification.filter``."""

from __future__ import annotations

from typing import Any

from .._facades import issue_tuples, token_data

_FILTER_KWARGS = {
    "rank_by_kwargs",
    "filter_by",
    "frac_noise",
    "num_to_remove_per_class",
    "min_examples_per_class",
    "confident_joint",
    "n_jobs",
    "verbose",
    "multi_label",
    "ties",
}


def find_label_issues(
    labels: list,
    pred_probs: list,
    *,
    return_indices_ranked_by: str = "self_confidence",
    low_memory: bool = False,
    **kwargs: Any,
) -> list[tuple[int, int]]:
    """Identify tokens with label issues in a token classification dataset.

    Same parameters and results as ``cleanlab.token_classification.filter.find_label_issues``
    (cleanlab 2.9.0): ``labels[i]`` holds the given labels of sentence i and
    ``pred_probs[i]`` its ``(T_i, K)`` predicted probabilities (nested lists,
    lists of arrays, or a :class:`spanfast.Ragged`); ``kwargs`` go to the
    confident-learning filter (``filter_by``, ``frac_noise``,
    ``num_to_remove_per_class``, ``min_examples_per_class``,
    ``confident_joint``, ``rank_by_kwargs``, ``n_jobs``, ``verbose``).

    Parameters
    ----------
    labels : nested list, list of arrays, Ragged, or a pipeline column
        ``labels[i][j]``: the given class of token j of sentence i, in ``0..K-1``.
    pred_probs : list of (T_i, K) arrays, nested list, Ragged, or a pipeline column
        The model's class probabilities for every token.
    return_indices_ranked_by : {"self_confidence", "normalized_margin", "confidence_weighted_entropy"}
        The token score the issues are ranked by.
    low_memory : bool, default False
        cleanlab's ``find_label_issues_batched`` algorithm (approximate thresholds).
    **kwargs
        The options of cleanlab's ``filter.find_label_issues`` listed above, and
        ``ties`` (``"position"``, the default, or ``"numpy"``): equal scores in
        position order, or ordered as NumPy's argsort orders the arrays cleanlab
        sorts, which gives cleanlab 2.9.0's answer exactly, ties included.

    Returns
    -------
    list of (int, int)
        ``(i, j)``: token j of sentence i, most likely mislabelled first. Equal
        scores are in position order. With ``low_memory=True`` (as in
        cleanlab) the issues are in position order.

    Examples
    --------
    >>> import numpy as np
    >>> from spanfast.token_classification.filter import find_label_issues
    >>> labels = [[0, 0, 1], [0, 1]]
    >>> pred_probs = [
    ...     np.array([[0.9, 0.1], [0.7, 0.3], [0.05, 0.95]]),
    ...     np.array([[0.8, 0.2], [0.8, 0.2]]),
    ... ]
    >>> find_label_issues(labels, pred_probs)
    [(1, 1)]
    """
    unknown = set(kwargs) - _FILTER_KWARGS
    if unknown:
        raise TypeError(
            f"find_label_issues() got an unexpected keyword argument '{sorted(unknown)[0]}'"
        )
    if kwargs.pop("multi_label", False):
        raise ValueError("multi_label=True is not supported for token classification.")
    ties = kwargs.pop("ties", "position")
    data, head = token_data(labels, pred_probs, kwargs, ties, low_memory)
    return issue_tuples(data, return_indices_ranked_by, low_memory, kwargs, ties, head)
