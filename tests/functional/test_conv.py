"""conv2d: TensorFlow's output sizes and padding, gradcheck over strides, paddings and
dilations, parity with torch (NHWC <-> NCHW), float32, and the skipped work for frozen inputs."""

from __future__ import annotations

import numpy as np
import pytest

import shenjing
from oracle import assert_same_as_torch, require_torch
from shenjing import F, Tensor

# (x shape, kernel shape, strides, padding, dilation): stride 1/2, valid/same, dilation 1/2,
# odd sizes where 'same' pads one more row/column at the bottom/right.
CONFIGS = [
    ((2, 5, 6, 3), (3, 3, 3, 4), (1, 1), "valid", (1, 1)),
    ((2, 5, 6, 3), (3, 3, 3, 4), (1, 1), "same", (1, 1)),
    ((2, 7, 6, 2), (3, 2, 2, 3), (2, 2), "same", (1, 1)),   # pads (1, 1) rows, (0, 1) columns
    ((1, 8, 7, 2), (2, 2, 2, 3), (1, 1), "same", (1, 1)),   # even kernel: pads (0, 1) each axis
    ((2, 7, 7, 2), (3, 3, 2, 2), (2, 1), "valid", (1, 1)),
    ((1, 8, 9, 2), (3, 3, 2, 3), (1, 1), "valid", (2, 2)),
    ((1, 7, 8, 2), (3, 2, 2, 2), (2, 1), "same", (2, 2)),
    ((2, 6, 5, 3), (1, 1, 3, 2), (2, 2), "valid", (1, 1)),  # 1x1 kernel, stride 2
]


def _ids(config):
    x, k, s, p, d = config
    return f"x{x}-k{k}-s{s}-{p}-d{d}"


def _tf_pads(size, k, s, d, padding):
    """(out, before, after) of one axis, written out from TensorFlow's documentation."""
    span = (k - 1) * d + 1
    if padding == "valid":
        return int(np.ceil((size - span + 1) / s)), 0, 0
    out = int(np.ceil(size / s))
    total = max((out - 1) * s + span - size, 0)
    return out, total // 2, total - total // 2


def _inputs(config, rng, dtype=np.float64):
    x_shape, k_shape, *_ = config
    return (rng.standard_normal(x_shape).astype(dtype),
            rng.standard_normal(k_shape).astype(dtype),
            rng.standard_normal(k_shape[-1]).astype(dtype))


def _torch_conv(strides, padding, dilation):
    """The same convolution in torch: NHWC -> NCHW, kernel (kh, kw, C, F) -> (F, C, kh, kw), and
    TF's (possibly asymmetric) 'same' padding applied explicitly with F.pad."""
    th = require_torch()
    tf = th.nn.functional

    def run(x, w, b):
        _, h, wd, _ = x.shape
        kh, kw = w.shape[:2]
        _, top, bottom = _tf_pads(h, kh, strides[0], dilation[0], padding)
        _, left, right = _tf_pads(wd, kw, strides[1], dilation[1], padding)
        xt = tf.pad(x.permute(0, 3, 1, 2), (left, right, top, bottom))
        y = tf.conv2d(xt, w.permute(3, 2, 0, 1), b, stride=strides, dilation=dilation)
        return y.permute(0, 2, 3, 1)

    return run


@pytest.mark.parametrize("config", CONFIGS, ids=_ids)
def test_conv2d_output_shape_is_tensorflows(config):
    x_shape, k_shape, strides, padding, dilation = config
    y = F.conv2d(Tensor(np.zeros(x_shape)), Tensor(np.zeros(k_shape)), strides=strides,
                 padding=padding, dilation_rate=dilation)
    ho = _tf_pads(x_shape[1], k_shape[0], strides[0], dilation[0], padding)[0]
    wo = _tf_pads(x_shape[2], k_shape[1], strides[1], dilation[1], padding)[0]
    assert y.shape == (x_shape[0], ho, wo, k_shape[3])


@pytest.mark.parametrize("config", CONFIGS, ids=_ids)
def test_conv2d_gradcheck(config, rng):
    _, _, strides, padding, dilation = config
    assert shenjing.gradcheck(
        lambda x, w, b: F.conv2d(x, w, b, strides, padding, dilation), *_inputs(config, rng))


def test_conv2d_gradcheck_without_bias(rng):
    x, w, _ = _inputs(CONFIGS[2], rng)
    assert shenjing.gradcheck(lambda x, w: F.conv2d(x, w, strides=2, padding="same"), x, w)


# Tolerance: each output sums kh*kw*C products in float32; our GEMM and torch's convolution
# add them in different orders (and torch may use another algorithm), so values of size ~5
# differ by a few ulps times the number of terms, about 1e-5..1e-4. atol 1e-4 covers that.
@pytest.mark.parametrize("config", CONFIGS, ids=_ids)
def test_conv2d_matches_torch(config, rng):
    _, _, strides, padding, dilation = config
    assert_same_as_torch(lambda x, w, b: F.conv2d(x, w, b, strides, padding, dilation),
                         _inputs(config, rng), _torch_conv(strides, padding, dilation),
                         atol=1e-4)


