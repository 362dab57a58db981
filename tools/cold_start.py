"""Start-up side by side: import + first find_label_issues in a fresh process, empty cache.

    python tools/cold_start.py [--samples 3] [--sentences 700]

Each sample is a new Python process with an empty ``NUMBA_CACHE_DIR``; the data
(~10K tokens of nested lists, cleanlab's input) is built before the clock starts,
and the time printed is the library's import plus its first call (span, and token
with K = 9), then a second token call with float32 probabilities. spanfast is
imported from this checkout.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

SETUP = """
import numpy as np, time
rng = np.random.default_rng(0)
lengths = rng.integers(5, 25, {sentences})
span_probs = [rng.random(n) for n in lengths]
span_labels = [((p > 0.5) ^ (rng.random(len(p)) < 0.05)).astype(int).tolist() for p in span_probs]
token_probs = [rng.dirichlet(np.ones(9) * 0.3, n) for n in lengths]
token_labels = [
    np.where(rng.random(len(p)) < 0.05, rng.integers(0, 9, len(p)), p.argmax(1)).tolist()
    for p in token_probs
]
start = time.perf_counter()
"""

MODULES = {
    "spanfast": ("spanfast.span_classification", "spanfast.token_classification.filter"),
    "cleanlab": (
        "cleanlab.experimental.span_classification",
        "cleanlab.token_classification.filter",
    ),
}

CALLS = {
    "span": "from {span} import find_label_issues\nfind_label_issues(span_labels, span_probs)",
    "token": "from {token} import find_label_issues\nfind_label_issues(token_labels, token_probs)",
    "second dtype": (
        "from {token} import find_label_issues\nfind_label_issues(token_labels, token_probs)\n"
        "start = time.perf_counter()\n"
        "find_label_issues(token_labels, [p.astype(np.float32) for p in token_probs])"
    ),
}


def sample(library: str, call: str, sentences: int) -> float:
    span, token = MODULES[library]
    code = SETUP.format(sentences=sentences) + CALLS[call].format(span=span, token=token)
    code += "\nprint(time.perf_counter() - start)"
    checkout = str(Path(__file__).resolve().parents[1])
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache, PYTHONPATH=checkout)
        env.pop("SPANFAST_INTERPRET_BELOW", None)  # what a user has
        run = subprocess.run(
            [sys.executable, "-W", "ignore", "-c", code],
            env=env,
            cwd=cache,
            capture_output=True,
            text=True,
            check=True,
        )
    return float(run.stdout.split()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=3)
    parser.add_argument("--sentences", type=int, default=700)
    args = parser.parse_args()
    print(f"{'call':<14} {'spanfast':>22} {'cleanlab':>22}   (seconds: median [samples])")
    for call in CALLS:
        cells = []
        for library in MODULES:
            times = [sample(library, call, args.sentences) for _ in range(args.samples)]
            shown = " ".join(f"{t:.2f}" for t in times)
            cells.append(f"{statistics.median(times):.2f} [{shown}]")
        print(f"{call:<14} {cells[0]:>22} {cells[1]:>22}")


if __name__ == "__main__":
    main()
