"""max_pool2d / avg_pool2d (NHWC, TensorFlow padding) and the global pools: gradcheck, parity
with torch (including TF's asymmetric 'same' padding and its count of real elements only), the
first-maximum rule on ties, and errors."""

from __future__ import annotations

import numpy as np
import pytest

import shenjing
from oracle import assert_same_as_torch, distinct, require_torch
from shenjing import F, Tensor

# (x shape, pool_size, strides, padding)
CONFIGS = [
    ((2, 6, 6, 3), (2, 2), None, "valid"),
    ((2, 7, 5, 2), (2, 2), None, "valid"),      # odd sizes: the last row/column is dropped
    ((2, 7, 5, 2), (2, 2), None, "same"),       # pads (0, 1) rows and (0, 1) columns
    ((1, 7, 6, 2), (3, 3), (2, 2), "same"),     # pads (1, 1) rows, (0, 1) columns
    ((2, 5, 5, 2), (3, 3), (1, 1), "same"),     # overlapping windows, symmetric padding
    ((1, 6, 7, 3), (3, 2), (1, 2), "valid"),    # overlapping rows
    ((1, 8, 8, 2), (2, 3), (3, 1), "same"),
]


def _ids(config):
    x, p, s, pad = config
    return f"x{x}-p{p}-s{s}-{pad}"


def _tf_pads(size, k, s, padding):
    if padding == "valid":
        return 0, 0
    total = max((int(np.ceil(size / s)) - 1) * s + k - size, 0)
    return total // 2, total - total // 2


def _torch_pool(kind, pool, strides, padding):
    """torch's pool on NCHW with TF's padding made explicit: -inf for max; for average, the
    zero-padded window sum divided by the number of real elements, computed as the pool of a
    zero-padded tensor of ones (torch's count_include_pad=False, generalized to asymmetric
    padding)."""
    th = require_torch()
    tf = th.nn.functional
    strides = pool if strides is None else strides

    def run(x):
        pt, pb = _tf_pads(x.shape[1], pool[0], strides[0], padding)
        pl, pr = _tf_pads(x.shape[2], pool[1], strides[1], padding)
        xt = x.permute(0, 3, 1, 2)
        pads = (pl, pr, pt, pb)
        if kind == "max":
            y = tf.max_pool2d(tf.pad(xt, pads, value=-float("inf")), pool, strides)
        elif pt == pb and pl == pr and 2 * pt <= pool[0] and 2 * pl <= pool[1]:
            y = tf.avg_pool2d(xt, pool, strides, padding=(pt, pl), count_include_pad=False)
        else:
            total = tf.avg_pool2d(tf.pad(xt, pads), pool, strides)
            share = tf.avg_pool2d(tf.pad(th.ones_like(xt), pads), pool, strides)
            y = total / share
        return y.permute(0, 2, 3, 1)

    return run


POOLS = {"max": F.max_pool2d, "avg": F.avg_pool2d}


@pytest.mark.parametrize("config", CONFIGS, ids=_ids)
@pytest.mark.parametrize("kind", POOLS)
def test_pool_gradcheck(kind, config, rng):
    x_shape, pool, strides, padding = config
    # distinct values: no ties, and no two within 0.2 of each other, so a step of 1e-6 never
    # changes which element is a window's maximum
    assert shenjing.gradcheck(lambda x: POOLS[kind](x, pool, strides, padding),
                              distinct(rng, x_shape))


@pytest.mark.parametrize("config", CONFIGS, ids=_ids)
@pytest.mark.parametrize("kind", POOLS)
def test_pool_matches_torch(kind, config, rng):
    x_shape, pool, strides, padding = config
    assert_same_as_torch(lambda x: POOLS[kind](x, pool, strides, padding),
                         [rng.standard_normal(x_shape)],
                         _torch_pool(kind, pool, strides, padding))


@pytest.mark.parametrize("config", [CONFIGS[0], CONFIGS[3], CONFIGS[4], CONFIGS[5]], ids=_ids)
def test_max_pool_ties_send_the_gradient_to_the_first_maximum(config, rng):
    """Small integers give many ties; torch gives each window's gradient to its first maximum in
    row-major order, and so must we (not split it)."""
    x_shape, pool, strides, padding = config
    x = rng.integers(0, 3, x_shape).astype(np.float64)
    assert_same_as_torch(lambda x: F.max_pool2d(x, pool, strides, padding), [x],
                         _torch_pool("max", pool, strides, padding))


def test_max_pool_tie_goes_to_one_element():
    x = Tensor(np.ones((1, 2, 2, 1)), requires_grad=True)
    F.max_pool2d(x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy()[0, :, :, 0], [[1, 0], [0, 0]])


