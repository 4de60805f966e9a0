"""PyTorch's module-level functions (``torch.matmul(X, w)``, ``torch.max(X, a)``, ...) under
``import shenjing as torch``: the same line runs on both frameworks, ``lib(t)`` picking the
module of its tensor. (The factories, ``normal`` included, are in tests/test_factories.py.)"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import shenjing
from oracle import assert_same_as_torch, distinct, normal, require_torch, torch
from shenjing import Tensor


def lib(t):
    return shenjing if isinstance(t, Tensor) else torch


CALLS = {  # name: (the call, the input shapes, sampler)
    "matmul": (lambda a, b: lib(a).matmul(a, b), [(2, 3, 4), (4, 5)], normal),
    "mm": (lambda a, b: lib(a).mm(a, b), [(3, 4), (4, 5)], normal),
    "exp": (lambda a: lib(a).exp(a), [(3, 4)], normal),
    "log": (lambda a: lib(a).log(a.abs() + 1), [(3, 4)], normal),
    "log10": (lambda a: lib(a).log10(a.abs() + 0.5), [(3, 4)], normal),
    "log2": (lambda a: lib(a).log2(a.abs() + 0.5), [(3, 4)], normal),
    "log10_method": (lambda a: (a.abs() + 0.5).log10() * (a.abs() + 2).log2(), [(3, 4)], normal),
    "tanh": (lambda a: lib(a).tanh(a), [(3, 4)], normal),
    "sigmoid": (lambda a: lib(a).sigmoid(a), [(3, 4)], normal),
    "relu": (lambda a: lib(a).relu(a), [(3, 4)], distinct),
    "sqrt": (lambda a: lib(a).sqrt(a.abs() + 1), [(3, 4)], normal),
    "abs": (lambda a: lib(a).abs(a), [(3, 4)], distinct),
    "pow": (lambda a: lib(a).pow(a, 2), [(3, 4)], normal),
    "sin_cos": (lambda a: lib(a).sin(a) * lib(a).cos(a), [(3, 4)], normal),
    "sum": (lambda a: lib(a).sum(a), [(3, 4)], normal),
    "sum_dim": (lambda a: lib(a).sum(a, 1, keepdim=True), [(3, 4)], normal),
    "mean_dim": (lambda a: lib(a).mean(a, dim=0), [(3, 4)], normal),
    "max_all": (lambda a: lib(a).max(a), [(3, 4)], distinct),
    "max_pairwise": (lambda a, b: lib(a).max(a, b), [(3, 4), (3, 4)], distinct),
    "min_pairwise": (lambda a, b: lib(a).min(a, b), [(3, 4), (3, 4)], distinct),
    "max_dim_values": (lambda a: lib(a).max(a, 1).values, [(3, 4)], distinct),
    "min_dim_keepdim": (lambda a: lib(a).min(a, dim=0, keepdim=True)[0], [(3, 4)], distinct),
    "maximum": (lambda a, b: lib(a).maximum(a, b), [(3, 4), (3, 4)], distinct),
    "clamp": (lambda a: lib(a).clamp(a, min=-0.5, max=0.5), [(3, 4)], distinct),
    "cat": (lambda a, b: lib(a).cat([a, b], dim=1), [(2, 3), (2, 3)], normal),
    "stack": (lambda a, b: lib(a).stack((a, b), dim=-1), [(2, 3), (2, 3)], normal),
    "where": (lambda a, b: lib(a).where(a > 0, a, b), [(3, 4), (3, 4)], distinct),
    "softmax": (lambda a: lib(a).softmax(a, dim=1), [(3, 4)], normal),
    "log_softmax": (lambda a: lib(a).log_softmax(a, 0), [(3, 4)], normal),
}


@pytest.mark.parametrize("name", CALLS)
def test_module_function_matches_torch(name, rng):
    call, shapes, sample = CALLS[name]
    assert_same_as_torch(call, [sample(rng, s) for s in shapes])


@pytest.mark.parametrize("name", ["max", "min"])
@pytest.mark.parametrize("dim, keepdim", [(1, False), (-1, True)])
def test_max_min_along_dim_give_values_and_indices_as_torch(name, dim, keepdim, rng):
    th = require_torch()
    x = distinct(rng, (3, 4)).astype(np.float32)
    values, indices = getattr(shenjing, name)(Tensor(x), dim, keepdim=keepdim)
    expected = getattr(th, name)(th.tensor(x), dim, keepdim=keepdim)
    np.testing.assert_array_equal(values.numpy(), expected.values.numpy())
    np.testing.assert_array_equal(indices.numpy(), expected.indices.numpy())


@pytest.mark.parametrize("name", ["argmax", "argmin"])
@pytest.mark.parametrize("kwargs", [{}, {"dim": 1}, {"dim": 0, "keepdim": True}])
def test_argmax_argmin_match_torch(name, kwargs, rng):
    th = require_torch()
    x = distinct(rng, (3, 4)).astype(np.float32)
    got = getattr(shenjing, name)(Tensor(x), **kwargs).numpy()
    np.testing.assert_array_equal(got, getattr(th, name)(th.tensor(x), **kwargs).numpy())


def test_mm_refuses_what_is_not_a_matrix_as_torch():
    with pytest.raises(RuntimeError, match="two matrices"):
        shenjing.mm(shenjing.ones(2, 3, 4), shenjing.ones(4, 5))


def test_manual_seed_makes_draws_reproducible():
    shenjing.manual_seed(3)
    first = shenjing.randn(4).numpy()
    shenjing.manual_seed(3)
    np.testing.assert_array_equal(first, shenjing.randn(4).numpy())


def test_module_functions_load_lazily_and_stay_out_of_star_imports():
    code = ("import sys, shenjing; assert 'shenjing._torch_functions' not in sys.modules; "
            "shenjing.matmul; assert 'shenjing._torch_functions' in sys.modules; "
            "from shenjing import *; assert max is __builtins__.max and sum([1]) == 1")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_log10_and_log2_differentiate_twice():
    x = np.array([0.5, 2.0, 30.0])
    assert shenjing.gradcheck(lambda t: t.log10() + shenjing.log2(t), x)
    assert shenjing.gradgradcheck(lambda t: t.log10() * t.log2(), x)


@pytest.mark.parametrize("name", ["eq", "ne", "lt", "le", "gt", "ge"])
def test_comparison_methods_and_functions_match_torch(name, rng):
    th = require_torch()
    a = rng.integers(0, 3, (3, 4)).astype(np.float32)
    b = rng.integers(0, 3, (3, 4)).astype(np.float32)
    expected = getattr(th.tensor(a), name)(th.tensor(b)).numpy()
    for got in (getattr(Tensor(a), name)(Tensor(b)), getattr(Tensor(a), name)(1.0),
                getattr(shenjing, name)(Tensor(a), Tensor(b))):
        assert got.dtype == np.bool_
    np.testing.assert_array_equal(getattr(Tensor(a), name)(Tensor(b)).numpy(), expected)
    np.testing.assert_array_equal(getattr(shenjing, name)(Tensor(a), Tensor(b)).numpy(), expected)
    np.testing.assert_array_equal(getattr(Tensor(a), name)(1.0).numpy(),
                                  getattr(th.tensor(a), name)(1.0).numpy())


def test_allclose_and_isclose_as_torch():
    th = require_torch()
    a = np.array([1.0, 2.0, np.nan], np.float32)
    for b in ([1.0, 2.0 + 1e-6, np.nan], [1.0, 2.001, np.nan]):
        b = np.array(b, np.float32)
        for kwargs in ({}, {"equal_nan": True}, {"rtol": 1e-2}):
            assert shenjing.allclose(Tensor(a), Tensor(b), **kwargs) is th.allclose(
                th.tensor(a), th.tensor(b), **kwargs)
            assert Tensor(a).allclose(Tensor(b), **kwargs) is th.tensor(a).allclose(
                th.tensor(b), **kwargs)
            np.testing.assert_array_equal(
                shenjing.isclose(Tensor(a), Tensor(b), **kwargs).numpy(),
                th.isclose(th.tensor(a), th.tensor(b), **kwargs).numpy())


def test_device_names_devices_as_strings():
    assert shenjing.device("cpu") == "cpu" == shenjing.ones(2).device
    assert shenjing.device("cuda") == "cuda" and shenjing.device("cuda", 1) == "cuda:1"
    assert shenjing.zeros(2, device=shenjing.device("cpu")).device == "cpu"
    with pytest.raises(ValueError, match="unknown device 'tpu'"):
        shenjing.device("tpu")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_max_argmax_take_the_array_of_data_as_torch_takes_its_tensor(dtype, rng):
    # the CIFAR tutorial's `_, predicted = torch.max(outputs.data, 1)`: torch's .data is a
    # tensor, shenjing's the array
    th = require_torch()
    x = distinct(rng, (4, 3)).astype(dtype)
    out = Tensor(x, dtype=dtype, requires_grad=True) * 1
    values, predicted = shenjing.max(out.data, 1)
    expected = th.max(th.tensor(x), 1)
    assert values.dtype == dtype and not values.requires_grad
    np.testing.assert_array_equal(values.numpy(), expected.values.numpy())
    np.testing.assert_array_equal(predicted.numpy(), expected.indices.numpy())
    np.testing.assert_array_equal(shenjing.argmin(out.data, 0).numpy(),
                                  th.argmin(th.tensor(x), 0).numpy())
    np.testing.assert_array_equal(shenjing.clamp(out.data, 0, 0.5).numpy(),
                                  th.clamp(th.tensor(x), 0, 0.5).numpy())
