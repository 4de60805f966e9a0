"""shenjing.activations as Keras's: array-likes in, Tensors out, Keras's keyword arguments."""

from __future__ import annotations

import math

import numpy as np
import pytest

import shenjing
from shenjing import F, activations

X = np.array([[-3.0, -1.5, -0.25, 0.5], [1.25, 2.0, 4.0, 7.5]])


def _softmax(x, axis=-1):
    e = np.exp(x - x.max(axis, keepdims=True))
    return e / e.sum(axis, keepdims=True)


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


_GELU_EXACT = np.vectorize(lambda v: v * 0.5 * (1 + math.erf(v / math.sqrt(2))))

# (name, keyword arguments, NumPy formula)
CASES = [
    ("linear", {}, lambda x: x),
    ("sigmoid", {}, _sigmoid),
    ("tanh", {}, np.tanh),
    ("relu", {}, lambda x: np.maximum(x, 0)),
    ("relu", {"max_value": 2.0}, lambda x: np.clip(x, 0, 2.0)),
    ("relu", {"threshold": 1.0}, lambda x: np.where(x > 1.0, x, 0)),
    ("relu", {"negative_slope": 0.1}, lambda x: np.where(x > 0, x, 0.1 * x)),
    ("relu", {"negative_slope": 0.1, "max_value": 6.0, "threshold": 1.0},
     lambda x: np.where(x > 1.0, np.minimum(x, 6.0), 0.1 * (x - 1.0))),
    ("leaky_relu", {}, lambda x: np.where(x > 0, x, 0.2 * x)),
    ("leaky_relu", {"negative_slope": 0.5}, lambda x: np.where(x > 0, x, 0.5 * x)),
    ("elu", {}, lambda x: np.where(x > 0, x, np.expm1(x))),
    ("elu", {"alpha": 0.5}, lambda x: np.where(x > 0, x, 0.5 * np.expm1(x))),
    ("selu", {}, lambda x: 1.0507009873554805 * np.where(x > 0, x, 1.6732632423543772
                                                          * np.expm1(x))),
    ("gelu", {}, _GELU_EXACT),
    ("gelu", {"approximate": True}, lambda x: 0.5 * x * (1 + np.tanh(
        math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))),
    ("softplus", {}, lambda x: np.log1p(np.exp(x))),
    ("silu", {}, lambda x: x * _sigmoid(x)),
    ("swish", {}, lambda x: x * _sigmoid(x)),
    ("softmax", {}, _softmax),
    ("softmax", {"axis": 0}, lambda x: _softmax(x, axis=0)),
    ("log_softmax", {}, lambda x: np.log(_softmax(x))),
    ("log_softmax", {"axis": 0}, lambda x: np.log(_softmax(x, axis=0))),
    ("exponential", {}, np.exp),
    # Keras 3's further activations (also keras.ops functions), by their formulas
    ("relu6", {}, lambda x: np.clip(x, 0, 6)),
    ("softsign", {}, lambda x: x / (1 + np.abs(x))),
    ("hard_sigmoid", {}, lambda x: np.clip(x + 3, 0, 6) / 6),
    ("hard_silu", {}, lambda x: x * np.clip(x + 3, 0, 6) / 6),
    ("hard_swish", {}, lambda x: x * np.clip(x + 3, 0, 6) / 6),
    ("mish", {}, lambda x: x * np.tanh(np.log1p(np.exp(x)))),
    ("log_sigmoid", {}, lambda x: np.log(_sigmoid(x))),
    ("celu", {"alpha": 0.5}, lambda x: np.where(x > 0, x, 0.5 * np.expm1(x / 0.5))),
    ("glu", {}, lambda x: x[..., :2] * _sigmoid(x[..., 2:])),
    ("hard_tanh", {}, lambda x: np.clip(x, -1, 1)),
    ("hard_shrink", {"threshold": 0.7}, lambda x: np.where(np.abs(x) > 0.7, x, 0)),
    ("soft_shrink", {}, lambda x: np.sign(x) * np.maximum(np.abs(x) - 0.5, 0)),
    ("tanh_shrink", {}, lambda x: x - np.tanh(x)),
    ("squareplus", {"b": 2.0}, lambda x: (x + np.sqrt(x * x + 2)) / 2),
    ("sparse_plus", {}, lambda x: np.where(x <= -1, 0, np.where(x >= 1, x, (x + 1) ** 2 / 4))),
    ("threshold", {"threshold": 0.3, "default_value": -2.0}, lambda x: np.where(x > 0.3, x, -2)),
]


@pytest.mark.parametrize(("name", "kwargs", "formula"), CASES,
                         ids=[f"{n}-{k}" for n, k, _ in CASES])
def test_activation_takes_arrays_and_keras_arguments(name, kwargs, formula):
    fn = getattr(activations, name)
    expected = formula(X)
    for x in (X, X.tolist(), shenjing.tensor(X)):
        y = fn(x, **kwargs)
        assert isinstance(y, shenjing.Tensor)
        np.testing.assert_allclose(y.numpy(), expected, rtol=1e-5, atol=1e-6)


