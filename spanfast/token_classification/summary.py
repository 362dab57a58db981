"""Display and summarize label issues: the twin of ``cleanlab.token_classification.summary``.

Same function names, signatures, defaults and printed text as cleanlab 2.9.0, with these
deliberate differences (listed in the README):

- Ties in counts are ordered by first appearance in ``issues`` (cleanlab: unstable argsort).
- ``display_issues([], tokens)`` prints only the class-names hint; cleanlab raises IndexError.
- ``top <= 0`` shows no issue (cleanlab's ``display_issues`` then shows all of them, and
  ``common_label_issues`` with ``top < 0`` drops the last ``-top`` tokens).
- ``labels`` / ``pred_probs`` may be nested lists, lists of arrays or a ``spanfast.Ragged``;
  presence is tested with ``is not None`` and ``len`` instead of truthiness, which raises for
  arrays.
- ``issues`` may be a list of ``(i, j)`` pairs, an ``(M, 2)`` integer array, or a 1-D array or
  list of sentence indices (printed as ``Sentence issue: ...``).
- ``exclude`` pairs are compared as tuples, so ``[[0, 1]]`` or an ``(E, 2)`` array excludes the
  swap too (cleanlab silently ignores non-tuple pairs).
- The span classification façade calls :func:`_display_issues` and :func:`_common_label_issues`
  with ``span=True``, where ``pred_probs[i][j]`` is the probability ``p`` that the token is in
  the span and the predicted label is ``1 if p > 1 - p else 0`` (cleanlab always reports 0).
- An issue that points outside ``tokens``, ``labels`` or ``pred_probs`` raises an error naming
  the sentence ``i`` and the token ``j``.

These are display helpers: they visit only the issues they show (``display_issues``) or the
issues given (``common_label_issues``, ``filter_by_token``), never the whole dataset. pandas and
termcolor are imported on use.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

import numpy as np

from spanfast.token_classification.utils import color_sentence, get_sentence

from ._issues import (
    _CLASS_INDEX_HINT,
    _CLASS_INDEX_HINT_COMMON,
    _RULE,
    _class_index,
    _class_name,
    _entry,
    _excluded_swaps,
    _is_given,
    _issue_kind,
    _predicted_label,
    _sentence_at,
    _token_pairs,
    _unpack,
)

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from spanfast.ragged import Ragged

    Nested = Sequence[Any] | Ragged

__all__ = ["display_issues", "common_label_issues", "filter_by_token"]

# How the sentence of a flagged token is drawn: None colours the word as cleanlab does.
# The command line sets it to mark the token at the flagged position when it cannot
# colour (spanfast.cli.display); a context variable so the signatures stay cleanlab's.
_SENTENCE_LINE: ContextVar[Callable[[Sequence[str], int], str] | None] = ContextVar(
    "_SENTENCE_LINE", default=None
)


def display_issues(
    issues: Sequence[tuple[int, int]] | Sequence[int] | np.ndarray,
    tokens: Sequence[Sequence[str]],
    *,
    labels: Nested | None = None,
    pred_probs: Nested | None = None,
    exclude: list[tuple[int, int]] = [],  # noqa: B006  (cleanlab's default, never mutated)
    class_names: Sequence[str] | None = None,
    top: int = 20,
) -> None:
    """Print sentences with label issues, the problematic token highlighted in red.

    Also prints the given and/or predicted label of each flagged token when ``labels`` and/or
    ``pred_probs`` are provided.

    Parameters
    ----------
    issues : list of (int, int), array of shape (M, 2), or 1-D array/list of int
        Label issues as ``(i, j)`` pairs (token ``j`` of sentence ``i``), as returned by
        ``token_classification.filter.find_label_issues`` or ``rank.issues_from_scores``; or
        sentence indices ``i`` (``issues_from_scores`` without token scores), printed as
        ``Sentence issue: ...``.
    tokens : list of list of str
        ``tokens[i]`` are the word-level tokens of sentence ``i``.
    labels : nested list, list of arrays or Ragged, optional
        Given label of every token: ``labels[i][j]`` in ``0, ..., K-1``. Printed if provided.
    pred_probs : list of arrays, nested list or Ragged, optional
        ``pred_probs[i][j]`` holds the K predicted class probabilities of token ``j`` of
        sentence ``i``. Its argmax is printed as the predicted label if provided.
    exclude : list of (int, int)
        ``(given, predicted)`` label swaps not to display (needs ``labels`` and ``pred_probs``).
    class_names : list of str, optional
        Names of the K classes, printed instead of class indices.
    top : int, default=20
        Maximum number of issues printed; ``top <= 0`` prints none.

    Returns
    -------
    None

    Examples
    --------
    The flagged token is colored with ANSI escape codes, elided here by ``...``.

    >>> from spanfast.token_classification.summary import display_issues
    >>> tokens = [["A", "?weird", "sentence"], ["A", "valid", "one"], ["An", "sentence", "."]]
    >>> display_issues([(2, 0), (0, 1)], tokens, labels=[[0, 1, 0], [0, 0, 0], [1, 0, 0]],
    ...                class_names=["O", "MISC"])  # doctest: +ELLIPSIS
    Sentence index: 2, Token index: 0
    Token: An
    Given label: MISC
    ----
    ...An... sentence.
    <BLANKLINE>
    <BLANKLINE>
    Sentence index: 0, Token index: 1
    Token: ?weird
    Given label: MISC
    ----
    A ...?weird... sentence
    >>> display_issues([], tokens)
    """
    _display_issues(
        issues,
        tokens,
        labels=labels,
        pred_probs=pred_probs,
        exclude=exclude,
        class_names=class_names,
        top=top,
        span=False,
    )


def _display_issues(
    issues: Any,
    tokens: Any,
    *,
    labels: Any,
    pred_probs: Any,
    exclude: Any,
    class_names: Any,
    top: int,
    span: bool,
) -> None:
    """Implementation of :func:`display_issues`; ``span=True`` for 1-D span probabilities."""
    has_labels = _is_given(labels)
    has_pred_probs = _is_given(pred_probs)
    has_class_names = _is_given(class_names)
    if not has_class_names and (has_labels or has_pred_probs):
        print(_CLASS_INDEX_HINT)

    kind = _issue_kind(issues)
    if kind == "empty" or top <= 0:
        return
    top = min(top, len(issues))
    excluded = _excluded_swaps(exclude) if has_labels and has_pred_probs else frozenset()

    shown = 0
    for number, issue in enumerate(issues):
        if kind == "sentences":
            block = f"Sentence issue: {get_sentence(_sentence_at(tokens, issue))}"
        else:
            block = _token_issue_block(
                *_unpack(issue, number),
                tokens,
                labels=labels if has_labels else None,
                pred_probs=pred_probs if has_pred_probs else None,
                excluded=excluded,
                class_names=class_names if has_class_names else None,
                span=span,
            )
            if block is None:
                continue
        shown += 1
        print(block)
        if shown == top:
            break
        print("\n")


def _token_issue_block(
    i: Any,
    j: Any,
    tokens: Any,
    *,
    labels: Any,
    pred_probs: Any,
    excluded: frozenset,
    class_names: Any,
    span: bool,
) -> str | None:
    """The text shown for issue ``(i, j)``, or None if its label swap is excluded."""
    word = _entry(tokens, i, j, "tokens")
    if pred_probs is not None:
        predicted = _predicted_label(_entry(pred_probs, i, j, "pred_probs"), span)
    if labels is not None:
        given = _entry(labels, i, j, "labels")
    if labels is not None and pred_probs is not None and (given, predicted) in excluded:
        return None
    if class_names is not None:
        if pred_probs is not None:
            predicted = _class_name(class_names, predicted, i, j)
        if labels is not None:
            given = _class_name(class_names, given, i, j)

    lines = [f"Sentence index: {i}, Token index: {j}", f"Token: {word}"]
    if labels is not None and pred_probs is not None:
        lines.append(
            f"Given label: {given}, predicted label according to provided pred_probs: {predicted}"
        )
    elif labels is not None:
        lines.append(f"Given label: {given}")
    elif pred_probs is not None:
        lines.append(f"Predicted label according to provided pred_probs: {predicted}")
    lines.append("----")
    draw_sentence = _SENTENCE_LINE.get()
    if draw_sentence is None:
        lines.append(color_sentence(get_sentence(tokens[i]), word))
    else:
        lines.append(draw_sentence(tokens[i], int(j)))
    return "\n".join(lines)


# ----------------------------------------------------------------------- common_label_issues


def common_label_issues(
    issues: Sequence[tuple[int, int]] | np.ndarray,
    tokens: Sequence[Sequence[str]],
    *,
    labels: Nested | None = None,
    pred_probs: Nested | None = None,
    class_names: Sequence[str] | None = None,
    top: int = 10,
    exclude: list[tuple[int, int]] = [],  # noqa: B006  (cleanlab's default, never mutated)
    verbose: bool = True,
) -> pd.DataFrame:
    """Print the tokens that most often have label issues, and return the counts.

    Such tokens may be ambiguous or systematically misunderstood by annotators.

    Parameters
    ----------
    issues : list of (int, int) or array of shape (M, 2)
        Label issues as ``(i, j)`` pairs (token ``j`` of sentence ``i``).
    tokens : list of list of str
        ``tokens[i]`` are the word-level tokens of sentence ``i``.
    labels : nested list, list of arrays or Ragged, optional
        Given labels, as in :func:`display_issues`.
    pred_probs : list of arrays, nested list or Ragged, optional
        Predicted probabilities, as in :func:`display_issues`. With ``labels``, the counts are
        broken down by (given label, predicted label) swap.
    class_names : list of str, optional
        Names of the K classes, shown instead of class indices.
    top : int, default=10
        Maximum number of tokens printed; ``top <= 0`` prints none. The DataFrame has all.
    exclude : list of (int, int)
        ``(given, predicted)`` label swaps not to count (needs ``labels`` and ``pred_probs``).
    verbose : bool, default=True
        Also print each token's label swaps.

    Returns
    -------
    df : pandas.DataFrame
        With ``labels`` and ``pred_probs``: columns ``token, given_label, predicted_label,
        num_label_issues``, one row per token and label swap that occurs. Otherwise: columns
        ``token, num_label_issues``, one row per token. Rows are ordered by
        ``num_label_issues``, descending; ties by first appearance in ``issues``.

    Examples
    --------
    >>> from spanfast.token_classification.summary import common_label_issues
    >>> tokens = [["A", "?weird", "sentence"], ["A", "valid", "one"], ["An", "sentence", "."]]
    >>> df = common_label_issues([(2, 0), (0, 1), (2, 1), (0, 2)], tokens)
    Token 'sentence' is potentially mislabeled 2 times throughout the dataset
    <BLANKLINE>
    Token 'An' is potentially mislabeled 1 times throughout the dataset
    <BLANKLINE>
    Token '?weird' is potentially mislabeled 1 times throughout the dataset
    <BLANKLINE>
    >>> df
          token  num_label_issues
    0  sentence                 2
    1        An                 1
    2    ?weird                 1
    """
    return _common_label_issues(
        issues,
        tokens,
        labels=labels,
        pred_probs=pred_probs,
        class_names=class_names,
        top=top,
        exclude=exclude,
        verbose=verbose,
        span=False,
    )


def _common_label_issues(
    issues: Any,
    tokens: Any,
    *,
    labels: Any,
    pred_probs: Any,
    class_names: Any,
    top: int,
    exclude: Any,
    verbose: bool,
    span: bool,
) -> pd.DataFrame:
    """Implementation of :func:`common_label_issues`; ``span=True`` for 1-D span probabilities."""
    import pandas as pd

    n_shown = max(top, 0)
    if not (_is_given(labels) and _is_given(pred_probs)):
        issue_count: dict[Any, int] = {}
        for i, j in _token_pairs(issues, "common_label_issues"):
            word = _entry(tokens, i, j, "tokens")
            issue_count[word] = issue_count.get(word, 0) + 1
        # sorted() is stable: equal counts stay in order of first appearance.
        ranked = sorted(issue_count.items(), key=lambda item: -item[1])
        for word, count in ranked[:n_shown]:
            print(
                f"Token '{word}' is potentially mislabeled {count} times throughout the dataset\n"
            )
        return pd.DataFrame([list(item) for item in ranked], columns=["token", "num_label_issues"])

    has_class_names = _is_given(class_names)
    if not has_class_names:
        print(_CLASS_INDEX_HINT_COMMON)
    excluded = _excluded_swaps(exclude)

    # word -> {(given, predicted): count}, both dicts in order of first appearance. A word whose
    # issues are all excluded keeps an empty entry: cleanlab still prints it, with 0 issues.
    swap_count: dict[Any, dict[tuple[int, int], int]] = {}
    n_classes = 2 if span else None
    for i, j in _token_pairs(issues, "common_label_issues"):
        word = _entry(tokens, i, j, "tokens")
        probabilities = _entry(pred_probs, i, j, "pred_probs")
        if n_classes is None:
            n_classes = len(probabilities)
        elif not span and len(probabilities) != n_classes:
            raise ValueError(
                f"issue (i={i}, j={j}): pred_probs[{i}][{j}] has {len(probabilities)} class "
                f"probabilities, but earlier tokens have {n_classes}"
            )
        given = _class_index(_entry(labels, i, j, "labels"), n_classes, i, j)
        predicted = _predicted_label(probabilities, span)
        counts = swap_count.setdefault(word, {})
        if (given, predicted) not in excluded:
            counts[given, predicted] = counts.get((given, predicted), 0) + 1

    def name(label: int) -> Any:
        return class_names[label] if has_class_names else label

    total = {word: sum(counts.values()) for word, counts in swap_count.items()}
    ranked_words = sorted(swap_count, key=lambda word: -total[word])
    for word in ranked_words[:n_shown]:
        print(
            f"Token '{word}' is potentially mislabeled {total[word]} times throughout the dataset"
        )
        if verbose:
            print(_RULE)
            # Most frequent swap first; ties in (given, predicted) order.
            for (given, predicted), count in sorted(
                swap_count[word].items(), key=lambda item: (-item[1], item[0])
            ):
                if has_class_names:
                    print(
                        f"labeled as class `{name(given)}` but predicted to actually be class "
                        f"`{name(predicted)}` {count} times"
                    )
                else:
                    print(
                        f"labeled as class {given} but predicted to actually be class "
                        f"{predicted} {count} times"
                    )
        print()

    rows = [
        [word, name(given), name(predicted), count]
        for word, counts in swap_count.items()
        for (given, predicted), count in sorted(counts.items())
    ]
    rows.sort(key=lambda row: -row[3])  # stable
    return pd.DataFrame(
        rows, columns=["token", "given_label", "predicted_label", "num_label_issues"]
    )


# --------------------------------------------------------------------------- filter_by_token


def filter_by_token(
    token: str,
    issues: Sequence[tuple[int, int]] | np.ndarray,
    tokens: Sequence[Sequence[str]],
) -> list[tuple[int, int]]:
    """Return the label issues whose token equals ``token``, ignoring case.

    Parameters
    ----------
    token : str
        The token of interest.
    issues : list of (int, int) or array of shape (M, 2)
        Label issues as ``(i, j)`` pairs (token ``j`` of sentence ``i``).
    tokens : list of list of str
        ``tokens[i]`` are the word-level tokens of sentence ``i``.

    Returns
    -------
    issues_subset : list of (int, int)
        The issues of ``issues`` (the same objects, in the same order) whose token is ``token``.
        For an array, rows become tuples of Python ints.

    Examples
    --------
    >>> from spanfast.token_classification.summary import filter_by_token
    >>> tokens = [["A", "?weird", "sentence"], ["A", "valid", "one"], ["An", "sentence", "."]]
    >>> filter_by_token("SENTENCE", [(2, 0), (0, 2), (2, 1)], tokens)
    [(0, 2), (2, 1)]
    """
    wanted = token.lower()
    from_array = isinstance(issues, np.ndarray)
    subset = []
    for (i, j), issue in zip(_token_pairs(issues, "filter_by_token"), issues, strict=True):
        if _entry(tokens, i, j, "tokens").lower() == wanted:
            subset.append((int(i), int(j)) if from_array else issue)
    return subset
