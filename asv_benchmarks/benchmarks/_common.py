"""Attributes and setup shared by the time_ benchmark classes."""

from __future__ import annotations

from . import _data, _registry


class Dataset:
    """Base for benchmarks over the shared datasets.

    Subclasses set ``kind`` ('span' or 'token'); ``load_inputs`` loads the flat
    arrays for (shape, n_tokens) and converts them to the input the
    implementation takes; subclasses then call the operation once on a tiny
    dataset of the same types so numba compilation (and cleanlab's lazy
    imports) happen in setup, never inside a timed call.
    """

    setup_cache = staticmethod(_data.setup_cache)
    kind = "span"

    # cleanlab at 1M tokens takes 1-4 s per call: number=0 lets asv calibrate
    # (it picks number=1 for those), the repeat budget caps each parameter
    # combination at ~10 s per round, and the timeout leaves room for setup
    # (loading, list building) and the warm-up call.
    number = 0
    repeat = (1, 10, 10.0)
    rounds = 2
    timeout = 300.0

    def load_inputs(self, paths, implementation, input_format, n_tokens, shape):
        _registry.check_input_format(implementation, input_format)
        offsets, labels, probs = _data.load(paths, shape, n_tokens, self.kind)
        if input_format == "ragged":
            self.labels, self.pred_probs = _data.to_ragged(offsets, labels, probs)
            self.tiny = _data.tiny_ragged(self.kind)
        else:
            self.labels, self.pred_probs = _data.to_lists(offsets, labels, probs)
            self.tiny = _data.tiny_lists(self.kind)
