"""The 3-D layers: Conv3D against torch.nn.Conv3d (NDHWC <-> NCDHW), the 3-D poolings against
torch's max_pool3d/avg_pool3d ('valid') and a brute-force reference ('same'), and the padding,
cropping and up-sampling of volumes by hand."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from layer_contract import assert_layer_matches_torch
from test_conv_layers import CONV_ATOL, CONV_RTOL

from oracle import assert_same_as_torch, require_torch
from shenjing import Tensor
from shenjing import layers as L


@pytest.mark.parametrize("strides, padding, dilation, groups", [
    (1, "valid", 1, 1), (2, "same", 1, 1), ((1, 2, 1), "same", (2, 1, 1), 1),
    (1, "valid", 1, 2)])
def test_conv3d_matches_torch_values_and_gradients(rng, strides, padding, dilation, groups):
    torch = require_torch()
    layer = L.Conv3D(4, (3, 2, 3), strides=strides, padding=padding, dilation_rate=dilation,
                     groups=groups, bias_initializer="random_normal")
    x = rng.standard_normal((2, 6, 5, 6, 2))
    layer(x[:1])
    assert layer.kernel.shape == (3, 2, 3, 2 // groups, 4)  # Keras's layout
    if padding == "valid":
        pad = 0
    else:  # explicit symmetric padding where TF's 'same' is symmetric, checked by shape
        pad = "same" if strides == 1 else None
    conv = torch.nn.Conv3d(2, 4, (3, 2, 3), stride=strides, dilation=dilation, groups=groups,
                           padding=pad if pad is not None else 0)

    def torch_forward(x):
        xt = x.permute(0, 4, 1, 2, 3)
        if pad is None:  # TF's 'same' pads for these shapes, (front, back) per axis
            sizes, ks = (6, 5, 6), (3, 2, 3)
            st = (strides,) * 3 if isinstance(strides, int) else strides
            di = (dilation,) * 3 if isinstance(dilation, int) else dilation
            flat = []
            for n, k, s, d in reversed(list(zip(sizes, ks, st, di))):
                out = -(-n // s)
                total = max((out - 1) * s + (k - 1) * d + 1 - n, 0)
                flat += [total // 2, total - total // 2]
            xt = torch.nn.functional.pad(xt, flat)
        return conv(xt).permute(0, 2, 3, 4, 1)

    assert_layer_matches_torch(layer, torch_forward, x, lambda: [
        (layer.kernel, conv.weight, lambda w: w.transpose(4, 3, 0, 1, 2)),
        (layer.bias, conv.bias, lambda b: b)], atol=CONV_ATOL, rtol=CONV_RTOL)


def test_conv3d_checks_groups():
    with pytest.raises(ValueError, match="divisible by groups"):
        L.Conv3D(3, 2, groups=2)
    with pytest.raises(ValueError, match="not divisible by groups=2"):
        L.Conv3D(4, 2, groups=2)(np.ones((1, 3, 3, 3, 3), np.float32))


@pytest.mark.parametrize("kind", ["max", "avg"])
def test_pooling3d_valid_matches_torch(rng, kind):
    torch = require_torch()
    layer = (L.MaxPooling3D if kind == "max" else L.AveragePooling3D)((2, 3, 2),
                                                                      strides=(2, 1, 2))
    fn = getattr(torch.nn.functional, f"{kind}_pool3d")
    assert_same_as_torch(
        lambda x: layer(x),
        [rng.standard_normal((2, 5, 6, 5, 3))],
        lambda x: fn(x.permute(0, 4, 1, 2, 3), (2, 3, 2), (2, 1, 2)).permute(0, 2, 3, 4, 1))


def _pool_same_reference(x, pool, strides, reduce):
    """Brute force: every output voxel reduces the real voxels of its TF 'same' window."""
    n, *sizes, c = x.shape
    outs = [-(-s // t) for s, t in zip(sizes, strides)]
    before = [max((o - 1) * t + p - s, 0) // 2 for o, t, p, s in zip(outs, strides, pool, sizes)]
    y = np.zeros((n, *outs, c))
    for idx in itertools.product(*map(range, outs)):
        window = tuple(slice(max(i * t - b, 0), min(i * t - b + p, s))
                       for i, t, b, p, s in zip(idx, strides, before, pool, sizes))
        y[(slice(None), *idx)] = reduce(x[(slice(None), *window)], axis=(1, 2, 3))
    return y


@pytest.mark.parametrize("cls, reduce", [(L.MaxPooling3D, np.max),
                                         (L.AveragePooling3D, np.mean)])
def test_pooling3d_same_matches_the_definition(rng, cls, reduce):
    x = rng.standard_normal((2, 5, 4, 7, 2)).astype(np.float32)
    y = cls(3, strides=(2, 1, 2), padding="same")(x).numpy()
    np.testing.assert_allclose(y, _pool_same_reference(x, (3, 3, 3), (2, 1, 2), reduce),
                               rtol=1e-6, atol=1e-6)


def test_pooling3d_channels_first_and_global(rng):
    x = rng.standard_normal((2, 4, 4, 6, 3)).astype(np.float32)
    last = L.MaxPooling3D()(x).numpy()
    first = L.MaxPooling3D(data_format="channels_first")(x.transpose(0, 4, 1, 2, 3)).numpy()
    np.testing.assert_array_equal(first.transpose(0, 2, 3, 4, 1), last)
    np.testing.assert_allclose(L.GlobalAveragePooling3D()(x).numpy(), x.mean(axis=(1, 2, 3)),
                               rtol=1e-6)
    np.testing.assert_array_equal(L.GlobalMaxPooling3D(keepdims=True)(x).numpy(),
                                  x.max(axis=(1, 2, 3), keepdims=True))


def test_volume_padding_cropping_and_upsampling(rng):
    x = rng.standard_normal((2, 3, 4, 5, 2)).astype(np.float32)
    padded = L.ZeroPadding3D(((1, 0), 2, (0, 3)))(x).numpy()
    np.testing.assert_array_equal(padded, np.pad(x, ((0, 0), (1, 0), (2, 2), (0, 3), (0, 0))))
    assert L.ZeroPadding3D()(x).shape == (2, 5, 6, 7, 2)  # Keras's default: 1 on every side
    np.testing.assert_array_equal(L.Cropping3D(((1, 0), 1, (0, 2)))(padded).numpy(),
                                  padded[:, 1:, 1:-1, :-2])
    assert L.Cropping3D()(x).shape == (2, 1, 2, 3, 2)
    with pytest.raises(ValueError, match="at least one voxel"):
        L.Cropping3D(2)(x)
    up = L.UpSampling3D((2, 1, 3))(x).numpy()
    np.testing.assert_array_equal(up, x.repeat(2, 1).repeat(3, 3))
    t = Tensor(x, requires_grad=True)
    L.UpSampling3D()(t).sum().backward()
    np.testing.assert_array_equal(t.grad.numpy(), np.full(x.shape, 8.0, np.float32))
