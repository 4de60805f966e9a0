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


def _numpy_pool1d(x, reduce, pool, stride, padding):
    """NumPy's 1-D pool of (batch, steps, channels), TF's 'same' padding over real steps only."""
    steps = x.shape[1]
    if padding == "same":
        before, _ = _tf_same_pads(steps, pool, stride)
        starts = [t * stride - before for t in range(math.ceil(steps / stride))]
    else:
        starts = list(range(0, steps - pool + 1, stride))
    return np.stack([reduce(x[:, max(s, 0):s + pool], axis=1) for s in starts], axis=1)


@pytest.mark.parametrize("pool, strides, padding", [
    (2, None, "valid"), (3, 2, "valid"), (2, None, "same"), (3, 2, "same"), (3, 1, "same"),
])
@pytest.mark.parametrize("cls, reduce", [(L.MaxPooling1D, np.max), (L.AveragePooling1D, np.mean)])
def test_pooling1d_matches_numpy(rng, pool, strides, padding, cls, reduce):
    x = distinct(rng, (2, 7, 3))
    y = cls(pool, strides=strides, padding=padding)(x)
    expected = _numpy_pool1d(x, reduce, pool, strides or pool, padding)
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-6)


@pytest.mark.parametrize("cls, reduce", [(L.GlobalAveragePooling1D, np.mean),
                                         (L.GlobalMaxPooling1D, np.max)])
@pytest.mark.parametrize("keepdims", [False, True])
def test_global_pooling1d_reduces_steps(rng, cls, reduce, keepdims):
    x = Tensor(distinct(rng, (2, 5, 3)), requires_grad=True)
    y = cls(keepdims=keepdims)(x)
    np.testing.assert_allclose(y.numpy(), reduce(x.numpy(), axis=1, keepdims=keepdims),
                               rtol=1e-6)
    y.sum().backward()
    assert x.grad.shape == x.shape


def test_global_average_pooling1d_averages_real_steps_only(rng):
    ids = np.array([[4, 2, 7, 0, 0], [5, 0, 0, 0, 0], [1, 2, 3, 4, 5]])
    embedding = L.Embedding(10, 3, mask_zero=True)
    pooled = L.GlobalAveragePooling1D()(embedding(ids))
    vectors = embedding(ids).numpy()
    mask = (ids != 0)[..., None]
    expected = (vectors * mask).sum(axis=1) / mask.sum(axis=1)
    np.testing.assert_allclose(pooled.numpy(), expected, rtol=1e-6)
    assert getattr(pooled, "_keras_mask", None) is None  # the mask ends here


def test_masked_global_average_pooling1d_gradient_skips_padding(rng):
    x = Tensor(distinct(rng, (2, 4, 3)), requires_grad=True)
    mask = np.array([[True, True, False, False], [True, True, True, True]])
    L.GlobalAveragePooling1D()(x, mask=mask).sum().backward()
    expected = mask[..., None] / mask.sum(axis=1)[:, None, None] * np.ones((1, 1, 3))
    np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-6)


def test_pooling1d_defaults_and_bad_arguments():
    layer = L.MaxPooling1D(3)
    assert layer.pool_size == (3,) and layer.strides == (3,)
    assert layer(np.zeros((1, 9, 2), np.float32)).shape == (1, 3, 2)
    with pytest.raises(ValueError, match="pool_size"):
        L.AveragePooling1D((2, 2))
    with pytest.raises(ValueError, match="padding"):
        L.MaxPooling1D(padding="causal")
    with pytest.raises(ValueError, match="data_format"):
        L.GlobalMaxPooling1D(data_format="channels_middle")


