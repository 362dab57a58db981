"""Where the warm path's milliseconds go, stage by stage, against the bandwidth floor.

    python tools/warm_profile.py [--tokens 1_000_000] [--repeats 15] [--kind span|token]

Times, on one thread (``n_jobs=1``; min of ``--repeats`` calls, so a loaded machine
inflates the figures less), each stage find_label_issues goes through on the
benchmarks' data (``spanfast.testing.data.ner_arrays``, sentences shape, float64
probabilities, int64 labels): the conversion of cleanlab's list input, the input
checks, every pass of the prune_by_noise_rate plan, the ranking and the result
tuples; then the whole calls (list and Ragged input, every core) and the floors:
the conversion floor (``np.fromiter`` of the labels + ``np.concatenate`` of the
probabilities + the offsets, what ``conversion.ListsToFlatArrays`` times) and the
bandwidth floor (one compiled pass reading the probabilities and the labels once,
``spanfast.testing.floors.read_once``, what ``conversion.ReadOnce`` times).
"""

from __future__ import annotations

import argparse
import itertools
import os
import time

os.environ.setdefault("SPANFAST_INTERPRET_BELOW", "0")

import numpy as np  # noqa: E402

from spanfast import Ragged, _counts, _cuts  # noqa: E402
from spanfast._input import checked  # noqa: E402
from spanfast._kernels import checks, selection, thresholds  # noqa: E402
from spanfast._kernels.confident_joint import confident_joint  # noqa: E402
from spanfast._kernels.running_sum import RunningSums  # noqa: E402
from spanfast._positions import order_by_score, sentence_and_token  # noqa: E402
from spanfast._scoring import token_scores  # noqa: E402
from spanfast._sentences import _issue_tuples  # noqa: E402
from spanfast.options import FLOATING_POINT_COMPARISON  # noqa: E402
from spanfast.span_classification import find_label_issues as span_find  # noqa: E402
from spanfast.span_classification import get_label_quality_scores as span_scores  # noqa: E402
from spanfast.testing.data import ner_arrays, to_lists  # noqa: E402
from spanfast.testing.floors import read_once  # noqa: E402
from spanfast.token_classification.filter import find_label_issues as token_find  # noqa: E402


def _best(function, repeats: int) -> float:
    function()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return 1000 * min(times)


