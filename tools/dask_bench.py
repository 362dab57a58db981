"""Streaming (one process) vs spanfast.dask on a LocalCluster: wall time, peak RSS, same issues.

One command::

    python tools/dask_bench.py --tokens 10_000_000 [--workers 2] [--dir DIR] [--low-memory]

makes a span dataset as a Parquet directory (tools/out_of_core.py's generator, about
one million tokens per file; reused when DIR already holds it), then runs each mode
in its own process: ``spanfast.streaming.find_label_issues_parquet`` and
``spanfast.dask.find_issues_parquet`` on a LocalCluster of N worker processes (one
thread each). Printed: wall time (the Dask one with and without starting the
cluster), peak RSS of the process that asks (the client) and of each worker
(polled with psutil every 50 ms, and the kernel's own peak, ru_maxrss, read on each
worker at the end), and whether the issues and sentence scores are identical.
Kernels come from the cache (run ``spanfast precompile`` first for a cold cache).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time

import numpy as np

_HERE = os.path.dirname(os.path.abspath(__file__))


def _make(directory: str, n_tokens: int) -> None:
    marker = os.path.join(directory, f".tokens-{n_tokens}")
    if os.path.exists(marker):
        return
    sys.path.insert(0, _HERE)
    from out_of_core import make

    make(directory, n_tokens)
    open(marker, "w").close()


def _peak_rss_mib() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


class _Poller:
    """The highest RSS seen of each child process of this one (psutil)."""

    def __init__(self) -> None:
        import psutil

        self.me, self.peaks, self.stop = psutil.Process(), {}, threading.Event()
        self.thread = threading.Thread(target=self._poll, daemon=True)
        self.thread.start()

    def _poll(self) -> None:
        import psutil

        while not self.stop.wait(0.05):
            for child in self.me.children(recursive=True):
                try:
                    rss = child.memory_info().rss
                except psutil.Error:
                    continue
                self.peaks[child.pid] = max(self.peaks.get(child.pid, 0), rss)


def _save(issues, path: str) -> None:
    columns = {f"issue_{k}": np.asarray(v) for k, v in issues.to_dict().items()}
    columns["sentence_scores"] = issues.sentence_scores
    for name in [k for k, v in columns.items() if v.dtype == object]:  # file names
        names, columns[name] = np.unique(columns.pop(name), return_inverse=True)
        columns[f"{name}_names"] = names.astype(str)  # small: one per file
    np.savez(path, **columns)


def _run_streaming(directory: str, out: str, options: dict) -> dict:
    from spanfast.streaming import find_label_issues_parquet

    started = time.perf_counter()
    issues = find_label_issues_parquet(directory, labels="labels", probs="probs", **options)
    wall = time.perf_counter() - started
    peak = _peak_rss_mib()  # before saving (which copies the results)
    _save(issues, out)
    return {"wall_s": wall, "client_peak_rss_mib": peak, "issues": len(issues)}


def _worker_peak() -> tuple:
    import psutil

    return os.getpid(), _peak_rss_mib(), psutil.Process().memory_info().rss / 2**20


def _run_dask(
    directory: str, out: str, n_workers: int, keep_mib: float | None, options: dict
) -> dict:
    from spanfast.cli._dask import client_for
    from spanfast.dask import find_issues_parquet

    if keep_mib is not None:
        options = {**options, "keep_bytes": int(keep_mib * 2**20)}
    poller = _Poller()
    started = time.perf_counter()
    with client_for(f"local:{n_workers}") as client:  # the cluster scan --dask starts
        client.wait_for_workers(n_workers)
        ready = time.perf_counter()
        issues = find_issues_parquet(directory, "labels", "probs", scheduler=client, **options)
        done = time.perf_counter()
        workers = client.run(_worker_peak)
    poller.stop.set()
    peak = _peak_rss_mib()  # before saving (which copies the results)
    _save(issues, out)
    polled = {pid: rss / 2**20 for pid, rss in poller.peaks.items()}
    return {
        "wall_s": done - ready,
        "wall_with_cluster_start_s": done - started,
        "client_peak_rss_mib": peak,
        "workers": [
            {"peak_rss_mib": peak, "polled_peak_rss_mib": polled.get(pid, float("nan"))}
            for pid, peak, _ in workers.values()
        ],
        "issues": len(issues),
    }


def _identical(a: str, b: str) -> bool:
    with np.load(a) as x, np.load(b) as y:
        if sorted(x.files) != sorted(y.files):
            return False
        return all(
            x[k].dtype == y[k].dtype
            and np.array_equal(x[k], y[k], equal_nan=x[k].dtype.kind == "f")
            for k in x.files
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=lambda s: int(s.replace("_", "")), default=10_000_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--dir", help="the Parquet directory (default: under the temp dir)")
    parser.add_argument(
        "--keep-mib", type=float, help="keep_bytes of each Dask worker, in MiB (default: its)"
    )
    parser.add_argument(
        "--low-memory", action="store_true", help="low_memory=True (cleanlab's batched path)"
    )
    parser.add_argument("--mode", choices=["streaming", "dask"], help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    directory = args.dir or os.path.join(tempfile.gettempdir(), f"spanfast-bench-{args.tokens}")
    options = {"low_memory": True} if args.low_memory else {}
    if args.mode == "streaming":
        print(json.dumps(_run_streaming(directory, args.out, options)))
        return
    if args.mode == "dask":
        print(json.dumps(_run_dask(directory, args.out, args.workers, args.keep_mib, options)))
        return
    _make(directory, args.tokens)
    results = {}
    with tempfile.TemporaryDirectory() as scratch:
        for mode in ("streaming", "dask"):
            out = os.path.join(scratch, f"{mode}.npz")
            command = [sys.executable, __file__, "--mode", mode, "--out", out, "--dir", directory]
            command += ["--tokens", str(args.tokens), "--workers", str(args.workers)]
            if args.keep_mib is not None:
                command += ["--keep-mib", str(args.keep_mib)]
            command += ["--low-memory"] if args.low_memory else []
            done = subprocess.run(command, check=True, capture_output=True, text=True)
            results[mode] = json.loads(done.stdout.strip().splitlines()[-1])
        same = _identical(*(os.path.join(scratch, f"{m}.npz") for m in ("streaming", "dask")))
    stream, dask = results["streaming"], results["dask"]
    print(
        f"{args.tokens:,} span tokens in {directory}" + (", low_memory" if args.low_memory else "")
    )
    print(
        f"streaming, 1 process: {stream['wall_s']:.1f} s, "
        f"peak RSS {stream['client_peak_rss_mib']:.0f} MiB, {stream['issues']:,} issues"
    )
    print(
        f"dask, {args.workers} workers: {dask['wall_s']:.1f} s "
        f"({dask['wall_with_cluster_start_s']:.1f} s with cluster start, "
        f"{dask['wall_s'] / stream['wall_s']:.2f}x streaming), "
        f"client peak RSS {dask['client_peak_rss_mib']:.0f} MiB, {dask['issues']:,} issues"
    )
    for n, worker in enumerate(dask["workers"]):
        print(
            f"  worker {n}: peak RSS {worker['peak_rss_mib']:.0f} MiB "
            f"(polled {worker['polled_peak_rss_mib']:.0f} MiB)"
        )
    print("identical issues and sentence scores:", "yes" if same else "NO")
    if not same:
        sys.exit(1)


if __name__ == "__main__":
    main()
