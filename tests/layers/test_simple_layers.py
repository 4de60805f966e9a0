"""Keras 3's small layers: values and gradients against torch or by hand (Softmax with axes and a
mask, ELU, PReLU, Permute, RepeatVector, the 1D padding/cropping/up-sampling), GaussianNoise in
training only, ActivityRegularization's added loss, and Identity keeping a mask."""

from __future__ import annotations

import numpy as np
import pytest

import shenjing as keras
from oracle import ATOL, RTOL, require_torch
from shenjing import Tensor
from shenjing import layers as L

RNG = np.random.default_rng(0)
X = RNG.standard_normal((2, 5, 3)).astype(np.float32)


def _value_and_grad(layer, x, upstream):
    t = Tensor(x, requires_grad=True)
    y = layer(t)
    (y * upstream).sum().backward()
    return y.numpy(), t.grad


@pytest.mark.parametrize("make, torch_fn", [
    (lambda: L.Softmax(axis=1), lambda t, th: th.softmax(t, dim=1)),
    (lambda: L.Softmax(axis=[1, 2]),
     lambda t, th: th.softmax(t.reshape(2, -1), 1).reshape(t.shape)),
    (lambda: L.ELU(0.7), lambda t, th: th.nn.functional.elu(t, 0.7)),
    (lambda: L.Permute((2, 1)), lambda t, th: t.permute(0, 2, 1)),
    (lambda: L.ZeroPadding1D((1, 2)), lambda t, th: th.nn.functional.pad(t, (0, 0, 1, 2))),
    (lambda: L.Cropping1D((2, 1)), lambda t, th: t[:, 2:-1]),
    (lambda: L.UpSampling1D(3), lambda t, th: t.repeat_interleave(3, dim=1)),
    (lambda: L.RepeatVector(4), lambda t, th: t[:, 0][:, None].expand(2, 4, 3)),
])
def test_values_and_gradients_match_torch(make, torch_fn):
    torch = require_torch()
    layer = make()
    x = X[:, 0] if isinstance(layer, L.RepeatVector) else X
    y, gx = _value_and_grad(layer, x, upstream := RNG.standard_normal(
        layer(x).shape).astype(np.float32))
    t = torch.tensor(X, requires_grad=True)
    expected = torch_fn(t, torch)
    (expected * torch.tensor(upstream)).sum().backward()
    np.testing.assert_allclose(y, expected.detach().numpy(), rtol=RTOL, atol=ATOL)
    tgrad = t.grad.numpy()[:, 0] if isinstance(layer, L.RepeatVector) else t.grad.numpy()
    np.testing.assert_allclose(gx, tgrad, rtol=RTOL, atol=ATOL)


def test_prelu_matches_torch_with_a_slope_per_channel():
    torch = require_torch()
    layer = L.PReLU(alpha_initializer=keras.initializers.Constant(0.25), shared_axes=1)
    layer(X)
    alpha = np.array([0.1, 0.5, 2.0], np.float32)
    layer.set_weights([alpha[None]])  # (1, 3): shared over the steps
    upstream = RNG.standard_normal(X.shape).astype(np.float32)
    y, gx = _value_and_grad(layer, X, upstream)
    t, a = torch.tensor(X, requires_grad=True), torch.tensor(alpha, requires_grad=True)
    out = torch.nn.functional.prelu(t.permute(0, 2, 1), a).permute(0, 2, 1)  # torch: channels 1
    (out * torch.tensor(upstream)).sum().backward()
    np.testing.assert_allclose(y, out.detach().numpy(), rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(gx, t.grad.numpy(), rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(layer.alpha.grad[0], a.grad.numpy(), rtol=RTOL, atol=ATOL)
    assert L.PReLU()(X).shape == X.shape  # Keras's default: 'Zeros', a ReLU to start with
    with pytest.raises(ValueError, match="shared_axes"):
        L.PReLU(shared_axes=[3])(X)


def test_softmax_mask_takes_the_masked_positions_out():
    mask = np.array([[True, True, False], [True, False, False]])
    y = L.Softmax()(X[:, 0], mask=mask).numpy()
    kept = np.where(mask, np.exp(X[:, 0]), 0.0)
    np.testing.assert_allclose(y, kept / kept.sum(-1, keepdims=True), rtol=1e-6, atol=1e-7)


def test_gaussian_noise_adds_noise_in_training_only():
    x = np.zeros((2000, 5), np.float32)
    layer = L.GaussianNoise(0.5, seed=3)
    np.testing.assert_array_equal(layer(x).numpy(), x)  # inference
    noisy = layer(x, training=True).numpy()
    assert abs(noisy.mean()) < 0.02 and abs(noisy.std() - 0.5) < 0.02
    again = L.GaussianNoise(0.5, seed=3)(x, training=True).numpy()
    np.testing.assert_array_equal(noisy, again)  # seeded
    t = Tensor(X, requires_grad=True)
    layer(t, training=True).sum().backward()
    np.testing.assert_array_equal(t.grad, np.ones_like(X))
    with pytest.raises(ValueError, match="stddev must be >= 0"):
        L.GaussianNoise(-1.0)


def test_activity_regularization_adds_its_penalty_to_the_loss():
    # per sample, as Keras 3.15 (checked: l2=0.01 on ones (5, 3) gives 0.03, not 0.15)
    layer = L.ActivityRegularization(l1=0.1, l2=0.01)
    assert layer(X) is not None and len(layer.losses) == 1
    expected = (0.1 * np.abs(X).sum() + 0.01 * (X ** 2).sum()) / len(X)
    np.testing.assert_allclose(layer.losses[0].numpy(), expected, rtol=1e-5)
    model = keras.Sequential([keras.Input((3,)), L.Dense(2), L.ActivityRegularization(l2=1.0)])
    model.compile("sgd", "mse")
    x, y = X[:, 0], np.zeros((2, 2), np.float32)
    out = model.predict(x, verbose=0)
    np.testing.assert_allclose(model.evaluate(x, y, verbose=0),
                               (out ** 2).mean() + (out ** 2).sum() / len(x), rtol=1e-5)


def test_identity_keeps_the_inputs_and_their_mask():
    ids = np.array([[1, 2, 0]])
    embedded = L.Embedding(3, 2, mask_zero=True)(ids)
    out = L.Identity()(embedded)
    np.testing.assert_array_equal(out.numpy(), embedded.numpy())
    np.testing.assert_array_equal(np.asarray(out._keras_mask), [[True, True, False]])


@pytest.mark.parametrize("make, match", [
    (lambda: L.Permute((1, 3)), "permutation of 1..2"),
    (lambda: L.RepeatVector(0), "RepeatVector n must be a positive int"),
    (lambda: L.ZeroPadding1D(-1), "padding must be a non-negative int"),
    (lambda: L.Cropping1D(3)(X), "at least one step must remain"),
])
def test_bad_arguments_say_what_is_wrong(make, match):
    with pytest.raises(ValueError, match=match):
        make()
