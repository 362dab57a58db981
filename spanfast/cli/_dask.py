"""``spanfast scan --dask``: the Parquet scan on a Dask cluster (spanfast.dask).

``local`` / ``local:N`` starts a LocalCluster of N worker processes (default 2),
one thread each, dashboard off, its logs below CRITICAL silenced, and closes it at
the end; ``tcp://HOST:PORT`` connects to an existing scheduler. Each Parquet file
is one task; on a terminal, scan's progress line counts the sentences of the files
whose task of the pass has finished.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .errors import UsageError

_USAGE = "--dask takes local, local:N (N worker processes) or tcp://HOST:PORT"


def cluster_spec(spec: str) -> tuple[str, int | None]:
    """``("local", N)`` or ``(address, None)``; a usage error for anything else.

    >>> cluster_spec("local:3"), cluster_spec("tcp://10.0.0.1:8786")
    (('local', 3), ('tcp://10.0.0.1:8786', None))
    """
    if spec == "local":
        return "local", 2
    if spec.startswith("local:"):
        count = spec.partition(":")[2]
        if count.isdigit() and int(count) > 0:
            return "local", int(count)
        raise UsageError("spanfast scan", f"{_USAGE}, not {spec!r}")
    if "://" in spec:
        return spec, None
    raise UsageError("spanfast scan", f"{_USAGE}, not {spec!r}")


@contextlib.contextmanager
def client_for(spec: str) -> Iterator[Any]:
    """A ``distributed.Client`` for the spec, closed (with its LocalCluster) at the end."""
    address, n_workers = cluster_spec(spec)
    try:
        import distributed
    except ImportError:
        raise UsageError(
            "spanfast scan", '--dask needs dask and distributed: pip install "spanfast[dask]"'
        ) from None
    if n_workers is None:
        with distributed.Client(address, timeout="60s") as client:
            yield client
        return
    # The cluster's logs stay off the terminal, in its worker processes and in this one
    # (scheduler, nannies, client): a task failing on bad input is logged by its worker
    # at ERROR ("Compute Failed" and a traceback) while the error itself reaches the
    # client and ends as scan's one line. Only CRITICAL (a cluster broken, not the
    # input) still shows. spanfast's warnings are not logs: they come on the client.
    cluster = distributed.LocalCluster(
        n_workers=n_workers,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        # The scheduler's HTTP server (health, metrics) runs even without a dashboard,
        # by default on port 8787, with a warning when that is in use (another
        # cluster's dashboard): on a free port of this machine instead, quietly.
        scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
        silence_logs=logging.CRITICAL,
    )
    try:
        with distributed.Client(cluster) as client:
            yield client
    finally:
        cluster.close()


def find_on_dask(
    spec: str,
    files: list[Path],
    directory: Path | None,
    columns: Any,
    options: dict,
    progress: Any = None,
) -> Any:
    """The issues of ``spanfast.streaming.find_label_issues_parquet``, from the cluster;
    ``progress`` (scan's line on a terminal) is told as each file's task of a pass ends."""
    from spanfast.dask import find_issues_parquet

    paths = os.fspath(directory) if directory is not None else [os.fspath(p) for p in files]
    with client_for(spec) as client:
        return find_issues_parquet(
            paths,
            columns.labels,
            columns.probs,
            columns.tokens,
            id=list(columns.ids),
            file_and_row=directory is not None,
            scheduler=client,
            progress=progress,
            **options,
        )
