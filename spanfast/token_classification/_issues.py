"""Reading the issues the summary functions are given: their kind, each (i, j) pair,
the token, label and probability they point at, and the class names shown.

Errors name the sentence ``i`` and token ``j`` an issue points at.
"""

from __future__ import annotations

import operator
from collections.abc import Iterator
from typing import Any

import numpy as np

_CLASS_INDEX_HINT = (
    "Classes will be printed in terms of their integer index since `class_names` was not "
    "provided.\nSpecify this argument to see the string names of each class.\n"
)
# common_label_issues words the same hint slightly differently (trailing spaces included).
_CLASS_INDEX_HINT_COMMON = (
    "Classes will be printed in terms of their integer index since `class_names` was not "
    "provided. \nSpecify this argument to see the string names of each class. \n"
)
_RULE = "-" * 87


# --------------------------------------------------------------------------- input handling


def _is_given(optional: Any) -> bool:
    """``optional`` is present and non-empty (cleanlab's truthiness test, valid for arrays)."""
    return optional is not None and len(optional) > 0


def _issue_kind(issues: Any) -> str:
    """Return ``"empty"``, ``"tokens"`` (``(i, j)`` pairs) or ``"sentences"`` (indices ``i``)."""
    if isinstance(issues, np.ndarray):
        if issues.ndim == 2 and issues.shape[1] == 2:
            return "tokens" if len(issues) else "empty"
        if issues.ndim == 1:
            return "sentences" if len(issues) else "empty"
        raise ValueError(
            "issues must be a list of (i, j) pairs, an array of shape (M, 2), or a 1-D array of "
            f"sentence indices; got an array of shape {issues.shape}"
        )
    if len(issues) == 0:
        return "empty"
    # Like cleanlab, the first issue decides the kind of all of them.
    return "tokens" if isinstance(issues[0], (tuple, list, np.ndarray)) else "sentences"


def _token_pairs(issues: Any, function: str) -> Iterator[tuple[Any, Any]]:
    """Yield ``(i, j)`` for every token issue; reject sentence-level issues."""
    if _issue_kind(issues) == "sentences":
        raise ValueError(
            f"{function} needs token issues, a list of (i, j) pairs; got sentence indices "
            "(the output of issues_from_scores without token_scores)"
        )
    for number, issue in enumerate(issues):
        yield _unpack(issue, number)


def _unpack(issue: Any, number: int) -> tuple[Any, Any]:
    try:
        i, j = issue
    except (TypeError, ValueError):
        raise ValueError(
            f"issues[{number}] = {issue!r} is not a pair (i, j) of sentence and token indices"
        ) from None
    return i, j


def _sentence_at(tokens: Any, i: Any) -> Any:
    try:
        return tokens[i]
    except IndexError:
        raise IndexError(
            f"sentence index i={i} is out of range: tokens has {len(tokens)} sentences"
        ) from None


def _entry(nested: Any, i: Any, j: Any, name: str) -> Any:
    """``nested[i][j]``, with an error naming the sentence and the token if it does not exist."""
    try:
        sentence = nested[i]
    except IndexError:
        raise IndexError(
            f"issue (i={i}, j={j}): sentence index i={i} is out of range for {name} "
            f"with {len(nested)} sentences"
        ) from None
    try:
        return sentence[j]
    except IndexError:
        raise IndexError(
            f"issue (i={i}, j={j}): token index j={j} is out of range for sentence {i} of "
            f"{name}, which has {len(sentence)} tokens"
        ) from None


def _predicted_label(probabilities: Any, span: bool) -> int:
    """argmax of a token's probabilities (ties to the lower class), as cleanlab computes it."""
    if span:
        # Same as argmax([1 - p, p]) with 1 - p computed in p's own dtype, as cleanlab's
        # span_classification stacks it, without building the pair.
        return 1 if probabilities > 1 - probabilities else 0
    return int(np.argmax(probabilities))


def _excluded_swaps(exclude: Any) -> frozenset:
    try:
        return frozenset(tuple(pair) for pair in exclude)
    except TypeError:
        raise ValueError(
            f"exclude must be a list of (given_label, predicted_label) pairs, got {exclude!r}"
        ) from None


def _class_index(label: Any, n_classes: int, i: Any, j: Any) -> int:
    try:
        index = operator.index(label)
    except TypeError:
        index = None
    if index is None or not 0 <= index < n_classes:
        raise ValueError(
            f"issue (i={i}, j={j}): given label {label!r} is not a class index in "
            f"0, ..., {n_classes - 1}"
        )
    return index


def _class_name(class_names: Any, label: Any, i: Any, j: Any) -> Any:
    try:
        return class_names[label]
    except (IndexError, TypeError):
        raise IndexError(
            f"issue (i={i}, j={j}): label {label!r} has no entry in class_names "
            f"(length {len(class_names)})"
        ) from None


# ---------------------------------------------------------------------------- display_issues
