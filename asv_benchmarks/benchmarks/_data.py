"""The benchmark datasets: :func:`spanfast.testing.data.ner_arrays`, written once per run.

Everything here is plumbing, not a benchmark: asv only collects names starting
with ``time_``, ``peakmem_``, ``timeraw_`` (or the CamelCase equivalents), so
nothing in this module is timed.

Shapes of raggedness: ``sentences`` (mean ~14 tokens, long tail, like CoNLL-2003 /
OntoNotes) and ``documents`` (~500 tokens, like document-level PII tagging); every
dataset has exactly ``size`` tokens. Span data: K = 2, ~15 % span tokens, 3 % of
labels flipped; token data: K = 9 (CoNLL BIO tags), 3 % relabelled. Probabilities
are float64 and labels int64 (what cleanlab ends up with anyway). The recipe is
documented in :mod:`spanfast.testing.data`, shared with the tests.
"""

from __future__ import annotations

import os

import numpy as np

from spanfast.testing import registry
from spanfast.testing.data import NER_SEED, Dataset, ner_arrays, to_lists  # noqa: F401
from spanfast.testing.registry import labels_and_probs  # noqa: F401


def _from_environment(name: str, default: tuple, convert=str) -> tuple:
    """A comma-separated setting of the run (the asv configurations set them, see
    asv_benchmarks/README.md), or ``default``."""
    value = os.environ.get(name, "").strip()
    return tuple(convert(v) for v in value.split(",")) if value else default


# Which libraries are timed: asv.conf.json (commit to commit) times spanfast alone,
# asv.side-by-side.conf.json both; unset (the suite's smoke test), both.
IMPLEMENTATIONS = _from_environment("SPANFAST_ASV_IMPLEMENTATIONS", registry.IMPLEMENTATIONS)
assert set(IMPLEMENTATIONS) <= set(registry.IMPLEMENTATIONS), IMPLEMENTATIONS
# Dataset sizes (tokens); SPANFAST_ASV_SIZES=10000 makes a quick smoke run.
SIZES = _from_environment("SPANFAST_ASV_SIZES", (10_000, 100_000, 1_000_000), int)
SHAPES = ("sentences", "documents")
N_TOKEN_CLASSES = 9
SEED = NER_SEED
_FILES = ("offsets", "span_labels", "span_probs", "token_labels", "token_probs")
# asv's input_format parameter -> the table's input form
INPUT_FORMS = {"list": "lists", "ragged": "ragged"}


def make_dataset(n_tokens: int, shape: str, seed: int = SEED) -> dict[str, np.ndarray]:
    """Flat arrays of one deterministic dataset (see :func:`spanfast.testing.data.ner_arrays`)."""
    return ner_arrays(n_tokens, shape, seed)


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


def as_dataset(offsets: np.ndarray, labels: np.ndarray, probs: np.ndarray) -> Dataset:
    """Flat arrays as the table's :class:`~spanfast.testing.data.Dataset`."""
    n_classes = 2 if probs.ndim == 1 else probs.shape[1]
    return Dataset(labels, probs, offsets, n_classes)


def load(paths: dict, shape: str, size: int, kind: str) -> Dataset:
    """The ``kind`` ('span' or 'token') dataset of (shape, size)."""
    entry = paths[(shape, size)]
    return as_dataset(
        np.load(entry["offsets"]), np.load(entry[f"{kind}_labels"]), np.load(entry[f"{kind}_probs"])
    )


def tiny(kind: str) -> Dataset:
    """A ~300-token dataset of the same dtypes, used in setup to compile kernels."""
    arrays = make_dataset(300, "sentences")
    return as_dataset(arrays["offsets"], arrays[f"{kind}_labels"], arrays[f"{kind}_probs"])


def inputs(dataset: Dataset, implementation: str, input_format: str) -> tuple:
    """``(labels, pred_probs)`` as ``implementation`` takes them (the table's adapter):
    nested lists of Python ints and a list of per-sentence arrays, or spanfast.Ragged."""
    if implementation == "cleanlab" and input_format == "ragged":
        raise NotImplementedError("cleanlab 2.9.0 accepts only nested lists")
    return labels_and_probs(dataset, implementation, INPUT_FORMS[input_format])


def load_read_ahead(implementation: str, input_format: str, kind: str, tiny: tuple) -> None:
    """Load (or compile) the kernels that only large inputs reach -- spanfast's read-ahead
    of lists and its halves of span arrays, from 2^18 tokens -- so that no timed or
    measured call loads them: the tiny call in setup does not reach them (a first large
    call would load them inside a ``peakmem_`` measurement: +60 MiB on span lists)."""
    if implementation != "spanfast":
        return
    if input_format == "list":
        from spanfast._read_ahead import checked_with_head

        span = kind == "span"
        checked_with_head(*tiny, noise_rate_candidates=True, n_jobs=2, span=span, min_tokens=0)
    elif kind == "span":
        from spanfast import _span_head

        _span_head.checked_with_head(*tiny, noise_rate_candidates=True, n_jobs=2, min_tokens=0)
