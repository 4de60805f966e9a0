"""shenjing.ops beyond the core (``_ops_numpy.py``, ``_ops_nn.py``, ``functional/extra.py``):
values against NumPy, gradients against finite differences (float64) and torch, and ops on
symbolic tensors in a functional model that goes through its config."""

from __future__ import annotations

import math

import numpy as np
import pytest

import shenjing
import shenjing as keras
from oracle import assert_same_as_torch, require_torch
from shenjing import Tensor, gradcheck, gradgradcheck, ops
from shenjing.layers.input_layer import SymbolicTensor

RNG = np.random.default_rng(0)
X = RNG.normal(size=(3, 4)).astype(np.float32)
A = RNG.normal(size=(2, 3, 4)).astype(np.float32)
B = RNG.normal(size=(4, 5)).astype(np.float32)
C = RNG.normal(size=(5, 4, 2)).astype(np.float32)
P = (np.abs(X) * 0.5).astype(np.float32)  # in every domain below
U = (X * 0.2).astype(np.float32)  # in (-1, 1)
NAN = np.array([1.0, np.nan, np.inf, -np.inf], np.float32)

VALUES = {
    "cumsum": (lambda: ops.cumsum(X, 1), np.cumsum(X, 1)),
    "cumsum_flat": (lambda: ops.cumsum(X), np.cumsum(X)),
    "cumprod": (lambda: ops.cumprod(X, 0), np.cumprod(X, 0)),
    "prod": (lambda: ops.prod(X, 1), np.prod(X, 1)),
    "prod_keepdims": (lambda: ops.prod(A, (0, 2), keepdims=True),
                      np.prod(A, (0, 2), keepdims=True)),
    "sort": (lambda: ops.sort(X, 0), np.sort(X, 0)),
    "argsort": (lambda: ops.argsort(X), np.argsort(X)),
    "take": (lambda: ops.take(X, [2, 0, 2], 1), np.take(X, [2, 0, 2], 1)),
    "take_flat": (lambda: ops.take(X, [5, -1]), np.take(X, [5, -1])),
    "take_along_axis": (lambda: ops.take_along_axis(X, np.argsort(X, 0), 0),
                        np.take_along_axis(X, np.argsort(X, 0), 0)),
    "tile": (lambda: ops.tile(X, (2, 1, 3)), np.tile(X, (2, 1, 3))),
    "tile_int": (lambda: ops.tile(X, 2), np.tile(X, 2)),
    "repeat": (lambda: ops.repeat(X, 2, 1), np.repeat(X, 2, 1)),
    "repeat_flat": (lambda: ops.repeat(X, 3), np.repeat(X, 3)),
    "repeat_each": (lambda: ops.repeat(X, [1, 0, 2], 0), np.repeat(X, [1, 0, 2], 0)),
    "roll": (lambda: ops.roll(X, 1, 1), np.roll(X, 1, 1)),
    "roll_flat": (lambda: ops.roll(X, -5), np.roll(X, -5)),
    "roll_axes": (lambda: ops.roll(X, (1, 2), (0, 1)), np.roll(X, (1, 2), (0, 1))),
    "flip": (lambda: ops.flip(X, 1), np.flip(X, 1)),
    "pad": (lambda: ops.pad(X, 1, constant_values=3), np.pad(X, 1, constant_values=3)),
    **{f"pad_{m}": (lambda m=m: ops.pad(X, ((1, 2), (2, 1)), mode=m),
                    np.pad(X, ((1, 2), (2, 1)), mode=m))
       for m in ("reflect", "symmetric", "edge", "wrap")},
    "triu": (lambda: ops.triu(X, 1), np.triu(X, 1)),
    "tril": (lambda: ops.tril(X, -1), np.tril(X, -1)),
    "diag_1d": (lambda: ops.diag(X[0], 1), np.diag(X[0], 1)),
    "diag_2d": (lambda: ops.diag(X, -1), np.diag(X, -1)),
    "diagonal": (lambda: ops.diagonal(A, 1, 1, 2), np.diagonal(A, 1, 1, 2)),
    "trace": (lambda: ops.trace(X), np.trace(X)),
    "outer": (lambda: ops.outer(X[0], X[1]), np.outer(X[0], X[1])),
    "dot": (lambda: ops.dot(A, B), np.dot(A, B)),
    "dot_vectors": (lambda: ops.dot(X[0], X[1]), np.dot(X[0], X[1])),
    "dot_nd": (lambda: ops.dot(A, C), np.dot(A, C)),
    "tensordot": (lambda: ops.tensordot(A, C, ([2, 0], [1, 2])),
                  np.tensordot(A, C, ([2, 0], [1, 2]))),
    "tensordot_int": (lambda: ops.tensordot(A, B, 1), np.tensordot(A, B, 1)),
    "einsum_ellipsis": (lambda: ops.einsum("...ij,jk->...ik", A, B),
                        np.einsum("...ij,jk->...ik", A, B)),
    "einsum_implicit": (lambda: ops.einsum("bij,bkj", A, A), np.einsum("bij,bkj", A, A)),
    "einsum_trace": (lambda: ops.einsum("ii", X[:, :3]), np.einsum("ii", X[:, :3])),
    "einsum_three": (lambda: ops.einsum("ij,jk,kl->il", X, B, B.T),
                     np.einsum("ij,jk,kl->il", X, B, B.T)),
    "moveaxis": (lambda: ops.moveaxis(A, [0, 1], [-1, 0]), np.moveaxis(A, [0, 1], [-1, 0])),
    "swapaxes": (lambda: ops.swapaxes(A, 0, 2), np.swapaxes(A, 0, 2)),
    "ravel": (lambda: ops.ravel(A), np.ravel(A)),
    "broadcast_to": (lambda: ops.broadcast_to(X[0], (2, 4)), np.broadcast_to(X[0], (2, 4))),
    "hstack": (lambda: ops.hstack([X, X]), np.hstack([X, X])),
    "vstack": (lambda: ops.vstack([X[0], X[1]]), np.vstack([X[0], X[1]])),
    "split": (lambda: ops.split(X, [1], axis=1)[1], np.split(X, [1], axis=1)[1]),
    "median": (lambda: ops.median(X, 1), np.median(X, 1)),
    "median_all": (lambda: ops.median(X), np.median(X)),
    "median_keepdims": (lambda: ops.median(X, 0, keepdims=True), np.median(X, 0, keepdims=True)),
    "average": (lambda: ops.average(X, 1, [1, 2, 3, 4]), np.average(X, 1, [1, 2, 3, 4])),
    "average_full": (lambda: ops.average(X, None, P), np.average(X, None, P)),
    "mod": (lambda: ops.mod(X, 0.7), np.mod(X, np.float32(0.7))),
    "mod_int": (lambda: ops.mod(np.arange(-5, 5), 3), np.mod(np.arange(-5, 5), 3)),
    "floor_divide": (lambda: ops.floor_divide(X, 0.7), np.floor_divide(X, np.float32(0.7))),
    "round": (lambda: ops.round(X, 1), np.round(X, 1)),
    "nan_to_num": (lambda: ops.nan_to_num(NAN), np.nan_to_num(NAN)),
    "isnan": (lambda: ops.isnan(NAN), np.isnan(NAN)),
    "isfinite": (lambda: ops.isfinite(NAN), np.isfinite(NAN)),
    "logical_xor": (lambda: ops.logical_xor(X > 0, X > 1), np.logical_xor(X > 0, X > 1)),
    "any": (lambda: ops.any(X > 1, 1), np.any(X > 1, 1)),
    "all": (lambda: ops.all(X > -2, 0, keepdims=True), np.all(X > -2, 0, keepdims=True)),
    "count_nonzero": (lambda: ops.count_nonzero([[0, 1], [2, 0]], 0), [1, 1]),
    "log2": (lambda: ops.log2(P), np.log2(P)),
    "log10": (lambda: ops.log10(P), np.log10(P)),
    "arccosh": (lambda: ops.arccosh(P + 1.5), np.arccosh(P + 1.5)),
    "linspace": (lambda: ops.linspace(0, 1, 5), np.linspace(0, 1, 5)),
    "meshgrid_xy": (lambda: ops.stack(ops.meshgrid(np.arange(3), np.arange(4))),
                    np.stack(np.meshgrid(np.arange(3), np.arange(4)))),
    "meshgrid_ij": (lambda: ops.stack(ops.meshgrid([0.0, 1.0, 2.0], [1.0, 2.0], indexing="ij")),
                    np.stack(np.meshgrid(np.arange(3), [1.0, 2.0], indexing="ij"))),
    "segment_sum": (lambda: ops.segment_sum(X, [0, 2, 0]), [X[0] + X[2], 0 * X[0], X[1]]),
    "slice": (lambda: ops.slice(X, (1, 1), (2, 2)), X[1:3, 1:3]),
    "slice_update": (lambda: ops.slice_update(X, (0, 1), np.full((2, 2), 7.0)),
                     np.where(np.pad(np.ones((2, 2), bool), ((0, 1), (1, 1))), 7.0, X)),
    "top_k": (lambda: ops.top_k(X, 2)[0], -np.sort(-X, -1)[:, :2]),
    "in_top_k": (lambda: ops.in_top_k([1, 0, 3], X, 2),
                 [1 in np.argsort(-X[0])[:2], 0 in np.argsort(-X[1])[:2],
                  3 in np.argsort(-X[2])[:2]]),
    **{name: (lambda name=name: getattr(ops, name)(P), getattr(np, name)(P)) for name in (
        "sin", "cos", "tan", "arctan", "sinh", "cosh", "arcsinh", "log1p", "expm1", "floor",
        "ceil", "sign", "reciprocal")},
    **{name: (lambda name=name: getattr(ops, name)(U), getattr(np, name)(U))
       for name in ("arcsin", "arccos", "arctanh")},
}


