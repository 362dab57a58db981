"""The second core: a kernel started on a worker thread while the caller goes on.

Kernels release the GIL (``nogil=True``), so two independent passes over the
data can run at once. Only the timing changes, never the result.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

_worker: tuple[int, ThreadPoolExecutor] | None = None  # (pid that started it, executor)


def concurrently(n_jobs: int | None, kernel: Callable, *args: Any) -> Callable[[], Any]:
    """Start ``kernel(*args)`` on a worker thread (kernels release the GIL) unless
    ``n_jobs`` is 1 or there is one core; returns the call that waits for the result.
    The result is the same either way: only when it is computed changes."""
    if (n_jobs or os.cpu_count() or 1) < 2:
        result = kernel(*args)
        return lambda: result
    global _worker
    if _worker is None or _worker[0] != os.getpid():  # a forked child has no worker thread
        _worker = (os.getpid(), ThreadPoolExecutor(max_workers=1, thread_name_prefix="spanfast"))
    return _worker[1].submit(kernel, *args).result
