"""Worker warm-up for :mod:`spanfast.dask`: kernels compiled or loaded once per worker.

Two processes compiling the same kernel into one cache at the same time can crash
(numba issue #4807). So the first spanfast task in each worker process of a
``distributed.Client`` holds a lock file in the kernel cache directory while it
runs — its own kernels and the warm-up, which makes the calls of ``spanfast
precompile`` for the dataset's layout and dtype on tiny data. One worker compiles
(or loads) at a time; every later task of that process finds its kernels loaded.

Loading needs no lock, only compiling does. A warm-up that ends leaves a marker
beside the lock: the kernels' cache index files as they were then (path, time,
size) and the CPU. When the index files are still those, every kernel that layout
needs is in the cache, so a worker starts at once, without the lock or the
warm-up, and its tasks load what they use.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Iterator
from typing import Any

from .errors import InvalidInputError, InvalidInputTypeError

# (span, float type name, many classes) layouts this process has warmed up for.
WARMED: set = set()
_IN_PROCESS = threading.Lock()
LOCK_NAME = "spanfast-warm-up.lock"


def is_client(scheduler: Any) -> bool:
    """Whether tasks run in worker processes of ``distributed`` (warmed up first)."""
    import sys

    distributed = sys.modules.get("distributed")  # not imported: it cannot be a Client
    if distributed is None:
        return False
    if scheduler is None:
        try:
            scheduler = distributed.get_client()  # the default client, when there is one
        except ValueError:
            return False
    return isinstance(scheduler, distributed.Client)


def warm_up_key(n_classes: int | None, span: bool | None, dtype: Any) -> tuple | None:
    """What the warm-up compiles for a dataset: its layout and probabilities' dtype."""
    if n_classes is None or dtype is None:
        return None
    import numpy as np

    return bool(span), np.dtype(dtype).name, (not span) and n_classes > 127


@contextlib.contextmanager
def _cache_lock() -> Iterator[None]:
    """The lock file in the kernel cache directory (no lock where it cannot be made)."""
    from ._numba import cache_dir

    directory = cache_dir()
    handle = None
    try:
        os.makedirs(directory, exist_ok=True)
        handle = open(os.path.join(directory, LOCK_NAME), "a")
    except (OSError, TypeError):  # read-only or no cache: nothing is written to share
        handle = None
    try:
        if handle is not None:
            import fcntl

            fcntl.flock(handle, fcntl.LOCK_EX)
        yield
    finally:
        if handle is not None:
            handle.close()  # releases the lock


def warmed(task: Callable[[], Any], key_of: Callable[[Any], tuple | None], key=None) -> Any:
    """``task()``; the first time in this process, under the cache lock and followed by
    the warm-up for the layout ``key_of(result)`` gives. ``key``: the layout when it is
    known before the task, which then needs no lock once warmed (in this process, or
    in the cache by the marker)."""
    if key is not None and (key in WARMED or _in_cache(key)):
        result = task()
    elif key is None and WARMED:  # kernels of this process's first dataset are loaded
        result = task()
    else:
        with _IN_PROCESS, _cache_lock():
            result = task()
            key = key_of(result) or key
            if key is not None and key not in WARMED:
                warm_up(*key)
            return result
    key = key_of(result)
    if key is not None and key not in WARMED and not _in_cache(key):
        with _IN_PROCESS, _cache_lock():
            warm_up(*key)
    return result


def _marker(key: tuple) -> str | None:
    from ._numba import cache_dir

    directory = cache_dir()
    if directory is None:
        return None
    span, float_type, many_classes = key
    return os.path.join(directory, f"spanfast-warmed-{span}-{float_type}-{many_classes}")


def _index_files() -> str | None:
    """The CPU and the kernels' cache index files that exist (path, mtime, size); None
    without a disk cache. A kernel compiled since (a new or changed index file) makes
    it differ from a marker's; a kernel never compiled has no file, and a warm-up of a
    layout compiles every kernel that layout calls."""
    from numba.core.registry import cpu_target

    from ._numba import _KernelCache, compiled_kernels

    lines = [repr(cpu_target.target_context.codegen().magic_tuple())]
    for dispatcher in compiled_kernels():
        cache = getattr(dispatcher, "_cache", None)
        if not isinstance(cache, _KernelCache):
            return None
        path = cache._cache_file._index_path
        try:
            stat = os.stat(path)
        except OSError:
            continue  # never compiled: its first compile adds the file (and a difference)
        lines.append(f"{path} {stat.st_mtime_ns} {stat.st_size}")
    return "\n".join(lines)


