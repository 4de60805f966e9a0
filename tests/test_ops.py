"""shenjing.ops, the core of keras.ops: each op against NumPy on arrays, lists and numbers,
Tensors out, gradients through the differentiable ones (checked against torch)."""

from __future__ import annotations

import numpy as np
import pytest

import shenjing
from oracle import assert_same_as_torch, require_torch
from shenjing import ops

X = np.array([[0.5, -1.0, 2.0], [3.0, 0.25, -0.5]], np.float32)


@pytest.mark.parametrize("name, args, expected", [
    ("sum", (X,), X.sum()), ("mean", (X, -1), X.mean(-1)), ("max", (X, 0), X.max(0)),
    ("min", (X,), X.min()), ("square", (X,), X * X), ("abs", (X,), np.abs(X)),
    ("exp", (X,), np.exp(X)), ("negative", (X,), -X), ("relu", (X,), np.maximum(X, 0)),
    ("add", (X, 1.0), X + 1), ("subtract", (0.5, X), 0.5 - X), ("multiply", (X, X), X * X),
    ("divide", (X, 2.0), X / 2), ("maximum", (X, 0.0), np.maximum(X, 0)),
    ("matmul", (X, X.T), X @ X.T), ("reshape", (X, (-1, 1)), X.reshape(-1, 1)),
    ("transpose", (X,), X.T), ("expand_dims", (X, 0), X[None]),
    ("concatenate", ([X, X], 1), np.concatenate([X, X], 1)),
    ("stack", ([X, X], 1), np.stack([X, X], 1)), ("clip", (X, 0.0, 1.0), np.clip(X, 0, 1)),
    ("where", (X > 0, X, 0.0), np.where(X > 0, X, 0)),
    ("argmax", (X, 1), X.argmax(1)), ("argmin", (X,), X.argmin()),
    ("softmax", (X,), np.exp(X) / np.exp(X).sum(-1, keepdims=True)),
    ("zeros", ((2, 3),), np.zeros((2, 3))), ("ones", ((2,),), np.ones(2)),
])
def test_op_matches_numpy_and_returns_a_tensor(name, args, expected):
    out = getattr(ops, name)(*args)
    assert isinstance(out, shenjing.Tensor)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-6, atol=1e-6)
    if name not in ("argmax", "argmin"):
        assert out.dtype == np.float32  # floating arrays are float32 (Keras's floatx)


def test_lists_and_numbers_become_tensors():
    np.testing.assert_array_equal(ops.sum([[1, 2], [3, 4]], axis=0).numpy(), [4, 6])
    assert ops.convert_to_tensor([1.0, 2.0]).dtype == np.float32
    assert ops.convert_to_tensor(np.arange(3)).dtype == np.int64
    assert ops.shape(ops.zeros((4, 2))) == (4, 2) and ops.shape(X) == (2, 3)
    np.testing.assert_array_equal(ops.convert_to_numpy(ops.cast(X, "int32")), X.astype(np.int32))


@pytest.mark.parametrize("name, args", [
    ("zeros", ((2, 3),)), ("ones", (3,)), ("full", ((2,), 7)), ("zeros_like", ([1.0, 2.0],)),
    ("ones_like", (X,)), ("arange", (0.0, 3.0)), ("eye", (2, 3, 1)),
])
def test_creation_dtypes_as_keras(name, args):
    # floatx (float32) by default, even for an integer fill value (where torch's full gives
    # int64); a dtype given is kept, float64 too (Keras's rule; it used to become float32)
    fn = getattr(ops, name)
    expected = getattr(np, name)(*args) if name != "zeros_like" else np.zeros(2)
    out = fn(*args)
    assert isinstance(out, shenjing.Tensor) and out.dtype == np.float32
    np.testing.assert_array_equal(out.numpy(), expected)
    for dtype in ("float64", "int32"):
        out = fn(*args, dtype=dtype)
        assert out.dtype == np.dtype(dtype)
        np.testing.assert_array_equal(out.numpy(), expected.astype(dtype))


def test_full_dtype_is_keras_in_ops_and_torch_at_package_level():
    th = require_torch()
    assert ops.full((2,), 7).dtype == np.float32
    assert shenjing.full((2,), 7).dtype == th.full((2,), 7).numpy().dtype == np.int64
    x = shenjing.ones(2, requires_grad=True)
    assert not ops.zeros_like(x).requires_grad and ops.zeros_like([1, 2]).dtype == np.int64


def test_one_hot_as_keras():
    out = ops.one_hot(np.array([2.0, 0.0, 1.0]), num_classes=4)
    np.testing.assert_array_equal(out.numpy(), np.eye(4, dtype=np.float32)[[2, 0, 1]])
    assert ops.one_hot([1, 0], 2, axis=0).numpy().tolist() == [[0, 1], [1, 0]]


def test_comparison_of_casts_is_elementwise():
    # the custom metric of Keras's training guide: ops.cast(y_true) == ops.cast(y_pred)
    same = ops.cast(np.array([1.0, 2.0]), "int32") == ops.cast(np.array([1, 3]), "int32")
    np.testing.assert_array_equal(ops.cast(same, "float32").numpy(), [1.0, 0.0])


def test_custom_layer_written_with_ops_matches_torch():
    require_torch()
    rng = np.random.default_rng(0)
    x, w, b = (rng.standard_normal(s).astype(np.float32) for s in ((4, 3), (3, 5), (5,)))
    assert_same_as_torch(
        lambda x, w, b: ops.mean(ops.square(ops.relu(ops.matmul(x, w) + b) - 0.5), axis=-1),
        [x, w, b],
        lambda x, w, b: ((x @ w + b).relu() - 0.5).square().mean(-1))


def test_missing_op_names_what_there_is():
    with pytest.raises(AttributeError, match="no 'fft'.*part of keras.ops.*einsum.*matmul"):
        ops.fft(X)
