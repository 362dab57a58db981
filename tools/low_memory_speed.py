"""The in-memory ``low_memory=True`` path, timed: checked data in, issue positions out.

    python tools/low_memory_speed.py [--tokens 1_000_000] [--repeats 15] [--n-jobs N]

Times :func:`spanfast.core._find_low_memory` (what ``low_memory=True`` of the token
filter and of :func:`spanfast.results.find_issues` runs once the input is checked) on
the asv benchmarks' NER-like data (:func:`spanfast.testing.data.ner_arrays`), K = 9
token data and span data, float32 and float64, after one warm-up call. Prints the
median and the fastest wall time of ``--repeats`` calls (every core allowed, or
``--n-jobs`` threads where the version takes ``n_jobs``), the median CPU time of the
process (every thread's: the work done, less sensitive to a shared machine than the
wall time) and the number of issues (so two versions can be seen to agree). The
machine's load average is printed too: on a shared machine, compare runs made side
by side.
"""

from __future__ import annotations

import argparse
import inspect
import os
import time

import numpy as np

from spanfast import core
from spanfast._input.checked import checked_flat
from spanfast.testing.data import ner_arrays


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=lambda s: int(s.replace("_", "")), default=1_000_000)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--n-jobs", type=int, default=None, help="threads (default: every core)")
    args = parser.parse_args()
    takes_n_jobs = "n_jobs" in inspect.signature(core._find_low_memory).parameters
    options = {"n_jobs": args.n_jobs} if takes_n_jobs and args.n_jobs else {}
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    for dtype in ("float32", "float64"):
        arrays = ner_arrays(args.tokens, "sentences", dtype=dtype)
        for kind in ("token", "span"):
            data = checked_flat(arrays[f"{kind}_labels"], arrays[f"{kind}_probs"])
            positions = core._find_low_memory(data, "self_confidence", **options)  # compiles
            times, cpu = [], []
            for _ in range(args.repeats):
                start, start_cpu = time.perf_counter(), time.process_time()
                core._find_low_memory(data, "self_confidence", **options)
                times.append(time.perf_counter() - start)
                cpu.append(time.process_time() - start_cpu)
            print(
                f"{kind:5s} {dtype}  {args.tokens:,} tokens: median {np.median(times) * 1e3:7.2f} ms"
                f"  min {min(times) * 1e3:7.2f} ms  cpu {np.median(cpu) * 1e3:7.2f} ms"
                f"  ({positions.shape[0]} issues)"
            )
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