def stages(kind: str, arrays: dict, repeats: int) -> list[tuple[str, float]]:
    """(stage, ms) of find_label_issues on ``kind`` data, one thread, in call order."""
    offsets = arrays["offsets"]
    labels64, probs = arrays[f"{kind}_labels"], arrays[f"{kind}_probs"]
    list_labels, list_probs = to_lists(offsets, labels64, probs)
    K = 2 if probs.ndim == 1 else probs.shape[1]
    low, high = checked.VALID_RANGE
    labels = np.empty(labels64.shape[0], checked.compact_label_type(K))
    checks.narrow_labels(labels64, K, labels)
    counts = thresholds.class_counts(labels, K)
    margin = probs.dtype.type(FLOATING_POINT_COMPARISON)

    def sums():
        running = RunningSums(counts, probs.dtype)
        running.add_batch(probs, labels)
        return running

    margin_thresholds = (
        _counts.thresholds_from_means(sums().means(), counts) - FLOATING_POINT_COMPARISON
    )
    by_guess, _ = confident_joint(probs, labels, margin_thresholds)
    joint = _counts.joint_from_counts(by_guess, counts)
    pruned = _counts.prune_counts(joint, counts, 1, 1.0, None, "position")
    applied = _counts.applied_classes(counts, 1, "prune_by_noise_rate")
    candidates = selection.noise_rate_candidates(probs, labels, margin)
    cuts = _cuts.restricted_noise_rate(
        _cuts.Cuts.noise_rate(pruned, counts, applied), candidates
    ) or _cuts.Cuts.noise_rate(pruned, counts, applied)
    kept = _cuts.kept_positions(cuts, probs, labels)
    matches = selection.prediction_matches_label(probs[kept], labels[kept], margin)
    positions = kept[~matches]
    scores = token_scores(labels, probs, "self_confidence", positions=positions)
    ranked = order_by_score(positions, scores)
    located = sentence_and_token(offsets, ranked)
    n = int(offsets[-1])
    return [
        (
            "lists: labels (as_labels)",
            _best(lambda: checked.as_labels(list_labels), repeats),
        ),
        (
            "lists: probabilities (as_probabilities, no value check)",
            _best(
                lambda: checked.as_probabilities(list_probs, span=None, check_values=False),
                repeats,
            ),
        ),
        ("check: offsets", _best(lambda: checks.first_decreasing_offset(offsets), repeats)),
        (
            "check: probability values",
            _best(lambda: checks.count_invalid_probabilities(probs, low, high), repeats),
        ),
        (
            "check: narrow int64 labels (Ragged input)",
            _best(lambda: checks.narrow_labels(labels64, K, labels), repeats),
        ),
        ("pass: class counts", _best(lambda: thresholds.class_counts(labels, K), repeats)),
        ("pass: class sums (thresholds)", _best(sums, repeats)),
        (
            "pass: confident joint",
            _best(lambda: confident_joint(probs, labels, margin_thresholds), repeats),
        ),
        (
            "pass: noise-rate candidates",
            _best(lambda: selection.noise_rate_candidates(probs, labels, margin), repeats),
        ),
        (
            f"cuts on {cuts.entries.shape[0] if cuts.entries is not None else n} entries",
            _best(lambda: _cuts.kept_positions(cuts, probs, labels), repeats),
        ),
        (
            "reduce + scores of the issues + rank",
            _best(
                lambda: order_by_score(
                    positions, token_scores(labels, probs, "self_confidence", positions=positions)
                ),
                repeats,
            ),
        ),
        (
            f"(sentence, token) of {ranked.shape[0]} issues + tuples",
            _best(lambda: _issue_tuples(*sentence_and_token(offsets, ranked)), repeats),
        ),
        (
            "floor: fromiter labels + concatenate probabilities + offsets",
            _best(
                lambda: (
                    np.fromiter(itertools.chain.from_iterable(list_labels), np.int64, count=n),
                    np.concatenate(list_probs),
                    np.cumsum(np.fromiter(map(len, list_labels), np.int64)),
                ),
                repeats,
            ),
        ),
        (
            "floor: one pass reading probabilities + int64 labels",
            _best(lambda: read_once(probs, labels64), repeats),
        ),
        (
            "floor: one pass reading probabilities + narrow labels",
            _best(lambda: read_once(probs, labels), repeats),
        ),
    ] + _whole_calls(kind, offsets, labels64, probs, list_labels, list_probs, repeats, located)


def _whole_calls(kind, offsets, labels, probs, list_labels, list_probs, repeats, _):
    def ragged():
        return Ragged(labels, offsets), Ragged(probs, offsets)

    if kind == "span":
        return [
            (
                "CALL find_label_issues, lists",
                _best(lambda: span_find(list_labels, list_probs), repeats),
            ),
            ("CALL find_label_issues, Ragged", _best(lambda: span_find(*ragged()), repeats)),
            (
                "CALL scores (min), lists",
                _best(lambda: span_scores(list_labels, list_probs), repeats),
            ),
            ("CALL scores (min), Ragged", _best(lambda: span_scores(*ragged()), repeats)),
        ]
    return [
        (
            "CALL find_label_issues, lists",
            _best(lambda: token_find(list_labels, list_probs), repeats),
        ),
        ("CALL find_label_issues, Ragged", _best(lambda: token_find(*ragged()), repeats)),
        (
            "CALL find_label_issues, Ragged, n_jobs=1",
            _best(lambda: token_find(*ragged(), n_jobs=1), repeats),
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=lambda s: int(s.replace("_", "")), default=1_000_000)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--kind", choices=("span", "token"), action="append")
    args = parser.parse_args()
    arrays = ner_arrays(args.tokens, "sentences")
    print(f"load: {os.getloadavg()[0]:.2f}; {args.tokens:,} tokens, min of {args.repeats}, ms")
    for kind in args.kind or ("span", "token"):
        print(f"\n{kind}")
        for stage, ms in stages(kind, arrays, args.repeats):
            print(f"  {stage:62s} {ms:8.2f}")
    print(f"load: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
