"""The floors: turning cleanlab-style Python lists into flat arrays, and one read.

Any drop-in implementation that accepts nested lists must at least read every
label (a Python int object) and copy every per-sentence array once.
``ListsToFlatArrays`` times exactly that, with the idioms DESIGN.md prescribes,
so the spanfast list-input numbers can be read against what is unavoidable
(the conversion floor: the sum of its three timings). ``ReadOnce`` times the
memory-bandwidth floor of one pass over the flat data
(:func:`spanfast.testing.floors.read_once`, shared with ``tools/warm_profile.py``),
against which each pass of a plan is measured.
"""

import itertools

import numpy as np

from . import _data
from ._common import Dataset

try:
    from spanfast.testing.floors import read_once
except ImportError:  # asv times this suite on older commits too: skip ReadOnce there
    read_once = None


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
        if read_once is None:
            raise NotImplementedError("spanfast.testing.floors is newer than this commit")
        self.kind = kind
        self.load_inputs(paths, "spanfast", "ragged", n_tokens, "sentences")
        self.values = self.pred_probs.values
        self.flat_labels = self.labels.values.astype(labels)
        read_once(self.values[:10], self.flat_labels[:10])  # compile outside the timing

    def time_read_once(self, paths, kind, n_tokens, labels):
        read_once(self.values, self.flat_labels)