@pytest.mark.parametrize("name", list(VALUES))
def test_op_matches_numpy(name):
    fn, expected = VALUES[name]
    out = fn()
    assert isinstance(out, Tensor)
    np.testing.assert_allclose(out.numpy(), np.asarray(expected), rtol=2e-6, atol=2e-6)
    if np.asarray(expected).dtype.kind == "f":
        assert out.dtype == np.float32


@pytest.mark.parametrize("o, axis", [(None, 1), (1, 1), (3, 0), (np.inf, 1), (-np.inf, 1),
                                     (0, 1), (-1, 1), (None, None), ("fro", None), (1, None),
                                     (-1, None), (np.inf, None), (-np.inf, (1, 0))])
def test_norm_matches_numpy(o, axis):
    np.testing.assert_allclose(ops.norm(X, o, axis).numpy(), np.linalg.norm(X, o, axis),
                               rtol=1e-5)
    np.testing.assert_allclose(ops.norm(A, axis=(0, 2), keepdims=True).numpy(),
                               np.linalg.norm(A, axis=(0, 2), keepdims=True), rtol=1e-5)


def test_keras_sub_namespaces():
    """keras.ops.nn / numpy / core / math (collaborative filtering's ops.nn.sigmoid) hold the
    top-level functions, symbolic recording included; a name not there says where to look."""
    assert ops.nn.sigmoid is ops.sigmoid and ops.nn.one_hot is ops.one_hot
    assert ops.numpy.sum is ops.sum and ops.numpy.tanh is ops.tanh
    assert ops.core.cast is ops.cast and ops.math.top_k is ops.top_k
    assert "sigmoid" not in ops.numpy.__all__ and "sum" not in ops.nn.__all__
    every = {n for ns in (ops.nn, ops.numpy, ops.core, ops.math) for n in ns.__all__}
    assert every <= set(ops.__all__)
    np.testing.assert_allclose(ops.nn.sigmoid(np.zeros(2)).numpy(), [0.5, 0.5])
    assert isinstance(ops.nn.relu(keras.Input(shape=(3,))), SymbolicTensor)
    with pytest.raises(AttributeError, match="shenjing.ops.nn has no 'sum'"):
        ops.nn.sum  # noqa: B018


