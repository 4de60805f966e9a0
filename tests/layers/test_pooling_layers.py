"""MaxPooling2D / AveragePooling2D against torch (NHWC <-> NCHW; TensorFlow's 'same' padding made
explicit, averaging only real pixels), and the global pools against NumPy."""

from __future__ import annotations

import math

import numpy as np
import pytest
from layer_contract import assert_layer_matches_torch

from oracle import distinct, require_torch
from shenjing import Tensor
from shenjing import layers as L


def _tf_same_pads(size: int, k: int, stride: int) -> tuple[int, int]:
    total = max((math.ceil(size / stride) - 1) * stride + k - size, 0)
    return total // 2, total - total // 2


# (x shape NHWC, pool_size, strides, padding)
CONFIGS = [
    ((2, 6, 6, 3), (2, 2), None, "valid"),
    ((2, 7, 5, 2), (2, 2), None, "valid"),   # the last row/column is dropped
    ((1, 7, 7, 2), (3, 3), (2, 2), "valid"),  # overlapping windows
    ((2, 7, 5, 2), (2, 2), None, "same"),     # pads after only
    ((1, 7, 6, 2), (3, 3), (2, 2), "same"),   # pads on both sides, asymmetric on columns
    ((1, 6, 7, 3), (3, 2), (1, 2), "same"),
]


def _torch_pool(torch, kind, x, pool, strides, padding):
    """torch's pool of NHWC ``x`` with TF's padding: -inf for max; for average, the zero-padded
    window sum over the number of real pixels (a pool of the padded ones)."""
    strides = pool if strides is None else strides
    nchw = x.permute(0, 3, 1, 2)
    pads = (0, 0, 0, 0)
    if padding == "same":
        top, bottom = _tf_same_pads(x.shape[1], pool[0], strides[0])
        left, right = _tf_same_pads(x.shape[2], pool[1], strides[1])
        pads = (left, right, top, bottom)
    F = torch.nn.functional
    if kind == "max":
        y = F.max_pool2d(F.pad(nchw, pads, value=-math.inf), pool, strides)
    else:
        ones = torch.ones_like(nchw[:1, :1])
        y = F.avg_pool2d(F.pad(nchw, pads), pool, strides) / F.avg_pool2d(F.pad(ones, pads),
                                                                          pool, strides)
    return y.permute(0, 2, 3, 1)


@pytest.mark.parametrize("x_shape, pool, strides, padding", CONFIGS,
                         ids=[f"{c[0]}-p{c[1]}-s{c[2]}-{c[3]}" for c in CONFIGS])
@pytest.mark.parametrize("kind, cls", [("max", L.MaxPooling2D), ("avg", L.AveragePooling2D)])
def test_pooling_matches_torch(rng, x_shape, pool, strides, padding, kind, cls):
    torch = require_torch()
    layer = cls(pool, strides=strides, padding=padding)
    assert_layer_matches_torch(
        layer, lambda t: _torch_pool(torch, kind, t, pool, strides, padding),
        distinct(rng, x_shape), lambda: [])


def test_max_pooling_picks_window_maxima():
    x = np.arange(16, dtype=np.float32).reshape(1, 4, 4, 1)
    np.testing.assert_array_equal(L.MaxPooling2D()(x).numpy()[0, :, :, 0], [[5, 7], [13, 15]])
    np.testing.assert_array_equal(L.AveragePooling2D()(x).numpy()[0, :, :, 0],
                                  [[2.5, 4.5], [10.5, 12.5]])


def test_pool_strides_default_to_pool_size():
    layer = L.MaxPooling2D(3)
    assert layer.pool_size == (3, 3) and layer.strides == (3, 3)
    assert layer(np.zeros((1, 9, 9, 1))).shape == (1, 3, 3, 1)


@pytest.mark.parametrize("cls, reduce", [(L.GlobalAveragePooling2D, np.mean),
                                         (L.GlobalMaxPooling2D, np.max)])
@pytest.mark.parametrize("keepdims", [False, True])
def test_global_pooling_reduces_height_and_width(rng, cls, reduce, keepdims):
    x = Tensor(distinct(rng, (2, 3, 4, 5)), requires_grad=True)
    y = cls(keepdims=keepdims)(x)
    expected = reduce(x.numpy(), axis=(1, 2), keepdims=keepdims)
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-6)
    y.sum().backward()
    if reduce is np.mean:
        np.testing.assert_allclose(x.grad.numpy(), np.full(x.shape, 1 / 12), rtol=1e-6)
    else:
        np.testing.assert_array_equal(x.grad.numpy(), x.numpy() == expected.reshape(2, 1, 1, 5))
