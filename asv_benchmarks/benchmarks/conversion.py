"""The floors: turning cleanlab-style Python lists into flat arrays, and one read.

Any drop-in implementation that accepts nested lists must at least read every
label (a Python int object) and copy every per-sentence array once.
``ListsToFlatArrays`` times exactly that, with the idioms DESIGN.md prescribes,
so the spanfast list-input numbers can be read against what is unavoidable
(the conversion floor: the sum of its three timings). ``ReadOnce`` times the
memory-bandwidth floor of one pass over the flat data, against which each pass
of a plan is measured.
"""

import itertools

import numba
import numpy as np

from . import _data
from ._common import Dataset


class ListsToFlatArrays(Dataset):
    params = (("span", "token"), _data.SIZES, _data.SHAPES)
    param_names = ("kind", "n_tokens", "shape")

    def setup(self, paths, kind, n_tokens, shape):
        self.kind = kind
        self.load_inputs(paths, "spanfast", "list", n_tokens, shape)
        self.n_tokens = n_tokens

    def time_fromiter_labels(self, paths, kind, n_tokens, shape):
        np.fromiter(itertools.chain.from_iterable(self.labels), dtype=np.int64, count=self.n_tokens)

    def time_concatenate_pred_probs(self, paths, kind, n_tokens, shape):
        np.concatenate(self.pred_probs)

    def time_offsets_from_lengths(self, paths, kind, n_tokens, shape):
        offsets = np.zeros(len(self.labels) + 1, dtype=np.int64)
        np.cumsum(np.fromiter(map(len, self.labels), dtype=np.int64), out=offsets[1:])


class ReadOnce(Dataset):
    """The memory-bandwidth floor of a pass: one compiled loop reading every
    probability and every label once (the bytes each pass of a plan reads), on
    the flat arrays (int64 labels as given, and int8 as spanfast narrows them)."""

    params = (("span", "token"), _data.SIZES, ("int64", "int8"))
    param_names = ("kind", "n_tokens", "labels")

    def setup(self, paths, kind, n_tokens, labels):
        self.kind = kind
        self.load_inputs(paths, "spanfast", "ragged", n_tokens, "sentences")
        self.values = self.pred_probs.values
        self.flat_labels = self.labels.values.astype(labels)
        _read_once(self.values[:10], self.flat_labels[:10])  # compile outside the timing

    def time_read_once(self, paths, kind, n_tokens, labels):
        _read_once(self.values, self.flat_labels)


@numba.njit(nogil=True, cache=False)
def _read_once(values, labels):
    flat = values.reshape(-1)
    total = 0.0
    for i in range(flat.shape[0]):
        total += flat[i]
    n = 0
    for i in range(labels.shape[0]):
        n += labels[i]
    return total + n
