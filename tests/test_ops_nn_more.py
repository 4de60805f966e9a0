"""More of keras.ops.nn (shenjing/_ops_nn_more.py) against NumPy references written here:
adaptive pooling by torch's bins, TensorFlow's depth_to_space order, attention in Keras's
(batch, length, heads, head_dim) layout with grouped heads, masks, a bias, causal and a logit
cap, the normalizations with Keras's epsilon, psnr, sparse_sigmoid; gradients by finite
differences. (All agreed with Keras 3.15 on JAX to 3e-6 when written; Keras is no test
dependency.)"""

from __future__ import annotations

import math

import numpy as np
import pytest

import shenjing as sj
from shenjing import ops

R = np.random.default_rng(0)


def _bins(length, n):
    return [(math.floor(i * length / n), math.ceil((i + 1) * length / n)) for i in range(n)]


def test_adaptive_pooling_by_torchs_bins():
    x = R.standard_normal((2, 7, 5, 3)).astype(np.float32)
    for pool, reduce in ((ops.adaptive_average_pool, np.mean), (ops.adaptive_max_pool, np.max)):
        got = pool(x, (3, 2)).numpy()
        want = np.stack([np.stack([reduce(x[:, a:b, c:d], axis=(1, 2)) for c, d in _bins(5, 2)],
                                  1) for a, b in _bins(7, 3)], 1)
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
        seq = x[:, :, 0]  # (2, 7, 3): one spatial axis
        want1 = np.stack([reduce(seq[:, a:b], axis=1) for a, b in _bins(7, 4)], 1)
        np.testing.assert_allclose(pool(seq, 4).numpy(), want1, rtol=1e-5, atol=1e-6)
        first = pool(np.moveaxis(x, -1, 1), (3, 2), data_format="channels_first").numpy()
        np.testing.assert_allclose(first, np.moveaxis(want, -1, 1), rtol=1e-5, atol=1e-6)


def test_depth_to_space_order_and_inverse():
    x = R.standard_normal((2, 3, 4, 8)).astype(np.float32)
    y = ops.depth_to_space(x, 2).numpy()
    assert y.shape == (2, 6, 8, 2)
    for i in range(2):
        for j in range(2):  # TensorFlow's: sub-pixel (i, j) takes channel block i * 2 + j
            np.testing.assert_array_equal(y[:, i::2, j::2], x[..., (i * 2 + j) * 2:(i * 2 + j + 1)
                                                                * 2])
    np.testing.assert_array_equal(ops.space_to_depth(y, 2).numpy(), x)
    first = ops.depth_to_space(np.moveaxis(x, -1, 1), 2, data_format="channels_first").numpy()
    np.testing.assert_array_equal(first, np.moveaxis(y, -1, 1))
    with pytest.raises(ValueError, match="not divisible by block_size"):
        ops.depth_to_space(np.ones((1, 2, 2, 3), np.float32), 2)


