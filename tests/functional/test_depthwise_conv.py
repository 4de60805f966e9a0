"""depthwise_conv2d: gradcheck over strides, paddings, dilations and depth multipliers, and
parity with torch's conv2d(groups=in_channels) in values and gradients."""

from __future__ import annotations

import numpy as np
import pytest

import shenjing
from oracle import assert_same_as_torch, require_torch
from shenjing import F, Tensor

# (x shape, kernel shape (kh, kw, C, M), strides, padding, dilation)
CONFIGS = [
    ((2, 5, 6, 3), (3, 3, 3, 1), (1, 1), "valid", (1, 1)),
    ((2, 5, 6, 3), (3, 3, 3, 2), (1, 1), "same", (1, 1)),
    ((2, 7, 6, 2), (3, 2, 2, 3), (2, 2), "same", (1, 1)),
    ((1, 8, 9, 2), (3, 3, 2, 2), (1, 2), "valid", (2, 2)),
    ((1, 7, 8, 4), (2, 2, 4, 1), (2, 1), "same", (2, 1)),
]


def _ids(config):
    x, k, s, p, d = config
    return f"x{x}-k{k}-s{s}-{p}-d{d}"


def _inputs(config, rng, dtype=np.float64):
    x_shape, k_shape, *_ = config
    return (rng.standard_normal(x_shape).astype(dtype),
            rng.standard_normal(k_shape).astype(dtype),
            rng.standard_normal(k_shape[2] * k_shape[3]).astype(dtype))


def _torch_depthwise(strides, padding, dilation):
    """torch's grouped convolution: kernel (kh, kw, C, M) -> (C*M, 1, kh, kw), TF padding."""
    th = require_torch()
    tf = th.nn.functional

    def run(x, w, b):
        _, h, wd, c = x.shape
        kh, kw, _, m = w.shape
        pads = []
        for size, k, s, d in ((h, kh, strides[0], dilation[0]), (wd, kw, strides[1], dilation[1])):
            span = (k - 1) * d + 1
            out = -(-size // s) if padding == "same" else 0
            total = max((out - 1) * s + span - size, 0) if padding == "same" else 0
            pads.append((total // 2, total - total // 2))
        xt = tf.pad(x.permute(0, 3, 1, 2), (*pads[1], *pads[0]))
        wt = w.permute(2, 3, 0, 1).reshape(c * m, 1, kh, kw)
        y = tf.conv2d(xt, wt, b, stride=strides, dilation=dilation, groups=c)
        return y.permute(0, 2, 3, 1)

    return run


@pytest.mark.parametrize("config", CONFIGS, ids=_ids)
def test_depthwise_conv2d_gradcheck(config, rng):
    _, _, strides, padding, dilation = config
    assert shenjing.gradcheck(
        lambda x, w, b: F.depthwise_conv2d(x, w, b, strides, padding, dilation),
        *_inputs(config, rng))


def test_depthwise_conv2d_gradcheck_without_bias(rng):
    x, w, _ = _inputs(CONFIGS[2], rng)
    assert shenjing.gradcheck(lambda x, w: F.depthwise_conv2d(x, w, strides=2, padding="same"),
                              x, w)


@pytest.mark.parametrize("config", CONFIGS, ids=_ids)
def test_depthwise_conv2d_matches_torch(config, rng):
    _, _, strides, padding, dilation = config
    assert_same_as_torch(
        lambda x, w, b: F.depthwise_conv2d(x, w, b, strides, padding, dilation),
        _inputs(config, rng), _torch_depthwise(strides, padding, dilation), atol=1e-4)


def test_depthwise_conv2d_equals_conv2d_with_block_diagonal_kernel(rng):
    """A depthwise kernel is a full kernel that is zero between different channels."""
    x, w, b = _inputs(CONFIGS[1], rng)
    kh, kw, c, m = w.shape
    full = np.zeros((kh, kw, c, c * m))
    for ch in range(c):
        full[:, :, ch, ch * m:(ch + 1) * m] = w[:, :, ch]
    y = F.depthwise_conv2d(Tensor(x), Tensor(w), Tensor(b), padding="same")
    np.testing.assert_allclose(y.numpy(), F.conv2d(Tensor(x), Tensor(full), Tensor(b),
                                                   padding="same").numpy(), atol=1e-12)


def test_depthwise_conv2d_stays_float32_and_checks_shapes(rng):
    x, w, b = (Tensor(a, requires_grad=True) for a in _inputs(CONFIGS[1], rng, np.float32))
    y = F.depthwise_conv2d(x, w, b, padding="same")
    assert y.dtype == np.float32 and y.shape == (2, 5, 6, 6)
    y.sum().backward()
    assert x.grad.dtype == w.grad.dtype == b.grad.dtype == np.float32
    with pytest.raises(ValueError, match="input channels"):
        F.depthwise_conv2d(Tensor(np.zeros((1, 5, 5, 2))), w)
    with pytest.raises(ValueError, match="bias"):
        F.depthwise_conv2d(x, w, Tensor(np.zeros(3)))
