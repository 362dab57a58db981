"""The review outputs at scale: the HTML report and the annotation-tool exports.

The data is :func:`spanfast.testing.data.ner_arrays` (span data, ``sentences``
shape) with :func:`spanfast.testing.data.words` as the token text, and the
issues are planted rather than found, so that their number is exact: 100K
issues at distinct tokens of 1M tokens for the report (about 60K flagged
sentences, several issues in some), one issue in each of 100K sentences for
the exports. The targets (issue 14): the report written in <= 3 s and <= ~50 MB
(``track_report_megabytes``), each export of 100K sentences in <= 3 s.
Time-to-interactive in a browser is measured by ``tools/report_bench.py``.
"""

from __future__ import annotations

import os
import tempfile

import numpy as np

from spanfast.ragged import Ragged
from spanfast.results import LabelIssues
from spanfast.testing.data import ner_arrays, words


def review_dataset(n_tokens: int, n_issues: int, *, one_per_sentence: bool = False, seed: int = 7):
    """(issues, tokens, labels, pred_probs) with ``n_issues`` planted issues.

    ``one_per_sentence``: the issues are at one token of each of ``n_issues``
    sentences. Smaller datasets (the suite's smoke test runs every benchmark at
    10K tokens) get as many as fit: one per sentence, or one per ten tokens.
    """
    arrays = ner_arrays(n_tokens, "sentences")
    offsets = arrays["offsets"]
    rng = np.random.default_rng(seed)
    n_sentences = offsets.shape[0] - 1
    lengths = np.diff(offsets)
    if one_per_sentence:
        n_issues = min(n_issues, n_sentences)
        sentence = rng.permutation(n_sentences)[:n_issues]
        token = (rng.random(n_issues) * lengths[sentence]).astype(np.int64)
        position = offsets[sentence] + token
    else:
        n_issues = min(n_issues, n_tokens // 10)
        position = rng.choice(n_tokens, n_issues, replace=False)
        sentence = np.searchsorted(offsets, position, side="right") - 1
        token = position - offsets[sentence]
    score = np.sort(rng.random(n_issues))  # ranked: worst first
    labels, probs = arrays["span_labels"], arrays["span_probs"]
    sentence_scores = np.ones(n_sentences)
    np.minimum.at(sentence_scores, sentence, score)
    issues = LabelIssues(
        sentence=sentence.astype(np.int64),
        token=token.astype(np.int64),
        score=score,
        given_label=labels[position],
        predicted_label=1 - labels[position],
        sentence_scores=sentence_scores,
    )
    text = Ragged(np.array(words(rng, n_tokens), dtype=object), offsets)
    return issues, text, Ragged(labels, offsets), Ragged(probs, offsets)


class WriteReport:
    """spanfast.report.write_html of 100K issues over 1M tokens."""

    params = ((1_000_000,),)
    param_names = ("n_tokens",)
    number = 1
    repeat = (1, 5, 30.0)
    timeout = 300.0

    def setup(self, n_tokens):
        self.issues, self.tokens, self.labels, self.probs = review_dataset(n_tokens, 100_000)
        self.directory = tempfile.mkdtemp(prefix="spanfast-report-")
        self.out = os.path.join(self.directory, "report.html")

    def teardown(self, n_tokens):
        if os.path.exists(self.out):
            os.unlink(self.out)
        os.rmdir(self.directory)

    def time_write_html(self, n_tokens):
        from spanfast.report import write_html

        write_html(self.out, self.issues, self.tokens, labels=self.labels, pred_probs=self.probs)

    def track_report_megabytes(self, n_tokens):
        from spanfast.report import write_html

        write_html(self.out, self.issues, self.tokens, labels=self.labels, pred_probs=self.probs)
        return os.path.getsize(self.out) / 1e6

    track_report_megabytes.unit = "MB"


class WriteExport:
    """spanfast.export.write_export of 100K flagged sentences (one issue each)."""

    # ner_arrays' "sentences" shape averages ~14 tokens: 1.6M tokens make > 100K sentences
    params = (("label-studio", "prodigy", "doccano"), (1_600_000,))
    param_names = ("to", "n_tokens")
    number = 1
    repeat = (1, 5, 30.0)
    timeout = 300.0

    def setup(self, to, n_tokens):
        self.issues, self.tokens, self.labels, self.probs = review_dataset(
            n_tokens, 100_000, one_per_sentence=True
        )
        self.directory = tempfile.mkdtemp(prefix="spanfast-export-")
        self.out = os.path.join(self.directory, f"tasks.{to}")

    def teardown(self, to, n_tokens):
        if os.path.exists(self.out):
            os.unlink(self.out)
        os.rmdir(self.directory)

    def time_write_export(self, to, n_tokens):
        from spanfast.export import write_export

        write_export(
            self.out, self.issues, self.tokens, to=to, labels=self.labels, pred_probs=self.probs
        )