def test_conv2d_matches_torch_larger(rng):
    """A CIFAR-like layer: 16 channels in, 8 out, 'same', enough terms to exercise the GEMM."""
    config = ((4, 12, 11, 16), (3, 3, 16, 8), (1, 1), "same", (1, 1))
    assert_same_as_torch(lambda x, w, b: F.conv2d(x, w, b, padding="same"),
                         _inputs(config, rng), _torch_conv((1, 1), "same", (1, 1)), atol=1e-4)


def test_conv2d_int_and_tuple_arguments_agree(rng):
    x, w, b = (Tensor(a) for a in _inputs(CONFIGS[6], rng, np.float32))
    a = F.conv2d(x, w, b, strides=2, padding="same", dilation_rate=2)
    c = F.conv2d(x, w, b, strides=(2, 2), padding="same", dilation_rate=[2, 2])
    np.testing.assert_array_equal(a.numpy(), c.numpy())


def test_conv2d_stays_float32(rng):
    x, w, b = (Tensor(a, requires_grad=True) for a in _inputs(CONFIGS[1], rng, np.float32))
    y = F.conv2d(x, w, b, padding="same")
    assert y.dtype == np.float32
    y.sum().backward()
    assert x.grad.dtype == w.grad.dtype == b.grad.dtype == np.float32


def test_conv2d_first_layer_skips_input_gradient(rng):
    """With x not requiring grad (the first layer), W^T is not kept and gx is not computed; with
    a frozen kernel, the im2col columns are not kept."""
    xa, wa, ba = _inputs(CONFIGS[1], rng, np.float32)
    x, w, b = Tensor(xa), Tensor(wa, requires_grad=True), Tensor(ba, requires_grad=True)
    y = F.conv2d(x, w, b, padding="same")
    cols, w2 = y._creator.saved[:2]
    assert cols is not None and w2 is None
    y.sum().backward()
    assert x.grad is None and w.grad is not None and b.grad is not None

    x.requires_grad_(True)
    y = F.conv2d(x, Tensor(wa), padding="same")
    cols, w2 = y._creator.saved[:2]
    assert cols is None and w2 is not None


def test_conv2d_accepts_non_contiguous_input(rng):
    """The strided im2col view is built from the input's own strides, so a transposed view
    (here NCHW data seen as NHWC) gives the same result as its contiguous copy."""
    nchw = rng.standard_normal((2, 3, 6, 5)).astype(np.float32)
    view = nchw.transpose(0, 2, 3, 1)
    w = Tensor(rng.standard_normal((3, 3, 3, 4)).astype(np.float32))
    for padding in ("valid", "same"):
        np.testing.assert_array_equal(
            F.conv2d(Tensor(view), w, padding=padding).numpy(),
            F.conv2d(Tensor(np.ascontiguousarray(view)), w, padding=padding).numpy())


def test_conv2d_under_no_grad_records_nothing(rng):
    x, w, b = (Tensor(a, requires_grad=True) for a in _inputs(CONFIGS[0], rng, np.float32))
    with shenjing.no_grad():
        y = F.conv2d(x, w, b)
    assert not y.requires_grad and y._creator is None


@pytest.mark.parametrize(
    ("x_shape", "k_shape", "kwargs", "match"),
    [
        ((2, 5, 5, 3), (3, 3, 4, 8), {}, r"expects 4 input channels.*\(2, 5, 5, 3\) with 3"),
        ((2, 5, 5), (3, 3, 5, 8), {}, r"\(batch, height, width, channels\), got shape"),
        ((2, 5, 5, 3), (3, 3, 3), {}, r"kernel of shape .*got shape \(3, 3, 3\)"),
        ((1, 2, 5, 3), (3, 3, 3, 8), {}, r"too small.*output size 0x3"),
        ((1, 5, 5, 3), (3, 3, 3, 8), {"dilation_rate": 3}, r"too small"),
        ((1, 5, 5, 3), (3, 3, 3, 8), {"padding": "full"}, r"'valid' or 'same'"),
        ((1, 5, 5, 3), (3, 3, 3, 8), {"strides": 0}, r"strides must be a positive int"),
        ((1, 5, 5, 3), (3, 3, 3, 8), {"strides": (1, 2, 3)}, r"strides must be"),
    ],
)
def test_conv2d_rejects_bad_shapes_and_arguments(x_shape, k_shape, kwargs, match):
    with pytest.raises(ValueError, match=match):
        F.conv2d(Tensor(np.zeros(x_shape)), Tensor(np.zeros(k_shape)), **kwargs)


def test_conv2d_rejects_wrong_bias_shape():
    with pytest.raises(ValueError, match=r"bias of shape \(3,\), expected \(8,\)"):
        F.conv2d(Tensor(np.zeros((1, 5, 5, 3))), Tensor(np.zeros((3, 3, 3, 8))),
                 Tensor(np.zeros(3)))
