"""embedding: lookup, the gradient of repeated ids, parity with torch, and bad ids."""

from __future__ import annotations

import numpy as np
import pytest

import shenjing
from oracle import assert_same_as_torch, require_torch
from shenjing import F, Tensor

IDS = [np.array([3]), np.array([1, 4, 1, 0, 1]), np.array([[2, 2], [0, 5], [5, 2]])]


@pytest.mark.parametrize("ids", IDS, ids=lambda a: str(a.tolist()))
def test_embedding_gradcheck(ids, rng):
    assert shenjing.gradcheck(lambda t: F.embedding(ids, t), rng.standard_normal((6, 3)))


@pytest.mark.parametrize("ids", IDS, ids=lambda a: str(a.tolist()))
def test_embedding_matches_torch(ids, rng):
    th = require_torch()
    assert_same_as_torch(lambda t: F.embedding(ids, t), [rng.standard_normal((6, 4))],
                         lambda t: th.nn.functional.embedding(th.from_numpy(ids), t))


def test_embedding_repeated_ids_sum_their_gradients(rng):
    table = Tensor(rng.standard_normal((4, 2)), requires_grad=True)
    ids = Tensor(np.array([[1, 1], [3, 1]]))  # a Tensor of ids works as well as an array
    y = F.embedding(ids, table)
    assert y.shape == (2, 2, 2)
    np.testing.assert_array_equal(y.numpy()[1, 0], table.numpy()[3])
    y.backward(np.ones(y.shape, np.float32))
    np.testing.assert_array_equal(table.grad.numpy(), [[0, 0], [3, 3], [0, 0], [1, 1]])
    assert table.grad.dtype == np.float32


@pytest.mark.parametrize("bad", [[0, 6], [-1, 2]])
def test_embedding_rejects_ids_outside_the_vocabulary(bad):
    with pytest.raises(IndexError, match=r"\[0, 6\) for a vocabulary of size 6"):
        F.embedding(np.array(bad), Tensor(np.zeros((6, 2))))


def test_embedding_rejects_float_ids_and_bad_tables():
    with pytest.raises(TypeError, match="ids must be integers"):
        F.embedding(np.array([1.0]), Tensor(np.zeros((6, 2))))
    with pytest.raises(ValueError, match=r"table of shape \(vocabulary, dim\)"):
        F.embedding(np.array([1]), Tensor(np.zeros(6)))


# -- one_hot ------------------------------------------------------------------------------------
@pytest.mark.parametrize("shape, num_classes", [((4,), 5), ((2, 3), -1), ((0,), 3), ((), 4)])
def test_one_hot_matches_torch(shape, num_classes, rng):
    th = require_torch()
    ids = rng.integers(0, 4, shape).astype(np.int64)
    got = F.one_hot(Tensor(ids), num_classes)
    expected = th.nn.functional.one_hot(th.tensor(ids), num_classes).numpy()
    assert got.dtype == expected.dtype and not got.requires_grad
    np.testing.assert_array_equal(got.numpy(), expected)


def test_one_hot_refuses_floats_and_ids_out_of_range():
    with pytest.raises(TypeError, match="integer ids"):
        F.one_hot(Tensor(np.zeros(2, np.float32)), 3)
    with pytest.raises(ValueError, match=r"in \[0, 3\)"):
        F.one_hot(Tensor(np.array([0, 3])), 3)


def test_one_hot_refuses_to_infer_num_classes_from_empty_ids():
    th = require_torch()
    with pytest.raises(RuntimeError, match="empty"):
        th.nn.functional.one_hot(th.zeros(0, dtype=th.long))
    with pytest.raises(ValueError, match="cannot be inferred from empty ids"):
        F.one_hot(Tensor(np.zeros(0, np.int64)))


@pytest.mark.parametrize("team", [1, 2])
def test_embedding_gradient_in_c_is_numpys_scatter_add(team, rng):
    """The C scatter-add (float32, from native.C_MIN elements) against np.add.at: repeated ids
    (every gradient collected, in order), int32 ids, an upstream gradient that is a strided
    view, and on a team of two (columns split between the threads)."""
    from shenjing import native, parallel

    lib = native.kernels()
    if lib is None:
        pytest.skip(f"C kernels: {native.status()}")
    table0 = rng.standard_normal((50, 40)).astype(np.float32)
    ids = rng.integers(0, 50, (40, 30)).astype(np.int32)  # 48,000 elements: over TEAM_MIN
    ids[0, :5] = 7  # one id many times
    g0 = rng.standard_normal((30, 40, 40)).astype(np.float32).transpose(1, 0, 2)  # a view

    def grad():
        table = shenjing.tensor(table0, requires_grad=True)
        F.embedding(ids, table).backward(shenjing.tensor(g0))
        return table.grad.numpy()

    lib.sj_set_team(team)
    try:
        fast = grad()
    finally:
        lib.sj_set_team(parallel.team_size or 1)
    expected = np.zeros_like(table0)
    np.add.at(expected, ids.reshape(-1), g0.reshape(-1, 40))
    np.testing.assert_allclose(fast, expected, rtol=1e-6, atol=1e-6)
    with native.disabled():
        np.testing.assert_array_equal(grad(), expected)


def test_embedding_backward_uses_the_ids_of_its_forward():
    """The ids array refilled between forward and backward (a reused batch buffer) changes
    nothing: the gradient goes to the rows the forward read (and never outside the table)."""
    ids = np.array([1, 2, 2])
    table = shenjing.tensor(np.zeros((4, 1100), np.float32), requires_grad=True)  # C-sized
    y = F.embedding(ids, table)
    ids[:] = 10**9
    y.sum().backward()
    np.testing.assert_array_equal(table.grad.numpy()[:, 0], [0, 1, 2, 0])
