"""Item assignment ``x[index] = value`` as PyTorch's: a plain write under no_grad() or outside
any graph (d2l's ``param.grad[:] *= theta / norm``), recorded on a tensor in the graph (d2l's
hand-written ``corr2d``: ``Y[i, j] = (X[i:i+h, j:j+w] * K).sum()`` into zeros, then K.grad),
refused on a leaf that requires grad."""

from __future__ import annotations

import numpy as np
import pytest

import shenjing
from oracle import normal, require_torch

INDICES = {
    "int": (1, (4,)),
    "slice": ((slice(1, None), 0), ()),
    "row_broadcast": (slice(0, 2), (4,)),
    "mask": (np.array([True, False, True]), (4,)),
    "int_array": ([2, 0], (2, 4)),
    "ellipsis_column": ((Ellipsis, 3), (3,)),
}


@pytest.mark.parametrize("name", INDICES)
def test_setitem_in_graph_matches_torch(name, rng):
    th = require_torch()
    index, value_shape = INDICES[name]
    a0, v0 = normal(rng, (3, 4)), normal(rng, value_shape)
    upstream = normal(rng, (3, 4))
    results = []
    for lib in (shenjing, th):
        a = lib.tensor(a0, requires_grad=True)
        v = lib.tensor(v0, requires_grad=True)
        x = a * 2
        x[index] = v * 3
        (x * lib.tensor(upstream)).sum().backward()
        results.append([np.asarray(t.detach().numpy()) for t in (x, a.grad, v.grad)])
    for got, expected in zip(*results):
        np.testing.assert_allclose(got, expected, rtol=1e-6)


def test_handwritten_corr2d_learns_a_kernel_as_torch(rng):
    th = require_torch()

    def corr2d(lib, X, K):
        h, w = K.shape
        Y = lib.zeros((X.shape[0] - h + 1, X.shape[1] - w + 1))
        for i in range(Y.shape[0]):
            for j in range(Y.shape[1]):
                Y[i, j] = (X[i:i + h, j:j + w] * K).sum()
        return Y

    X0, K0, T0 = normal(rng, (4, 5)), normal(rng, (1, 2)), normal(rng, (4, 4))
    results = []
    for lib in (shenjing, th):
        K = lib.tensor(K0, requires_grad=True)
        loss = ((corr2d(lib, lib.tensor(X0), K) - lib.tensor(T0)) ** 2).sum()
        loss.backward()
        results.append((loss.item(), K.grad.numpy()))
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-5)
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-4, atol=1e-5)


def test_setitem_without_a_graph_writes_in_place_as_torch():
    w = shenjing.ones(2, 3, requires_grad=True)
    (w * 4).sum().backward()
    grad = w.grad
    grad[:] *= 0.5  # d2l's gradient clipping
    assert w.grad is grad and np.array_equal(w.grad.numpy(), np.full((2, 3), 2.0))
    with shenjing.no_grad():
        w[0, 1] = 7.0
    row = w.detach()[1]
    row[:] = shenjing.tensor([1.0, 2.0, 3.0])  # a view: the base sees it, as in torch
    np.testing.assert_array_equal(w.detach().numpy(), [[1, 7, 1], [1, 2, 3]])
    labels = shenjing.zeros(3, dtype=shenjing.int64)
    labels[[0, 2]] = 5
    np.testing.assert_array_equal(labels.numpy(), [5, 0, 5])


def test_setitem_on_a_leaf_that_requires_grad_refuses_as_torch():
    w = shenjing.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad"):
        w[0] = 2.0


def test_op_that_read_the_old_value_refuses_to_backward():
    a = shenjing.ones(3, requires_grad=True)
    x = a * 2
    y = x * x  # reads x
    x[0] = 5.0
    with pytest.raises(RuntimeError, match="modified|changed|version"):
        y.sum().backward()
