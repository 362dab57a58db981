"""Deterministic synthetic span and token classification data (NumPy only).

Every generator takes a seed (or a :class:`numpy.random.Generator`) and returns
flat arrays: labels ``(T,)`` int64, probabilities ``(T,)`` (span: the span
class's probability) or ``(T, K)`` (token), and CSR ``offsets`` ``(S + 1,)``
int64. :func:`split` and :func:`nested_labels` turn them into the per-sentence
lists cleanlab takes.

Shapes of raggedness (:data:`LENGTH_SHAPES`)
--------------------------------------------
``sentences``
    ``1 + NegativeBinomial(n=2, mean=13)``, capped at 200: mean ~14 tokens with a
    long right tail, like CoNLL-2003 / OntoNotes.
``documents``
    ``1 + NegativeBinomial(n=8, mean=499)``, capped at 2048: ~500 tokens per
    "sentence", like document-level PII tagging or extractive QA.
``short``
    mostly 1-3 tokens, one sentence in ten of 20-30 (many short, a few long).
``skewed``
    geometric lengths (p = 0.25) capped at 30.
``uniform``
    1 to 30 tokens, uniformly.
``ones``
    every sentence is one token.

Probabilities
-------------
:func:`token_probabilities` is a softmax of ``N(0, 1)`` logits plus a boost on
the true class; :func:`span_probabilities` draws ``Beta(8, 2)`` on span tokens
and ``Beta(1, 12)`` elsewhere. ``ties='round'`` rounds probabilities to a few
decimals (few distinct values, many equal keys); ``ties='dup_rows'`` draws rows
from a small pool (exactly equal rows). Labels are the true classes with
planted noise.

:func:`make_dataset` exposes every knob (the hypothesis strategies draw them);
:func:`ner_arrays` is the fixed NER-like recipe of the asv benchmarks.

Examples
--------
>>> data = make_dataset(seed=1, n_sentences=4, length_mode="sentences", K=3)
>>> data.n_sentences, data.flat_probs.shape == (data.n_tokens, 3)
(4, True)
>>> [len(sentence) for sentence in data.labels_nested()] == np.diff(data.offsets).tolist()
True
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

LENGTH_SHAPES = ("sentences", "documents", "short", "skewed", "uniform", "ones")
TIE_MODES = ("none", "round", "dup_rows")
# (negative binomial n, mean of the negative binomial part, cap)
_NEGATIVE_BINOMIAL_LENGTHS = {"sentences": (2, 13.0, 200), "documents": (8, 499.0, 2048)}
#: Token classes of the asv benchmarks: the CoNLL BIO tag set, ~83 % ``O``.
NER_CLASS_FREQUENCIES = np.array([0.83] + [0.17 / 8] * 8)
NER_NOISE_RATE = 0.03
NER_SEED = 20240611
#: Tokens of :func:`words`: repeats within a sentence, word pieces ("##ing") and punctuation.
VOCABULARY = ("the", "Paris", "is", "New", "York", "##ing", ".", "a")


# --------------------------------------------------------------------------------------
# Sentence lengths and offsets
# --------------------------------------------------------------------------------------


def sentence_lengths(rng: np.random.Generator, n_sentences: int, shape: str) -> np.ndarray:
    """``n_sentences`` lengths (int64, each >= 1) of one of :data:`LENGTH_SHAPES`."""
    if shape in _NEGATIVE_BINOMIAL_LENGTHS:
        nb_n, nb_mean, cap = _NEGATIVE_BINOMIAL_LENGTHS[shape]
        lengths = np.minimum(
            1 + rng.negative_binomial(nb_n, nb_n / (nb_n + nb_mean), n_sentences), cap
        )
    elif shape == "ones":
        lengths = np.ones(n_sentences, dtype=np.int64)
    elif shape == "uniform":
        lengths = rng.integers(1, 31, n_sentences)
    elif shape == "skewed":
        lengths = np.minimum(rng.geometric(0.25, n_sentences), 30)
    elif shape == "short":
        long = rng.random(n_sentences) < 0.1
        lengths = np.where(long, rng.integers(20, 31, n_sentences), rng.integers(1, 4, n_sentences))
    else:
        raise ValueError(f"shape must be one of {LENGTH_SHAPES}, got {shape!r}")
    return np.asarray(lengths, dtype=np.int64)


def offsets_from_lengths(lengths: np.ndarray) -> np.ndarray:
    """CSR offsets (int64, ``len(lengths) + 1``, starting at 0) of sentence lengths."""
    offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    return offsets


def offsets_for_tokens(rng: np.random.Generator, n_tokens: int, shape: str) -> np.ndarray:
    """Offsets of exactly ``n_tokens`` tokens: lengths of ``shape``, the last sentence trimmed."""
    mean = _NEGATIVE_BINOMIAL_LENGTHS.get(shape, (0, 14.0, 0))[1] + 1
    batch = int(n_tokens / mean * 1.3) + 16
    ends = np.cumsum(sentence_lengths(rng, batch, shape))
    while ends[-1] < n_tokens:  # rare: draw more sentences
        ends = np.concatenate([ends, ends[-1] + np.cumsum(sentence_lengths(rng, batch, shape))])
    n_sentences = int(np.searchsorted(ends, n_tokens)) + 1
    offsets = np.zeros(n_sentences + 1, dtype=np.int64)
    offsets[1:] = ends[:n_sentences]
    offsets[-1] = n_tokens
    return offsets


# --------------------------------------------------------------------------------------
# Probabilities and labels
# --------------------------------------------------------------------------------------


def token_probabilities(
    rng: np.random.Generator,
    true: np.ndarray,
    K: int,
    boost: Callable[[np.random.Generator, int], np.ndarray],
) -> np.ndarray:
    """Softmax of ``N(0, 1)`` logits with ``boost(rng, T)`` added on each token's true class."""
    n = len(true)
    logits = rng.normal(0.0, 1.0, (n, K))
    logits[np.arange(n), true] += boost(rng, n)
    logits -= logits.max(axis=1, keepdims=True)
    probs = np.exp(logits)
    probs /= probs.sum(axis=1, keepdims=True)
    return probs


