"""BatchNormalization (training: batch statistics and Keras's moving-average update; inference:
the moving statistics) and LayerNormalization against torch, with converted hyper-parameters:
torch's momentum is 1 - Keras's, and its running variance uses the unbiased batch variance;
UnitNormalization against torch's normalize; GroupNormalization, RMSNormalization."""

from __future__ import annotations

import numpy as np
import pytest
from layer_contract import assert_layer_matches_torch

import shenjing
from oracle import require_torch
from shenjing import layers as L


def _torch_batch_norm(torch, channels, ndim, momentum, epsilon):
    """A torch BN module for channels-last input of ``ndim`` axes, and its NHWC forward."""
    if ndim == 2:
        module = torch.nn.BatchNorm1d(channels, eps=epsilon, momentum=1 - momentum)
        return module, module
    module = torch.nn.BatchNorm2d(channels, eps=epsilon, momentum=1 - momentum)
    return module, lambda x: module(x.permute(0, 3, 1, 2)).permute(0, 2, 3, 1)


def _random_state(rng, c):
    """gamma, beta, moving_mean, moving_variance (Keras's weights order)."""
    return [rng.uniform(0.5, 1.5, c), rng.standard_normal(c), rng.standard_normal(c),
            rng.uniform(0.5, 2.0, c)]


@pytest.mark.parametrize("x_shape", [(16, 3), (4, 5, 5, 2), (2, 3, 1, 4)])
@pytest.mark.parametrize("momentum", [0.99, 0.9])
def test_batch_norm_training_matches_torch(rng, x_shape, momentum):
    torch = require_torch()
    c, m = x_shape[-1], int(np.prod(x_shape[:-1]))
    layer = L.BatchNormalization(momentum=momentum)
    module, forward = _torch_batch_norm(torch, c, len(x_shape), momentum, 1e-3)
    module.train()
    layer(np.zeros((1, *x_shape[1:]), np.float32))
    state = _random_state(rng, c)
    layer.set_weights(state)
    with torch.no_grad():
        module.running_mean.copy_(torch.from_numpy(state[2]))
        module.running_var.copy_(torch.from_numpy(state[3]))

    x = rng.standard_normal(x_shape) * 2 + 1
    assert_layer_matches_torch(layer, forward, x, lambda: [
        (layer.gamma, module.weight, lambda a: a), (layer.beta, module.bias, lambda a: a)],
        training=True)

    # The moving statistics after one step: the mean updates alike; torch adds the unbiased
    # batch variance, Keras the biased one, so undo torch's M / (M - 1).
    np.testing.assert_allclose(layer.moving_mean.numpy(), module.running_mean.numpy(),
                               atol=1e-6, rtol=1e-5)
    decayed = momentum * state[3]
    torch_var = module.running_var.numpy()
    np.testing.assert_allclose(layer.moving_variance.numpy(),
                               decayed + (torch_var - decayed) * (m - 1) / m, atol=1e-6,
                               rtol=1e-5)


@pytest.mark.parametrize("x_shape", [(6, 3), (2, 4, 4, 3)])
def test_batch_norm_inference_matches_torch_eval(rng, x_shape):
    torch = require_torch()
    c = x_shape[-1]
    layer = L.BatchNormalization()
    module, forward = _torch_batch_norm(torch, c, len(x_shape), 0.99, 1e-3)
    module.eval()
    layer(np.zeros((1, *x_shape[1:]), np.float32))
    state = _random_state(rng, c)
    layer.set_weights(state)
    with torch.no_grad():
        module.running_mean.copy_(torch.from_numpy(state[2]))
        module.running_var.copy_(torch.from_numpy(state[3]))
    assert_layer_matches_torch(layer, forward, rng.standard_normal(x_shape), lambda: [
        (layer.gamma, module.weight, lambda a: a), (layer.beta, module.bias, lambda a: a)])
    # inference leaves the moving statistics alone
    np.testing.assert_array_equal(layer.moving_mean.numpy(), state[2].astype(np.float32))
    np.testing.assert_array_equal(layer.moving_variance.numpy(), state[3].astype(np.float32))


