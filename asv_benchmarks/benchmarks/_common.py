"""The time_ benchmark classes, generated from the table of cleanlab twins.

:func:`timed_classes` builds, for an asv suite (``span``, ``token``), one class per
:class:`spanfast.testing.registry.Timing` class name, with one method per timing:
the table decides which functions are timed side by side, spanfast against
cleanlab 2.9.0, called through the same public names.
"""

from __future__ import annotations

from spanfast.testing import registry

from . import _data


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
        dataset = _data.load(paths, shape, n_tokens, self.kind)
        self.labels, self.pred_probs = _data.inputs(dataset, implementation, input_format)
        self.tiny = _data.inputs(_data.tiny(self.kind), implementation, input_format)
        _data.load_read_ahead(implementation, input_format, self.kind, self.tiny)


def _timed_method(method: str):
    def timed(self, paths, *params):
        self.functions[method](self.labels, self.pred_probs, **self.kwargs[method])

    timed.__name__ = method
    return timed


def _timed_class(module: str, name: str, kind: str, timings: list) -> type:
    params = [t.param for _, t in timings]
    assert all(p == params[0] for p in params), f"{name}: one extra parameter per class"
    extra = params[0]
    names = ["implementation", "input_format", *([extra[0]] if extra else []), "n_tokens", "shape"]
    values = [
        _data.IMPLEMENTATIONS,
        ("list", "ragged"),
        *([tuple(extra[1])] if extra else []),
        _data.SIZES,
        _data.SHAPES,
    ]

    def setup(self, paths, implementation, input_format, *rest):
        n_tokens, shape = rest[-2:]
        self.load_inputs(paths, implementation, input_format, n_tokens, shape)
        self.functions, self.kwargs = {}, {}
        for entry, timing in timings:
            kwargs = dict(timing.kwargs)
            if extra:
                kwargs.update(extra[1][rest[0]])
            self.functions[timing.method] = entry.function(implementation)
            self.kwargs[timing.method] = kwargs
            self.functions[timing.method](*self.tiny, **kwargs)

    members = {
        "__module__": module,
        "__doc__": "; ".join(f"{t.method}: {entry.spanfast}" for entry, t in timings),
        "kind": kind,
        "params": tuple(values),
        "param_names": tuple(names),
        "setup": setup,
    }
    members.update({t.method: _timed_method(t.method) for _, t in timings})
    return type(name, (Dataset,), members)


def timed_classes(suite: str, module: str) -> dict[str, type]:
    """The benchmark classes of ``suite``, by class name, for the asv module ``module``."""
    by_class: dict[str, list] = {}
    for entry, timing in registry.timings(suite):
        by_class.setdefault(timing.cls, []).append((entry, timing))
    return {
        name: _timed_class(module, name, timings[0][0].data, timings)
        for name, timings in by_class.items()
    }