def test_avg_pool_same_counts_only_real_elements():
    x = Tensor(np.ones((1, 3, 3, 1)))
    y = F.avg_pool2d(x, 2, strides=2, padding="same")  # windows at the edge hold 2 or 1 cells
    np.testing.assert_allclose(y.numpy(), np.ones((1, 2, 2, 1)))


def test_pool_int_arguments_and_default_strides(rng):
    x = Tensor(rng.standard_normal((2, 6, 6, 3)))
    np.testing.assert_array_equal(F.max_pool2d(x, 3).numpy(),
                                  F.max_pool2d(x, (3, 3), strides=(3, 3)).numpy())
    assert F.avg_pool2d(x, 3, strides=1).shape == (2, 4, 4, 3)


@pytest.mark.parametrize("kind", POOLS)
def test_pool_stays_float32(kind, rng):
    x = Tensor(rng.standard_normal((2, 5, 5, 2)).astype(np.float32), requires_grad=True)
    y = POOLS[kind](x, 2, padding="same")
    assert y.dtype == np.float32
    y.sum().backward()
    assert x.grad.dtype == np.float32


@pytest.mark.parametrize(
    ("shape", "kwargs", "match"),
    [
        ((2, 5, 5), {}, r"\(batch, height, width, channels\), got shape \(2, 5, 5\)"),
        ((1, 1, 5, 2), {}, r"too small.*output size 0x2"),
        ((1, 5, 5, 2), {"padding": "full"}, r"'valid' or 'same'"),
        ((1, 5, 5, 2), {"pool_size": 0}, r"pool_size must be"),
    ],
)
@pytest.mark.parametrize("kind", POOLS)
def test_pool_rejects_bad_input(kind, shape, kwargs, match):
    with pytest.raises(ValueError, match=match):
        POOLS[kind](Tensor(np.zeros(shape)), **kwargs)


def test_global_pools_gradcheck_and_values(rng):
    x = distinct(rng, (2, 3, 4, 5))
    assert shenjing.gradcheck(F.global_avg_pool2d, x)
    assert shenjing.gradcheck(F.global_max_pool2d, x)
    np.testing.assert_allclose(F.global_avg_pool2d(Tensor(x)).numpy(), x.mean(axis=(1, 2)),
                               rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(F.global_max_pool2d(Tensor(x)).numpy(),
                                  x.max(axis=(1, 2)).astype(np.float32))
    assert F.global_avg_pool2d(Tensor(x), keepdims=True).shape == (2, 1, 1, 5)
    with pytest.raises(ValueError, match="got shape"):
        F.global_max_pool2d(Tensor(x[0]))


@pytest.mark.parametrize("values, options", [
    ([[1.0, np.nan], [0.0, 2.0]], {"kernel_size": 2}),  # NaN > y is never true
    ([[-np.inf] * 2] * 2, {"kernel_size": 2, "padding": 1}),  # a real -inf ties the padding
    ([[-np.inf, 3.0, np.nan], [1.0, -np.inf, 2.0], [0.0, 0.0, -np.inf]],
     {"kernel_size": 2, "stride": 1, "padding": 1}),
    ([[np.nan, 1.0, np.nan], [np.nan, np.nan, 0.0]], {"kernel_size": 2, "stride": 1}),
])
def test_max_pool_sends_nan_and_minus_inf_windows_gradients_where_torch_does(values, options):
    """A NaN window's gradient goes to its last NaN (it went to the largest number); a window
    whose real values are all -inf to its first real element (it went to the padding and was
    lost): torch's rule, on the torch form and through 'same' padding of the Keras form."""
    torch = require_torch()
    grads = []
    for m, pool in ((shenjing, shenjing.nn.functional.max_pool2d),
                    (torch, torch.nn.functional.max_pool2d)):
        x = m.tensor([[values]], requires_grad=True)
        y = pool(x, **options)
        (y * m.arange(1.0, y.numel() + 1).reshape(y.shape)).sum().backward()
        grads.append((y.detach().numpy(), x.grad.numpy()))
    np.testing.assert_array_equal(grads[0][0], grads[1][0])
    np.testing.assert_array_equal(grads[0][1], grads[1][1])
    x = shenjing.tensor(np.full((1, 3, 3, 1), -np.inf, np.float32), requires_grad=True)
    F.max_pool2d(x, 2, strides=2, padding="same").sum().backward()  # pads the bottom, right
    np.testing.assert_array_equal(x.grad.numpy()[0, :, :, 0], [[1, 0, 1], [0, 0, 0], [1, 0, 1]])