def test_batch_norm_inference_uses_the_moving_statistics(rng):
    layer = L.BatchNormalization(epsilon=0.0)
    x = rng.standard_normal((5, 2)).astype(np.float32)
    layer(x)
    layer.set_weights([np.array([2.0, 1.0]), np.array([0.0, 1.0]), np.array([1.0, -1.0]),
                       np.array([4.0, 0.25])])
    expected = np.stack([2 * (x[:, 0] - 1) / 2, (x[:, 1] + 1) / 0.5 + 1], axis=1)
    np.testing.assert_allclose(layer(x).numpy(), expected, rtol=1e-5)
    np.testing.assert_allclose(layer(x, training=False).numpy(), expected, rtol=1e-5)


def test_batch_norm_training_normalizes_with_batch_statistics(rng):
    layer = L.BatchNormalization()
    x = rng.standard_normal((64, 3)).astype(np.float32) * 3 + 2
    y = layer(x, training=True).numpy()
    np.testing.assert_allclose(y.mean(0), 0.0, atol=1e-5)
    np.testing.assert_allclose(y.var(0), x.var(0) / (x.var(0) + 1e-3), rtol=1e-4)


def test_batch_norm_moving_statistics_converge_to_the_data(rng):
    layer = L.BatchNormalization(momentum=0.5)
    for _ in range(30):
        layer(rng.standard_normal((256, 2)) * [1.0, 3.0] + [4.0, -2.0], training=True)
    np.testing.assert_allclose(layer.moving_mean.numpy(), [4.0, -2.0], atol=0.4)
    np.testing.assert_allclose(layer.moving_variance.numpy(), [1.0, 9.0], rtol=0.2)


def test_batch_norm_takes_its_axis_as_the_last_by_any_name_and_rejects_channels_first():
    """axis=1 after a Dense (a 2-D input) names its last axis, as Keras code writes it; a
    channels-first axis is a clear error when the input's rank is known."""
    import shenjing

    model = shenjing.Sequential([shenjing.Input((4,)), L.Dense(3), L.BatchNormalization(axis=1)])
    assert model(np.ones((2, 4), np.float32)).shape == (2, 3)
    with pytest.raises(ValueError, match="channels-last only: axis 1 of a 4-D input"):
        shenjing.Sequential([shenjing.Input((8, 8, 3)), L.BatchNormalization(axis=1)])


# -- LayerNormalization --------------------------------------------------------------------------
@pytest.mark.parametrize("x_shape, axis", [((4, 6), -1), ((2, 3, 5), -1), ((2, 3, 4), (1, 2)),
                                           ((2, 3, 4, 2), [-3, -2, -1])])
def test_layer_norm_matches_torch(rng, x_shape, axis):
    torch = require_torch()
    layer = L.LayerNormalization(axis=axis, gamma_initializer="random_normal",
                                 beta_initializer="random_normal")
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    normalized = tuple(x_shape[a] for a in axes)
    module = torch.nn.LayerNorm(normalized, eps=1e-3)
    assert_layer_matches_torch(layer, module, rng.standard_normal(x_shape) * 3 + 1, lambda: [
        (layer.gamma, module.weight, lambda a: a), (layer.beta, module.bias, lambda a: a)])


