"""What the span and token façades share: checked data in, cleanlab's results out."""

from __future__ import annotations

from typing import Any

import numpy as np

from . import _multispan, _sentences, _span_head, core, plans
from ._input.checked import (
    Checked,
    CheckedSpans,
    as_labels,
    as_probabilities,
    check_tokens_aligned,
    labels_and_probabilities,
)
from ._input.span_classes import span_classes_checked
from ._list_scores import scores_of_lists
from ._positions import sentence_and_token
from ._read_ahead import checked_with_head
from ._token_scores import TokenScores
from .options import (
    DEFAULT_TEMPERATURE,
    check_rank_by,
    check_score_options,
    check_sentence_score_method,
    check_ties,
    warn_unused_by_low_memory,
)
from .ragged import Ragged


def issue_tuples(
    data: Checked,
    return_indices_ranked_by: str,
    low_memory: bool,
    kwargs: dict,
    ties: str = "position",
    head: plans.Head | None = None,
) -> list[tuple[int, int]]:
    """cleanlab's list of ``(sentence, token)`` issues of checked data (``head``: the
    plan's first passes, read ahead, :class:`spanfast.plans.Head`)."""
    if low_memory:
        warn_unused_by_low_memory(kwargs, stacklevel=3)
        check_rank_by(return_indices_ranked_by)
        check_ties(ties)
        positions = core._find_low_memory(data, return_indices_ranked_by, ties)
        return _sentences._issue_tuples(*sentence_and_token(data.offsets, positions))
    located, _ = core._find(
        data,
        return_indices_ranked_by=return_indices_ranked_by,
        ties=ties,
        stacklevel=3,
        head=head,
        located=True,
        **kwargs,
    )
    return _sentences._issue_tuples(*located)


def token_data(
    labels: Any, pred_probs: Any, options: dict, ties: str, low_memory: bool
) -> tuple[Checked, plans.Head | None]:
    """Checked token data, and the first passes of the plan of ``options`` when they were
    read while a list input was converted (:mod:`spanfast._read_ahead`), else None."""
    filter_by = options.get("filter_by", "prune_by_noise_rate")
    read = None
    if not low_memory and plans.starts_with_class_sums(filter_by, options.get("confident_joint")):
        read = checked_with_head(
            labels,
            pred_probs,
            noise_rate_candidates=plans.uses_noise_rate_candidates(filter_by, ties),
            n_jobs=options.get("n_jobs"),
        )
    if read is None:
        return labels_and_probabilities(labels, pred_probs, span=False), None
    return read


def span_find_data(
    labels: Any, pred_probs: Any, ties: str
) -> tuple[Checked | CheckedSpans, plans.Head | None]:
    """:func:`span_data`, and the first passes of span find's plan when they were read
    while a list input was converted (:mod:`spanfast._read_ahead`), else None."""
    candidates = plans.uses_noise_rate_candidates("prune_by_noise_rate", ties)
    read = checked_with_head(labels, pred_probs, noise_rate_candidates=candidates, span=True)
    if read is not None:
        return read
    probs = as_probabilities(pred_probs, span=None, check_values=False)
    if probs.values.ndim != 1:
        return span_classes_checked(labels, probs), None
    label_ragged = as_labels(labels, checked_offsets=probs.offsets)
    read = _span_head.checked_with_head(label_ragged, probs, noise_rate_candidates=candidates)
    if read is not None:
        return read
    return _one_span_class(label_ragged, probs), None


def span_data(labels: Any, pred_probs: Any) -> Checked | CheckedSpans:
    """Checked span data: single-class (1-D probabilities per sentence) or several span
    classes ((T, C) probabilities per sentence, labels in any of the forms of
    :mod:`spanfast._input.span_classes`)."""
    probs = as_probabilities(pred_probs, span=None, check_values=False)
    if probs.values.ndim == 1:
        return _one_span_class(labels, probs)
    return span_classes_checked(labels, probs)


def _one_span_class(labels: Any, probs: Ragged) -> Checked:
    return labels_and_probabilities(labels, probs, span=True, checked_offsets=probs.offsets)


def quality_scores(
    labels: Any,
    pred_probs: Any,
    *,
    span: bool,
    tokens: Any = None,
    token_score_method: str = "self_confidence",
    sentence_score_method: str = "min",
    sentence_score_kwargs: dict | None = None,
) -> tuple[np.ndarray, TokenScores]:
    """cleanlab's ``get_label_quality_scores`` of either kind of data."""
    check_sentence_score_method(sentence_score_method)
    check_score_options(token_score_method, False)
    temperature = (sentence_score_kwargs or {}).get("temperature", DEFAULT_TEMPERATURE)
    scored = None if span else scores_of_lists(labels, pred_probs, token_score_method)
    if scored is not None:
        token_scores, offsets = scored
    else:
        if span:
            data = span_data(labels, pred_probs)
        else:
            data = labels_and_probabilities(labels, pred_probs, span=False)
        if isinstance(data, CheckedSpans):
            tokens = _aligned_tokens(tokens, data.offsets)
            return _multispan.quality_scores_by_class(
                data, token_score_method, sentence_score_method, temperature, tokens
            )
        token_scores, offsets = core._scores(data, token_score_method), data.offsets
    sentence_scores = _sentences._sentence_scores(
        token_scores, offsets, sentence_score_method, temperature
    )
    tokens = _aligned_tokens(tokens, offsets)
    return sentence_scores, TokenScores(token_scores, offsets, tokens)


def _aligned_tokens(tokens: Any, offsets: np.ndarray) -> Any:
    # cleanlab indexes the Series by `tokens` only when it is a non-empty list.
    if tokens is not None and len(tokens) > 0:
        token_lengths = np.fromiter(map(len, tokens), np.int64, count=len(tokens))
        check_tokens_aligned(token_lengths, offsets)
        return tokens
    return None
