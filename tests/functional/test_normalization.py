"""batch_norm (training with in-place moving statistics, inference) and layer_norm: gradcheck,
parity with torch, Keras's moving-average rule, float32, and errors."""

from __future__ import annotations

import numpy as np
import pytest

import shenjing
from oracle import assert_same_as_torch, require_torch
from shenjing import F, Tensor

SHAPES = [(6, 3), (2, 3, 4, 3)]  # (N, C) and (N, H, W, C)


def _channels_first(x):
    """NHWC -> NCHW (torch's batch_norm wants the channel axis second)."""
    return x if x.ndim == 2 else x.permute(0, 3, 1, 2)


def _channels_last(y):
    return y if y.ndim == 2 else y.permute(0, 2, 3, 1)


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("affine", ["both", "gamma", "beta", "none"])
def test_batch_norm_training_gradcheck(shape, affine, rng):
    c = shape[-1]
    x, gamma, beta = rng.standard_normal(shape), rng.uniform(0.5, 2, c), rng.standard_normal(c)
    if affine == "both":
        fn, args = (lambda x, g, b: F.batch_norm(x, g, b, None, None, True)), (x, gamma, beta)
    elif affine == "gamma":
        fn, args = (lambda x, g: F.batch_norm(x, g, None, None, None, True)), (x, gamma)
    elif affine == "beta":
        fn, args = (lambda x, b: F.batch_norm(x, None, b, None, None, True)), (x, beta)
    else:
        fn, args = (lambda x: F.batch_norm(x, None, None, None, None, True)), (x,)
    assert shenjing.gradcheck(fn, *args)


@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_batch_norm_inference_gradcheck(shape, rng):
    c = shape[-1]
    mean, var = Tensor(rng.standard_normal(c)), Tensor(rng.uniform(0.5, 2, c))
    assert shenjing.gradcheck(lambda x, g, b: F.batch_norm(x, g, b, mean, var, False),
                              rng.standard_normal(shape), rng.uniform(0.5, 2, c),
                              rng.standard_normal(c))


@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_batch_norm_training_matches_torch(shape, rng):
    th = require_torch()
    c = shape[-1]
    m = int(np.prod(shape)) // c
    momentum, eps = 0.9, 1e-3
    mean0 = rng.standard_normal(c).astype(np.float32)
    var0 = rng.uniform(0.5, 2, c).astype(np.float32)
    ours = (Tensor(mean0.copy()), Tensor(var0.copy()))
    theirs = (th.tensor(mean0.copy()), th.tensor(var0.copy()))
    x = rng.standard_normal(shape) * 2 + 1

    assert_same_as_torch(
        lambda x, g, b: F.batch_norm(x, g, b, *ours, training=True, momentum=momentum,
                                     epsilon=eps),
        [x, rng.uniform(0.5, 2, c), rng.standard_normal(c)],
        # torch's momentum weighs the new value: it is 1 - Keras's momentum
        lambda x, g, b: _channels_last(th.nn.functional.batch_norm(
            _channels_first(x), *theirs, g, b, training=True, momentum=1 - momentum,
            eps=eps)))

    axes = tuple(range(len(shape) - 1))
    x32 = x.astype(np.float32).astype(np.float64)
    np.testing.assert_allclose(ours[0].numpy(), theirs[0].numpy(), atol=1e-6, rtol=1e-5)
    # Keras updates with the biased batch variance, torch with the unbiased one (* M / (M - 1)).
    expected_var = var0 * momentum + x32.var(axis=axes) * (1 - momentum)
    np.testing.assert_allclose(ours[1].numpy(), expected_var, atol=1e-6, rtol=1e-5)
    torch_batch_var = (theirs[1].numpy() - var0 * momentum) / (1 - momentum)
    np.testing.assert_allclose(ours[1].numpy(),
                               var0 * momentum + torch_batch_var * (m - 1) / m * (1 - momentum),
                               atol=1e-5, rtol=1e-4)
    assert ours[0].dtype == ours[1].dtype == np.float32


@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_batch_norm_inference_matches_torch(shape, rng):
    th = require_torch()
    c = shape[-1]
    mean0 = rng.standard_normal(c).astype(np.float32)
    var0 = rng.uniform(0.5, 2, c).astype(np.float32)
    ours = (Tensor(mean0.copy()), Tensor(var0.copy()))
    assert_same_as_torch(
        lambda x, g, b: F.batch_norm(x, g, b, *ours, training=False),
        [rng.standard_normal(shape), rng.uniform(0.5, 2, c), rng.standard_normal(c)],
        lambda x, g, b: _channels_last(th.nn.functional.batch_norm(
            _channels_first(x), th.tensor(mean0), th.tensor(var0), g, b, training=False,
            eps=1e-3)))
    np.testing.assert_array_equal(ours[0].numpy(), mean0)  # inference leaves them alone
    np.testing.assert_array_equal(ours[1].numpy(), var0)


