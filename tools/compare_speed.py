"""Time the main operations of two spanfast checkouts side by side, at 1M tokens.

    python tools/compare_speed.py OLD_CHECKOUT NEW_CHECKOUT [--rounds 3]

Each checkout is imported in its own subprocess (PYTHONPATH), with its own empty
kernel cache (compiled once, before timing); the processes alternate, round
after round, so that a drift of the machine's speed hits both alike. Prints the
median of every round's median-of-7 per operation, in milliseconds. Data: 1M
tokens in sentences of NER-like lengths (mean 14), span probabilities and K = 9
class probabilities, 10% of the labels flipped, a fixed seed.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile

WORKER = r"""
import json, sys, time
import numpy as np
import spanfast
from spanfast import Ragged
from spanfast.token_classification.filter import find_label_issues as token_find
from spanfast.results import find_issues

rng = np.random.default_rng(0)
lengths = np.clip(rng.geometric(1 / 14, 80_000), 1, 200)
lengths = lengths[: np.searchsorted(np.cumsum(lengths), 1_000_000)]
offsets = np.concatenate([[0], np.cumsum(lengths)])
T = int(offsets[-1])
span_p = rng.beta(0.5, 2, T)
span_y = (span_p > 0.5).astype(np.int64)
flip = rng.random(T) < 0.1
span_y[flip] = 1 - span_y[flip]
K = 9
logits = rng.normal(size=(T, K)) * 2
token_p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
token_y = token_p.argmax(axis=1)
token_y[flip] = rng.integers(0, K, int(flip.sum()))
cuts = offsets[1:-1]
span_labels = [s.tolist() for s in np.split(span_y, cuts)]
span_probs = np.split(span_p, cuts)
token_labels = [s.tolist() for s in np.split(token_y, cuts)]
token_probs = np.split(token_p, cuts)
ragged = lambda v: Ragged(v, offsets)
operations = {
    "span find_label_issues, list": lambda: spanfast.find_label_issues(span_labels, span_probs),
    "span find_label_issues, Ragged": lambda: spanfast.find_label_issues(ragged(span_y), ragged(span_p)),
    "span get_label_quality_scores, Ragged": lambda: spanfast.get_label_quality_scores(ragged(span_y), ragged(span_p)),
    "span find_issues, Ragged": lambda: find_issues(ragged(span_y), ragged(span_p)),
    "token find_label_issues K=9, list": lambda: token_find(token_labels, token_probs),
    "token find_label_issues K=9, Ragged": lambda: token_find(ragged(token_y), ragged(token_p)),
}
import warnings
warnings.simplefilter("ignore")
result = {}
for name, run in operations.items():
    run()  # compile / warm
    times = []
    for _ in range(7):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    result[name] = sorted(times)[3] * 1000
print(json.dumps(result))
"""


def main() -> None:
    old, new = sys.argv[1], sys.argv[2]
    rounds = int(sys.argv[sys.argv.index("--rounds") + 1]) if "--rounds" in sys.argv else 3
    caches = {path: tempfile.mkdtemp(prefix="spanfast-cache-") for path in (old, new)}
    medians: dict[str, dict[str, list[float]]] = {old: {}, new: {}}
    for _ in range(rounds):
        for path in (old, new):
            env = dict(os.environ, PYTHONPATH=os.path.abspath(path), NUMBA_CACHE_DIR=caches[path])
            output = subprocess.run(
                [sys.executable, "-c", WORKER], env=env, capture_output=True, text=True, check=True
            ).stdout
            for name, ms in json.loads(output.splitlines()[-1]).items():
                medians[path].setdefault(name, []).append(ms)
    print(f"| operation (median ms, {rounds} rounds x 7) | {old} | {new} | new / old |")
    print("|---|---:|---:|---:|")
    for name in medians[old]:
        a = statistics.median(medians[old][name])
        b = statistics.median(medians[new][name])
        print(f"| {name} | {a:.1f} | {b:.1f} | {b / a:.2f} |")


if __name__ == "__main__":
    main()
