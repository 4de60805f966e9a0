"""Activations: sigmoid, tanh, relu, leaky_relu, elu, selu, gelu, softplus, silu, softmax,
log_softmax; their stability for huge inputs and their gradients at kinks."""

from __future__ import annotations

import contextlib

import numpy as np
import pytest

import shenjing
from oracle import assert_same_as_torch, away_from_zero, normal, require_torch, torch
from shenjing import F


def _tf():
    return torch.nn.functional


# name: (shenjing fn, torch fn, sampler). Ops with a kink at 0 sample away from it.
ELEMENTWISE = {
    "sigmoid": (F.sigmoid, lambda t: t.sigmoid(), normal),
    "tanh": (F.tanh, lambda t: t.tanh(), normal),
    "relu": (F.relu, lambda t: t.relu(), away_from_zero),
    # Keras's default slope is 0.2, torch's 0.01: the torch side passes it.
    "leaky_relu": (F.leaky_relu, lambda t: _tf().leaky_relu(t, 0.2), away_from_zero),
    "leaky_relu_0.01": (lambda x: F.leaky_relu(x, 0.01), lambda t: _tf().leaky_relu(t, 0.01),
                        away_from_zero),
    "elu": (F.elu, lambda t: _tf().elu(t), away_from_zero),
    "elu_alpha": (lambda x: F.elu(x, alpha=0.5), lambda t: _tf().elu(t, alpha=0.5),
                  away_from_zero),
    "selu": (F.selu, lambda t: _tf().selu(t), away_from_zero),
    "gelu": (F.gelu, lambda t: _tf().gelu(t), normal),
    "gelu_approximate": (lambda x: F.gelu(x, approximate=True),
                         lambda t: _tf().gelu(t, approximate="tanh"), normal),
    # torch's strings too: 'none' is exact (a non-empty string once read as True)
    "gelu_none": (lambda x: F.gelu(x, approximate="none"),
                  lambda t: _tf().gelu(t, approximate="none"), normal),
    "gelu_tanh": (lambda x: F.gelu(x, approximate="tanh"),
                  lambda t: _tf().gelu(t, approximate="tanh"), normal),
    "softplus": (F.softplus, lambda t: _tf().softplus(t), normal),
    "silu": (F.silu, lambda t: _tf().silu(t), normal),
}

SHAPES = [(), (7,), (3, 4)]


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("name", ELEMENTWISE)
def test_activation_gradcheck(name, shape, rng):
    fn, _, sample = ELEMENTWISE[name]
    assert shenjing.gradcheck(fn, sample(rng, shape))


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("name", ELEMENTWISE)
def test_activation_matches_torch(name, shape, rng):
    fn, torch_fn, sample = ELEMENTWISE[name]
    assert_same_as_torch(fn, [3 * sample(rng, shape)], torch_fn)


@pytest.mark.parametrize("approximate", ["exact", "", None, 1.5])
def test_gelu_refuses_an_unknown_approximation(approximate):
    with pytest.raises(ValueError, match="approximate must be True/False .* or 'none'/'tanh'"):
        F.gelu(shenjing.ones(2), approximate=approximate)


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "relu"])
def test_activation_tensor_method(name, rng):
    x = shenjing.tensor(normal(rng, (5,)))
    np.testing.assert_array_equal(getattr(x, name)().numpy(), getattr(F, name)(x).numpy())


# (name, axis, shape)
SOFTMAX_CASES = [
    ("softmax", -1, (3, 4)),
    ("softmax", 0, (3, 4)),
    ("softmax", 1, (2, 3, 4)),
    ("log_softmax", -1, (3, 4)),
    ("log_softmax", 0, (3, 4)),
    ("log_softmax", 1, (2, 3, 4)),
]


@pytest.mark.parametrize("name, axis, shape", SOFTMAX_CASES, ids=str)
def test_softmax_gradcheck(name, axis, shape, rng):
    op = getattr(F, name)
    assert shenjing.gradcheck(lambda x: op(x, axis=axis), normal(rng, shape))


@pytest.mark.parametrize("name, axis, shape", SOFTMAX_CASES, ids=str)
def test_softmax_matches_torch(name, axis, shape, rng):
    op = getattr(F, name)
    assert_same_as_torch(lambda x: op(x, axis=axis), [3 * normal(rng, shape)],
                         lambda t: getattr(t, name)(dim=axis))


def test_softmax_rows_sum_to_one(rng):
    y = F.softmax(shenjing.tensor(10 * normal(rng, (4, 6))))
    np.testing.assert_allclose(y.numpy().sum(axis=-1), np.ones(4), rtol=1e-6)


# -- huge inputs: no overflow warning (pytest turns warnings into errors), still torch's values --

HUGE = np.array([-1e4, -100.0, -20.0, -1.0, 0.0, 1.0, 20.0, 100.0, 1e4])


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_activation_is_stable_for_huge_inputs(name):
    fn, torch_fn, _ = ELEMENTWISE[name]
    x = shenjing.tensor(HUGE, requires_grad=True)
    y = fn(x)
    y.sum().backward()
    assert np.all(np.isfinite(y.numpy())) and np.all(np.isfinite(x.grad.numpy()))
    assert_same_as_torch(fn, [HUGE], torch_fn)


def test_sigmoid_saturates_exactly():
    y = F.sigmoid(shenjing.tensor([-1e4, 0.0, 1e4])).numpy()
    np.testing.assert_array_equal(y, [0.0, 0.5, 1.0])


