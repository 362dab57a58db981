"""How :mod:`spanfast.dask` runs the tasks of one pass: on a ``distributed.Client``, or
on any other Dask scheduler.

Either way the results come back in partition order, whatever order the tasks
finish in. On a Client, tasks are futures: each result is fetched as its task
finishes (the worker drops it then, and ``progress`` is told), the state every
task of a pass reads is sent once to each worker, and a task whose partition a
worker keeps (:mod:`spanfast._dask_keep`) is sent to that worker when it is up.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class Recipe:
    """A partition's graph, given to a task as a value (not a dependency): the task
    computes it only when its worker does not keep the partition. Not a dataclass,
    so that Dask does not look inside it for collections."""

    def __init__(self, partition: Any) -> None:
        self.partition = partition

    def compute(self) -> Any:
        import dask

        return dask.compute(self.partition, scheduler="synchronous")[0]


def counter(progress: Any, pass_number: int, n_passes: int, sentences_of: Callable) -> Any:
    """The ``done`` of a pass that tells ``progress(pass_number, n_passes, sentences_done)``
    (``sentences_of(index, result)``: a finished task's sentences); None without one."""
    if progress is None:
        return None
    done = [0]

    def finished(index: int, result: Any) -> None:
        done[0] += sentences_of(index, result)
        progress(pass_number, n_passes, done[0])

    return finished


def client_of(scheduler: Any) -> Any:
    """The ``distributed.Client`` tasks run on (None: another scheduler)."""
    from ._dask_parts import is_client

    if not is_client(scheduler):
        return None
    import distributed

    return scheduler if scheduler is not None else distributed.get_client()


def run_tasks(
    scheduler: Any,
    function: Callable,
    sources: list,
    per_task: list,
    shared: Any,
    workers: list | None = None,
    done: Callable[[int, Any], None] | None = None,
) -> list:
    """``function(sources[i], shared, *per_task[i])`` for each partition i, in order.

    ``sources[i]``: a partition (dask.delayed, computed where Dask decides) or a
    :class:`Recipe`; ``workers[i]``: the worker to prefer for task i (or None);
    ``done(i, result)``: called on the client as each task finishes.
    """
    import dask

    if not sources:
        return []
    client = client_of(scheduler)
    if client is None:
        state = dask.delayed(shared, traverse=False)  # one copy in the graph
        task = dask.delayed(function, pure=False)
        tasks = [task(s, state, *args) for s, args in zip(sources, per_task)]
        results = list(dask.compute(*tasks, scheduler=scheduler))
        for index, result in enumerate(results):
            if done is not None:
                done(index, result)
        return results
    return _on_client(client, function, sources, per_task, shared, workers, done)


def _on_client(client, function, sources, per_task, shared, workers, done) -> list:
    import dask
    from distributed import as_completed

    # Once per worker; in a list, so that a tuple is one value, not one per item.
    (state,) = client.scatter([shared], broadcast=True, hash=False)
    task = dask.delayed(function, pure=False)
    tasks = [task(s, state, *args) for s, args in zip(sources, per_task)]
    workers = workers or [None] * len(tasks)
    futures: list = [None] * len(tasks)
    by_worker: dict = {}
    for index, worker in enumerate(workers):
        by_worker.setdefault(worker, []).append(index)
    for worker, indices in by_worker.items():
        placement = {} if worker is None else {"workers": [worker], "allow_other_workers": True}
        for index, future in zip(indices, client.compute([tasks[i] for i in indices], **placement)):
            futures[index] = future
    index_of = {future.key: index for index, future in enumerate(futures)}
    results: list = [None] * len(tasks)
    try:
        for future in as_completed(futures):
            index = index_of[future.key]
            results[index] = future.result()  # raises the task's error, with its attributes
            futures[index] = None  # the worker may drop the result
            if done is not None:
                done(index, results[index])
    finally:
        pending = [f for f in futures if f is not None]
        if pending:
            client.cancel(pending)
        client.cancel([state])
    return results


def forget_everywhere(scheduler: Any, run: str) -> None:
    """Drop the partitions kept for ``run`` in every worker (and in this process)."""
    from ._dask_keep import forget

    forget(run)
    client = client_of(scheduler)
    if client is None:
        return
    try:
        client.run(forget, run)
    except Exception:  # noqa: BLE001 - a closing cluster: its workers take their memory along
        pass
