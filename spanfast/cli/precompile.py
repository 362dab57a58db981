"""``spanfast precompile``: compile every kernel for every dtype the library uses, into the cache.

The first call of a kernel in a process with an empty cache compiles it (seconds
in total); every later process loads it from the cache (milliseconds). Running
this once — in a container image's build step, or on a cluster's shared
``NUMBA_CACHE_DIR`` — moves all of that compilation to build time.

What is compiled is what the library's own calls compile: every public operation
in every mode that selects different kernels (span and token layouts, lists and
Ragged input, the seven ``filter_by`` methods, the three scores, ``low_memory``,
both poolings, ``ties="numpy"``, streaming, the error locators) on tiny datasets,
for float32 and float64 probabilities and for int8 and int16 labels (int16: more
than 128 classes). int32 labels (more than 32768 classes) are left to compile on
first use. Answers are not affected: the cache holds the same machine code the
first call would have compiled.

Numba keys a cache entry by the CPU it was compiled for, so entries made on one
CPU model miss on another. ``--portable`` also compiles every kernel for the
architecture's baseline CPU (``NUMBA_CPU_NAME=generic``, in a second process);
spanfast loads those where nothing was compiled for the CPU at hand. Same
answers (no fast-math either way), without the newer vector instructions.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
import warnings

NAME = "precompile"


def add_parser(commands: argparse._SubParsersAction) -> None:
    """Add ``spanfast precompile`` to the sub-commands."""
    precompile = commands.add_parser(
        NAME,
        help="compile every kernel into the kernel cache (for images and clusters)",
        description=(
            "Compile every spanfast kernel for every dtype the library uses (float32 "
            "and float64 probabilities, int8 and int16 labels, span and token layouts) "
            "and store them in the kernel cache: NUMBA_CACHE_DIR when set, else the "
            "per-user cache directory. Later processes using that cache start without "
            "compiling. Exit status: 0, or 2 when no cache directory is writable."
        ),
    )
    precompile.add_argument(
        "--portable",
        action="store_true",
        help=(
            "also compile for the baseline CPU of this architecture, used where the cache "
            "has nothing for the CPU at hand (an image built on one machine, run on others)"
        ),
    )
    precompile.add_argument(
        "-q", "--quiet", action="store_true", help="print only the cache directory"
    )
    precompile.set_defaults(run=run, parser=precompile)


def run(args: argparse.Namespace) -> int:
    """Compile every kernel into the cache; print what was compiled and where."""
    import numpy as np
    from numba.core.registry import cpu_target

    from .._numba import PORTABLE_CPU_NAME, _KernelCache, cache_dir, compiled_kernels, compiling
    from .._warmup import FLOAT_TYPES, calls, datasets, span_class_calls
    from .errors import CommandError

    started = time.perf_counter()
    kernels = compiled_kernels()
    if not kernels:  # NUMBA_DISABLE_JIT=1: kernels run as Python, nothing to compile
        print(f"cache: {cache_dir()} (nothing to compile: JIT disabled)")
        return 0
    uncached = [k for k in kernels if not isinstance(k._cache, _KernelCache)]
    if uncached:
        raise CommandError(
            cache_dir() or "~",
            "no writable kernel cache directory; set NUMBA_CACHE_DIR to a writable directory",
        )
    say = (lambda *parts, **options: None) if args.quiet else print
    cpu_name = cpu_target.target_context.codegen().magic_tuple()[1]
    say(f"compiling for CPU {cpu_name}", flush=True)
    with np.errstate(all="ignore"), warnings.catch_warnings(), compiling():
        warnings.simplefilter("ignore")  # too few examples of a class: the data is tiny
        for description, is_span, labels, probs, offsets in datasets():
            say(f"compiling for {description} ...", flush=True)
            for call in calls(is_span, labels, probs, offsets):
                call()
        for float_type in FLOAT_TYPES:
            say(f"compiling for several span classes, {float_type} ...", flush=True)
            for call in span_class_calls(float_type):
                call()
    seconds = time.perf_counter() - started
    n_compiled = n_cached = 0
    missing = []
    for dispatcher in kernels:
        compiled = sum(dispatcher.stats.cache_misses.values())
        # What the cache holds for it (a kernel only called from other kernels is
        # loaded with them, never on its own, but was cached when first compiled).
        cached = len(dispatcher._cache._cache_file._load_index())
        n_compiled += compiled
        n_cached += cached
        name = f"{dispatcher.py_func.__module__}.{dispatcher.py_func.__qualname__}"
        if not cached:
            missing.append(name)
        say(f"  {name}: {cached} signatures cached ({compiled} compiled now)")
    say(
        f"{len(kernels)} kernels, {n_cached} signatures in the cache, "
        f"{n_compiled} of them compiled now ({seconds:.1f} s)"
    )
    if missing:  # a kernel no call above reaches: the list of calls needs it
        print(f"not cached (no call reaches them): {', '.join(missing)}", file=sys.stderr)
    if args.portable and cpu_name != PORTABLE_CPU_NAME:
        # Numba fixes the CPU target when it starts: the portable pass is another
        # process. Not run beside this one: two processes adding entries to one
        # kernel's index at once can lose one of them.
        portable = subprocess.run(
            [sys.executable, "-m", "spanfast", NAME, *(["--quiet"] if args.quiet else [])],
            env=dict(os.environ, NUMBA_CPU_NAME=PORTABLE_CPU_NAME),
            stdout=subprocess.DEVNULL if args.quiet else None,
        )
        if portable.returncode:
            return portable.returncode
    where = {dispatcher._cache._cache_path for dispatcher in kernels}
    print(f"cache: {cache_dir()} ({', '.join(sorted(where))})")
    return 0
