"""Dense (parity with torch.nn.Linear), Activation, Flatten, Reshape, Dropout (training vs
inference, expected value, seeding) and the Perceptron (through its learning rule)."""

from __future__ import annotations

import numpy as np
import pytest
from layer_contract import assert_layer_matches_torch

import shenjing
from oracle import require_torch
from shenjing import Tensor
from shenjing import layers as L


# -- Dense ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("x_shape, units, use_bias, activation", [
    ((4, 5), 3, True, None),
    ((4, 5), 3, False, None),
    ((2, 3, 6), 4, True, None),
    ((8, 7), 5, True, "tanh"),
    ((1, 1), 1, True, "sigmoid"),
])
def test_dense_matches_torch_linear(rng, x_shape, units, use_bias, activation):
    torch = require_torch()
    layer = L.Dense(units, use_bias=use_bias, activation=activation,
                    bias_initializer="random_normal")
    linear = torch.nn.Linear(x_shape[-1], units, bias=use_bias)
    act = {None: lambda t: t, "tanh": torch.tanh, "sigmoid": torch.sigmoid}[activation]

    def pairs():
        out = [(layer.kernel, linear.weight, np.transpose)]  # torch's weight is kernel.T
        if use_bias:
            out.append((layer.bias, linear.bias, lambda b: b))
        return out

    assert_layer_matches_torch(layer, lambda t: act(linear(t)), rng.standard_normal(x_shape),
                               pairs)


def test_dense_computes_x_kernel_plus_bias(rng):
    layer = L.Dense(3, activation="relu")
    x = rng.standard_normal((4, 2)).astype(np.float32)
    y = layer(x).numpy()
    kernel, bias = layer.get_weights()
    np.testing.assert_allclose(y, np.maximum(x @ kernel + bias, 0), rtol=1e-6)


@pytest.mark.parametrize("units", [0, -1, 2.0])
def test_dense_rejects_bad_units(units):
    with pytest.raises(ValueError, match="units"):
        L.Dense(units)


# -- Flatten, Reshape ----------------------------------------------------------------------------
def test_flatten_keeps_the_batch_and_row_major_order(rng):
    x = rng.standard_normal((2, 3, 4, 5)).astype(np.float32)
    np.testing.assert_array_equal(L.Flatten()(x).numpy(), x.reshape(2, 60))


@pytest.mark.parametrize("target, expected", [((4, 3), (2, 4, 3)), ((-1, 6), (2, 2, 6)),
                                              ((12,), (2, 12))])
def test_reshape_reshapes_each_sample(rng, target, expected):
    x = rng.standard_normal((2, 3, 4)).astype(np.float32)
    np.testing.assert_array_equal(L.Reshape(target)(x).numpy(), x.reshape(expected))


@pytest.mark.parametrize("target", [(5,), (-1, 5)])
def test_reshape_error_names_layer_and_shapes(target):
    layer = L.Reshape(target, name="rs")
    with pytest.raises(ValueError, match=r"'rs'.*\(3, 4\)"):
        layer(np.ones((2, 3, 4)))


# -- Dropout -------------------------------------------------------------------------------------
def test_dropout_is_the_identity_at_inference(rng):
    x = Tensor(rng.standard_normal((4, 5)))
    layer = L.Dropout(0.5)
    assert layer(x) is x
    assert layer(x, training=False) is x


@pytest.mark.parametrize("rate", [0.1, 0.5, 0.8])
def test_dropout_in_training_zeroes_a_fraction_and_keeps_the_expected_value(rate):
    x = np.ones((400, 500), np.float32)
    y = L.Dropout(rate, seed=3)(x, training=True).numpy()
    kept = y != 0
    assert abs(1 - kept.mean() - rate) < 0.01
    np.testing.assert_allclose(y[kept], 1 / (1 - rate), rtol=1e-6)
    assert abs(y.mean() - 1.0) < 0.02  # inverted dropout: E[y] = x


def test_dropout_gradient_is_the_same_mask(rng):
    x = Tensor(rng.standard_normal((6, 7)), requires_grad=True)
    y = L.Dropout(0.5, seed=0)(x, training=True)
    y.sum().backward()
    mask = y.numpy() / x.numpy()
    np.testing.assert_allclose(x.grad.numpy(), mask, rtol=1e-6)
    assert set(np.unique(np.round(mask, 5))) <= {0.0, 2.0}