def test_creation_and_core():
    assert ops.size(X).item() == 12 and ops.ndim(X) == 2 and ops.ndim([[1]]) == 2
    assert ops.full_like(X, 2).dtype == np.float32 and ops.full_like(X, 2, "int32").dtype == \
        np.int32
    np.testing.assert_array_equal(ops.identity(3).numpy(), np.eye(3))
    np.testing.assert_array_equal(ops.tri(3, 4, 1).numpy(), np.tri(3, 4, 1))
    out, step = ops.linspace(0.0, 2.0, 4, endpoint=False, retstep=True)
    assert step == 0.5 and out.dtype == np.float32
    assert ops.cond(ops.sum(X) > 100, lambda: 1, lambda: 2) == 2
    values, indices = ops.top_k(np.array([[1.0, 3.0, 3.0, 2.0]]), 3)
    assert indices.dtype == np.int32 and indices.numpy().tolist() == [[1, 2, 3]]
    x = shenjing.ones(3, requires_grad=True)
    assert not ops.stop_gradient(x * 2).requires_grad


# Differentiable ops: the gradient of each against central differences in float64.
POS = np.abs(RNG.normal(size=(3, 4))) + 0.5
GRADS = {
    "cumsum": (lambda x: ops.cumsum(x, 0), [X]),
    "cumprod": (lambda x: ops.cumprod(x, 1), [X]),
    "cumprod_zeros": (lambda x: ops.cumprod(x, 1), [np.array([[1.5, 0.0, 2.0, 0.0, 3.0],
                                                              [0.0, 2.0, -1.0, 1.0, 2.0]])]),
    "prod": (lambda x: ops.prod(x, 0), [X]),
    "sort": (lambda x: ops.sort(x, 0), [X]),
    "top_k": (lambda x: ops.top_k(x, 2)[0], [X]),
    "median": (lambda x: ops.median(x, 1), [X]),
    "take": (lambda x: ops.take(x, [1, 1, 0], 1), [X]),
    "take_along_axis": (lambda x: ops.take_along_axis(x, np.array([[0, 2], [1, 1], [3, 0]]),
                                                      1), [X]),
    "roll": (lambda x: ops.roll(x, (1, -1), (0, 1)), [X]),
    "tile": (lambda x: ops.tile(x, (2, 1, 2)), [X]),
    "repeat": (lambda x: ops.repeat(x, 2, 0), [X]),
    "repeat_each": (lambda x: ops.repeat(x, [2, 0, 1, 1], 1), [X]),
    "pad_reflect": (lambda x: ops.pad(x, ((1, 1), (2, 0)), mode="reflect"), [X]),
    "pad_edge": (lambda x: ops.pad(x, 2, mode="edge"), [X]),
    "triu": (lambda x: ops.triu(x, 1), [X]),
    "diag": (lambda x: ops.diag(ops.diag(x, 1) * 2.0), [X]),
    "trace": (lambda x: ops.trace(x), [X]),
    "outer": (lambda x, y: ops.outer(x, y), [X[0], X[1]]),
    "dot": (lambda x, y: ops.dot(x, y), [A, C]),
    "tensordot": (lambda x, y: ops.tensordot(x, y, ([2, 0], [1, 2])), [A, C]),
    "einsum_batch": (lambda x, y: ops.einsum("...ij,jk->...ik", x, y), [A, B]),
    "einsum_sum_out": (lambda x, y: ops.einsum("bij,jk->b", x, y), [A, B]),
    "einsum_broadcast": (lambda x, y: ops.einsum("bij,bij->bj", x, y), [A[:1], A]),
    "meshgrid": (lambda x, y: ops.meshgrid(x, y)[0] * ops.meshgrid(x, y)[1], [X[0], X[1]]),
    "average": (lambda x, w: ops.average(x, 1, w), [X, POS[0]]),
    "mod": (lambda x, y: ops.mod(x, y), [X * 3, POS]),
    "nan_to_num": (lambda x: ops.nan_to_num(x * 2.0), [X]),
    "slice_update": (lambda x, u: ops.slice_update(x, (1, 0), u), [X, X[:2, :2]]),
    "norm_matrix_1": (lambda x: ops.norm(x, 1), [X]),
    "norm_neg": (lambda x: ops.norm(x, -2, 0), [X]),
    "normalize": (lambda x: ops.normalize(x, 0), [X]),
    "normalize_l1": (lambda x: ops.normalize(x, order=1), [X]),
    "segment_sum": (lambda x: ops.segment_sum(x, [1, 0, 1]), [X]),
    **{name: (lambda x, name=name: getattr(ops, name)(x), [U]) for name in (
        "tan", "arcsin", "arccos", "arctan", "sinh", "cosh", "arcsinh", "arctanh", "log1p",
        "expm1", "erf", "softsign", "log_sigmoid", "hard_sigmoid", "relu6", "hard_silu", "celu",
        "gelu", "elu", "selu", "silu", "softplus", "leaky_relu")},
    **{name: (lambda x, name=name: getattr(ops, name)(x), [POS]) for name in (
        "log2", "log10", "rsqrt", "reciprocal")},
    "arccosh": (lambda x: ops.arccosh(x), [POS + 1]),
}