def _in_cache(key: tuple) -> bool:
    """Whether a warm-up of ``key`` left the cache as it is now (then: warmed)."""
    marker = _marker(key)
    try:
        with open(marker, encoding="utf-8") as handle:  # type: ignore[arg-type]
            written = handle.read()
    except (OSError, TypeError):
        return False
    if written != _index_files():
        return False
    WARMED.add(key)
    return True


def _leave_marker(key: tuple) -> None:
    """After a warm-up (under the lock): the marker :func:`_in_cache` reads."""
    marker, files = _marker(key), _index_files()
    if marker is None or files is None:
        return
    temporary = f"{marker}.{os.getpid()}.tmp"
    try:
        with open(temporary, "w", encoding="utf-8") as handle:
            handle.write(files)
        os.replace(temporary, marker)
    except OSError:  # a read-only cache: workers take the lock, as without a marker
        with contextlib.suppress(OSError):
            os.remove(temporary)


def peek_key(partition: Any, probs: str, span: bool | None) -> tuple | None:
    """The warm-up key read from the Arrow type of a partition's probabilities, before
    any kernel runs (None when the partition is not Arrow data or the type says too
    little)."""
    schema = getattr(partition, "schema", None)
    try:
        if schema is not None and hasattr(schema, "field"):
            column_type = schema.field(probs).type
        else:
            column_type = partition[probs].dtype.pyarrow_dtype
    except (KeyError, TypeError, AttributeError, IndexError):
        return None
    import pyarrow as pa

    if not (pa.types.is_list(column_type) or pa.types.is_large_list(column_type)):
        return None
    values = column_type.value_type
    if pa.types.is_floating(values) and span is not False:
        return warm_up_key(2, True, values.to_pandas_dtype())
    if pa.types.is_fixed_size_list(values) and pa.types.is_floating(values.value_type):
        if span:  # several span classes: not warmed by layout
            return None
        return warm_up_key(values.list_size, False, values.value_type.to_pandas_dtype())
    return None


def warm_up(span: bool, float_type: str, many_classes: bool) -> None:
    """The precompile calls of one layout and dtype (tiny data): kernels compiled or
    loaded from the cache into this process."""
    import warnings

    from ._numba import compiling
    from ._warmup import calls, datasets

    for description, is_span, labels, probs, offsets in datasets():
        if is_span != span or not description.endswith(float_type):
            continue
        if not span and (probs.shape[1] > 127) != many_classes:
            continue
        with warnings.catch_warnings(), compiling():  # tiny data, but compiled
            warnings.simplefilter("ignore")  # the tiny data's own warnings (few examples)
            for call in calls(is_span, labels, probs, offsets):
                call()
    WARMED.add((span, float_type, many_classes))
    _leave_marker((span, float_type, many_classes))


# ---------------------------------------------------------------------------------------
# Parquet files as partitions (spanfast.dask.find_issues_parquet)


class ParquetParts(list):
    """One delayed table per file; ``files``: each file's ``file`` value, when the
    client adds ``file`` and ``row_in_file`` (from the sizes of pass 1: no string
    per row travels from the workers)."""

    files: list | None = None


def parquet_files(paths: Any, file_and_row: bool | None) -> tuple[Any, list]:
    """The listing of the files, in streaming's order
    (:func:`spanfast._input.files.list_parquet`), and each one's ``file`` value (None: none)."""
    from ._input.files import list_parquet

    listing = list_parquet(paths)
    if file_and_row is None:
        file_and_row = listing.directory is not None
    if not file_and_row:
        return listing, [None] * len(listing.files)
    return listing, listing.relative