def test_dropout_with_a_seed_repeats_and_draws_anew_each_call():
    x = np.ones((8, 8), np.float32)
    a, b = L.Dropout(0.5, seed=7), L.Dropout(0.5, seed=7)
    first = a(x, training=True).numpy()
    np.testing.assert_array_equal(first, b(x, training=True).numpy())
    assert not np.array_equal(first, a(x, training=True).numpy())
    assert not np.array_equal(first, L.Dropout(0.5, seed=8)(x, training=True).numpy())


def test_dropout_without_a_seed_follows_set_random_seed():
    x = np.ones((8, 8), np.float32)
    shenjing.utils.set_random_seed(11)
    first = L.Dropout(0.5)(x, training=True).numpy()
    shenjing.utils.set_random_seed(11)
    np.testing.assert_array_equal(L.Dropout(0.5)(x, training=True).numpy(), first)


@pytest.mark.parametrize("rate", [-0.1, 1.5])
def test_dropout_rejects_rates_outside_zero_one(rate):
    with pytest.raises(ValueError, match=r"rate must be in \[0, 1\]"):
        L.Dropout(rate)


def test_dropout_noise_shape_shares_the_mask_along_axes_of_one(rng):
    """Keras's noise_shape: (None, 1, 6) draws one mask per sample and feature, the same at
    every step; it survives the config round trip."""
    layer = L.Dropout(0.5, noise_shape=(None, 1, 6), seed=3)
    y = layer(Tensor(np.ones((8, 5, 6), np.float32)), training=True).numpy()
    np.testing.assert_array_equal(y, np.broadcast_to(y[:, :1], y.shape))
    assert set(np.unique(y)) == {0.0, 2.0}
    again = L.Dropout.from_config(layer.get_config())
    assert again.noise_shape == (None, 1, 6) and again.rate == 0.5


def test_relu_layer_takes_keras_options(rng):
    """ReLU(max_value, negative_slope, threshold) as Keras's layer: ReLU(6.0) is ReLU6."""
    x = rng.standard_normal(40).astype(np.float32) * 5
    np.testing.assert_array_equal(L.ReLU(6.0)(Tensor(x)).numpy(), np.clip(x, 0, 6))
    layer = L.ReLU(max_value=4.0, negative_slope=0.1, threshold=1.0)
    expected = np.where(x > 1.0, np.minimum(x, 4.0), 0.1 * (x - 1.0))
    np.testing.assert_allclose(layer(Tensor(x)).numpy(), expected, rtol=1e-6)
    assert L.ReLU.from_config(layer.get_config()).get_config() == layer.get_config()
    with pytest.raises(ValueError, match="max_value must be >= 0"):
        L.ReLU(max_value=-1.0)


def test_dropout_rate_one_drops_everything_in_training(rng):
    """Keras accepts rate 1: zeros (and a zero gradient) in training, the identity otherwise."""
    x = Tensor(rng.standard_normal((3, 4)), requires_grad=True)
    layer = L.Dropout(1.0)
    y = layer(x, training=True)
    np.testing.assert_array_equal(y.numpy(), np.zeros((3, 4)))
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.zeros((3, 4)))
    assert layer(x) is x


# -- Perceptron ----------------------------------------------------------------------------------
_BOOL_X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], np.float32)


@pytest.mark.parametrize("targets", [[0, 0, 0, 1], [0, 1, 1, 1], [1, 1, 1, 0]],
                         ids=["and", "or", "nand"])
def test_perceptron_learns_a_linearly_separable_function(targets):
    p = L.Perceptron()
    errors = [p.update(_BOOL_X, targets, learning_rate=0.5) for _ in range(20)]
    assert errors[0] > 0 and errors[-1] == 0
    first_clean = errors.index(0)
    assert all(e == 0 for e in errors[first_clean:])  # converged: the weights stop moving
    np.testing.assert_array_equal(p(_BOOL_X).numpy()[:, 0], targets)


def test_perceptron_does_not_learn_xor():
    p = L.Perceptron()
    errors = [p.update(_BOOL_X, [0, 1, 1, 0]) for _ in range(50)]
    assert min(errors) > 0
    assert not np.array_equal(p(_BOOL_X).numpy()[:, 0], [0, 1, 1, 0])


def test_perceptron_outputs_are_zero_or_one(rng):
    p = L.Perceptron(3)
    p(np.zeros((1, 4)))
    p.set_weights([rng.standard_normal((4, 3)), rng.standard_normal(3)])
    y = p(rng.standard_normal((50, 4))).numpy()
    assert y.dtype == np.float32 and set(np.unique(y)) == {0.0, 1.0}