def span_probabilities(rng: np.random.Generator, in_span: np.ndarray) -> np.ndarray:
    """A tagger's ``p(token in span)``: ``Beta(8, 2)`` on span tokens, ``Beta(1, 12)`` elsewhere."""
    n = len(in_span)
    return np.where(in_span, rng.beta(8.0, 2.0, n), rng.beta(1.0, 12.0, n))


def with_ties(
    rng: np.random.Generator, probs: np.ndarray, true: np.ndarray, ties: str, decimals: int
) -> tuple[np.ndarray, np.ndarray]:
    """``(probs, true)`` with ties planted: ``'round'`` to ``decimals``, ``'dup_rows'`` from a pool."""
    if ties == "dup_rows":
        n = len(true)
        pool = int(rng.integers(1, max(1, n // 3) + 1))
        pick = rng.integers(0, pool, n)
        return probs[pick], true[pick]
    if ties == "round":
        return np.round(probs, decimals), true
    if ties != "none":
        raise ValueError(f"ties must be one of {TIE_MODES}, got {ties!r}")
    return probs, true


def noisy_labels(rng: np.random.Generator, true: np.ndarray, K: int, noise: float) -> np.ndarray:
    """``true`` with a fraction ``noise`` of the tokens given a uniformly random class."""
    n = len(true)
    flip = rng.random(n) < noise
    return np.where(flip, rng.integers(0, K, n), true).astype(np.int64)


# --------------------------------------------------------------------------------------
# One dataset
# --------------------------------------------------------------------------------------


class Dataset:
    """One dataset, flat: ``flat_labels`` (T,), ``flat_probs`` (T, K) or (T,) for span
    data (the span class's probability, K = 2), ``offsets`` (S + 1,); ``description``
    is the recipe that :func:`make_dataset` rebuilds it from."""

    # Not a dataclass: hypothesis pretty-prints dataclasses field by field (whole
    # arrays); this way failure reports show the short recipe from __repr__.
    def __init__(
        self,
        flat_labels: np.ndarray,
        flat_probs: np.ndarray,
        offsets: np.ndarray,
        K: int,
        description: dict | None = None,
    ):
        self.flat_labels = flat_labels
        self.flat_probs = flat_probs
        self.offsets = offsets
        self.K = K
        self.description = description or {}

    def __repr__(self) -> str:
        return f"{type(self).__name__}.from_description({self.description!r})"

    @classmethod
    def from_description(cls, description: dict) -> Dataset:
        """Rebuild a dataset from its ``description`` (as printed in failure reports)."""
        params = {k: v for k, v in description.items() if k not in ("n_tokens", "span")}
        data = cls._from(make_dataset(**params))
        return data.as_span() if description.get("span") else data

    @classmethod
    def _from(cls, data: Dataset) -> Dataset:
        return cls(data.flat_labels, data.flat_probs, data.offsets, data.K, data.description)

    def as_span(self) -> Dataset:
        """Span data: the class-1 probability of K = 2 token data."""
        assert self.K == 2
        return type(self)(
            self.flat_labels,
            np.ascontiguousarray(self.flat_probs[:, 1]),
            self.offsets,
            2,
            self.description | {"span": True},
        )

    @property
    def n_sentences(self) -> int:
        return len(self.offsets) - 1

    @property
    def n_tokens(self) -> int:
        return int(self.offsets[-1])

    @property
    def dtype(self) -> np.dtype:
        return self.flat_probs.dtype

    @property
    def is_span(self) -> bool:
        return self.flat_probs.ndim == 1

    @property
    def seed(self) -> int:
        return int(self.description.get("seed", 0))

    def labels_nested(self) -> list[list[int]]:
        """Labels as nested lists of Python ints (cleanlab's usual input)."""
        return nested_labels(self.flat_labels, self.offsets)

    def labels_np(self) -> list[np.ndarray]:
        """Labels as a list of per-sentence int64 arrays."""
        return split(self.flat_labels, self.offsets)

    def probs_list(self) -> list[np.ndarray]:
        """Probabilities as a list of per-sentence arrays (each its own allocation)."""
        return split(self.flat_probs, self.offsets)

    def token_flat_probs(self) -> np.ndarray:
        """(T, K) probabilities exactly as cleanlab builds them (span: ``[1 - p, p]``)."""
        if self.is_span:
            return np.stack([1 - self.flat_probs, self.flat_probs], axis=1)
        return self.flat_probs

    def n_distinct_labels(self) -> int:
        return len(np.unique(self.flat_labels))

    def cleanlab_accepts_labels(self) -> bool:
        """cleanlab refuses labels with a single distinct class (unless it is class 0
        given as Python ints); the oracle comparisons keep to >= 2 classes."""
        return self.n_distinct_labels() >= 2

    def tokens(self, seed: int | None = None) -> list[list[str]]:
        """Token strings from :data:`VOCABULARY` (repeats inside a sentence)."""
        rng = np.random.default_rng(self.seed if seed is None else seed)
        return split_words(words(rng, self.n_tokens), self.offsets)

    def flat_index(self, i: int, j: int) -> int:
        return int(self.offsets[i]) + j


def make_dataset(
    *,
    seed: int,
    n_sentences: int,
    length_mode: str = "sentences",
    K: int = 2,
    noise: float = 0.05,
    sharpness: float = 3.0,
    class_skew: float = 1.0,
    tie_mode: str = "none",
    decimals: int = 2,
    dtype: str = "float64",
    class_mode: str = "free",
) -> Dataset:
    """Token classification data with every knob exposed (span data: ``.as_span()`` of K = 2).

    * lengths: ``length_mode``, one of :data:`LENGTH_SHAPES`;
    * true classes drawn from a ``Dirichlet(class_skew)`` prior (small: skewed);
    * probabilities: :func:`token_probabilities` with a ``sharpness * U(0, 2)`` boost;
    * ``tie_mode``: one of :data:`TIE_MODES` (see :func:`with_ties`);
    * labels: the true class, replaced by a random class with probability ``noise``;
    * ``class_mode='all_twice'``: every class is given at least twice (when there are
      enough tokens); ``'free'``: classes may be missing (but >= 2 distinct labels).

    Examples
    --------
    >>> data = make_dataset(seed=0, n_sentences=50, tie_mode="round", decimals=1)
    >>> len(np.unique(data.flat_probs)) <= 11
    True
    """
    rng = np.random.default_rng(seed)
    offsets = offsets_from_lengths(sentence_lengths(rng, n_sentences, _shape(length_mode)))
    n = int(offsets[-1])
    prior = rng.dirichlet(np.full(K, class_skew))
    true = rng.choice(K, size=n, p=prior)
    probs = token_probabilities(rng, true, K, lambda rng, n: sharpness * rng.random(n) * 2)
    probs, true = with_ties(rng, probs, true, tie_mode, decimals)
    labels = noisy_labels(rng, true, K, noise)

    if class_mode == "all_twice" and n >= 2 * K:
        for k in range(K):
            while np.count_nonzero(labels == k) < 2:
                counts = np.bincount(labels, minlength=K)
                candidates = np.flatnonzero(counts[labels] > 2)
                if len(candidates) == 0:
                    break
                labels[rng.choice(candidates)] = k
    elif n >= 2 and len(np.unique(labels)) < 2:
        labels[int(rng.integers(0, n))] = (labels[0] + 1) % K

    description = dict(
        seed=seed,
        n_sentences=n_sentences,
        n_tokens=n,
        length_mode=length_mode,
        K=K,
        noise=noise,
        sharpness=sharpness,
        class_skew=class_skew,
        tie_mode=tie_mode,
        decimals=decimals,
        dtype=dtype,
        class_mode=class_mode,
    )
    return Dataset(labels, probs.astype(dtype), offsets, K, description)


def _shape(length_mode: str) -> str:
    return "short" if length_mode == "mixed" else length_mode  # "mixed": the old name


def ner_arrays(
    n_tokens: int, shape: str, seed: int = NER_SEED, dtype: str = "float64"
) -> dict[str, np.ndarray]:
    """The asv benchmarks' NER-like dataset of exactly ``n_tokens`` tokens, flat.

    Span (K = 2): ~15 % of tokens are in a span, :func:`span_probabilities`, 3 % of
    labels flipped. Token (K = 9, CoNLL BIO tags, :data:`NER_CLASS_FREQUENCIES`):
    :func:`token_probabilities` with a ``N(4, 1.5)`` boost, 3 % of labels replaced by
    another tag. Returns ``offsets``, ``span_labels``, ``span_probs``, ``token_labels``
    and ``token_probs``.

    Examples
    --------
    >>> arrays = ner_arrays(1000, "documents")
    >>> int(arrays["offsets"][-1]), arrays["token_probs"].shape
    (1000, (1000, 9))
    """
    rng = np.random.default_rng([seed, n_tokens, LENGTH_SHAPES.index(shape)])
    offsets = offsets_for_tokens(rng, n_tokens, shape)

    in_span = rng.random(n_tokens) < 0.15
    span_probs = span_probabilities(rng, in_span)
    span_labels = in_span.astype(np.int64)
    flipped = rng.random(n_tokens) < NER_NOISE_RATE
    span_labels[flipped] = 1 - span_labels[flipped]

    K = len(NER_CLASS_FREQUENCIES)
    true_tags = rng.choice(K, size=n_tokens, p=NER_CLASS_FREQUENCIES)
    token_probs = token_probabilities(rng, true_tags, K, lambda rng, n: rng.normal(4.0, 1.5, n))
    token_labels = true_tags.astype(np.int64)
    relabelled = rng.random(n_tokens) < NER_NOISE_RATE
    token_labels[relabelled] = (
        token_labels[relabelled] + rng.integers(1, K, int(relabelled.sum()))
    ) % K
    return {
        "offsets": offsets,
        "span_labels": span_labels,
        "span_probs": span_probs.astype(dtype),
        "token_labels": token_labels,
        "token_probs": token_probs.astype(dtype),
    }


# --------------------------------------------------------------------------------------
# cleanlab's form: per-sentence lists
# --------------------------------------------------------------------------------------


def split(values: np.ndarray, offsets: np.ndarray) -> list[np.ndarray]:
    """Per-sentence copies of flat ``values`` (each its own allocation, as a model loop makes)."""
    return (
        [sentence.copy() for sentence in np.split(values, offsets[1:-1])]
        if len(offsets) > 1
        else []
    )


def nested_labels(labels: np.ndarray, offsets: np.ndarray) -> list[list[int]]:
    """Per-sentence lists of Python ints."""
    flat = labels.tolist()
    return [flat[a:b] for a, b in zip(offsets[:-1].tolist(), offsets[1:].tolist())]


def to_lists(offsets: np.ndarray, labels: np.ndarray, probs: np.ndarray) -> tuple[list, list]:
    """cleanlab-style input: nested lists of Python ints and a list of per-sentence arrays."""
    return nested_labels(labels, offsets), split(probs, offsets)


def words(rng: np.random.Generator, n_tokens: int) -> list[str]:
    """``n_tokens`` token strings drawn from :data:`VOCABULARY`."""
    return np.array(VOCABULARY)[rng.integers(0, len(VOCABULARY), n_tokens)].tolist()


def split_words(flat_words: list[str], offsets: np.ndarray) -> list[list[str]]:
    return [flat_words[a:b] for a, b in zip(offsets[:-1].tolist(), offsets[1:].tolist())]
