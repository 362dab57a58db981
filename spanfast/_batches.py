"""What every out-of-core runner does with one batch, engine-neutral.

A runner (streaming in :mod:`spanfast.streaming`, Dask partitions in
:mod:`spanfast.dask`) reads a batch of whole sentences, checks it with global
sentence numbers (:func:`check_batch`), checksums it in pass 1 and compares
later passes' checksums with it (:func:`changed_error`), runs the plan's step
and, for the tokens a pass flags, computes their details (:func:`details`:
score, given and predicted label, token text) where the batch is. The client
collects the details in dataset order in a :class:`Found` and selects the
issues from them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import _numpy_order, _sentences, core, plans
from ._input.checked import Checked, check_tokens_aligned, labels_and_probabilities
from ._input.where import numbered_from
from ._kernels.checksum import checksum
from ._kernels.confident_joint import argmax_rows
from ._positions import order_by_score, sentence_and_token
from .errors import InvalidInputError
from .options import DEFAULT_TEMPERATURE
from .ragged import Ragged
from .results import COLUMNS, LabelIssues


@dataclass(eq=False)
class TokenBatch(plans.Batch):
    """A batch with its token column (any form :func:`token_texts` reads), if any."""

    tokens: Any = None


def check_batch(
    labels: Any, pred_probs: Any, tokens: Any, first_sentence: int, span: bool | None = None
) -> Checked:
    """One batch's checked data; errors name global sentences (the batch's first is
    ``first_sentence``), and errors about the whole batch name its first sentence."""
    try:
        with numbered_from(first_sentence):
            data = labels_and_probabilities(labels, pred_probs, span=span)
            if tokens is not None:
                check_tokens_aligned(token_lengths(tokens), data.offsets)
    except InvalidInputError as error:
        raise in_batch(error, first_sentence) from None
    return data


def in_batch(error: InvalidInputError, first_sentence: int) -> InvalidInputError:
    """An error about a whole batch (its layout, say) located at the batch's first sentence."""
    if error.sentence is None:
        error.sentence = first_sentence
        error.args = (f"{error} (the batch from sentence {first_sentence})",)
    return error


def checksums(data: Checked) -> tuple[int, int, int]:
    """Checksums of a batch's labels, probabilities and offsets."""
    return checksum(data.labels), checksum(data.probs), checksum(data.offsets)


CHECKED = ("first sentence", "labels", "probabilities", "sentence offsets")


def changed_error(
    index: int,
    first_sentence: int,
    pass_number: int,
    before: tuple,
    now: tuple,
    what: str = "batch",
    rule: str = "a batched source must give the same batches on every pass",
) -> InvalidInputError | None:
    """The error to raise when batch ``index``'s ``(first sentence, *checksums)`` in pass
    ``pass_number`` are not those of pass 1 (``before``), or None when they are."""
    changed = [name for name, old, new in zip(CHECKED, before, now) if old != new]
    if not changed:
        return None
    return InvalidInputError(
        f"the data changed between passes: {what} {index} (from sentence "
        f"{first_sentence}) has other {' and '.join(changed)} in pass "
        f"{pass_number} than in pass 1 ({rule})",
        sentence=first_sentence,
    )


def layout_error(
    n_classes: int, span: bool, before: tuple, first_sentence: int
) -> InvalidInputError | None:
    """The error when a batch's layout is not ``before`` ``(n_classes, span)``, or None."""
    if (n_classes, span) == before:
        return None
    return InvalidInputError(
        f"pred_probs changes layout at sentence {first_sentence}: "
        f"{_layout(n_classes, span)} there, {_layout(*before)} before.",
        sentence=first_sentence,
    )


def _layout(n_classes: int, span: bool) -> str:
    return "span probabilities (2 classes)" if span else f"{n_classes} class probabilities"


def batch_layout(data: Checked) -> tuple[int, bool] | None:
    """``(n_classes, span)`` of a batch with tokens (None for one without)."""
    if data.n_tokens == 0:
        return None
    return data.n_classes, data.span


# ---------------------------------------------------------------------------------------
# Flagged tokens' details


def details(batch: TokenBatch, local: np.ndarray, rank_by: str, *, with_text: bool) -> dict:
    """The issue columns (and global ``positions``) of the batch's tokens ``local``."""
    data = batch.data
    sentence, token = sentence_and_token(data.offsets, local)
    found = {
        "positions": batch.first_token + local,
        "sentence": batch.first_sentence + sentence,
        "token": token,
        "score": core._scores(data, rank_by, positions=local),
        "given_label": data.labels[local].astype(np.int64),
        "predicted_label": argmax_rows(data.probs, local),
    }
    if with_text:
        found["token_text"] = token_texts(batch.tokens, local)
    return found