@pytest.mark.parametrize("name", list(GRADS))
def test_gradient_matches_finite_differences(name):
    fn, inputs = GRADS[name]
    assert gradcheck(fn, *[np.asarray(x, np.float64) for x in inputs])


@pytest.mark.parametrize("fn, inputs", [
    (lambda x: ops.cumsum(x * x, 1), [X]),
    (lambda x: ops.cumprod(x, 0), [POS]),
    (lambda x, y: ops.einsum("ij,jk->ik", x * x, y), [X, B]),
    (lambda x: ops.arctan(x) * ops.erf(x), [X]),
], ids=["cumsum", "cumprod", "einsum", "arctan_erf"])
def test_second_derivatives(fn, inputs):
    assert gradgradcheck(fn, *[np.asarray(x, np.float64) for x in inputs])


def test_einsum_and_cumprod_match_torch():
    th = require_torch()
    assert_same_as_torch(lambda a, b: ops.einsum("bij,jk->bki", a, b), [A, B],
                         lambda a, b: th.einsum("bij,jk->bki", a, b))
    z = np.array([[2.0, 0.0, 3.0, 0.0], [1.0, -2.0, 0.5, 4.0]], np.float32)
    assert_same_as_torch(lambda x: ops.cumprod(x, 1), [z], lambda x: th.cumprod(x, 1))
    assert_same_as_torch(lambda x: ops.sort(x, 1) * ops.cumsum(x, 0), [X],
                         lambda x: th.sort(x, 1).values * th.cumsum(x, 0))


