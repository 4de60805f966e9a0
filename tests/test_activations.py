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
