"""Checked partitions a worker keeps between the passes of one :mod:`spanfast.dask` run.

Pass 1 reads, decodes and checks every partition; the later passes need the same
checked arrays again (labels, probabilities, offsets: about 6 bytes a token for
float32 span data). A worker process keeps those of the partitions it checked, up
to a byte budget, keyed by (run, partition); the client sends a kept partition's
later tasks to the worker that keeps it. A task that finds nothing kept (the
budget was full, the task ran elsewhere, the worker was restarted) reads its
partition again and checks that it is the data pass 1 read, so the answer is the
same either way. The client forgets its run on every worker at the end.
"""

from __future__ import annotations

import sys
import threading
from collections import OrderedDict
from typing import Any

# Per worker process: enough for ~60 partitions of 1M float32 span tokens.
DEFAULT_KEEP_BYTES = 384 * 2**20

_KEPT: OrderedDict = OrderedDict()  # (run, partition index) -> (entry, bytes)
_USED = [0]  # bytes held in _KEPT
_LOCK = threading.Lock()  # tasks of a threaded scheduler share the process


def keep(run: str, index: int, entry: Any, nbytes: int, budget: int) -> bool:
    """Keep ``entry`` for partition ``index`` of ``run`` if it fits in ``budget`` bytes
    (entries of other runs — a client that stopped without forgetting — go first)."""
    with _LOCK:
        for key in [k for k in _KEPT if k[0] != run]:
            if _USED[0] + nbytes <= budget:
                break
            _USED[0] -= _KEPT.pop(key)[1]
        if _USED[0] + nbytes > budget:
            return False
        previous = _KEPT.pop((run, index), None)  # a retried task keeps its partition once
        if previous is not None:
            _USED[0] -= previous[1]
        _KEPT[(run, index)] = (entry, nbytes)
        _USED[0] += nbytes
        return True


def keep_checked(
    run: str, index: int, data: Any, tokens: Any, ids: dict | None, budget: int
) -> bool:
    """Keep a partition's checked data, tokens and ids, as copies: views would hold
    the decoded Arrow buffers (larger, and from Arrow's own allocator) alive."""
    from ._input.checked import Checked

    size = nbytes(data.labels, data.probs, data.offsets, tokens, *(ids or {}).values())
    if size > budget:
        return False
    compact = Checked(data.labels.copy(), data.probs.copy(), data.offsets.copy())
    return keep(run, index, (compact, tokens, ids), size, budget)


def kept(run: str, index: int) -> Any:
    """What :func:`keep` kept for partition ``index`` of ``run`` here (None: nothing)."""
    with _LOCK:
        item = _KEPT.get((run, index))
    return None if item is None else item[0]


def forget(run: str) -> int:
    """Drop every partition kept for ``run`` in this process; the number dropped."""
    with _LOCK:
        keys = [k for k in _KEPT if k[0] == run]
        for key in keys:
            _USED[0] -= _KEPT.pop(key)[1]
    return len(keys)


def nbytes(*arrays: Any) -> int:
    """Bytes held by numpy / Arrow arrays (None counts nothing)."""
    return sum(int(getattr(a, "nbytes", 0) or 0) for a in arrays if a is not None)


def worker_address() -> str | None:
    """The address of the ``distributed`` worker running this task (None: not on one)."""
    distributed = sys.modules.get("distributed")
    if distributed is None:
        return None
    try:
        return distributed.get_worker().address
    except ValueError:  # not in a worker
        return None
