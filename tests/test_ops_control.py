"""``keras.ops``' control flow (map, vectorized_map, scan, associative_scan, fori_loop,
while_loop, switch): Keras 3's (JAX's) semantics on nested structures against NumPy loops,
and gradients through the loops by finite differences."""

from __future__ import annotations

import numpy as np
import pytest

import shenjing
from shenjing import ops

X = np.arange(12.0).reshape(4, 3) / 7 - 0.5


def test_map_and_vectorized_map_stack_nested_results():
    out = ops.map(lambda row: {"sq": row * row, "sum": ops.sum(row)}, X)
    np.testing.assert_allclose(out["sq"].numpy(), X**2, rtol=1e-6)
    np.testing.assert_allclose(out["sum"].numpy(), X.sum(1), rtol=1e-6)
    pair = ops.vectorized_map(lambda xy: xy[0] * xy[1], (X, 2 * X))
    np.testing.assert_allclose(pair.numpy(), 2 * X**2, rtol=1e-6)


def test_scan_forward_and_reverse_as_jax():
    def step(carry, x):
        return carry + x, carry * x

    carry, ys = ops.scan(step, np.zeros(3), X)
    expected, running = [], np.zeros(3)
    for x in X:
        expected.append(running * x)
        running = running + x
    np.testing.assert_allclose(carry.numpy(), running, rtol=1e-6)
    np.testing.assert_allclose(ys.numpy(), expected, rtol=1e-6, atol=1e-7)
    carry, ys = ops.scan(step, np.zeros(3), X, reverse=True)  # ys in the order of xs
    expected, running = [None] * 4, np.zeros(3)
    for i in reversed(range(4)):
        expected[i] = running * X[i]
        running = running + X[i]
    np.testing.assert_allclose(ys.numpy(), expected, rtol=1e-6, atol=1e-7)
    count, nothing = ops.scan(lambda c, _: (c + 1, None), 0.0, length=5)
    assert count.item() == 5.0 and nothing is None
    with pytest.raises(ValueError, match="give xs or length"):
        ops.scan(step, 0.0)


def test_associative_scan_along_an_axis():
    np.testing.assert_allclose(ops.associative_scan(lambda a, b: a + b, X, axis=1).numpy(),
                               np.cumsum(X, 1), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(ops.associative_scan(lambda a, b: a * b, X, reverse=True).numpy(),
                               np.cumprod(X[::-1], 0)[::-1], rtol=1e-6)


def test_loops_and_switch():
    assert ops.fori_loop(2, 6, lambda i, v: v + i, 0) == 2 + 3 + 4 + 5
    i, v = ops.while_loop(lambda i, v: i < 4, lambda i, v: (i + 1, v * 2.0), (0, 1.0))
    assert i.item() == 4 and v.item() == 16.0
    capped = ops.while_loop(lambda v: v < 1e9, lambda v: v * 3, 1.0, maximum_iterations=3)
    assert capped.item() == 27.0  # one loop variable: passed and returned alone
    branches = [lambda a: a + 1, lambda a: a * 10]
    assert [ops.switch(k, branches, 2.0) for k in (-3, 0, 1, 7)] == [3.0, 3.0, 20.0, 20.0]


def test_gradients_flow_through_the_loops():
    def through(x):
        _, ys = ops.scan(lambda c, row: (c * row + row, c * row), ops.ones(3, dtype="float64"),
                         x)
        looped = ops.fori_loop(0, 3, lambda i, v: v * ops.tanh(v) + 0.1, ys)
        return ops.map(lambda r: r * r, looped) + ops.associative_scan(lambda a, b: a * b, x)

    assert shenjing.gradcheck(through, X)


def test_edges_as_keras():
    """A None beside tensors in scan's ys, zero steps (empty results, not errors), a number
    as fori_loop's state, and while_loop inside a functional model (its trial run on zeros
    returns the variables, Keras's output spec, instead of looping forever)."""
    carry, (ys, nothing) = ops.scan(lambda c, x: (c + x, (c, None)), 0.0, np.array([1.0, 2.0]))
    assert carry.item() == 3.0 and nothing is None
    np.testing.assert_array_equal(ys.numpy(), [0.0, 1.0])
    _, empty = ops.scan(lambda c, x: (c + x, c * x), 0.0, np.zeros((0,)))
    assert empty.shape == (0,)
    assert ops.map(lambda r: r * 2, np.zeros((0, 3))).shape == (0, 3)
    assert ops.associative_scan(lambda a, b: a + b, np.zeros((0, 2))).shape == (0, 2)
    assert isinstance(ops.fori_loop(0, 5, lambda i, v: v + i, 0), shenjing.Tensor)
    inputs = shenjing.Input((3,))
    doubled = ops.while_loop(lambda v: ops.sum(v) < 1000, lambda v: v * 2, inputs)
    model = shenjing.Model(inputs, doubled)
    np.testing.assert_allclose(model.predict(np.ones((2, 3)), verbose=0),  # (the sum is the
                               np.full((2, 3), 256.0))  # batch's: 6 * 256 passes 1000)