@dataclass
class Found:
    """Per-token details of every token that may become an issue, in position order."""

    empty: dict  # an empty array of each column's dtype
    positions: list = field(default_factory=list)
    columns: dict = field(default_factory=lambda: {name: [] for name in COLUMNS})
    token_text: list = field(default_factory=list)

    def add(self, found: dict) -> None:
        """The :func:`details` of a batch after the batches added so far."""
        if found["positions"].shape[0] == 0:
            return
        self.positions.append(found["positions"])
        for name in COLUMNS:
            self.columns[name].append(found[name])
        if "token_text" in found:
            self.token_text.append(found["token_text"])

    def select(
        self, positions: np.ndarray, ties: str = "position", ranked: bool = True
    ) -> LabelIssues:
        """The details of ``positions`` (sorted, all previously added), ranked by score
        (equal scores in position order, or as NumPy's default argsort puts them), or
        in position order when not ``ranked`` (``low_memory=True``)."""
        rows = np.searchsorted(_concat(self.positions, np.int64), positions)
        columns = {
            name: np.concatenate([self.empty[name], *parts])[rows]
            for name, parts in self.columns.items()
        }
        rank = order_by_score if ties == "position" else _numpy_order.order_by_score
        order = np.arange(rows.shape[0])  # rows: in position order
        if ranked:
            order = rank(order, columns["score"])
        text = _concat(self.token_text, object)[rows][order] if self.token_text else None
        return LabelIssues(
            **{name: values[order] for name, values in columns.items()}, token_text=text
        )


def _concat(parts: list, dtype) -> np.ndarray:
    if not parts:
        return np.empty(0, dtype or np.float64)
    return np.concatenate(parts)


def empty_columns(n_classes: int, span: bool, dtype: Any, rank_by: str) -> dict[str, np.ndarray]:
    """Zero-length arrays with the dtypes the issue columns will have."""
    empty_probs = np.empty((0,) if span else (0, n_classes), dtype)
    empty = {name: np.empty(0, np.int64) for name in COLUMNS}
    empty["score"] = core.label_quality_scores(np.empty(0, np.int8), empty_probs, method=rank_by)
    return empty


@dataclass(frozen=True)
class Scoring:
    """How sentences are scored (the options of ``get_label_quality_scores``).

    Token scores are a pure function of a token, so sentence scores are a pure
    function of one batch of whole sentences: computed batch by batch (in the last
    pass, once the dataset's dtype is known), joined in order, they are those of
    the in-memory run, bit for bit.
    """

    token_score_method: str = "self_confidence"
    sentence_score_method: str = "min"
    temperature: float = DEFAULT_TEMPERATURE

    def sentence_scores(self, data: Checked, n_classes: int, span: bool, dtype: Any) -> np.ndarray:
        """The scores of a batch's sentences (its dtype promoted to the dataset's)."""
        if data.n_tokens:
            token_scores = core._scores(data, self.token_score_method)
        else:  # empty sentences only: the dtype the scores of the others have
            empty_probs = np.empty((0,) if span else (0, n_classes), dtype)
            token_scores = core.label_quality_scores(
                np.empty(0, np.int8), empty_probs, method=self.token_score_method
            )
        return _sentences._sentence_scores(
            token_scores, data.offsets, self.sentence_score_method, self.temperature
        )


def empty_issues() -> LabelIssues:
    """The result for a dataset without tokens."""
    empty = np.empty(0, np.int64)
    return LabelIssues(empty, empty, np.empty(0), empty, empty)


# ---------------------------------------------------------------------------------------
# Token columns


def token_texts(tokens: Any, local: np.ndarray) -> np.ndarray:
    """Token strings at flat positions ``local`` of a batch's token column."""
    if is_arrow_list(tokens):
        start = tokens.offsets[0].as_py()
        flat = tokens.values.slice(start, tokens.offsets[-1].as_py() - start)
        return np.array(flat.take(local).to_pylist(), dtype=object)
    flat = (
        tokens.values
        if isinstance(tokens, Ragged)
        else np.array([t for sentence in tokens for t in sentence], dtype=object)
    )
    return np.asarray(flat, dtype=object)[local]


def token_lengths(tokens: Any) -> np.ndarray:
    """Number of tokens in each sentence of a batch's token column."""
    if is_arrow_list(tokens):
        return np.diff(np.asarray(tokens.offsets))
    if isinstance(tokens, Ragged):
        return tokens.lengths
    return np.fromiter(map(len, tokens), np.int64, count=len(tokens))


def is_arrow_list(obj: Any) -> bool:
    return type(obj).__module__.startswith("pyarrow") and hasattr(obj, "offsets")
