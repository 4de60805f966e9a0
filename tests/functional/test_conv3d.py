"""conv3d: gradcheck over strides, paddings, dilations and groups, and parity with torch's
conv3d (NDHWC <-> NCDHW, kernel (kd, kh, kw, in // groups, out) -> (out, in // groups, kd, kh,
kw)), TensorFlow's 'same' padding made explicit for torch."""

from __future__ import annotations

import numpy as np
import pytest

import shenjing
from oracle import assert_same_as_torch, require_torch
from shenjing import F

# (x shape, kernel shape, strides, padding, dilation, groups)
CONFIGS = [
    ((2, 4, 5, 4, 3), (2, 3, 2, 3, 4), (1, 1, 1), "valid", (1, 1, 1), 1),
    ((2, 4, 5, 4, 3), (3, 3, 3, 3, 2), (1, 1, 1), "same", (1, 1, 1), 1),
    ((1, 5, 6, 5, 2), (3, 2, 3, 2, 3), (2, 2, 1), "same", (1, 1, 1), 1),  # odd pads after
    ((1, 6, 5, 5, 2), (2, 2, 2, 2, 2), (2, 1, 2), "valid", (1, 1, 1), 1),
    ((1, 6, 6, 5, 2), (2, 3, 2, 2, 2), (1, 1, 1), "valid", (2, 1, 2), 1),  # dilation
    ((1, 5, 5, 5, 2), (3, 3, 2, 2, 2), (1, 2, 1), "same", (2, 1, 1), 1),
    ((2, 4, 4, 4, 4), (2, 2, 2, 2, 6), (1, 1, 1), "valid", (1, 1, 1), 2),  # groups
    ((1, 4, 5, 4, 6), (3, 2, 2, 2, 3), (2, 1, 1), "same", (1, 1, 1), 3),
]


def _ids(config):
    return "x{}-k{}-s{}-{}-d{}-g{}".format(*config)


def _tf_pads(size, k, s, d, padding):
    span = (k - 1) * d + 1
    if padding == "valid":
        return 0, 0
    out = -(-size // s)
    total = max((out - 1) * s + span - size, 0)
    return total // 2, total - total // 2


def _torch_conv3d(x_shape, k_shape, strides, padding, dilation, groups):
    torch = require_torch()
    pads = [_tf_pads(n, k, s, d, padding)
            for n, k, s, d in zip(x_shape[1:4], k_shape[:3], strides, dilation)]

    def run(x, w, b):
        flat = [p for pair in reversed(pads) for p in pair]  # torch pads the last axis first
        xt = torch.nn.functional.pad(x.permute(0, 4, 1, 2, 3), flat)
        y = torch.nn.functional.conv3d(xt, w.permute(4, 3, 0, 1, 2), b, stride=strides,
                                       dilation=dilation, groups=groups)
        return y.permute(0, 2, 3, 4, 1)

    return run


@pytest.mark.parametrize("config", CONFIGS, ids=_ids)
def test_conv3d_matches_torch(config, rng):
    x_shape, k_shape, strides, padding, dilation, groups = config
    x, w = rng.standard_normal(x_shape), rng.standard_normal(k_shape)
    b = rng.standard_normal(k_shape[-1])
    assert_same_as_torch(
        lambda x, w, b: F.conv3d(x, w, b, strides, padding, dilation, groups), [x, w, b],
        _torch_conv3d(*config), atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize("config", CONFIGS[1::2], ids=_ids)
def test_conv3d_gradcheck(config, rng):
    x_shape, k_shape, strides, padding, dilation, groups = config
    x, w = rng.standard_normal(x_shape), rng.standard_normal(k_shape)
    b = rng.standard_normal(k_shape[-1])
    assert shenjing.gradcheck(
        lambda x, w, b: F.conv3d(x, w, b, strides, padding, dilation, groups), x, w, b)
    assert shenjing.gradcheck(lambda x, w: F.conv3d(x, w, strides=strides, padding=padding,
                                                    groups=groups), x, w)


def test_conv3d_stays_float32_and_checks_shapes(rng):
    x = shenjing.Tensor(rng.standard_normal((1, 3, 3, 3, 2)).astype(np.float32))
    w = shenjing.Tensor(rng.standard_normal((2, 2, 2, 2, 4)).astype(np.float32))
    assert F.conv3d(x, w).dtype == np.float32
    assert F.conv3d(x, w).shape == (1, 2, 2, 2, 4)
    with pytest.raises(ValueError, match="expects 4 input channels"):
        F.conv3d(x, shenjing.Tensor(np.ones((2, 2, 2, 2, 4), np.float32)), groups=2)
    with pytest.raises(ValueError, match="too small"):
        F.conv3d(x, shenjing.Tensor(np.ones((4, 2, 2, 2, 4), np.float32)))
    with pytest.raises(ValueError, match="expected input of shape"):
        F.conv3d(x[0], w)