def test_batch_norm_keras_moving_average_rule(rng):
    x = rng.standard_normal((8, 2)).astype(np.float32)
    mean, var = Tensor(np.zeros(2)), Tensor(np.ones(2))
    F.batch_norm(Tensor(x), None, None, mean, var, training=True)  # default momentum 0.99
    np.testing.assert_allclose(mean.numpy(), 0.01 * x.mean(axis=0), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(var.numpy(), 0.99 + 0.01 * x.var(axis=0), rtol=1e-5)


def test_batch_norm_of_a_large_batch_keeps_float32_accuracy(rng):
    """500K values per channel, mean 3: float32 sums made one row after another lost 6e-5 of
    the variance (torch: 5e-8) and put the output 1.5e-4 off; the statistics and the affine
    parameters' gradients now stay within ~1e-6 of float64."""
    x = (rng.standard_normal((128, 64, 64, 2)) + 3).astype(np.float32)
    g = rng.standard_normal(x.shape).astype(np.float32)
    gamma = Tensor(np.ones(2, np.float32), requires_grad=True)
    beta = Tensor(np.zeros(2, np.float32), requires_grad=True)
    mean, var = Tensor(np.zeros(2)), Tensor(np.zeros(2))
    y = F.batch_norm(Tensor(x), gamma, beta, mean, var, training=True, momentum=0.0,
                     epsilon=0.0)
    y.backward(Tensor(g))
    x64, g64 = x.astype(np.float64).reshape(-1, 2), g.astype(np.float64).reshape(-1, 2)
    xhat = (x64 - x64.mean(0)) / x64.std(0)
    np.testing.assert_allclose(mean.numpy(), x64.mean(0), rtol=1e-6)
    np.testing.assert_allclose(var.numpy(), x64.var(0), rtol=1e-6)
    np.testing.assert_allclose(y.numpy().reshape(-1, 2), xhat, atol=5e-6)
    np.testing.assert_allclose(gamma.grad.numpy(), (g64 * xhat).sum(0), rtol=1e-5, atol=1e-2)
    np.testing.assert_allclose(beta.grad.numpy(), g64.sum(0), rtol=1e-5, atol=1e-2)


def test_batch_norm_keeps_its_moving_statistics_from_a_non_finite_batch(rng):
    # fit skips the step of a NaN loss; the moving statistics must survive that batch too
    mean, var = Tensor(np.full(2, 0.5)), Tensor(np.full(2, 2.0))
    x = rng.standard_normal((8, 2)).astype(np.float32)
    x[3, 1] = np.nan
    y = F.batch_norm(Tensor(x), None, None, mean, var, training=True)
    assert np.isnan(y.numpy()[:, 1]).all()  # the batch itself is NaN, as in NumPy
    np.testing.assert_array_equal(mean.numpy(), [0.5, 0.5])
    np.testing.assert_array_equal(var.numpy(), [2.0, 2.0])


def test_batch_norm_stays_float32_and_records_nothing_under_no_grad(rng):
    x = Tensor(rng.standard_normal((4, 3, 3, 2)).astype(np.float32), requires_grad=True)
    g, b = Tensor(np.ones(2), requires_grad=True), Tensor(np.zeros(2), requires_grad=True)
    y = F.batch_norm(x, g, b, Tensor(np.zeros(2)), Tensor(np.ones(2)), training=True)
    assert y.dtype == np.float32
    y.sum().backward()
    assert x.grad.dtype == g.grad.dtype == b.grad.dtype == np.float32
    with shenjing.no_grad():
        y = F.batch_norm(x, g, b, Tensor(np.zeros(2)), Tensor(np.ones(2)), training=False)
    assert y._creator is None


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (((4, 3), (2,), None, None, None, True), r"gamma of shape \(2,\), expected \(3,\)"),
        (((4, 3), None, None, (3,), (4,), True), r"moving_variance of shape \(4,\)"),
        (((4, 3), None, None, None, None, False), r"needs moving_mean and moving_variance"),
        (((4,), None, None, None, None, True), r"\(batch, \.\.\., channels\), got shape \(4,\)"),
    ],
)
def test_batch_norm_rejects_bad_shapes(args, match):
    tensors = [None if a is None or isinstance(a, bool) else Tensor(np.ones(a)) for a in args]
    with pytest.raises(ValueError, match=match):
        F.batch_norm(*tensors[:5], training=args[5])


