"""Make a large span dataset as Parquet and scan it out of core, reporting time and peak RSS.

    python tools/out_of_core.py make  DATA_DIR --tokens 50_000_000
    python tools/out_of_core.py scan  DATA_DIR [--batch-rows 65536]

``make`` writes files of about 1M tokens each, drawn by
:mod:`spanfast.testing.data` like the asv benchmarks' span data (sentence lengths
like NER data: mean about 14, long tail; ~15 % span tokens, 3 % of labels
flipped) with float32 probabilities; it never holds more than one file's worth in
memory.
``scan`` runs :func:`spanfast.streaming.find_label_issues_parquet` and prints
the wall time, the number of issues and the process's peak RSS (ru_maxrss).
"""

from __future__ import annotations

import argparse
import os
import resource
import time

import numpy as np

from spanfast.testing import data


def make(directory: str, n_tokens: int, seed: int = 0) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    os.makedirs(directory, exist_ok=True)
    rng = np.random.default_rng(seed)
    written = part = 0
    while written < n_tokens:
        lengths = data.sentence_lengths(rng, 75_000, "sentences")
        lengths = lengths[np.cumsum(lengths) <= n_tokens - written]
        if lengths.size == 0:
            lengths = np.array([n_tokens - written])
        offsets = data.offsets_from_lengths(lengths).astype(np.int32)
        T = int(offsets[-1])
        truth = rng.random(T) < 0.15
        probs = data.span_probabilities(rng, truth).astype(np.float32)
        labels = truth.copy()
        flipped = rng.random(T) < data.NER_NOISE_RATE
        labels[flipped] = ~labels[flipped]
        table = pa.table(
            {
                "labels": pa.ListArray.from_arrays(offsets, pa.array(labels.astype(np.int8))),
                "probs": pa.ListArray.from_arrays(offsets, pa.array(probs)),
            }
        )
        pq.write_table(table, os.path.join(directory, f"part-{part:04d}.parquet"))
        written += T
        part += 1
    print(f"wrote {written:,} tokens in {part} files to {directory}")


def scan(directory: str, batch_rows: int) -> None:
    from spanfast.streaming import find_label_issues_parquet

    start = time.perf_counter()
    issues = find_label_issues_parquet(
        directory, labels="labels", probs="probs", batch_size=batch_rows
    )
    elapsed = time.perf_counter() - start
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"issues found: {len(issues):,}")
    print(f"wall time: {elapsed:.1f} s (batch of {batch_rows:,} sentences)")
    print(f"peak RSS: {peak_mib:,.0f} MiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    make_parser = commands.add_parser("make")
    make_parser.add_argument("directory")
    make_parser.add_argument("--tokens", type=lambda s: int(s.replace("_", "")), default=50_000_000)
    scan_parser = commands.add_parser("scan")
    scan_parser.add_argument("directory")
    scan_parser.add_argument("--batch-rows", type=int, default=65_536)
    args = parser.parse_args()
    if args.command == "make":
        make(args.directory, args.tokens)
    else:
        scan(args.directory, args.batch_rows)


if __name__ == "__main__":
    main()
