"""torch.nn's helpers for loops written by hand: ``nn.utils`` gradient clipping against torch's,
``nn.init``'s formulas (torch's layout and gains) by their distributions, ``nn.Parameter``."""

from __future__ import annotations

import math

import numpy as np
import pytest

import shenjing as sj
from oracle import require_torch
from shenjing import nn


def _with_grads(module, grads):
    params = [module.zeros(g.shape, requires_grad=True) for g in grads]
    for p, g in zip(params, grads):
        p.grad = module.tensor(g)
    return params


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, math.inf])
@pytest.mark.parametrize("max_norm", [0.5, 100.0])
def test_clip_grad_norm_matches_torch(norm_type, max_norm):
    torch = require_torch()
    rng = np.random.default_rng(0)
    grads = [rng.standard_normal((3, 4)).astype(np.float32),
             rng.standard_normal(5).astype(np.float32)]
    ours, theirs = _with_grads(sj, grads), _with_grads(torch, grads)
    total = nn.utils.clip_grad_norm_(ours, max_norm, norm_type)
    want = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type)
    assert float(total) == pytest.approx(float(want), rel=1e-6)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-6, atol=1e-7)


def test_clip_grad_norm_edges_and_clip_grad_value():
    p = sj.zeros(3, requires_grad=True)
    assert float(nn.utils.clip_grad_norm_([p], 1.0)) == 0.0  # no gradients: nothing to clip
    p.grad = sj.tensor([np.inf, 1.0, 0.0])
    with pytest.raises(RuntimeError, match="non-finite"):
        nn.utils.clip_grad_norm_(p, 1.0, error_if_nonfinite=True)  # one tensor, as torch
    q = sj.zeros(4, requires_grad=True)
    q.grad = sj.tensor([-3.0, -0.5, 0.5, 3.0])
    nn.utils.clip_grad_value_([q], 1.0)
    np.testing.assert_array_equal(q.grad.numpy(), [-1.0, -0.5, 0.5, 1.0])


def test_parameters_to_vector_and_back():
    params = [sj.tensor(np.arange(6.0).reshape(2, 3)), sj.tensor([7.0, 8.0])]
    vec = nn.utils.parameters_to_vector(params)
    np.testing.assert_array_equal(vec.numpy(), [0, 1, 2, 3, 4, 5, 7, 8])
    nn.utils.vector_to_parameters(vec * 2, params)
    np.testing.assert_array_equal(params[1].numpy(), [14.0, 16.0])
    with pytest.raises(ValueError, match="8 values"):
        nn.utils.vector_to_parameters(sj.zeros(3), params)


def test_calculate_gain_is_torchs():
    torch = require_torch()
    for name in ("linear", "conv2d", "sigmoid", "tanh", "relu", "selu", "leaky_relu"):
        assert nn.init.calculate_gain(name) == pytest.approx(torch.nn.init.calculate_gain(name))
    assert nn.init.calculate_gain("leaky_relu", 0.2) == pytest.approx(
        torch.nn.init.calculate_gain("leaky_relu", 0.2))
    with pytest.raises(ValueError, match="unknown nonlinearity"):
        nn.init.calculate_gain("swish")


def test_init_distributions_follow_torchs_formulas_and_layout():
    sj.utils.set_random_seed(0)
    conv = sj.empty(64, 32, 3, 3)  # (out, in, kh, kw): fan_in 288, fan_out 576
    bound = math.sqrt(6 / 288)  # kaiming_uniform, relu: sqrt(3) * sqrt(2) / sqrt(fan_in)
    values = nn.init.kaiming_uniform_(conv, nonlinearity="relu").numpy()
    assert values.max() <= bound and values.min() >= -bound and values.max() > 0.98 * bound
    std = nn.init.kaiming_normal_(conv, mode="fan_out").numpy().std()
    assert std == pytest.approx(math.sqrt(2 / (1 + 0.01**2)) / math.sqrt(576), rel=0.02)
    linear = sj.empty(300, 200)
    assert nn.init.xavier_normal_(linear).numpy().std() == pytest.approx(
        math.sqrt(2 / 500), rel=0.02)
    assert np.abs(nn.init.xavier_uniform_(linear, gain=2.0).numpy()).max() <= 2 * math.sqrt(
        6 / 500)
    cut = nn.init.trunc_normal_(linear, std=1.0, a=-0.5, b=0.5).numpy()
    assert cut.min() >= -0.5 and cut.max() <= 0.5
    q = nn.init.orthogonal_(sj.empty(3, 5), gain=2.0).numpy()
    np.testing.assert_allclose(q @ q.T, 4 * np.eye(3), atol=1e-5)
    np.testing.assert_array_equal(nn.init.eye_(sj.empty(2, 3)).numpy(), np.eye(2, 3))
    assert (nn.init.constant_(sj.empty(4), 0.25).numpy() == 0.25).all()
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        nn.init.xavier_uniform_(sj.empty(5))


def test_parameter_is_a_weight_that_requires_grad():
    w = nn.Parameter(sj.randn(3, 2))
    assert isinstance(w, nn.Parameter) and isinstance(w, sj.layers.Parameter)
    assert w.requires_grad and w.dtype == np.float32
    assert nn.Parameter(np.zeros(2), requires_grad=False).dtype == np.float64
    assert not nn.Parameter(np.zeros(2), requires_grad=False).requires_grad
    opt = sj.optimizers.SGD(0.5, params=[w])
    before = w.numpy().copy()
    (w * w).sum().backward()
    opt.step()
    np.testing.assert_allclose(w.numpy(), before * 0.0, atol=1e-7)  # w - 0.5 * 2w


@pytest.mark.parametrize("norm_type", [-math.inf, 0.0, -1.0])
def test_clip_grad_norm_of_torchs_other_orders(norm_type):
    # the norm of the gradients' norms, as torch's: -inf was taken as +inf, 0 divided by zero
    torch = require_torch()
    grads = [np.array([0.5, -3.0, 2.0], np.float32), np.array([[1.5, 0.0]], np.float32)]
    ours, theirs = _with_grads(sj, grads), _with_grads(torch, grads)
    total = nn.utils.clip_grad_norm_(ours, 0.1, norm_type)
    want = torch.nn.utils.clip_grad_norm_(theirs, 0.1, norm_type)
    assert float(total) == pytest.approx(float(want), rel=1e-6)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-6)


def test_a_generator_given_is_the_stream_drawn_from():
    """nn.init's and bernoulli's ``generator=`` is used (two seeded alike draw alike, and the
    default stream is left alone)."""
    draws = []
    for _ in range(2):
        sj.utils.set_random_seed(0)
        t = sj.zeros(3, 4)
        fills = ("uniform_", "normal_", "trunc_normal_", "xavier_uniform_", "xavier_normal_",
                 "kaiming_uniform_", "kaiming_normal_", "orthogonal_")
        for fill in (getattr(nn.init, name) for name in fills):
            fill(t, generator=sj.Generator().manual_seed(7))
            draws.append(t.numpy().copy())
        draws.append(sj.bernoulli(sj.full((6,), 0.5),
                                  generator=sj.Generator().manual_seed(7)).numpy())
        draws.append(sj.rand(2).numpy())  # the default stream, untouched by the above
    half = len(draws) // 2
    for a, b in zip(draws[:half], draws[half:]):
        np.testing.assert_array_equal(a, b)
    sj.utils.set_random_seed(0)
    np.testing.assert_array_equal(sj.rand(2).numpy(), draws[half - 1])
