"""Loads and stores with memory order, for kernels on two threads that share a state.

A kernel publishes what it has done with :func:`store_release` (whatever it wrote
before is then seen by a thread that reads the value with :func:`load_acquire`), and
waits for another thread with :func:`load_acquire` in a loop (never hoisted out of it).
Numba has no atomics of its own: these are LLVM's, through two intrinsics. Under
``NUMBA_DISABLE_JIT=1`` they cannot run (:data:`AVAILABLE`), and nothing that needs them
is run either.
"""

from __future__ import annotations

import numba
from numba.core import types
from numba.extending import intrinsic

from .._numba import always_compiled, kernel

AVAILABLE = not numba.config.DISABLE_JIT


@intrinsic
def load_acquire(typingctx, state, index):
    """``state[index]`` (an int64 array) read with acquire order."""

    def codegen(context, builder, signature, args):
        array = context.make_array(signature.args[0])(context, builder, args[0])
        return builder.load_atomic(builder.gep(array.data, [args[1]]), "acquire", 8)

    return types.int64(state, types.int64), codegen


@intrinsic
def store_release(typingctx, state, index, value):
    """``state[index] = value`` (an int64 array) with release order."""

    def codegen(context, builder, signature, args):
        array = context.make_array(signature.args[0])(context, builder, args[0])
        builder.store_atomic(args[2], builder.gep(array.data, [args[1]]), "release", 8)
        return context.get_dummy_value()

    return types.void(state, types.int64, types.int64), codegen


@always_compiled  # the ordered store has no Python body
@kernel
def publish(state, index, value):
    """:func:`store_release` from Python: ``state[index] = value`` after everything this
    thread wrote before (for a kernel running on another thread to see)."""
    store_release(state, index, value)
