"""More cores: kernels run on worker threads while the caller goes on or waits.

Kernels release the GIL (``nogil=True``), so independent passes, and the blocks
of one pass, can run at once. Only the timing changes, never the result: a pass
is cut into blocks whose size does not depend on the thread count, and their
partial results merge in block order (:func:`spanfast.plans.run_in_memory`).

How many threads: ``n_jobs`` when given (as cleanlab's ``n_jobs``), else every
core this process may use, as cleanlab's default, but one when called from a
thread other than the main one (a Dask worker, a user's thread pool), where
more threads would only oversubscribe the cores the caller already shares out.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

_pool: tuple[int, int, ThreadPoolExecutor] | None = None  # (pid that started it, size, pool)
_pool_lock = threading.Lock()


def available_cores() -> int:
    """The cores this process may run on (its CPU affinity where the OS has one)."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def thread_count(n_jobs: int | None) -> int:
    """The threads a call with ``n_jobs`` uses (see the module's docstring)."""
    if n_jobs is not None:
        return max(1, int(n_jobs))
    if threading.current_thread() is not threading.main_thread():
        return 1
    return available_cores()


def _executor(workers: int) -> ThreadPoolExecutor:
    """A pool of ``workers`` threads and one more for a :func:`concurrently` pass
    (a forked child starts its own)."""
    global _pool
    with _pool_lock:
        if _pool is None or _pool[0] != os.getpid() or _pool[1] < workers + 1:
            if _pool is not None and _pool[0] == os.getpid():
                _pool[2].shutdown(wait=False)  # its running tasks finish; new ones go here
            pool = ThreadPoolExecutor(max_workers=workers + 1, thread_name_prefix="spanfast")
            _pool = (os.getpid(), workers + 1, pool)
        return _pool[2]


def concurrently(n_jobs: int | None, kernel: Callable, *args: Any) -> Callable[[], Any]:
    """Start ``kernel(*args)`` on a worker thread unless one thread is all ``n_jobs``
    allows; returns the call that waits for the result (the same either way)."""
    if thread_count(n_jobs) < 2:
        result = kernel(*args)
        return lambda: result
    return _executor(1).submit(kernel, *args).result


def beside(kernel: Callable, *args: Any) -> Callable[[], Any]:
    """Start ``kernel(*args)`` on a worker thread, whatever the thread count (for kernels
    that wait for the caller: run on the calling thread first, they would wait for a
    call that has not started); returns the call that waits for the result."""
    return _executor(1).submit(kernel, *args).result


def in_blocks(n_jobs: int | None, step: Callable, blocks: Sequence, *args: Any) -> list:
    """``[step(block, *args) for block in blocks]``, the blocks shared out among the
    threads ``n_jobs`` allows in contiguous runs (the calling thread takes the first)."""
    threads = min(thread_count(n_jobs), len(blocks))
    if threads < 2:
        return [step(block, *args) for block in blocks]

    def run(part: Sequence) -> list:
        return [step(block, *args) for block in part]

    bounds = [len(blocks) * t // threads for t in range(threads + 1)]
    parts = [blocks[bounds[t] : bounds[t + 1]] for t in range(threads)]
    pool = _executor(threads - 1)
    futures = [pool.submit(run, part) for part in parts[1:]]
    results = run(parts[0])
    for future in futures:  # in block order, whichever finishes first
        results.extend(future.result())
    return results