def test_perceptron_rule_moves_weights_by_lr_error_x():
    p = L.Perceptron()
    assert p.update([[1.0, 2.0]], [1], learning_rate=0.5) == 1  # output 0 (w = 0), target 1
    np.testing.assert_allclose(p.kernel.numpy()[:, 0], [0.5, 1.0])
    np.testing.assert_allclose(p.bias.numpy(), [0.5])
    assert p.update([[1.0, 2.0]], [1], learning_rate=0.5) == 0  # now right: nothing moves
    np.testing.assert_allclose(p.kernel.numpy()[:, 0], [0.5, 1.0])


def test_perceptron_has_no_gradient_and_no_trainable_weights():
    p = L.Perceptron()
    y = p(Tensor(np.ones((2, 3)), requires_grad=True))
    assert not y.requires_grad
    p.trainable = True
    assert p.trainable_weights == []


# -- ReLU, LeakyReLU layers ----------------------------------------------------------------------
@pytest.mark.parametrize("make, torch_fn", [
    (lambda: L.ReLU(), lambda th, t: th.relu(t)),
    (lambda: L.LeakyReLU(), lambda th, t: th.nn.functional.leaky_relu(t, 0.3)),
    (lambda: L.LeakyReLU(negative_slope=0.05),
     lambda th, t: th.nn.functional.leaky_relu(t, 0.05)),
])
def test_relu_layers_match_torch(rng, make, torch_fn):
    th = require_torch()
    assert_layer_matches_torch(make(), lambda t: torch_fn(th, t),
                               rng.standard_normal((4, 6)), lambda: [])


def test_leaky_relu_layer_round_trips_its_slope_and_rejects_a_negative_one():
    layer = L.LeakyReLU(negative_slope=0.1)
    again = L.LeakyReLU.from_config(layer.get_config())
    x = np.array([[-2.0, 3.0]], np.float32)
    np.testing.assert_allclose(again(x).numpy(), [[-0.2, 3.0]], rtol=1e-6)
    with pytest.raises(ValueError, match="negative_slope"):
        L.LeakyReLU(negative_slope=-1)


@pytest.mark.parametrize("equation, output_shape, bias_axes, x_shape, y_shape, kernel_shape", [
    ("ab,bc->ac", 6, "c", (4, 5), (4, 6), (5, 6)),
    ("abc,cde->abde", (None, 4, 3), "de", (2, 3, 5), (2, 3, 4, 3), (5, 4, 3)),
    ("...b,bc->...c", 6, "c", (2, 3, 5), (2, 3, 6), (5, 6)),
    ("ab...,bc->ac...", (6,), None, (2, 5, 3), (2, 6, 3), (5, 6)),
])
def test_einsum_dense_is_its_einsum_as_keras(equation, output_shape, bias_axes, x_shape,
                                             y_shape, kernel_shape):
    """Kernel and bias shapes read off the equation as Keras 3.15's (checked there, outputs to
    2e-7), y = activation(einsum(equation, x, kernel) + bias)."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal(x_shape).astype(np.float32)
    layer = L.EinsumDense(equation, output_shape, bias_axes=bias_axes, activation="tanh")
    y = layer(x)
    assert y.shape == y_shape and layer.kernel.shape == kernel_shape
    bias = 0.0 if layer.bias is None else layer.bias.numpy()
    want = np.tanh(np.einsum(equation, x, layer.kernel.numpy()) + bias)
    np.testing.assert_allclose(y.numpy(), want, rtol=1e-5, atol=1e-6)
    wide = L.EinsumDense(equation, output_shape, bias_axes=bias_axes, dtype="float64")
    assert shenjing.gradcheck(lambda t: wide(t), x.astype(np.float64)[:2])


def test_einsum_dense_names_bad_equations_and_shapes():
    with pytest.raises(ValueError, match="not of the form"):
        L.EinsumDense("ab,bc", 4)
    with pytest.raises(ValueError, match="does not give the axes"):
        L.EinsumDense("abc,cd->abd", 4)(np.ones((2, 3, 5), np.float32))
    with pytest.raises(ValueError, match="differs from the input's"):
        L.EinsumDense("abc,cd->abd", (7, 4))(np.ones((2, 3, 5), np.float32))