# -- NN ops --------------------------------------------------------------------------------------
def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


@pytest.mark.parametrize("name, expected", [
    ("softsign", X / (1 + np.abs(X))), ("log_sigmoid", np.log(_sigmoid(X))),
    ("hard_sigmoid", np.clip(X / 6 + 0.5, 0, 1)), ("hard_silu", X * np.clip(X / 6 + 0.5, 0, 1)),
    ("relu6", np.clip(X * 4, 0, 6) / 4 * 4), ("silu", X * _sigmoid(X)), ("swish", X * _sigmoid(X)),
    ("softplus", np.log1p(np.exp(X))), ("leaky_relu", np.where(X > 0, X, 0.2 * X)),
    ("elu", np.where(X > 0, X, np.expm1(X))), ("hard_tanh", np.clip(X, -1, 1)),
    ("celu", np.where(X > 0, X, np.expm1(X))),
    ("gelu", 0.5 * X * (1 + np.tanh(math.sqrt(2 / math.pi) * (X + 0.044715 * X ** 3)))),
    ("erf", np.vectorize(math.erf)(X)), ("rsqrt", 1 / np.sqrt(np.abs(X))),
])
def test_activation_values(name, expected):
    x = np.abs(X) if name == "rsqrt" else X * 4 if name == "relu6" else X
    np.testing.assert_allclose(getattr(ops, name)(x).numpy(), expected, rtol=1e-5, atol=1e-6)


def test_glu_and_normalize():
    a, b = X[:, :2], X[:, 2:]
    np.testing.assert_allclose(ops.glu(X).numpy(), a * _sigmoid(b), rtol=1e-6)
    np.testing.assert_allclose(ops.normalize(X).numpy(),
                               X / np.linalg.norm(X, axis=-1, keepdims=True), rtol=1e-6)
    np.testing.assert_array_equal(ops.normalize(np.zeros((2, 3))).numpy(), 0)
    np.testing.assert_allclose(ops.normalize(X, 0, order=1).numpy(),
                               X / np.abs(X).sum(0), rtol=1e-6)


def test_crossentropies_as_keras():
    t, p = np.array([0.0, 1.0, 1.0, 0.0]), np.array([0.1, 0.9, 0.8, 0.2], np.float32)
    np.testing.assert_allclose(ops.binary_crossentropy(t, p).numpy(),
                               [0.10536054, 0.10536054, 0.22314355, 0.22314355], rtol=1e-5)
    logits = np.log(p / (1 - p))
    np.testing.assert_allclose(ops.binary_crossentropy(t, logits, from_logits=True).numpy(),
                               ops.binary_crossentropy(t, p).numpy(), rtol=1e-5)
    probs = np.exp(A) / np.exp(A).sum(1, keepdims=True)
    labels = RNG.integers(0, 3, size=(2, 4))
    onehot = np.moveaxis(np.eye(3)[labels], -1, 1)
    expected = -np.log((probs * onehot).sum(1))
    np.testing.assert_allclose(ops.categorical_crossentropy(onehot, probs, axis=1).numpy(),
                               expected, rtol=1e-5)
    np.testing.assert_allclose(
        ops.categorical_crossentropy(onehot, A, from_logits=True, axis=1).numpy(), expected,
        rtol=1e-5)
    np.testing.assert_allclose(
        ops.sparse_categorical_crossentropy(labels, A, from_logits=True, axis=1).numpy(),
        expected, rtol=1e-5)
    np.testing.assert_allclose(
        ops.sparse_categorical_crossentropy(labels[..., None], np.moveaxis(probs, 1, -1))
        .numpy(), expected, rtol=1e-5)