def read_parquet_file(path: str, columns: list) -> Any:
    """One file's columns (a task)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        names = pq.read_schema(path).names
        table = pq.read_table(path, columns=[c for c in columns if c in names])
    except (OSError, pa.ArrowException) as error:  # a damaged file: say which
        raise InvalidInputError(f"{path}: cannot read as Parquet: {error}", file=path) from error
    missing = [c for c in columns if c not in names]
    if missing:  # e.g. a Hive partition key, which only the streaming runner reads
        raise InvalidInputError(
            f"{path}: no column {missing[0]!r} in the file (spanfast.dask reads the columns "
            "stored in the files, not Hive partition keys)",
            field=missing[0],
            file=path,
        )
    return table


# ---------------------------------------------------------------------------------------
# Partitions' columns


def is_string(dtype: Any) -> bool:
    import pandas as pd

    if isinstance(dtype, pd.ArrowDtype):
        import pyarrow as pa

        return pa.types.is_string(dtype.pyarrow_dtype) or pa.types.is_large_string(
            dtype.pyarrow_dtype
        )
    return isinstance(dtype, pd.StringDtype)


def from_records(items: list, names: tuple) -> Any:
    if not items or isinstance(items[0], dict):
        try:
            return {name: [item[name] for item in items] for name in names if name}
        except KeyError as error:
            name = error.args[0]
            raise InvalidInputError(f"a record has no {name!r}", field=name) from None
    first = items[0]
    if type(first).__module__.startswith("pandas"):
        import pandas as pd

        return pd.concat(items, ignore_index=True)
    import pyarrow as pa

    return pa.concat_tables(
        [pa.Table.from_batches([t]) if isinstance(t, pa.RecordBatch) else t for t in items]
    )


def arrow_list(column: Any) -> Any:
    """A token column as one Arrow list array when it is Arrow data (zero-copy)."""
    if hasattr(column, "array") and hasattr(column.array, "__arrow_array__"):
        column = column.array.__arrow_array__()
    if hasattr(column, "combine_chunks"):
        column = column.combine_chunks()
    return column


def partition_columns(partition: Any, names: tuple, index: int, ids: tuple = ()) -> tuple:
    """``(labels, probs, tokens or None, ids or None)`` of one partition (tokens as an
    Arrow list, ids a dict of columns)."""
    if isinstance(partition, list):  # a Bag's partition
        partition = from_records(partition, names + ids)
    columns = []
    for name in names + ids:
        if name is None:
            columns.append(None)
            continue
        try:
            column = partition[name]
        except (KeyError, TypeError, IndexError):
            raise InvalidInputError(
                f"partition {index} has no column {name!r}", field=name
            ) from None
        columns.append(column)
    if columns[2] is not None:
        columns[2] = arrow_list(columns[2])
    id_columns = dict(zip(ids, columns[3:])) if ids else None
    return (*columns[:3], id_columns)


# ---------------------------------------------------------------------------------------
# Collections and partitions


def partitions_of(data: Any, columns: list, ids: list | None = None) -> list:
    """One ``dask.delayed`` per partition, in dataset order (only the columns used)."""
    ids = ids or []
    import dask
    import dask.bag
    import dask.dataframe

    if isinstance(data, dask.dataframe.DataFrame):
        missing = [c for c in columns + ids if c not in data.columns]
        if missing:
            raise InvalidInputError(f"no column {missing[0]!r}", field=missing[0])
        for name in columns:
            if is_string(data[name].dtype):
                raise InvalidInputTypeError(
                    f"column {name!r} holds strings, not lists: Dask turns object columns "
                    "into strings (its 'dataframe.convert-string' option); give list columns "
                    "(pd.ArrowDtype(pa.list_(...)), dd.read_parquet(..., "
                    "dtype_backend='pyarrow')) or turn that option off",
                    field=name,
                )
        return list(data[columns + ids].to_delayed())
    if isinstance(data, dask.bag.Bag):
        return list(data.to_delayed())
    if isinstance(data, (list, tuple)):
        return [p if dask.is_dask_collection(p) else dask.delayed(p) for p in data]
    raise InvalidInputTypeError(
        "data: expected a dask DataFrame, a dask Bag or a list of dask.delayed tables, "
        f"got a {type(data).__name__}"
    )