LOGITS = np.array([[1e4, 0.0, -1e4], [1e4, 1e4 - 1.0, 1e4 - 2.0], [-1e4, -1e4, -1e4]])


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_is_stable_for_huge_logits(name):
    x = shenjing.tensor(LOGITS, requires_grad=True)
    y = getattr(F, name)(x)
    y.sum().backward()
    assert np.all(np.isfinite(y.numpy())) and np.all(np.isfinite(x.grad.numpy()))
    assert_same_as_torch(getattr(F, name), [LOGITS], lambda t: getattr(t, name)(dim=-1))


@pytest.mark.parametrize("name", ["softmax", "log_softmax", "sigmoid"])
def test_huge_inputs_stay_finite_in_arrays_big_enough_for_the_c_kernels(name):
    """As above, at a size that takes the C passes where they are built (over native.C_MIN
    elements): rows of +-1e4, mixed, and rows 1e4 apart, in float32, against torch."""
    rng = np.random.default_rng(0)
    x = np.concatenate([np.tile(LOGITS, (100, 1)).reshape(-1, 30),
                        rng.choice([-1e4, 1e4], size=(20, 30)) + rng.standard_normal((20, 30))])
    assert x.size > shenjing.native.C_MIN
    t = shenjing.tensor(x.astype(np.float32), requires_grad=True)
    y = getattr(F, name)(t)
    (y * shenjing.tensor(rng.standard_normal(x.shape).astype(np.float32))).sum().backward()
    assert np.all(np.isfinite(y.numpy())) and np.all(np.isfinite(t.grad.numpy()))
    torch_fn = (lambda v: v.sigmoid()) if name == "sigmoid" else (
        lambda v: getattr(v, name)(dim=-1))
    assert_same_as_torch(getattr(F, name), [x], torch_fn)


def test_log_softmax_keeps_tiny_probabilities():
    # log(softmax) would give log(0) = -inf for the last entry; log_softmax gives -2e4.
    y = F.log_softmax(shenjing.tensor([1e4, 0.0, -1e4])).numpy()
    np.testing.assert_allclose(y, [0.0, -1e4, -2e4], rtol=1e-6)


# -- kinks follow torch --------------------------------------------------------------------------

KINK_INPUT = [-1.0, 0.0, 2.0]
SELU_ALPHA, SELU_SCALE = 1.6732632423543772, 1.0507009873554805  # Klambauer et al. (2017)
KINKS = {
    # name: (op, expected gradient of .sum() at KINK_INPUT, with torch's convention at 0)
    "relu": (F.relu, [0.0, 0.0, 1.0]),
    "leaky_relu": (F.leaky_relu, [0.2, 0.2, 1.0]),
    "elu": (F.elu, [np.exp(-1.0), 1.0, 1.0]),
    "selu": (F.selu, [SELU_SCALE * SELU_ALPHA * np.exp(-1.0), SELU_SCALE * SELU_ALPHA, SELU_SCALE]),
}


@pytest.mark.parametrize("name", KINKS)
def test_kink_gradient_is_torchs(name):
    op, expected = KINKS[name]
    x = shenjing.tensor(KINK_INPUT, requires_grad=True)
    op(x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-6)


@pytest.mark.parametrize("name", KINKS)
def test_kink_matches_torch(name):
    op, torch_op, _ = ELEMENTWISE[name]
    assert_same_as_torch(op, [np.array(KINK_INPUT)], torch_op)


def test_gelu_in_float64_is_exact_to_double_precision():
    """float64 GELU uses a correctly rounded erf (float32's approximation is off by ~2e-7,
    which float64 users and gradchecks would see): value and gradient as torch's to 1e-14."""
    torch = require_torch()
    x = np.linspace(-8, 8, 1001)
    t = shenjing.tensor(x, dtype="float64", requires_grad=True)
    y = F.gelu(t)
    y.sum().backward()
    tt = torch.tensor(x, requires_grad=True)
    yt = torch.nn.functional.gelu(tt)
    yt.sum().backward()
    np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(t.grad.numpy(), tt.grad.numpy(), rtol=1e-14, atol=1e-15)


@pytest.mark.parametrize("native", [True, False], ids=["c", "numpy"])
@pytest.mark.parametrize("name", ["silu", "gelu", "gelu_approximate"])
@pytest.mark.parametrize("size", [7, 4096])  # under and over native.C_MIN elements
def test_no_grad_forward_is_the_recorded_forward(name, size, native):
    # Under no_grad (or for an input that needs no gradient) SiLU and GELU skip their
    # derivative: the values must be those of the recorded forward, bit for bit.
    if native and shenjing.native.kernels() is None:
        pytest.skip("the C kernels are not built here")
    fn = ELEMENTWISE[name][0]
    x = (np.random.default_rng(size).standard_normal(size) * 40).astype(np.float32)
    with shenjing.native.disabled() if not native else contextlib.nullcontext():
        with shenjing.no_grad():
            quiet = fn(shenjing.tensor(x, requires_grad=True))
        plain = fn(shenjing.tensor(x))
        recorded = fn(shenjing.tensor(x, requires_grad=True))
    assert not quiet.requires_grad and not plain.requires_grad and recorded.requires_grad
    np.testing.assert_array_equal(quiet.numpy(), recorded.numpy())
    np.testing.assert_array_equal(plain.numpy(), recorded.numpy())