# data_format="channels_first": (batch, features, steps) and (batch, channels, h, w), as Keras
def test_global_average_pooling1d_channels_first_averages_the_last_axis():
    # keras.io's Transformer timeseries classifier: GlobalAveragePooling1D("channels_first")
    x = np.array([[[1, 2, 3, 6], [0, 0, 4, 4]]], np.float32)  # 1 sample, 2 features, 4 steps
    layer = L.GlobalAveragePooling1D(data_format="channels_first")
    np.testing.assert_array_equal(layer(x).numpy(), [[3, 2]])
    assert L.GlobalAveragePooling1D("channels_first").data_format == "channels_first"  # 1st arg
    kept = L.GlobalAveragePooling1D(data_format="channels_first", keepdims=True)(x).numpy()
    np.testing.assert_array_equal(kept, [[[3], [2]]])
    mask = np.array([[True, True, False, True]])  # steps 0, 1 and 3: (1+2+6)/3, (0+0+4)/3
    np.testing.assert_allclose(layer(x, mask=mask).numpy(), [[3, 4 / 3]], rtol=1e-6)


@pytest.mark.parametrize("cls, reduce", [(L.GlobalAveragePooling1D, np.mean),
                                         (L.GlobalMaxPooling1D, np.max),
                                         (L.GlobalAveragePooling2D, np.mean),
                                         (L.GlobalMaxPooling2D, np.max)])
@pytest.mark.parametrize("keepdims", [False, True])
def test_global_pooling_channels_first_reduces_the_axes_after_channels(rng, cls, reduce, keepdims):
    x = distinct(rng, (2, 3, 4) if "1D" in cls.__name__ else (2, 3, 4, 5))
    y = cls(data_format="channels_first", keepdims=keepdims)(x).numpy()
    np.testing.assert_allclose(y, reduce(x, axis=tuple(range(2, x.ndim)), keepdims=keepdims),
                               rtol=1e-6)


def test_pooling1d_channels_first_pools_the_steps():
    x = np.array([[[1, 5, 2, 0, 7, 3], [4, 4, 0, 8, 1, 1]]], np.float32)  # (1, 2 features, 6)
    np.testing.assert_array_equal(
        L.MaxPooling1D(2, data_format="channels_first")(x).numpy(), [[[5, 2, 7], [4, 8, 1]]])
    np.testing.assert_allclose(
        L.AveragePooling1D(3, strides=3, data_format="channels_first")(x).numpy(),
        [[[8 / 3, 10 / 3], [8 / 3, 10 / 3]]], rtol=1e-6)


def test_pooling2d_channels_first_pools_height_and_width(rng):
    x = np.arange(32, dtype=np.float32).reshape(1, 2, 4, 4)  # 2 channels of 4x4
    np.testing.assert_array_equal(L.MaxPooling2D(data_format="channels_first")(x).numpy(),
                                  [[[[5, 7], [13, 15]], [[21, 23], [29, 31]]]])
    np.testing.assert_array_equal(L.AveragePooling2D(data_format="channels_first")(x).numpy(),
                                  [[[[2.5, 4.5], [10.5, 12.5]], [[18.5, 20.5], [26.5, 28.5]]]])
    # any configuration: the channels-last result, transposed
    t = Tensor(distinct(rng, (2, 3, 7, 6)), requires_grad=True)
    for cls in (L.MaxPooling2D, L.AveragePooling2D):
        y = cls(3, strides=2, padding="same", data_format="channels_first")(t)
        last = cls(3, strides=2, padding="same")(t.numpy().transpose(0, 2, 3, 1)).numpy()
        np.testing.assert_allclose(y.numpy(), last.transpose(0, 3, 1, 2), rtol=1e-6)
        t.grad = None
        y.sum().backward()
        assert t.grad.shape == t.shape


@pytest.mark.parametrize("make", [
    lambda: L.MaxPooling1D(3, data_format="channels_first"),
    lambda: L.AveragePooling2D(2, padding="same", data_format="channels_first"),
    lambda: L.GlobalAveragePooling1D(data_format="channels_first", keepdims=True),
    lambda: L.GlobalMaxPooling2D(data_format="channels_first"),
])
def test_pooling_data_format_survives_the_config(make):
    layer = make()
    config = layer.get_config()
    assert config["data_format"] == "channels_first"
    again = type(layer).from_config(config)
    assert again.get_config() == config
