"""Plans: partial states merge associatively, and any batching gives the in-memory answer."""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from spanfast import options, plans
from spanfast._input.checked import checked_flat


def _same(a, b) -> bool:
    """Bitwise equality of partial states (dataclasses, tuples, arrays, scalars)."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (
            isinstance(a, np.ndarray)
            and isinstance(b, np.ndarray)
            and a.dtype == b.dtype
            and a.shape == b.shape
            and a.tobytes() == b.tobytes()
        )
    if dataclasses.is_dataclass(a):
        if type(a) is not type(b):
            return False
        if hasattr(a, "parts"):  # chunked states: equal when their joined arrays are
            return all(
                _same(getattr(a, name), getattr(b, name))
                for name in ("flagged", "n_candidates", "keys", "positions")
                if hasattr(type(a), name)
            ) and all(
                _same(getattr(a, name), getattr(b, name))
                for name in ("positions", "matches")
                if hasattr(type(a), name) and not hasattr(type(a), "flagged")
            )
        return all(_same(getattr(a, f.name), getattr(b, f.name)) for f in dataclasses.fields(a))
    if isinstance(a, (tuple, list)):
        return type(a) is type(b) and len(a) == len(b) and all(map(_same, a, b))
    if isinstance(a, np.generic) or isinstance(b, np.generic):
        return type(a) is type(b) and np.asarray(a).tobytes() == np.asarray(b).tobytes()
    return a == b


def _data(seed: int, n_tokens: int, n_classes: int, dtype, span: bool):
    rng = np.random.default_rng(seed)
    if span:
        probs = rng.beta(0.4, 0.4, n_tokens)
        labels = (rng.random(n_tokens) < probs).astype(np.int64)
    else:
        probs = rng.dirichlet(np.full(n_classes, 0.5), n_tokens)
        labels = probs.argmax(axis=1)
        noisy = rng.random(n_tokens) < 0.2
        labels[noisy] = rng.integers(0, n_classes, noisy.sum())
    if rng.random() < 0.5:
        probs = np.round(probs, 2)  # ties
    return checked_flat(labels, probs.astype(dtype))


@settings(deadline=None, max_examples=40)
@given(
    seed=st.integers(0, 2**32 - 1),
    n_tokens=st.integers(3, 1500),
    n_classes=st.integers(2, 5),
    dtype=st.sampled_from([np.float32, np.float64]),
    span=st.booleans(),
    filter_by=st.sampled_from(options.FILTER_BY),
    data=st.data(),
)
def test_merging_in_any_grouping_gives_the_same_state_and_answer(
    seed, n_tokens, n_classes, dtype, span, filter_by, data
):
    checked = _data(seed, n_tokens, n_classes, dtype, span)
    if np.unique(checked.labels).size < 2:
        return
    a, b = sorted(data.draw(st.lists(st.integers(0, n_tokens), min_size=2, max_size=2)))
    bounds = [(0, a), (a, b), (b, n_tokens)]
    batches = [
        plans.Batch(checked, index, first_token=lo, start=lo, stop=hi)
        for index, (lo, hi) in enumerate(bounds)
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = plans.run_in_memory(plans.plan_for(filter_by), checked, n_jobs=1)
        plan = plans.plan_for(filter_by)
        state = plan.start()
        for one_pass in plan.passes:
            first, second, third = (one_pass.step(batch, state) for batch in batches)
            left = one_pass.merge(one_pass.merge(first, second), third)
            right = one_pass.merge(first, one_pass.merge(second, third))
            assert _same(left, right)
            one_pass.finish(left, state)
    np.testing.assert_array_equal(state.positions, expected)


def test_state_equality_sees_a_changed_partial():
    checked = _data(1, 400, 3, np.float64, span=False)
    plan = plans.plan_for("prune_by_noise_rate")
    state = plan.start()
    counts, means = plan.passes[0], plan.passes[1]
    batch = plans.Batch(checked)
    counts.finish(counts.step(batch, state), state)
    sums = means.step(batch, state)
    other = plans.Batch(
        checked_flat(checked.labels, np.roll(checked.probs, 1, axis=0)),
    )
    assert _same(sums, means.step(batch, state))
    assert not _same(sums, means.step(other, state))