def _attention(q, k, v, bias=None, mask=None, scale=None, causal=False, cap=None):
    heads, kv = q.shape[2], k.shape[2]
    k, v = (np.repeat(t, heads // kv, axis=2) for t in (k, v))
    logits = np.einsum("btnh,bsnh->bnts", q, k) * (scale or 1 / np.sqrt(q.shape[-1]))
    logits = logits + (0 if bias is None else bias)
    if cap is not None:
        logits = cap * np.tanh(logits / cap)
    keep = np.ones(logits.shape, bool) if mask is None else np.broadcast_to(mask, logits.shape)
    if causal:
        keep = keep & np.tril(np.ones(logits.shape[-2:], bool))
    logits = np.where(keep, logits, -1e9)
    weights = np.exp(logits - logits.max(-1, keepdims=True))
    weights /= weights.sum(-1, keepdims=True)
    return np.einsum("bnts,bsnh->btnh", weights, v)


def test_dot_product_attention():
    q = R.standard_normal((2, 5, 4, 8))
    k, v = R.standard_normal((2, 6, 2, 8)), R.standard_normal((2, 6, 2, 8))  # grouped heads
    mask, bias = R.random((2, 4, 5, 6)) > 0.3, R.standard_normal((1, 4, 5, 6))
    f64 = [sj.tensor(t, dtype=np.float64) for t in (q, k, v)]
    bias64 = sj.tensor(bias, dtype=np.float64)  # (an array would be floatx, as Keras's)
    cases = [({}, {}), ({"bias": bias64, "mask": mask, "scale": 0.3},
                        {"bias": bias, "mask": mask, "scale": 0.3}),
             ({"attn_logits_soft_cap": 2.0}, {"cap": 2.0})]
    for ours, ref in cases:
        np.testing.assert_allclose(ops.dot_product_attention(*f64, **ours).numpy(),
                                   _attention(q, k, v, **ref), rtol=1e-9, atol=1e-12)
    qs = f64[0]
    np.testing.assert_allclose(ops.dot_product_attention(qs, qs, qs, is_causal=True).numpy(),
                               _attention(q, q, q, causal=True), rtol=1e-9, atol=1e-12)
    single = ops.dot_product_attention(q[0], q[0], q[0])  # no batch axis
    np.testing.assert_allclose(single.numpy(), _attention(q[:1], q[:1], q[:1])[0], rtol=1e-5,
                               atol=1e-6)
    assert sj.gradcheck(lambda a, b: ops.dot_product_attention(a, b, b, mask=mask[:, :2, :, :5],
                                                               is_causal=True),
                        q[:, :, :2], k[:, :5, :1])


def test_normalizations_psnr_and_sparse_sigmoid():
    x = R.standard_normal((2, 3, 4))
    X = sj.tensor(x, dtype=np.float64)
    gamma, beta = np.arange(4.0), np.ones(4)
    mean, var = x.mean(-1, keepdims=True), x.var(-1, keepdims=True)
    np.testing.assert_allclose(ops.layer_normalization(X, gamma, beta).numpy(),
                               (x - mean) / np.sqrt(var + 1e-7) * gamma + beta, rtol=1e-6)
    rms = x / np.sqrt((x * x).mean(-1, keepdims=True) + 1e-7)
    np.testing.assert_allclose(ops.rms_normalization(X, gamma).numpy(), rms * gamma, rtol=1e-6)
    np.testing.assert_allclose(ops.layer_normalization(X, gamma, rms_scaling=True).numpy(),
                               x / np.sqrt(var + 1e-7) * gamma, rtol=1e-6)  # Keras's: the
    # variance (as LayerNormalization(rms_scaling=True)), not the mean square
    np.testing.assert_allclose(ops.psnr(X, X * 0.9, 2.0).numpy(),
                               20 * np.log10(2.0) - 10 * np.log10(((0.1 * x) ** 2).mean()),
                               rtol=1e-9)
    z = np.linspace(-2, 2, 9)
    np.testing.assert_allclose(ops.sparse_sigmoid(z).numpy(), np.clip((z + 1) / 2, 0, 1),
                               rtol=1e-6)
    assert sj.gradcheck(lambda a: ops.layer_normalization(a, axis=(1, 2)), x)
    assert sj.gradcheck(lambda a: ops.depth_to_space(a, 2), R.standard_normal((1, 2, 2, 4)))
    with pytest.raises(ValueError, match="must match"):
        ops.psnr(np.ones(3), np.ones(4), 1.0)


def test_unfold_and_fold_are_torchs():
    x = R.standard_normal((2, 3, 6, 5)).astype(np.float32)
    cols = ops.unfold(x, 2, stride=2)
    assert cols.shape == (2, 12, 6)
    np.testing.assert_allclose(cols.numpy()[0, :, 0],
                               x[0, :, :2, :2].reshape(-1), rtol=1e-6)  # channel, then window
    back = ops.fold(cols, (6, 5), 2, stride=2).numpy()  # non-overlapping: the cells covered
    np.testing.assert_allclose(back[..., :6, :4], x[..., :6, :4], rtol=1e-6)


def test_conv_transpose_is_the_layers():
    """ops.conv_transpose gives Conv2DTranspose's / Conv1DTranspose's output (no bias) for
    the same kernel: Keras's sizes for 'same', 'valid', output_padding and dilation (the
    layers are checked against Keras and torch elsewhere)."""
    cases = [((2, 5, 6, 3), 4, 3, {"strides": 2, "padding": "same"}),
             ((1, 4, 4, 2), 3, 4, {"strides": 2, "padding": "same", "output_padding": 1}),
             ((1, 4, 4, 2), 3, 3, {"padding": "valid", "dilation_rate": 2}),
             ((2, 7, 3), 4, 3, {"strides": 2, "padding": "same"}),
             ((2, 7, 3), 4, 4, {"strides": 3, "output_padding": 2})]
    for shape, filters, size, options in cases:
        layer_class = sj.layers.Conv2DTranspose if len(shape) == 4 else sj.layers.Conv1DTranspose
        layer = layer_class(filters, size, use_bias=False, **options)
        x = R.standard_normal(shape).astype(np.float32)
        expected = layer(x).numpy()
        got = ops.conv_transpose(x, layer.kernel, **options).numpy()
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
    assert sj.gradcheck(lambda a, k: ops.conv_transpose(a, k, strides=2, padding="same"),
                        R.standard_normal((1, 3, 3, 2)), R.standard_normal((2, 2, 3, 2)))
