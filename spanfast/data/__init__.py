"""Example span classification dataset bundled with spanfast.

A few hundred synthetic news- and biography-like English sentences in which
person names are the span class, with annotation mistakes planted on purpose and
per-token model probabilities, so that finding label issues can be tried (and
checked against the known mistakes) without downloading anything. See
``spanfast/data/_make_example.py`` for how it is generated.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from importlib import resources

import numpy as np

__all__ = ["ExampleSpans", "TaggedExample", "load_example", "load_tagged_example"]

_FILENAME = "example_spans.npz"


@dataclass(frozen=True)
class ExampleSpans:
    """The bundled example, in cleanlab's nested format and as flat arrays.

    Attributes
    ----------
    tokens : list of list of str
        ``tokens[i]`` are the words of sentence ``i``.
    labels : list of numpy.ndarray
        ``labels[i]`` is an int64 array of the given labels of sentence ``i``:
        1 inside a person-name span, 0 outside; a few are wrong on purpose.
    pred_probs : list of numpy.ndarray
        ``pred_probs[i]`` is a float32 array with a model's ``p(token in span)``
        for each token of sentence ``i`` (cleanlab's span classification input).
    planted : list of tuple of int
        ``(i, j)`` for every token whose given label was corrupted, in order.
    flat_tokens : numpy.ndarray
        All tokens, sentence after sentence (str array).
    flat_labels : numpy.ndarray
        All given labels (int64), aligned with ``flat_tokens``.
    flat_probs : numpy.ndarray
        All ``p(token in span)`` (float32), aligned with ``flat_tokens``.
    flat_planted : numpy.ndarray
        Boolean mask of the corrupted labels, aligned with ``flat_tokens``.
    offsets : numpy.ndarray
        int64, ``n_sentences + 1`` entries: sentence ``i`` is
        ``flat_*[offsets[i]:offsets[i + 1]]``.
    """

    tokens: list[list[str]]
    labels: list[np.ndarray]
    pred_probs: list[np.ndarray]
    planted: list[tuple[int, int]]
    flat_tokens: np.ndarray
    flat_labels: np.ndarray
    flat_probs: np.ndarray
    flat_planted: np.ndarray
    offsets: np.ndarray

    @property
    def n_sentences(self) -> int:
        """Number of sentences."""
        return int(self.offsets.size - 1)

    @property
    def n_tokens(self) -> int:
        """Number of tokens over all sentences."""
        return int(self.offsets[-1])


def load_example() -> ExampleSpans:
    """Load the example span classification dataset bundled with spanfast.

    Returns
    -------
    ExampleSpans
        Tokens, given labels, model probabilities and the positions of the
        planted annotation mistakes; ``labels`` and ``pred_probs`` can be passed
        straight to ``spanfast.span_classification.find_label_issues``.

    Examples
    --------
    >>> from spanfast.data import load_example
    >>> example = load_example()
    >>> example.n_sentences, len(example.tokens), len(example.pred_probs)
    (400, 400, 400)
    >>> len(example.tokens[0]) == len(example.labels[0]) == len(example.pred_probs[0])
    True
    >>> i, j = example.planted[0]
    >>> bool(example.flat_planted[example.offsets[i] + j])
    True
    """
    raw = resources.files(__name__).joinpath(_FILENAME).read_bytes()
    with np.load(io.BytesIO(raw), allow_pickle=False) as archive:
        flat_tokens = np.char.decode(archive["tokens"], "utf-8")
        flat_labels = archive["labels"].astype(np.int64)
        flat_probs = archive["probs"].astype(np.float32)
        flat_planted = archive["planted"].astype(bool)
        offsets = archive["offsets"].astype(np.int64)

    cuts = offsets[1:-1]
    token_list = flat_tokens.tolist()
    bounds = offsets.tolist()
    tokens = [token_list[start:stop] for start, stop in zip(bounds[:-1], bounds[1:], strict=True)]
    labels = np.split(flat_labels, cuts)
    pred_probs = np.split(flat_probs, cuts)
    flat_index = np.flatnonzero(flat_planted)
    sentence = np.searchsorted(offsets, flat_index, side="right") - 1
    position = flat_index - offsets[sentence]
    planted = list(zip(sentence.tolist(), position.tolist(), strict=True))
    return ExampleSpans(
        tokens=tokens,
        labels=labels,
        pred_probs=pred_probs,
        planted=planted,
        flat_tokens=flat_tokens,
        flat_labels=flat_labels,
        flat_probs=flat_probs,
        flat_planted=flat_planted,
        offsets=offsets,
    )


_TAGGED_FILENAME = "example_tags.npz"


@dataclass(frozen=True)
class TaggedExample:
    """The bundled BIO example (PER / ORG / LOC) with planted entity-level mistakes.

    Attributes
    ----------
    tokens : list of list of str
        The words of each sentence.
    labels : list of numpy.ndarray
        Given tags (int64 class ids into ``class_names``), mistakes planted.
    true_labels : list of numpy.ndarray
        The tags before the mistakes were planted.
    pred_probs : list of numpy.ndarray
        ``(n_tokens, 7)`` float32 probabilities of a simulated model per sentence.
    class_names : tuple of str
        ``("O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC")``.
    planted : list of tuple
        ``(sentence, start, end, kind)`` of every planted mistake (end exclusive;
        the union of the true and the given extent), kinds as in
        :func:`spanfast.find_span_issues`.
    """

    tokens: list[list[str]]
    labels: list[np.ndarray]
    true_labels: list[np.ndarray]
    pred_probs: list[np.ndarray]
    class_names: tuple[str, ...]
    planted: list[tuple[int, int, int, str]]

    @property
    def n_tokens(self) -> int:
        """Number of tokens over all sentences."""
        return sum(len(t) for t in self.tokens)


def load_tagged_example() -> TaggedExample:
    """Load the BIO-tagged example bundled with spanfast (``_make_tagged_example``).

    Returns
    -------
    TaggedExample
        Tokens, given and true tags, model probabilities and the planted mistakes;
        ``labels``, ``pred_probs`` and ``class_names`` go straight to
        :func:`spanfast.find_span_issues`.

    Examples
    --------
    >>> from spanfast.data import load_tagged_example
    >>> example = load_tagged_example()
    >>> len(example.tokens), example.pred_probs[0].shape[1], example.planted[0][3] in (
    ...     "missed", "spurious", "boundary", "type", "boundary+type", "malformed")
    (500, 7, True)
    """
    from ._make_tagged_example import CLASS_NAMES, KINDS

    raw = resources.files(__name__).joinpath(_TAGGED_FILENAME).read_bytes()
    with np.load(io.BytesIO(raw), allow_pickle=False) as archive:
        flat_tokens = np.char.decode(archive["tokens"], "utf-8").tolist()
        offsets = archive["offsets"].astype(np.int64)
        cuts = offsets[1:-1]
        labels = np.split(archive["labels"].astype(np.int64), cuts)
        true_labels = np.split(archive["true_labels"].astype(np.int64), cuts)
        pred_probs = np.split(archive["probs"].astype(np.float32), cuts)
        planted = [(i, s, e, KINDS[k]) for i, s, e, k in archive["planted"].tolist()]
    bounds = offsets.tolist()
    tokens = [flat_tokens[a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
    return TaggedExample(tokens, labels, true_labels, pred_probs, CLASS_NAMES, planted)