def test_moments_and_batch_normalization():
    mean, var = ops.moments(A, axes=[0, 1])
    np.testing.assert_allclose(mean.numpy(), A.mean((0, 1)), rtol=1e-5)
    np.testing.assert_allclose(var.numpy(), A.var((0, 1)), rtol=1e-5)
    gamma, beta = np.arange(1.0, 5.0), np.ones(4)
    out = ops.batch_normalization(A, mean, var, axis=-1, offset=beta, scale=gamma)
    np.testing.assert_allclose(
        out.numpy(), (A - A.mean((0, 1))) / np.sqrt(A.var((0, 1)) + 1e-3) * gamma + beta,
        rtol=1e-5, atol=1e-6)
    assert gradcheck(lambda x: ops.batch_normalization(x, *ops.moments(x, [0]), axis=1),
                     X.astype(np.float64))


def test_conv_and_pool_run_the_2d_kernels_and_their_1d_forms():
    import shenjing.functional as F

    x = RNG.normal(size=(2, 6, 5, 3)).astype(np.float32)
    k = RNG.normal(size=(3, 3, 3, 4)).astype(np.float32)
    np.testing.assert_array_equal(
        ops.conv(x, k, strides=2, padding="SAME").numpy(),
        F.conv2d(Tensor(x), Tensor(k), strides=2, padding="same").numpy())
    np.testing.assert_array_equal(ops.max_pool(x, 2).numpy(), F.max_pool2d(Tensor(x)).numpy())
    dk = RNG.normal(size=(3, 3, 3, 2)).astype(np.float32)
    pk = RNG.normal(size=(1, 1, 6, 4)).astype(np.float32)
    y = ops.separable_conv(x, dk, pk, padding="same")
    np.testing.assert_allclose(y.numpy(), ops.conv(ops.depthwise_conv(x, dk, padding="same"),
                                                   pk).numpy(), rtol=1e-6)
    # 1-D: (batch, steps, channels) against the height-1 image
    s, k1 = x[:, 0], k[0]
    np.testing.assert_allclose(ops.conv(s, k1, dilation_rate=2).numpy(),
                               ops.conv(s[:, None], k1[None], dilation_rate=(1, 2)).numpy()[:, 0])
    np.testing.assert_allclose(ops.average_pool(s, 2, 1).numpy(),
                               (s[:, :-1] + s[:, 1:]) / 2, rtol=1e-6)
    with pytest.raises(ValueError, match="channels_first.*not supported.*channels_last"):
        ops.conv(x, k, data_format="channels_first")


def test_conv_matches_torch():
    th = require_torch()
    x = RNG.normal(size=(2, 7, 3)).astype(np.float32)
    k = RNG.normal(size=(3, 3, 4)).astype(np.float32)
    assert_same_as_torch(
        lambda x, k: ops.conv(x, k, padding="valid", dilation_rate=2), [x, k],
        lambda x, k: th.nn.functional.conv1d(x.permute(0, 2, 1), k.permute(2, 1, 0),
                                             dilation=2).permute(0, 2, 1))


# -- on symbolic tensors of the functional API ---------------------------------------------------
SYMBOLIC = {
    "numpy": lambda x, y: ops.cumsum(x, axis=1) + ops.sort(y, axis=-1) * ops.roll(x, 1, 2)
    + ops.pad(ops.tile(x, (1, 1, 2))[..., :3], ((0, 0), (0, 0), (0, 1)), mode="reflect"),
    "einsum": lambda x, y: ops.einsum("bij,bkj->bik", x, y) + ops.tensordot(x, y, ([2], [2]))[
        :, :, 0] + ops.triu(ops.matmul(x, ops.swapaxes(y, 1, 2))),
    "multi_output": lambda x, y: ops.concatenate(
        [ops.top_k(x, 2)[0], *ops.moments(y, axes=[2], keepdims=True), *ops.split(x, 2, -1)],
        axis=-1),
    "nn": lambda x, y: ops.log_sigmoid(x) * ops.gelu(y) + ops.normalize(x) - ops.softsign(
        ops.sum(ops.take(y, [0, 0, 3], axis=2), axis=-1, keepdims=True)) + ops.median(
        y, axis=-1, keepdims=True),
    "losses": lambda x, y: ops.categorical_crossentropy(ops.softmax(y), x, from_logits=True)
    + ops.binary_crossentropy(ops.sigmoid(y), ops.sigmoid(x))[..., 0],
}