# -- layer_norm ----------------------------------------------------------------------------------

LAYER_CASES = [((4, 5), -1), ((2, 3, 4), -1), ((2, 3, 4), (1, 2)), ((2, 3, 4), 1),
               ((2, 3, 4, 2), (1, 3))]


@pytest.mark.parametrize(("shape", "axis"), LAYER_CASES, ids=str)
def test_layer_norm_gradcheck(shape, axis, rng):
    axes = (axis,) if isinstance(axis, int) else axis
    pshape = tuple(shape[a] for a in axes)
    assert shenjing.gradcheck(lambda x, g, b: F.layer_norm(x, g, b, axis=axis),
                              rng.standard_normal(shape), rng.uniform(0.5, 2, pshape),
                              rng.standard_normal(pshape))


def test_layer_norm_without_affine_gradcheck(rng):
    x = rng.standard_normal((3, 5))
    assert shenjing.gradcheck(lambda x: F.layer_norm(x, None, None), x)
    assert shenjing.gradcheck(lambda x, b: F.layer_norm(x, None, b), x, rng.standard_normal(5))


@pytest.mark.parametrize(("shape", "axis"), [((4, 5), -1), ((2, 3, 4), (1, 2))], ids=str)
def test_layer_norm_matches_torch(shape, axis, rng):
    th = require_torch()
    pshape = shape[1:]
    assert_same_as_torch(
        lambda x, g, b: F.layer_norm(x, g, b, axis=axis, epsilon=1e-3),
        [rng.standard_normal(shape) * 3 + 1, rng.uniform(0.5, 2, pshape),
         rng.standard_normal(pshape)],
        lambda x, g, b: th.nn.functional.layer_norm(x, pshape, g, b, eps=1e-3))


def test_layer_norm_rejects_wrong_gamma_shape():
    with pytest.raises(ValueError, match=r"gamma of shape \(4,\), expected \(5,\)"):
        F.layer_norm(Tensor(np.ones((2, 5))), Tensor(np.ones(4)), None)


def test_batch_norm_updates_moving_statistics_given_as_arrays_in_place():
    x = np.arange(24, dtype=np.float32).reshape(6, 4)
    mean, var = np.zeros(4, np.float32), np.ones(4, np.float32)
    F.batch_norm(shenjing.tensor(x), None, None, mean, var, training=True, momentum=0.9)
    np.testing.assert_allclose(mean, 0.1 * x.mean(0), rtol=1e-6)
    np.testing.assert_allclose(var, 0.9 + 0.1 * x.var(0), rtol=1e-6)
    with pytest.raises(TypeError, match="moving_mean must be a Tensor or an array"):
        F.batch_norm(shenjing.tensor(x), None, None, [0.0] * 4, var, training=True)


@pytest.mark.parametrize("norm", ["batch", "layer"])
def test_float16_is_normalized_in_float32_as_torch_and_keras(norm, rng):
    """Far from 0 (1000 + 30 N), float16's squared deviations summed over 512 rows pass its
    65,504 (batch norm was NaN) and its statistics lose the digits the gradient's differences
    need (layer norm's input gradient was off by 70x): in float32 inside, the result and every
    gradient are float16 within a few of its roundings of the float64 computation."""
    shape = (512, 8) if norm == "batch" else (4, 300)
    x = (rng.standard_normal(shape) * 30 + 1000).astype(np.float16)
    w = rng.standard_normal(shape).astype(np.float16)
    results = []
    for dtype in (np.float16, np.float64):
        xs, gamma, beta = (Tensor(v, dtype=dtype, requires_grad=True) for v in (
            x, np.full(shape[-1], 1.5), np.zeros(shape[-1])))
        moving = [np.zeros(shape[-1], dtype), np.ones(shape[-1], dtype)]
        y = (F.batch_norm(xs, gamma, beta, *moving, training=True) if norm == "batch" else
             F.layer_norm(xs, gamma, beta))
        (y * Tensor(w, dtype=dtype)).sum().backward()
        results.append([y.numpy(), xs.grad.numpy(), gamma.grad.numpy(), beta.grad.numpy()]
                       + (moving if norm == "batch" else []))
    for half, exact in zip(*results):
        assert half.dtype == np.float16
        np.testing.assert_allclose(half, exact, rtol=0, atol=2e-3 * np.abs(exact).max())