@pytest.mark.parametrize("axis", [[2, 1], [-1, 1], (-1, -2)])
def test_layer_norm_axes_in_any_order_match_numpy(rng, axis):
    """Axes are made non-negative and sorted before gamma is built."""
    layer = L.LayerNormalization(axis=axis, gamma_initializer="random_normal",
                                 beta_initializer="random_normal")
    x = (rng.standard_normal((2, 3, 4)) * 3 + 1).astype(np.float32)
    y = layer(x).numpy()
    assert layer.gamma.shape == layer.beta.shape == (3, 4)
    mean, var = x.mean((1, 2), keepdims=True), x.var((1, 2), keepdims=True)
    want = (x - mean) / np.sqrt(var + 1e-3) * layer.gamma.numpy() + layer.beta.numpy()
    np.testing.assert_allclose(y, want, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("center, scale", [(False, True), (True, False), (False, False)])
def test_layer_norm_without_center_or_scale(rng, center, scale):
    layer = L.LayerNormalization(center=center, scale=scale)
    xn = rng.standard_normal((3, 4)).astype(np.float32)
    y = layer(xn)
    assert len(layer.weights) == center + scale
    np.testing.assert_allclose(
        y.numpy(), (xn - xn.mean(-1, keepdims=True)) / np.sqrt(xn.var(-1, keepdims=True) + 1e-3),
        rtol=1e-5, atol=1e-6)


def test_unit_normalization_is_keras_l2_normalization(rng):
    """Each sample scaled to unit L2 norm over the axis (or axes), x / max(||x||, 1e-12) as
    Keras 3 (torch's normalize with that eps); a zero sample stays 0 with a finite gradient;
    and it gives a Circle loss the unit embeddings it expects."""
    import shenjing
    from oracle import assert_same_as_torch

    x = rng.standard_normal((5, 6)).astype(np.float32)
    x[1] = 0.0
    x[4] = [3e-9, 4e-9, 0, 0, 0, 0]  # a tiny norm, still over Keras 3's 1e-12: unit length
    y = L.UnitNormalization()(x).numpy()
    np.testing.assert_allclose(np.linalg.norm(y[[0, 2, 3, 4]], axis=1), 1.0, rtol=1e-6)
    assert (y[1] == 0).all()
    torch = require_torch()
    assert_same_as_torch(lambda t: L.UnitNormalization()(t), [x],
                         lambda t: torch.nn.functional.normalize(t, dim=-1, eps=1e-12))
    cube = rng.standard_normal((2, 3, 4))
    both = L.UnitNormalization(axis=[1, 2])(cube.astype(np.float32)).numpy()
    np.testing.assert_allclose(np.sqrt((both ** 2).sum(axis=(1, 2))), 1.0, rtol=1e-6)
    assert shenjing.gradcheck(lambda t: L.UnitNormalization(axis=[1, 2])(t), cube)

    shenjing.utils.set_random_seed(0)
    model = shenjing.Sequential([shenjing.Input((6,)), L.Dense(4), L.UnitNormalization()])
    model.compile(optimizer=shenjing.optimizers.Adam(0.05),
                  loss=shenjing.losses.Circle(gamma=16.0))
    labels = np.arange(64) % 4
    data = np.random.default_rng(0)
    features = (np.eye(4)[labels] @ data.standard_normal((4, 6)) +
                0.3 * data.standard_normal((64, 6))).astype(np.float32)
    losses = model.fit(features, labels, epochs=10, batch_size=16, verbose=0).history["loss"]
    assert losses[-1] < 0.3 * losses[0]  # 7.0 -> 0.9


def test_unit_normalization_in_float16_keeps_zero_vectors_and_tiny_norms():
    """float16 can hold neither 1e12 nor 1e-24: the norm is taken in float32 and the result
    comes back in float16, so a zero row stays zero (not 0 * inf = NaN), a row whose squares
    underflow float16 still comes out unit length, and the gradient is finite (but at a zero
    row, where it is 1e12, more than float16 holds, as it is for any scale over 65504)."""
    import shenjing

    x = np.zeros((3, 4), np.float16)
    x[1] = [1e-3, 2e-3, 0, 2e-3]  # squares under float16's smallest normal
    x[2] = [3, -4, 0, 0]
    t = shenjing.tensor(x, dtype="float16").requires_grad_()
    y = L.UnitNormalization(dtype="float16")(t)
    assert y.dtype == np.float16
    out = y.numpy().astype(np.float64)
    assert (out[0] == 0).all()
    np.testing.assert_allclose(np.linalg.norm(out[1:], axis=1), 1.0, rtol=2e-3)
    np.testing.assert_allclose(out[2], [0.6, -0.8, 0, 0], rtol=1e-3)
    y[2].sum().backward()
    g = t.grad.numpy().astype(np.float64)
    np.testing.assert_allclose(g[2], [0.224, 0.168, 0.2, 0.2], atol=1e-3)  # (I - u u^T) 1 / |x|
    assert (g[:2] == 0).all()


def test_group_normalization_is_torchs_group_norm_channels_last(rng):
    """Keras 3's GroupNormalization (checked against Keras 3.15 on JAX: 4e-7): each sample's
    group of channels normalized over its channels and positions, torch's group_norm in NHWC;
    gamma and beta per channel; groups=-1 is one group per channel."""
    torch = require_torch()
    x = rng.standard_normal((2, 5, 4, 6)).astype(np.float32) * 3 + 1
    layer = L.GroupNormalization(groups=3, epsilon=1e-3)
    layer.build(x.shape)
    gamma, beta = rng.standard_normal(6), rng.standard_normal(6)
    layer.set_weights([gamma, beta])
    want = torch.nn.functional.group_norm(torch.tensor(x).permute(0, 3, 1, 2), 3,
                                          torch.tensor(gamma, dtype=torch.float32),
                                          torch.tensor(beta, dtype=torch.float32), eps=1e-3)
    np.testing.assert_allclose(layer(x).numpy(), want.permute(0, 2, 3, 1).numpy(), atol=2e-5)
    per_channel = L.GroupNormalization(groups=-1, axis=1)(np.moveaxis(x, 3, 1)).numpy()
    instance = torch.nn.functional.instance_norm(torch.tensor(x).permute(0, 3, 1, 2), eps=1e-3)
    np.testing.assert_allclose(per_channel, instance.numpy(), atol=2e-5)
    assert shenjing.gradcheck(lambda t: L.GroupNormalization(2)(t), rng.standard_normal(
        (2, 3, 4)))
    with pytest.raises(ValueError, match="cannot be split into groups=4"):
        L.GroupNormalization(4)(np.ones((2, 3, 6), np.float32))


def test_rms_normalization_scales_by_the_root_mean_square(rng):
    x = rng.standard_normal((2, 3, 5)).astype(np.float32)
    layer = L.RMSNormalization(axis=-1, epsilon=1e-6)
    scale = rng.standard_normal(5).astype(np.float32)
    layer.build(x.shape)
    layer.set_weights([scale])
    want = x / np.sqrt((x ** 2).mean(-1, keepdims=True) + 1e-6) * scale
    np.testing.assert_allclose(layer(x).numpy(), want, rtol=1e-5, atol=1e-6)
    assert [w.name for w in layer.weights] == ["scale"] and layer.get_config()["axis"] == [-1]
    assert shenjing.gradcheck(lambda t: L.RMSNormalization()(t), rng.standard_normal((2, 4)))


def test_gaussian_dropout_multiplies_by_noise_of_inverted_dropouts_variance():
    layer = L.GaussianDropout(0.3, seed=1)
    ones = np.ones((1000, 100), np.float32)
    noisy = layer(ones, training=True).numpy()
    assert abs(noisy.mean() - 1) < 0.01 and abs(noisy.std() - np.sqrt(0.3 / 0.7)) < 0.01
    np.testing.assert_array_equal(layer(ones).numpy(), ones)  # inference: the identity
    with pytest.raises(ValueError, match=r"rate must be in \[0, 1\)"):
        L.GaussianDropout(1.0)


def test_alpha_dropout_keeps_selus_mean_and_variance():
    """Keras's AlphaDropout: a dropped unit becomes SELU's saturation -alpha * scale, then
    a * x + b restores mean 0 and variance 1 (Keras 3.15 on the same data: mean 0.0007, std
    0.997); at inference the identity; noise_shape shares a draw along an axis."""
    x = np.random.default_rng(0).standard_normal((2000, 50)).astype(np.float32)
    selu = shenjing.activations.selu(shenjing.tensor(x))
    out = L.AlphaDropout(0.2, seed=1)(selu, training=True).numpy()
    assert abs(out.mean()) < 0.01 and abs(out.std() - 1) < 0.01
    assert L.AlphaDropout(0.2)(selu) is selu
    rows = L.AlphaDropout(0.5, noise_shape=(None, 1), seed=2)(np.ones((6, 4), np.float32),
                                                              training=True).numpy()
    assert (rows == rows[:, :1]).all() and len(np.unique(rows)) == 2
    with pytest.raises(ValueError, match=r"rate must be in \[0, 1\)"):
        L.AlphaDropout(1.0)


def test_layer_normalization_rms_scaling_is_keras_deprecated_form():
    # Keras 3.15: x / sqrt(var(x) + eps) * gamma (the variance, with its warning), no beta
    x = (np.random.default_rng(0).standard_normal((3, 5)) + 2).astype(np.float32)
    with pytest.warns(UserWarning, match="deprecated .* RMSNormalization"):
        layer = L.LayerNormalization(rms_scaling=True)
    np.testing.assert_allclose(layer(x).numpy(), x / np.sqrt(x.var(-1, keepdims=True) + 1e-3),
                               rtol=1e-6)
    assert [w.name for w in layer.weights] == ["gamma"] and layer.get_config()["rms_scaling"]
    with pytest.warns(UserWarning, match="deprecated"):
        unscaled = L.LayerNormalization(rms_scaling=True, scale=False)
    unscaled(x)
    assert [w.name for w in unscaled.weights] == ["gamma"]  # Keras makes gamma all the same