def _sparsemax(z: np.ndarray) -> np.ndarray:
    """The projection onto the simplex, row by row, by bisection on tau (no sorting)."""
    out = np.empty_like(z)
    for i, row in enumerate(z):
        lo, hi = row.min() - 1, row.max()
        for _ in range(200):
            tau = (lo + hi) / 2
            lo, hi = (tau, hi) if np.maximum(row - tau, 0).sum() > 1 else (lo, tau)
        out[i] = np.maximum(row - tau, 0)
    return out


def test_sparsemax_is_the_projection_onto_the_simplex():
    x = np.random.default_rng(4).standard_normal((5, 6)) * 2
    y = activations.sparsemax(x)
    np.testing.assert_allclose(y.numpy(), _sparsemax(x), atol=1e-5)
    np.testing.assert_allclose(y.numpy().sum(axis=1), 1, rtol=1e-6)
    assert (y.numpy() == 0).any()
    np.testing.assert_allclose(activations.sparsemax(x.T, axis=0).numpy(), _sparsemax(x).T,
                               atol=1e-5)
    assert shenjing.gradcheck(lambda t: activations.sparsemax(t), x)


@pytest.mark.parametrize("name", ["relu6", "hard_sigmoid", "hard_silu", "mish", "log_sigmoid",
                                  "celu", "glu", "hard_tanh", "hard_shrink", "soft_shrink",
                                  "tanh_shrink", "squareplus", "sparse_plus", "softsign"])
def test_further_activations_gradcheck_and_serve_layers_by_name(name):
    x = X + 0.05  # away from the kinks
    assert shenjing.gradcheck(getattr(activations, name), x)
    dense = shenjing.layers.Dense(4, activation=name)
    assert dense.get_config()["activation"] == name
    again = shenjing.layers.Dense.from_config(dense.get_config())
    assert activations.serialize(again.activation) == name


def test_relu_of_an_array_is_keras_example():
    y = activations.relu(np.array([-1.0, 2.0]))
    assert isinstance(y, shenjing.Tensor)
    np.testing.assert_array_equal(y.numpy(), [0.0, 2.0])


@pytest.mark.parametrize("kwargs", [
    {"negative_slope": 0.1}, {"max_value": 2.0}, {"threshold": -0.5},
    {"negative_slope": 0.3, "max_value": 6.0, "threshold": 0.8}])
def test_relu_options_gradcheck(kwargs):
    x = X + 0.1  # away from the kinks at 0, 2.0, -0.5, 0.8 and 6.0
    assert shenjing.gradcheck(lambda t: activations.relu(t, **kwargs), x)
    t = shenjing.tensor(x, requires_grad=True)
    activations.relu(t, **kwargs).sum().backward()
    slope = kwargs.get("negative_slope", 0.0)
    threshold, top = kwargs.get("threshold", 0.0), kwargs.get("max_value", np.inf)
    expected = np.where(x > threshold, np.where(x < top, 1.0, 0.0), slope)
    np.testing.assert_allclose(t.grad, expected, rtol=1e-6)


def test_functions_by_callable_name_and_config():
    assert activations.get(activations.relu) is F.relu  # fused in Dense as 'relu' is
    assert activations.get("softmax") is F.softmax
    assert activations.serialize(activations.gelu) == "gelu"
    assert activations.serialize(F.tanh) == "tanh"
    dense = shenjing.layers.Dense(3, activation=activations.relu)
    assert dense.get_config()["activation"] == "relu"
    with pytest.raises(ValueError, match="cannot be serialized"):
        activations.serialize(lambda t: t)


KINKS = {  # name: (points on and next to the kinks, torch's function)
    "relu6": ([0.0, 6.0, -1e-8, 3.0, 7.0], "relu6"),
    "hard_tanh": ([-1.0, 1.0, 0.0, 2.0], "hardtanh"),
    "hard_sigmoid": ([-3.0, 3.0, 0.0, 4.0], "hardsigmoid"),
    "hard_swish": ([-3.0, 3.0, 0.0, 1.0], "hardswish"),
    "hard_silu": ([-3.0, 3.0, 0.0, 1.0], "hardswish"),
    "celu": ([0.0, -1e-8, 1.0, -2.0], "celu"),
}


@pytest.mark.parametrize("name", KINKS)
def test_activation_gradients_at_their_kinks_are_torchs(name):
    """At the kinks of the piecewise activations the gradient is torch's (and TF's and JAX's
    relu6): 0 at a clamp's bounds, where a clip would pass it, and 1 for celu at 0 (a max/min
    build split it as a tie, and gave 0.5 where e**x - 1 rounds to 0)."""
    from oracle import require_torch

    torch = require_torch()
    points, torch_name = KINKS[name]
    x = shenjing.tensor(np.array(points, np.float32), requires_grad=True)
    getattr(shenjing.ops, name)(x).sum().backward()
    t = torch.tensor(points, requires_grad=True)
    getattr(torch.nn.functional, torch_name)(t).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-6, atol=1e-7)
