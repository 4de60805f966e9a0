"""DepthwiseConv2D and SeparableConv2D: the layer contract, Keras's weight shapes, and parity
with torch (Conv2d(groups=in_channels), then a 1x1 Conv2d)."""

from __future__ import annotations

import numpy as np
import pytest
from layer_contract import assert_layer_matches_torch, run_layer_test

from oracle import require_torch
from shenjing import layers as L


def _depthwise_to_torch(kernel: np.ndarray) -> np.ndarray:
    kh, kw, c, m = kernel.shape  # (kh, kw, C, M) -> (C*M, 1, kh, kw)
    return kernel.transpose(2, 3, 0, 1).reshape(c * m, 1, kh, kw)


def _nchw(th, module):
    return lambda x: module(x.permute(0, 3, 1, 2)).permute(0, 2, 3, 1)


def test_depthwise_conv2d_layer_contract(rng):
    x = rng.standard_normal((2, 6, 5, 3)).astype(np.float32)
    layer = L.DepthwiseConv2D(3, depth_multiplier=2, padding="same")
    run_layer_test(layer, x, (2, 6, 5, 6), 2, 0)
    assert layer.kernel.shape == (3, 3, 3, 2) and layer.bias.shape == (6,)


def test_separable_conv2d_layer_contract(rng):
    x = rng.standard_normal((2, 7, 7, 3)).astype(np.float32)
    layer = L.SeparableConv2D(4, 3, strides=2, depth_multiplier=2, activation="relu")
    run_layer_test(layer, x, (2, 3, 3, 4), 3, 0)
    assert layer.depthwise_kernel.shape == (3, 3, 3, 2)
    assert layer.pointwise_kernel.shape == (1, 1, 6, 4) and layer.bias.shape == (4,)
    assert [w.name for w in layer.weights] == ["depthwise_kernel", "pointwise_kernel", "bias"]
    assert L.SeparableConvolution2D is L.SeparableConv2D


@pytest.mark.parametrize("strides, padding, dilation", [(1, "valid", 1), (2, "same", 1),
                                                        (1, "same", 2)])
def test_depthwise_conv2d_layer_matches_torch(strides, padding, dilation, rng):
    th = require_torch()
    layer = L.DepthwiseConv2D(3, strides=strides, padding="valid" if padding == "valid"
                              else padding, depth_multiplier=2, dilation_rate=dilation)
    x = rng.standard_normal((2, 8, 8, 3)).astype(np.float32)
    conv = th.nn.Conv2d(3, 6, 3, stride=strides, dilation=dilation, groups=3,
                        padding=0 if padding == "valid" else "same" if strides == 1 else 0)
    if padding == "same" and strides == 2:  # TF's 'same' for 8 px, k 3, s 2: pad (0, 1)
        def forward(xt):
            xt = th.nn.functional.pad(xt.permute(0, 3, 1, 2), (0, 1, 0, 1))
            return conv(xt).permute(0, 2, 3, 1)
    else:
        forward = _nchw(th, conv)
    assert_layer_matches_torch(layer, forward, x, lambda: [
        (layer.kernel, conv.weight, _depthwise_to_torch), (layer.bias, conv.bias, lambda b: b)],
        atol=1e-4, rtol=1e-4)


def test_separable_conv2d_layer_matches_torch(rng):
    th = require_torch()
    layer = L.SeparableConv2D(5, (3, 2), padding="valid", depth_multiplier=2, activation="tanh")
    x = rng.standard_normal((2, 7, 6, 3)).astype(np.float32)
    depthwise = th.nn.Conv2d(3, 6, (3, 2), groups=3, bias=False)
    pointwise = th.nn.Conv2d(6, 5, 1)

    def forward(xt):
        return th.tanh(pointwise(depthwise(xt.permute(0, 3, 1, 2)))).permute(0, 2, 3, 1)

    assert_layer_matches_torch(layer, forward, x, lambda: [
        (layer.depthwise_kernel, depthwise.weight, _depthwise_to_torch),
        (layer.pointwise_kernel, pointwise.weight, lambda k: k.transpose(3, 2, 0, 1)),
        (layer.bias, pointwise.bias, lambda b: b)], atol=1e-4, rtol=1e-4)


def test_separable_conv2d_config_and_errors():
    layer = L.SeparableConv2D(8, 3, depth_multiplier=2, pointwise_initializer="zeros",
                              data_format="channels_last")
    config = layer.get_config()
    assert config["depth_multiplier"] == 2 and config["pointwise_initializer"] == "zeros"
    assert L.SeparableConv2D.from_config(config).depth_multiplier == 2
    with pytest.raises(ValueError, match="data_format"):
        L.SeparableConv2D(8, 3, data_format="channels_first")
    with pytest.raises(ValueError, match="depth_multiplier"):
        L.DepthwiseConv2D(3, depth_multiplier=0)
    for bad in (0, True, 1.0):  # a bool is not a count (True was taken as 1)
        with pytest.raises(ValueError, match="SeparableConv2D depth_multiplier must be a positive"):
            L.SeparableConv2D(8, 3, depth_multiplier=bad)