@pytest.mark.parametrize("name", list(SYMBOLIC))
def test_new_ops_on_symbolic_tensors_survive_the_config(name):
    f = SYMBOLIC[name]
    a, b = (RNG.normal(size=(5, 3, 4)).astype("float32") for _ in range(2))
    xi, yi = keras.Input((3, 4)), keras.Input((3, 4))
    model = keras.Model([xi, yi], f(xi, yi))
    expected = f(Tensor(a), Tensor(b)).numpy()
    np.testing.assert_allclose(model([a, b]).numpy(), expected, rtol=1e-5, atol=1e-6)
    clone = keras.Model.from_config(model.get_config())
    np.testing.assert_allclose(clone([a, b]).numpy(), expected, rtol=1e-5, atol=1e-6)


def test_saved_model_with_new_ops_loads_and_trains(tmp_path):
    x = RNG.normal(size=(32, 6)).astype("float32")
    y = (np.cumsum(x, 1)[:, -1:] > 0).astype("float32")
    inputs = keras.Input((6,))
    h = keras.layers.Dense(4)(ops.cumsum(inputs, axis=1))
    out = keras.layers.Dense(1, activation="sigmoid")(ops.hard_silu(h) + ops.flip(h, axis=1))
    model = keras.Model(inputs, out)
    model.compile(loss="binary_crossentropy", optimizer="adam")
    losses = model.fit(x, y, epochs=5, verbose=0).history["loss"]
    assert losses[-1] < losses[0]
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-6)


# -- against keras.ops (an audit with Keras 3.15 on JAX: the expected values are Keras's) -------
F32 = np.array([[0.5, -1.5, 2.5], [3.0, -0.25, -2.5]], np.float32)
I32 = np.array([[1, 2, 3], [4, 5, 6]], np.int32)
HOLES = np.array([1.0, np.nan, np.inf, -np.inf, -0.0], np.float32)


def test_products_of_integers_and_floats_are_float32_as_keras():
    for out in (ops.dot(I32, F32.T), ops.tensordot(I32, F32, 2), ops.einsum("ij,jk->ik", I32,
                                                                            F32.T)):
        assert out.dtype == np.float32  # NumPy's einsum promoted them to float64
    np.testing.assert_allclose(ops.dot(I32, F32.T).numpy(), I32 @ F32.T, rtol=1e-6)


def test_nan_is_the_largest_for_top_k_and_spreads_through_median():
    values, indices = ops.top_k(HOLES, 2)
    assert np.isnan(values.numpy()[0]) and values.numpy()[1] == np.inf
    assert indices.numpy().tolist() == [1, 2]
    assert np.isnan(ops.median(HOLES).item())
    np.testing.assert_array_equal(ops.median(np.array([[1.0, 2, 3], [4, np.nan, 5]]), axis=1)
                                  .numpy(), [2.0, np.nan])


def test_erf_keeps_its_relative_precision_near_zero():
    x = np.array([1e-8, 1e-6, 1e-4, 0.1, 0.3, 0.49, 0.7, 2.0, -1e-6], np.float32)
    expected = np.array([math.erf(v) for v in x.astype(np.float64)])
    np.testing.assert_allclose(ops.erf(x).numpy(), expected, rtol=2e-7)  # 5% off at 1e-6


def test_keras_forms_linspace_hstack_any_where_max_eye():
    np.testing.assert_array_equal(ops.linspace(-5, 5, 4, dtype="int32").numpy(), [-5, -2, 1, 5])
    np.testing.assert_array_equal(ops.hstack([1.0, 2.0]).numpy(), [1.0, 2.0])
    assert bool(ops.any(F32 > 0, axis=[0, 1]).item()) and not ops.all(F32 > 0, axis=[0, 1]).item()
    rows, cols = ops.where(F32 > 0)
    assert rows.numpy().tolist() == [0, 0, 1] and cols.numpy().tolist() == [0, 2, 0]
    assert ops.max(F32, initial=10.0).item() == 10.0
    np.testing.assert_array_equal(ops.min(F32, axis=0, initial=0.0).numpy(), [0.0, -1.5, -2.5])
    np.testing.assert_array_equal(ops.max(np.zeros((0, 3), np.float32), axis=0, initial=-1.0)
                                  .numpy(), [-1.0, -1.0, -1.0])
    np.testing.assert_array_equal(ops.eye(N=2, M=3).numpy(), np.eye(2, 3))
    assert ops.nn.sparsemax is ops.sparsemax and ops.nn.ctc_decode is ops.ctc_decode


