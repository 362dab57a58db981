"""Several span classes and span-level issues (issue 12): spanfast vs cleanlab 2.9.0.

``SeveralSpanClasses``: C = 8 span classes, ``(T, C)`` probabilities. spanfast's
multi-class ``span_classification.find_label_issues`` on Ragged input
(``implementation='spanfast'``), the same answer as 8 single-class spanfast calls on
the columns (``'spanfast_per_class'``) and as cleanlab's single-class function looped
over the 8 columns, on its input, per-sentence arrays (``'cleanlab'``).

``SpanIssues``: ``find_span_issues`` on the token benchmark's K = 9 BIO data
(:func:`spanfast.testing.data.ner_arrays`, Ragged), beside spanfast's token
``find_label_issues`` on the same data (cleanlab's is :mod:`.token`'s).

Data: :func:`span_class_arrays` — the span benchmark's recipe
(:func:`spanfast.testing.data.span_probabilities`, 3 % of labels flipped) per class,
each class in 5-30 % of the tokens, sentences of the ``sentences`` shape. Kernels are
compiled in setup (a call on a tiny dataset); peak memory as in :mod:`.memory`
(subtract ``peakmem_baseline``).
"""

import warnings

import numpy as np

from spanfast import Ragged, find_span_issues
from spanfast import span_classification as spanfast_spans
from spanfast.testing.data import (
    NER_NOISE_RATE,
    NER_SEED,
    ner_arrays,
    offsets_for_tokens,
    span_probabilities,
    split,
)
from spanfast.token_classification import filter as spanfast_filter

from .memory import reset_peak_rss

N_SPAN_CLASSES = 8
SIZES = (100_000, 1_000_000)
BIO = ["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC", "B-MISC", "I-MISC"]


def span_class_arrays(n_tokens: int, n_classes: int, seed: int = NER_SEED) -> tuple:
    """``(labels (T, C) uint8, probs (T, C) float64, offsets)`` of ``n_classes`` span
    classes, deterministic."""
    rng = np.random.default_rng([seed, n_tokens, n_classes])
    offsets = offsets_for_tokens(rng, n_tokens, "sentences")
    in_span = rng.random((n_tokens, n_classes)) < rng.uniform(0.05, 0.3, n_classes)
    probs = np.stack([span_probabilities(rng, in_span[:, c]) for c in range(n_classes)], 1)
    flipped = rng.random(in_span.shape) < NER_NOISE_RATE
    return (in_span ^ flipped).astype(np.uint8), probs, offsets


def _quietly(function):
    def call(*args):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return function(*args)

    return call


class SeveralSpanClasses:
    params = (("spanfast", "spanfast_per_class", "cleanlab"), SIZES)
    param_names = ("implementation", "n_tokens")
    number = 0
    repeat = (1, 10, 10.0)
    rounds = 2
    timeout = 600.0

    def setup(self, implementation, n_tokens):
        self.arguments = self._arguments(implementation, *span_class_arrays(n_tokens, 8))
        self.find = self._function(implementation)
        self.find(*self._arguments(implementation, *span_class_arrays(300, 8)))
        reset_peak_rss()

    @staticmethod
    def _arguments(implementation, labels, probs, offsets):
        if implementation == "spanfast":
            return Ragged(labels, offsets), Ragged(probs, offsets)
        columns = range(labels.shape[1])
        if implementation == "spanfast_per_class":
            return ([Ragged(np.ascontiguousarray(labels[:, c]), offsets) for c in columns],
                    [Ragged(probs[:, c].copy(), offsets) for c in columns])  # fmt: skip
        return ([[s.tolist() for s in split(labels[:, c], offsets)] for c in columns],
                [split(probs[:, c], offsets) for c in columns])  # fmt: skip

    @staticmethod
    def _function(implementation):
        if implementation == "spanfast":
            return _quietly(spanfast_spans.find_label_issues)
        if implementation == "spanfast_per_class":
            find = spanfast_spans.find_label_issues
        else:
            from cleanlab.experimental.span_classification import find_label_issues as find
        return _quietly(lambda labels, probs: [find(*column) for column in zip(labels, probs)])

    def time_find_label_issues(self, implementation, n_tokens):
        self.find(*self.arguments)

    def peakmem_baseline(self, implementation, n_tokens):
        pass

    def peakmem_find_label_issues(self, implementation, n_tokens):
        self.find(*self.arguments)


class SpanIssues:
    """find_span_issues beside token find_label_issues, both spanfast, on one dataset
    (cleanlab's token find_label_issues on it: :mod:`.token`'s ``FindLabelIssues`` at
    the same size, shape ``sentences``; cleanlab has no span-level issues)."""

    params = (SIZES,)
    param_names = ("n_tokens",)
    number = 0
    repeat = (1, 10, 10.0)
    rounds = 2
    timeout = 600.0

    def setup(self, n_tokens):
        self.arguments = self._arguments(ner_arrays(n_tokens, "sentences"))
        tiny = self._arguments(ner_arrays(300, "sentences"))
        spanfast_filter.find_label_issues(*tiny)
        find_span_issues(*tiny, class_names=BIO)
        reset_peak_rss()

    @staticmethod
    def _arguments(arrays):
        offsets = arrays["offsets"]
        return Ragged(arrays["token_labels"], offsets), Ragged(arrays["token_probs"], offsets)

    def time_token_find_label_issues(self, n_tokens):
        spanfast_filter.find_label_issues(*self.arguments)

    def time_find_span_issues(self, n_tokens):
        find_span_issues(*self.arguments, class_names=BIO)

    def peakmem_baseline(self, n_tokens):
        pass

    def peakmem_token_find_label_issues(self, n_tokens):
        spanfast_filter.find_label_issues(*self.arguments)

    def peakmem_find_span_issues(self, n_tokens):
        find_span_issues(*self.arguments, class_names=BIO)
