"""Class sums of token blocks, merged in block order, are the whole batch's, bit for bit."""

from __future__ import annotations

import functools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_plans import _data

from spanfast import _class_sums, _counts, plans
from spanfast._kernels import summation, thresholds
from spanfast._steps import Batch, ClassMeans, CountClasses, State
from spanfast.errors import InvalidInputError

dtypes = st.sampled_from([np.float32, np.float64])


def _tokens(rng, class_sizes, span: bool, dtype):
    """Labels with ``class_sizes[k]`` tokens of class k, shuffled, and probabilities."""
    labels = np.repeat(np.arange(len(class_sizes), dtype=np.int8), class_sizes)
    rng.shuffle(labels)
    if span:
        probs = rng.random(labels.shape[0])
    else:
        probs = rng.dirichlet(np.full(len(class_sizes), 0.5), labels.shape[0])
    if rng.random() < 0.3:
        probs = np.round(probs, 2)  # repeated values
    return labels, probs.astype(dtype)


def _in_blocks(probs, labels, totals, cuts) -> list:
    """The ClassSums of the blocks between ``cuts`` (each with its class starts)."""
    parts, before = [], np.zeros_like(totals)
    for lo, hi in zip(cuts[:-1], cuts[1:]):
        counts = thresholds.class_counts(labels[lo:hi], totals.shape[0])
        parts.append(_class_sums.of_batch(probs[lo:hi], labels[lo:hi], counts, before, totals))
        before = before + counts
    return parts


def _bits(values: np.ndarray) -> np.ndarray:
    return values.view(np.uint32 if values.dtype == np.float32 else np.uint64)


@settings(deadline=None, max_examples=60)
@given(
    seed=st.integers(0, 2**32 - 1),
    class_sizes=st.lists(
        st.one_of(st.just(0), st.just(1), st.integers(2, 300), st.integers(300, 5000)),
        min_size=2,
        max_size=6,
    ),
    dtype=dtypes,
    span=st.booleans(),
    n_cuts=st.integers(0, 12),
    data=st.data(),
)
def test_blocks_merged_in_order_give_the_whole_batch_sums(
    seed, class_sizes, dtype, span, n_cuts, data
):
    if span:
        class_sizes = class_sizes[:2]
    rng = np.random.default_rng(seed)
    labels, probs = _tokens(rng, class_sizes, span, dtype)
    T, K = labels.shape[0], len(class_sizes)
    totals = thresholds.class_counts(labels, K)
    inner = data.draw(st.lists(st.integers(0, T), max_size=n_cuts)) if T else []
    cuts = [0, *sorted(inner), T]  # empty blocks included
    whole = _class_sums.of_batch(probs, labels, totals, np.zeros(K, np.int64), totals)
    parts = _in_blocks(probs, labels, totals, cuts)
    in_order = functools.reduce(lambda a, b: a.merge(b), parts)
    from_the_end = functools.reduce(lambda later, a: a.merge(later), parts[::-1])
    assert whole.complete and in_order.complete and from_the_end.complete
    for merged in (in_order, from_the_end):
        np.testing.assert_array_equal(_bits(merged.means()), _bits(whole.means()))
        got = _counts.thresholds_from_means(merged.means(), totals)
        expected = _counts.thresholds_from_means(whole.means(), totals)
        np.testing.assert_array_equal(_bits(got), _bits(expected))
    for k in range(K):  # and the sums are NumPy's own
        values = (np.where(labels == 1, probs, 1 - probs) if span else probs[:, k])[labels == k]
        if values.size:
            assert np.asarray(in_order.pieces[k][0][2]).tobytes() == values.sum().tobytes()


@settings(deadline=None, max_examples=60)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.one_of(st.integers(1, 300), st.integers(300, 40_000)),
    dtype=dtypes,
    data=st.data(),
)
def test_tree_pieces_are_tree_nodes_and_leaf_parts_covering_the_run(seed, n, dtype, data):
    rng = np.random.default_rng(seed)
    values = rng.random(n).astype(dtype)
    start = data.draw(st.integers(0, n))
    stop = data.draw(st.integers(start, n))
    run = values[start:stop]
    lo, hi, sums, whole, n_pieces = summation.tree_pieces(
        run, np.array([0, stop - start]), np.array([start]), np.array([n])
    )
    k = int(n_pieces[0])
    assert (k == 0) == (stop == start)
    lo, hi, sums, whole = lo[:k], hi[:k], sums[:k], whole[:k]
    if k:  # contiguous, in order, covering [start, stop)
        assert lo[0] == start and hi[-1] == stop and (lo[1:] == hi[:-1]).all() and (lo < hi).all()
    for a, b, total, is_node in zip(lo, hi, sums, whole):
        if is_node:  # a node's sum is NumPy's sum of its values (the same tree below it)
            assert total == values[a:b].sum()
        else:  # part of one leaf: at most 128 values, and not the whole node
            assert b - a <= 128
    one_class = values.reshape(-1, 1), np.zeros(n, np.int8), np.array([n])
    merged = _class_sums.of_batch(*one_class, np.zeros(1, np.int64), [n])
    assert merged.pieces[0][0][2] == values.sum()


def test_blocks_whose_counts_are_not_those_of_pass_1_are_named():
    batch = Batch(_data(5, 1000, 3, np.float64, False))
    state = State(threads=2)
    CountClasses().finish(((0, batch.class_counts() + [1, 0, 0]),), state)
    with pytest.raises(InvalidInputError, match="no longer has the class counts of pass 1"):
        ClassMeans().prepare_blocks(plans.token_blocks(batch, 300), state, 2)