def test_scatter_scatter_update_and_segment_max_as_keras_on_jax():
    """Values as Keras 3.15 on JAX gave them: scatter sums a repeated index's values,
    segment_max is -inf for an empty segment and splits a tie's gradient evenly."""
    np.testing.assert_array_equal(
        ops.scatter(np.array([[0], [2], [0]]), np.array([1.0, 2.0, 3.0]), (4,)).numpy(),
        [4, 0, 2, 0])
    np.testing.assert_array_equal(
        ops.scatter(np.array([[0, 1], [1, 0]]), np.array([5.0, 6.0]), (2, 2)).numpy(),
        [[0, 5], [6, 0]])
    np.testing.assert_array_equal(
        ops.scatter_update(np.zeros((3, 2)), np.array([[0], [2]]),
                           np.array([[1.0, 1.0], [2.0, 2.0]])).numpy(),
        [[1, 1], [0, 0], [2, 2]])
    data = shenjing.tensor(np.array([[1.0, 5.0], [3.0, 5.0], [2.0, 0.0]]), requires_grad=True)
    top = ops.segment_max(data, np.array([0, 0, 2]), num_segments=4)
    np.testing.assert_array_equal(top.numpy(), [[3, 5], [-np.inf, -np.inf], [2, 0],
                                                [-np.inf, -np.inf]])
    top[0].sum().backward()
    np.testing.assert_array_equal(data.grad.numpy(), [[0, 0.5], [1, 0.5], [0, 0]])
    rng = np.random.default_rng(0)
    assert gradcheck(lambda v: ops.scatter(np.array([[0], [2], [0]]), v, (4, 3)),
                        rng.standard_normal((3, 3)))
    assert gradcheck(lambda x, u: ops.scatter_update(x, np.array([[1]]), u),
                        rng.standard_normal((3, 2)), rng.standard_normal((1, 2)))
    assert gradcheck(lambda d: ops.segment_max(d, np.array([1, 0, 1, 1]), num_segments=2),
                        rng.standard_normal((4, 3)))
    with pytest.raises(ValueError, match="rows of k <= 1 coordinates"):
        ops.scatter(np.array([[0, 1]]), np.array([1.0]), (4,))


def test_ops_image_resize_and_grayscale():
    """keras.ops.image (checked against Keras 3.15 on JAX: 2e-7): resize is TF's half-pixel
    sampling, torch's interpolate(align_corners=False) and 'nearest-exact'; channels first and
    single images too; rgb_to_grayscale with Keras's weights."""
    torch = require_torch()
    x = np.random.default_rng(0).random((2, 7, 5, 3)).astype(np.float32)
    nchw = torch.tensor(np.moveaxis(x, -1, 1))
    for ours, mode in (("bilinear", "bilinear"), ("nearest", "nearest-exact")):
        want = torch.nn.functional.interpolate(nchw, size=(4, 9), mode=mode,
                                               **({"align_corners": False}
                                                  if mode == "bilinear" else {}))
        got = ops.image.resize(x, (4, 9), interpolation=ours).numpy()
        np.testing.assert_allclose(got, np.moveaxis(want.numpy(), 1, -1), atol=1e-6)
        first = ops.image.resize(np.moveaxis(x, -1, 1), (4, 9), interpolation=ours,
                                 data_format="channels_first").numpy()
        np.testing.assert_allclose(first, want.numpy(), atol=1e-6)
    assert ops.image.resize(x[0], (3, 3)).shape == (3, 3, 3)
    np.testing.assert_allclose(ops.image.rgb_to_grayscale(x).numpy(),
                               (x * [0.2989, 0.5870, 0.1140]).sum(-1, keepdims=True), rtol=1e-6)
    assert gradcheck(lambda t: ops.image.resize(t, (3, 4)), x[:1, :4, :4].astype(np.float64))
    with pytest.raises(NotImplementedError, match="antialias"):
        ops.image.resize(x, (4, 4), antialias=True)
