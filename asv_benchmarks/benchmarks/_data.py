"""Deterministic synthetic NER-like datasets shared by every benchmark module.

Everything here is plumbing, not a benchmark: asv only collects names starting
with ``time_``, ``peakmem_``, ``timeraw_`` (or the CamelCase equivalents), so
nothing in this module is timed.

Shapes of raggedness
--------------------
``sentences``
    Sentence lengths ``1 + NegativeBinomial(n=2, mean=13)``, capped at 200:
    mean ~14 tokens with a long right tail, like CoNLL-2003 / OntoNotes.
``documents``
    Lengths ``1 + NegativeBinomial(n=8, mean=499)``, capped at 2048: ~500
    tokens per "sentence", like document-level PII tagging or extractive QA.

Every dataset has exactly ``size`` tokens (the last sentence is trimmed).

Labels and probabilities
------------------------
Span data (K = 2, one span class): ~15 % of tokens are truly in a span; the
model's probability of the span class is Beta(8, 2) on span tokens and
Beta(1, 12) elsewhere; 3 % of given labels are flipped.

Token data (K = 9, the CoNLL BIO tag set): ~83 % ``O``, the rest spread over
the eight B-/I- tags; softmax of N(0, 1) logits plus a N(4, 1.5) margin on the
true tag; 3 % of given labels are replaced by another tag at random.

Probabilities are float64 and labels int64 (what cleanlab ends up with anyway).
"""

from __future__ import annotations

import os

import numpy as np

SIZES = (10_000, 100_000, 1_000_000)
SHAPES = ("sentences", "documents")
IMPLEMENTATIONS = ("spanfast", "cleanlab")
N_TOKEN_CLASSES = 9
SEED = 20240611

_LENGTH_MODELS = {
    # shape: (negative binomial n, mean of the NB part, cap)
    "sentences": (2, 13.0, 200),
    "documents": (8, 499.0, 2048),
}
_TOKEN_CLASS_FREQUENCIES = np.array([0.83] + [0.17 / 8] * 8)
_NOISE_RATE = 0.03
_FILES = ("offsets", "span_labels", "span_probs", "token_labels", "token_probs")


def sentence_offsets(n_tokens: int, shape: str, rng: np.random.Generator) -> np.ndarray:
    """CSR offsets (int64, starting at 0, ending at ``n_tokens``) for ``shape``."""
    nb_n, nb_mean, cap = _LENGTH_MODELS[shape]
    nb_p = nb_n / (nb_n + nb_mean)
    expected_sentences = int(n_tokens / (nb_mean + 1) * 1.3) + 16
    lengths = np.minimum(1 + rng.negative_binomial(nb_n, nb_p, expected_sentences), cap)
    ends = np.cumsum(lengths)
    while ends[-1] < n_tokens:  # rare: draw more sentences
        extra = np.minimum(1 + rng.negative_binomial(nb_n, nb_p, expected_sentences), cap)
        ends = np.concatenate([ends, ends[-1] + np.cumsum(extra)])
    n_sentences = int(np.searchsorted(ends, n_tokens)) + 1
    offsets = np.zeros(n_sentences + 1, dtype=np.int64)
    offsets[1:] = ends[:n_sentences]
    offsets[-1] = n_tokens
    return offsets


def make_dataset(n_tokens: int, shape: str, seed: int = SEED) -> dict[str, np.ndarray]:
    """Flat arrays of one deterministic dataset (see the module docstring)."""
    rng = np.random.default_rng([seed, n_tokens, SHAPES.index(shape)])
    offsets = sentence_offsets(n_tokens, shape, rng)

    in_span = rng.random(n_tokens) < 0.15
    span_probs = np.where(in_span, rng.beta(8.0, 2.0, n_tokens), rng.beta(1.0, 12.0, n_tokens))
    span_labels = in_span.astype(np.int64)
    flipped = rng.random(n_tokens) < _NOISE_RATE
    span_labels[flipped] = 1 - span_labels[flipped]

    k = N_TOKEN_CLASSES
    true_tags = rng.choice(k, size=n_tokens, p=_TOKEN_CLASS_FREQUENCIES)
    logits = rng.standard_normal((n_tokens, k))
    logits[np.arange(n_tokens), true_tags] += rng.normal(4.0, 1.5, n_tokens)
    logits -= logits.max(axis=1, keepdims=True)
    token_probs = np.exp(logits)
    token_probs /= token_probs.sum(axis=1, keepdims=True)
    token_labels = true_tags.astype(np.int64)
    relabelled = rng.random(n_tokens) < _NOISE_RATE
    token_labels[relabelled] = (
        token_labels[relabelled] + rng.integers(1, k, int(relabelled.sum()))
    ) % k

    return {
        "offsets": offsets,
        "span_labels": span_labels,
        "span_probs": span_probs,
        "token_labels": token_labels,
        "token_probs": token_probs,
    }


def write_datasets(directory: str, sizes=None, shapes=SHAPES) -> dict:
    """Write every (shape, size) dataset as .npy files; return {(shape, size): {name: path}}."""
    sizes = SIZES if sizes is None else sizes
    paths = {}
    for shape in shapes:
        for size in sizes:
            arrays = make_dataset(size, shape)
            entry = {}
            for name in _FILES:
                path = os.path.abspath(os.path.join(directory, f"{shape}-{size}-{name}.npy"))
                np.save(path, arrays[name])
                entry[name] = path
            paths[(shape, size)] = entry
    return paths


def setup_cache():
    """Shared asv ``setup_cache``: every class points at this one function, so
    asv (which keys the cache by module and line) generates the data once per run.
    """
    return write_datasets(os.getcwd(), sizes=SIZES)


setup_cache.timeout = 600


def load(
    paths: dict, shape: str, size: int, kind: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(offsets, flat labels, flat probs) of ``kind`` ('span' or 'token')."""
    entry = paths[(shape, size)]
    return (
        np.load(entry["offsets"]),
        np.load(entry[f"{kind}_labels"]),
        np.load(entry[f"{kind}_probs"]),
    )


def to_lists(offsets: np.ndarray, labels: np.ndarray, probs: np.ndarray) -> tuple[list, list]:
    """cleanlab-style input: nested lists of Python ints and a list of
    per-sentence arrays (each its own allocation, as a model loop produces)."""
    cut = offsets[1:-1]
    nested_labels = [sentence.tolist() for sentence in np.split(labels, cut)]
    per_sentence_probs = [sentence.copy() for sentence in np.split(probs, cut)]
    return nested_labels, per_sentence_probs


def to_ragged(offsets: np.ndarray, labels: np.ndarray, probs: np.ndarray):
    """spanfast.Ragged pair built from the flat arrays (no per-sentence objects)."""
    import spanfast

    return spanfast.Ragged(labels, offsets), spanfast.Ragged(probs, offsets)


def tiny_lists(kind: str) -> tuple[list, list]:
    """A ~300-token dataset of the same dtypes, used in setup to compile kernels."""
    offsets, labels, probs = (
        make_dataset(300, "sentences")[name]
        for name in ("offsets", f"{kind}_labels", f"{kind}_probs")
    )
    return to_lists(offsets, labels, probs)


def tiny_ragged(kind: str):
    arrays = make_dataset(300, "sentences")
    return to_ragged(arrays["offsets"], arrays[f"{kind}_labels"], arrays[f"{kind}_probs"])
