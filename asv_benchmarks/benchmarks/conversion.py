"""The floor: turning cleanlab-style Python lists into flat arrays.

Any drop-in implementation that accepts nested lists must at least read every
label (a Python int object) and copy every per-sentence array once. These two
benchmarks time exactly that, with the idioms DESIGN.md prescribes, so the
spanfast list-input numbers can be read against what is unavoidable.
"""

import itertools

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
