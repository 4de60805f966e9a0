"""Optimizers: trajectories against torch.optim, Keras 3's formulas by hand, clipping, weight
decay, the base-class contract (lazy state, iterations, schedules) and state_dict round trips.

Where Keras 3's formulas and torch's differ, the parity cases convert (see docs/optimizers.md):
Adam's and RMSprop's epsilons sit in different places, so both sides get an epsilon too small to
matter (1e-12; the data keep every gradient far above it), and the placement itself is checked
against Keras's closed form with the default epsilon; torch's RMSprop calls rho ``alpha``;
Keras 3's Nadam schedule is torch's ``NAdam(momentum_decay=1.0)``; Adadelta's formula is
torch's (epsilon under both roots), with Keras's defaults passed to torch;
Adagrad's initial accumulator is passed explicitly; Keras's decoupled weight decay is compared
with ``torch.optim.AdamW`` or, for the other optimizers, with torch's update preceded by
``p *= 1 - lr * weight_decay`` written by hand.
"""

from __future__ import annotations

import contextlib
import json
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import shenjing
import shenjing.functional as F
from oracle import ATOL, RTOL, require_torch
from shenjing.layers import Parameter
from shenjing.optimizers import (
    SGD,
    Adadelta,
    Adafactor,
    Adagrad,
    Adam,
    Adamax,
    AdamW,
    Ftrl,
    Lamb,
    Lion,
    Muon,
    Nadam,
    Optimizer,
    RMSprop,
    get,
    schedules,
)

ALL = [SGD, Adam, AdamW, RMSprop, Adagrad, Adamax, Nadam, Adadelta, Lion, Lamb, Adafactor, Muon]
STEPS = 10
TINY = 1e-12  # an epsilon that does not matter for this data, on both sides


# -- the tiny network both frameworks train -----------------------------------------------------
def _problem() -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    rng = np.random.default_rng(42)
    x = rng.standard_normal((16, 4)).astype(np.float32)
    y = rng.standard_normal((16, 3)).astype(np.float32)
    shapes = [(4, 8), (8,), (8, 3), (3,)]
    weights = [(0.5 * rng.standard_normal(s)).astype(np.float32) for s in shapes]
    return x, y, weights


def _loss(params: list[Any], x: Any, y: Any, linear: Callable, tanh: Callable) -> Any:
    w1, b1, w2, b2 = params
    d = linear(tanh(linear(x, w1, b1)), w2, b2) - y
    return (d * d).mean()


def _train_ours(make: Callable[[list[Parameter]], Optimizer], steps: int = STEPS
                ) -> list[list[np.ndarray]]:
    x, y, weights = _problem()
    names = ["kernel", "bias", "kernel", "bias"]
    params = [Parameter(w.copy(), name=n) for w, n in zip(weights, names, strict=True)]
    opt = make(params)
    xt, yt = shenjing.Tensor(x), shenjing.Tensor(y)
    trajectory = []
    for _ in range(steps):
        opt.zero_grad()
        _loss(params, xt, yt, F.linear, F.tanh).backward()
        opt.step()
        trajectory.append([p.numpy().copy() for p in params])
    assert opt.iterations == steps
    return trajectory


def _train_torch(make: Callable[[Any, list[Any]], Any], decoupled_decay: float = 0.0,
                 lr: float = 0.0) -> list[list[np.ndarray]]:
    torch = require_torch()
    x, y, weights = _problem()
    params = [torch.tensor(w.copy(), requires_grad=True) for w in weights]
    opt = make(torch, params)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    trajectory = []
    for _ in range(STEPS):
        opt.zero_grad()
        _loss(params, xt, yt, lambda a, w, b: a @ w + b, torch.tanh).backward()
        if decoupled_decay:  # Keras 3's decay, before the update, by hand
            with torch.no_grad():
                for p in params:
                    p.mul_(1 - lr * decoupled_decay)
        opt.step()
        trajectory.append([p.detach().numpy().copy() for p in params])
    return trajectory


# (ours, torch's, decay applied by hand on the torch side, lr)
PARITY = {
    "sgd": (lambda p: SGD(learning_rate=0.1, params=p),
            lambda t, p: t.optim.SGD(p, lr=0.1), 0.0, 0.1),
    "sgd_momentum": (lambda p: SGD(learning_rate=0.1, momentum=0.9, params=p),
                     lambda t, p: t.optim.SGD(p, lr=0.1, momentum=0.9), 0.0, 0.1),
    "sgd_nesterov": (lambda p: SGD(learning_rate=0.1, momentum=0.9, nesterov=True, params=p),
                     lambda t, p: t.optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True), 0.0, 0.1),
    "sgd_weight_decay": (
        lambda p: SGD(learning_rate=0.1, momentum=0.5, weight_decay=0.2, params=p),
        lambda t, p: t.optim.SGD(p, lr=0.1, momentum=0.5), 0.2, 0.1),
    "adam": (lambda p: Adam(learning_rate=0.01, epsilon=TINY, params=p),
             lambda t, p: t.optim.Adam(p, lr=0.01, eps=TINY), 0.0, 0.01),
    "adam_betas": (
        lambda p: Adam(learning_rate=0.02, beta_1=0.8, beta_2=0.99, epsilon=TINY, params=p),
        lambda t, p: t.optim.Adam(p, lr=0.02, betas=(0.8, 0.99), eps=TINY), 0.0, 0.02),
    "adam_amsgrad": (lambda p: Adam(learning_rate=0.01, epsilon=TINY, amsgrad=True, params=p),
                     lambda t, p: t.optim.Adam(p, lr=0.01, eps=TINY, amsgrad=True), 0.0, 0.01),
    "adamw": (lambda p: AdamW(learning_rate=0.01, weight_decay=0.1, epsilon=TINY, params=p),
              lambda t, p: t.optim.AdamW(p, lr=0.01, weight_decay=0.1, eps=TINY), 0.0, 0.01),
    "adamw_amsgrad": (
        lambda p: AdamW(learning_rate=0.01, weight_decay=0.1, epsilon=TINY, amsgrad=True,
                        params=p),
        lambda t, p: t.optim.AdamW(p, lr=0.01, weight_decay=0.1, eps=TINY, amsgrad=True),
        0.0, 0.01),
    "rmsprop": (lambda p: RMSprop(learning_rate=0.01, rho=0.9, epsilon=TINY, params=p),
                lambda t, p: t.optim.RMSprop(p, lr=0.01, alpha=0.9, eps=TINY), 0.0, 0.01),
    "rmsprop_momentum": (
        lambda p: RMSprop(learning_rate=0.01, momentum=0.9, epsilon=TINY, params=p),
        lambda t, p: t.optim.RMSprop(p, lr=0.01, alpha=0.9, momentum=0.9, eps=TINY), 0.0, 0.01),
    "rmsprop_centered": (
        lambda p: RMSprop(learning_rate=0.01, rho=0.8, centered=True, epsilon=TINY, params=p),
        lambda t, p: t.optim.RMSprop(p, lr=0.01, alpha=0.8, centered=True, eps=TINY), 0.0, 0.01),
    "rmsprop_centered_momentum_decay": (
        lambda p: RMSprop(learning_rate=0.01, momentum=0.5, centered=True, epsilon=TINY,
                          weight_decay=0.3, params=p),
        lambda t, p: t.optim.RMSprop(p, lr=0.01, alpha=0.9, momentum=0.5, centered=True,
                                     eps=TINY), 0.3, 0.01),
    "adagrad": (lambda p: Adagrad(learning_rate=0.1, initial_accumulator_value=0.1, params=p),
                lambda t, p: t.optim.Adagrad(p, lr=0.1, initial_accumulator_value=0.1),
                0.0, 0.1),
    "adagrad_weight_decay": (
        lambda p: Adagrad(learning_rate=0.1, weight_decay=0.1, params=p),
        lambda t, p: t.optim.Adagrad(p, lr=0.1, initial_accumulator_value=0.1), 0.1, 0.1),
    "adamax": (lambda p: Adamax(learning_rate=0.01, epsilon=TINY, params=p),
               lambda t, p: t.optim.Adamax(p, lr=0.01, eps=TINY), 0.0, 0.01),
    "adamax_weight_decay": (
        lambda p: Adamax(learning_rate=0.02, beta_1=0.8, weight_decay=0.1, epsilon=TINY,
                         params=p),
        lambda t, p: t.optim.Adamax(p, lr=0.02, betas=(0.8, 0.999), eps=TINY), 0.1, 0.02),
    "nadam": (lambda p: Nadam(learning_rate=0.01, epsilon=TINY, params=p),
              lambda t, p: t.optim.NAdam(p, lr=0.01, eps=TINY, momentum_decay=1.0), 0.0, 0.01),
    "nadam_weight_decay": (
        lambda p: Nadam(learning_rate=0.02, beta_2=0.99, weight_decay=0.1, epsilon=TINY,
                        params=p),
        lambda t, p: t.optim.NAdam(p, lr=0.02, betas=(0.9, 0.99), eps=TINY,
                                   momentum_decay=1.0), 0.1, 0.02),
}


@pytest.mark.parametrize("cls", [Adamax, Nadam])
@pytest.mark.parametrize("dtype, tol", [(np.float32, 1e-6), (np.float64, 1e-9)])
def test_random_steps_match_torch(cls: type[Optimizer], dtype: Any, tol: float) -> None:
    """Five steps on random weights and gradients, the same epsilon on both sides (where it
    goes differs for Adamax, by less than the tolerance for gradients of order 1)."""
    torch = require_torch()
    rng = np.random.default_rng(7)
    p0 = rng.standard_normal((5, 4)).astype(dtype)
    grads = [rng.standard_normal((5, 4)).astype(dtype) for _ in range(5)]
    p = Parameter(p0.copy(), dtype=dtype)
    opt = cls(learning_rate=0.05, epsilon=1e-8, params=[p])
    tp = torch.tensor(p0.copy(), requires_grad=True)
    if cls is Nadam:
        topt = torch.optim.NAdam([tp], lr=0.05, eps=1e-8, momentum_decay=1.0)
    else:
        topt = torch.optim.Adamax([tp], lr=0.05, eps=1e-8)
    for g in grads:
        opt.apply_gradients([(g, p)])
        tp.grad = torch.from_numpy(g.copy())
        topt.step()
        assert p.dtype == dtype
        np.testing.assert_allclose(p.numpy(), tp.detach().numpy(), rtol=tol, atol=tol)
    assert not np.allclose(p.numpy(), p0)


@pytest.mark.parametrize("case", list(PARITY))
def test_optimizer_trajectory_matches_torch(case: str) -> None:
    ours_fn, torch_fn, decay, lr = PARITY[case]
    theirs = _train_torch(torch_fn, decoupled_decay=decay, lr=lr)
    ours = _train_ours(ours_fn)
    for step, (a, b) in enumerate(zip(ours, theirs, strict=True)):
        for k, (pa, pb) in enumerate(zip(a, b, strict=True)):
            assert pa.dtype == np.float32
            np.testing.assert_allclose(pa, pb, atol=ATOL, rtol=RTOL,
                                       err_msg=f"{case}: parameter {k} after step {step + 1}")
    # and the run really moved the weights
    assert not np.allclose(ours[-1][0], _problem()[2][0])


def test_sgd_schedule_matches_torch_with_lr_set_each_step() -> None:
    require_torch()
    sched = schedules.ExponentialDecay(0.2, decay_steps=3, decay_rate=0.5)
    ours = _train_ours(lambda p: SGD(learning_rate=sched, params=p))

    class Scheduled:  # torch.optim.SGD with the learning rate set from the schedule each step
        def __init__(self, t: Any, p: list[Any]) -> None:
            self.opt, self.k = t.optim.SGD(p, lr=0.2), 0

        def zero_grad(self) -> None:
            self.opt.zero_grad()

        def step(self) -> None:
            self.opt.param_groups[0]["lr"] = sched(self.k)
            self.opt.step()
            self.k += 1

    theirs = _train_torch(lambda t, p: Scheduled(t, p))
    for a, b in zip(ours, theirs, strict=True):
        for pa, pb in zip(a, b, strict=True):
            np.testing.assert_allclose(pa, pb, atol=ATOL, rtol=RTOL)


# -- Keras 3's formulas by hand, where the default epsilon matters ----------------------------
G = 1e-6  # a gradient small enough that where epsilon goes changes the step


def _adam_step(lr: float, b1: float = 0.9, b2: float = 0.999, eps: float = 1e-7) -> float:
    m, v = (1 - b1) * G, (1 - b2) * G * G
    alpha = lr * math.sqrt(1 - b2) / (1 - b1)
    return alpha * m / (math.sqrt(v) + eps)  # eps on sqrt(v), not on the corrected sqrt(v_hat)


def _nadam_step(lr: float, b1: float = 0.9, eps: float = 1e-7) -> float:
    mu1, mu2 = b1 * (1 - 0.5 * 0.96), b1 * (1 - 0.5 * 0.96**2)  # Keras 3: 0.96 ** t
    m_hat = mu2 * (1 - b1) * G / (1 - mu1 * mu2) + (1 - mu1) * G / (1 - mu1)
    return lr * m_hat / (G + eps)  # sqrt(v_hat) = |G| at the first step


HAND = {  # optimizer, expected first step (p0 - p1) for gradient G
    "sgd": (SGD(learning_rate=0.1), 0.1 * G),
    "adam": (Adam(learning_rate=0.1), _adam_step(0.1)),
    "rmsprop": (RMSprop(learning_rate=0.1), 0.1 * G / math.sqrt(0.1 * G * G + 1e-7)),
    "rmsprop_centered": (RMSprop(learning_rate=0.1, centered=True),
                         0.1 * G / math.sqrt(0.1 * G * G - (0.1 * G) ** 2 + 1e-7)),
    "adagrad": (Adagrad(learning_rate=0.1), 0.1 * G / math.sqrt(0.1 + G * G + 1e-7)),
    "adamax": (Adamax(learning_rate=0.1), 0.1 * G / (G + 1e-7)),  # eps outside the max
    "nadam": (Nadam(learning_rate=0.1), _nadam_step(0.1)),
}


@pytest.mark.parametrize("case", list(HAND))
def test_optimizer_first_step_is_keras_formula(case: str) -> None:
    opt, expected = HAND[case]
    p = Parameter(np.zeros(3, np.float32))
    opt.apply_gradients([(np.full(3, G, np.float32), p)])
    np.testing.assert_allclose(-p.numpy(), np.full(3, expected), rtol=1e-5)


@pytest.mark.parametrize("nesterov", [False, True])
def test_sgd_momentum_velocity_by_hand(nesterov: bool) -> None:
    lr, mu, grads = 0.1, 0.9, [1.0, 2.0, -1.0]
    p = Parameter(np.zeros(1, np.float32))
    opt = SGD(learning_rate=lr, momentum=mu, nesterov=nesterov, params=[p])
    v = w = 0.0
    for g in grads:
        opt.apply_gradients([(np.array([g], np.float32), p)])
        v = mu * v - lr * g
        w += mu * v - lr * g if nesterov else v
        np.testing.assert_allclose(p.numpy(), [w], rtol=1e-6)
    np.testing.assert_allclose(opt.state_dict()["state"][0]["momentum"], [v], rtol=1e-6)


def test_adam_amsgrad_keeps_max_velocity() -> None:
    p = Parameter(np.zeros(1, np.float32))
    opt = Adam(learning_rate=0.1, amsgrad=True, params=[p])
    opt.apply_gradients([(np.array([3.0], np.float32), p)])
    opt.apply_gradients([(np.array([0.0], np.float32), p)])
    state = opt.state_dict()["state"][0]
    np.testing.assert_allclose(state["velocity"], [0.999 * 0.001 * 9], rtol=1e-6)
    np.testing.assert_allclose(state["velocity_hat"], [0.001 * 9], rtol=1e-6)


# -- gradient clipping ----------------------------------------------------------------------
def _clipped(**clip: float) -> list[np.ndarray]:
    """The gradients the update saw: SGD(lr=1) from zero weights moves them by -g."""
    a, b = Parameter(np.zeros(2, np.float32)), Parameter(np.zeros(2, np.float32))
    SGD(learning_rate=1.0, **clip).apply_gradients(
        [(np.array([3.0, 4.0], np.float32), a), (np.array([0.3, 0.4], np.float32), b)])
    return [-a.numpy(), -b.numpy()]


@pytest.mark.parametrize("clip, expected", [
    ({"clipnorm": 1.0}, [[0.6, 0.8], [0.3, 0.4]]),  # each by its own norm: 5 -> 1, 0.5 stays
    ({"global_clipnorm": 1.0}, [[3 / 5.0249378, 4 / 5.0249378],  # all by sqrt(25 + 0.25)
                                [0.3 / 5.0249378, 0.4 / 5.0249378]]),
    ({"global_clipnorm": 10.0}, [[3.0, 4.0], [0.3, 0.4]]),  # under the limit: unchanged
    ({"clipvalue": 0.35}, [[0.35, 0.35], [0.3, 0.35]]),
    ({}, [[3.0, 4.0], [0.3, 0.4]]),
])
def test_clipping_by_hand(clip: dict[str, float], expected: list[list[float]]) -> None:
    for got, want in zip(_clipped(**clip), expected, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-6)


@pytest.mark.parametrize("clip", [
    {"clipnorm": 1.0, "global_clipnorm": 1.0},
    {"clipnorm": 1.0, "clipvalue": 1.0},
    {"clipvalue": 1.0, "global_clipnorm": 1.0},
])
def test_clipping_two_kinds_raises(clip: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="only one of"):
        Adam(**clip)


def test_clipping_leaves_grad_untouched() -> None:
    p = Parameter(np.zeros(2, np.float32))
    p.grad = shenjing.Tensor(np.array([3.0, 4.0], np.float32))
    SGD(learning_rate=1.0, clipnorm=1.0, params=[p]).step()
    np.testing.assert_array_equal(p.grad.numpy(), [3.0, 4.0])
    np.testing.assert_allclose(p.numpy(), [-0.6, -0.8], rtol=1e-6)


@pytest.mark.parametrize("option", ["clipnorm", "global_clipnorm"])
def test_clipping_a_huge_finite_gradient(option: str) -> None:
    """Squares of 3e19 overflow float32, but the gradient is finite: it is clipped, not NaN."""
    p = Parameter(np.zeros(2, np.float32))
    SGD(learning_rate=0.1, **{option: 1.0}).apply_gradients(
        [(np.array([3e19, 4e19], np.float32), p)])
    np.testing.assert_allclose(p.numpy(), [-0.06, -0.08], rtol=1e-6)


def test_clipping_nonfinite_norm_gives_nan() -> None:
    p = Parameter(np.zeros(2, np.float32))
    SGD(global_clipnorm=1.0).apply_gradients([(np.array([np.inf, 1.0], np.float32), p)])
    assert np.isnan(p.numpy()).all()


# -- weight decay ---------------------------------------------------------------------------
@pytest.mark.parametrize("cls", ALL)
def test_weight_decay_is_decoupled(cls: type[Optimizer]) -> None:
    """With a zero gradient every update rule is a no-op, so only the decay acts."""
    p0 = np.array([1.0, -2.0, 3.0], np.float32)
    p = Parameter(p0.copy())
    opt = cls(learning_rate=0.1, weight_decay=0.5, params=[p])
    for _ in range(3):
        p.grad = shenjing.Tensor(np.zeros(3, np.float32))
        opt.step()
    np.testing.assert_allclose(p.numpy(), p0 * (1 - 0.5 * 0.1) ** 3, rtol=1e-6)


def test_weight_decay_uses_scheduled_lr_and_exclusions() -> None:
    sched = schedules.PiecewiseConstantDecay([0], [0.1, 0.2])
    kernel = Parameter(np.ones(2, np.float32), name="kernel")
    bias = Parameter(np.ones(2, np.float32), name="bias")
    opt = SGD(learning_rate=sched, weight_decay=1.0, params=[kernel, bias])
    opt.exclude_from_weight_decay(var_names=["bias"])
    for _ in range(2):
        for p in (kernel, bias):
            p.grad = shenjing.Tensor(np.zeros(2, np.float32))
        opt.step()
    np.testing.assert_allclose(kernel.numpy(), [0.9 * 0.8] * 2, rtol=1e-6)
    np.testing.assert_array_equal(bias.numpy(), [1.0, 1.0])


@pytest.mark.parametrize("var_names, decayed", [
    # Keras 3's rule, re.search("|".join(set(var_names)), weight.name)
    (["bias"], ["kernel"]), (["bias$"], ["kernel"]), (["kernel|bias"], []), (["b.*s"], ["kernel"]),
    (["^ker", "^b"], []), (["kern", "kern"], ["bias"]), ([], ["kernel", "bias"]),
    # and on the path, layer_name/name: a layer's weights by its name
    (["wd_dense"], []), (["dense/bias"], ["kernel"]),
])
def test_excluded_var_names_are_regular_expressions_as_keras_3(var_names, decayed) -> None:
    layer = shenjing.layers.Dense(2, bias_initializer="ones", name="wd_dense")
    layer.build((None, 3))
    before = {w.name: w.numpy().copy() for w in layer.trainable_weights}
    opt = AdamW(learning_rate=0.1, weight_decay=0.5, params=layer.trainable_weights)
    opt.exclude_from_weight_decay(var_names=var_names)
    for w in layer.trainable_weights:
        w.grad = shenjing.Tensor(np.zeros(w.shape, np.float32))
    opt.step()
    for w in layer.trainable_weights:  # a zero gradient: only the decay moves a weight
        factor = 1 - 0.1 * 0.5 if w.name in decayed else 1.0
        np.testing.assert_allclose(w.numpy(), before[w.name] * factor, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("var_names, match", [("bias", "a list of regular expressions"),
                                              (["bias("], "is not a regular expression")])
def test_bad_excluded_var_names_are_a_clear_error(var_names, match) -> None:
    with pytest.raises(ValueError, match=match):
        SGD(weight_decay=0.1).exclude_from_weight_decay(var_names=var_names)


def test_adamw_is_adam_with_default_decay() -> None:
    assert AdamW().weight_decay == 0.004 and Adam().weight_decay is None
    a = _train_ours(lambda p: AdamW(learning_rate=0.01, params=p), steps=3)
    b = _train_ours(lambda p: Adam(learning_rate=0.01, weight_decay=0.004, params=p), steps=3)
    for pa, pb in zip(a[-1], b[-1], strict=True):
        np.testing.assert_array_equal(pa, pb)


# -- the base class's contract -------------------------------------------------------------
def test_zero_grad_sets_none() -> None:
    p = Parameter(np.ones(2, np.float32))
    p.grad = shenjing.Tensor(np.ones(2, np.float32))
    opt = SGD(params=[p])
    opt.zero_grad()
    assert p.grad is None


def test_step_skips_params_without_grad() -> None:
    a, b = Parameter(np.ones(2, np.float32)), Parameter(np.ones(2, np.float32))
    opt = Adam(learning_rate=0.1, params=[a, b])
    a.grad = shenjing.Tensor(np.ones(2, np.float32))
    opt.step()
    assert opt.iterations == 1
    np.testing.assert_array_equal(b.numpy(), [1.0, 1.0])
    assert list(opt.state_dict()["state"]) == [0]  # no state made for b
    opt.zero_grad()
    opt.step()  # nothing has a gradient: nothing happens
    assert opt.iterations == 1


@pytest.mark.parametrize("cls", ALL)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_step_keeps_dtype_in_place(cls: type[Optimizer], dtype: Any) -> None:
    kwargs = {"momentum": 0.9} if cls in (SGD, RMSprop) else {}
    p = Parameter(np.ones((2, 3), dtype), dtype=dtype)
    data = p.data
    opt = cls(learning_rate=0.1, weight_decay=0.01, params=[p], **kwargs)
    for _ in range(2):
        loss = (p * p).sum()
        loss.backward()
        opt.step()
        opt.zero_grad()
    assert p.data is data and p.dtype == dtype and p.is_leaf and p.requires_grad
    for arr in opt.state_dict()["state"][0].values():
        assert arr.dtype == dtype
    assert not np.array_equal(p.numpy(), np.ones((2, 3)))


def test_apply_gradients_builds_lazily() -> None:
    a, b = Parameter(np.zeros(2, np.float32)), Parameter(np.zeros(3, np.float32))
    opt = SGD(learning_rate=1.0, momentum=0.5)
    opt.build([a])
    opt.build([a])  # twice is harmless
    it = opt.apply_gradients([(np.ones(2, np.float32), a)])
    assert it == 1 and opt.params == [a]
    # a parameter met later is appended and gets state; grads may be Tensors, lists or None
    opt.apply_gradients([(shenjing.Tensor([1.0, 1.0]), a), ([2.0, 2.0, 2.0], b)])
    assert opt.params == [a, b] and opt.iterations == 2
    np.testing.assert_allclose(a.numpy(), [-2.5, -2.5])  # v = -1, then 0.5 * -1 - 1
    np.testing.assert_allclose(b.numpy(), [-2.0] * 3)
    assert b.dtype == np.float32
    opt.apply_gradients([(None, a), (np.ones(3, np.float32), b)])
    np.testing.assert_allclose(a.numpy(), [-2.5, -2.5])
    opt.apply([np.zeros(2, np.float32), np.zeros(3, np.float32)])
    assert opt.iterations == 4


def _built_later(make: Callable[[], Optimizer]) -> Callable[[list[Parameter]], Optimizer]:
    """Keras's way: make the optimizer first, ``build`` it on the weights later."""
    def build(params: list[Parameter]) -> Optimizer:
        opt = make()
        opt.build(params)
        return opt

    return build


def test_build_then_step_pytorch_and_keras_ways_agree() -> None:
    ours = _train_ours(lambda p: Adam(learning_rate=0.01, params=p), steps=3)
    later = _train_ours(_built_later(lambda: Adam(learning_rate=0.01)), steps=3)
    for pa, pb in zip(ours[-1], later[-1], strict=True):
        np.testing.assert_array_equal(pa, pb)


@pytest.mark.parametrize("bad, error", [
    (lambda: SGD(params=Parameter(np.zeros(2))), TypeError),
    (lambda: SGD(params=[np.zeros(2)]), TypeError),
    (lambda: SGD(learning_rate=-0.1), ValueError),
    (lambda: SGD(learning_rate="fast"), ValueError),
    (lambda: SGD(momentum=1.5), ValueError),
    (lambda: SGD(clipnorm=0.0), ValueError),
    (lambda: AdamW(weight_decay=None), ValueError),
    (lambda: Adam(weight_decay=-1.0), ValueError),
    (lambda: Adam(not_an_argument=1), TypeError),
])
def test_optimizer_bad_arguments_raise(bad: Callable[[], Any], error: type) -> None:
    with pytest.raises(error):
        bad()


def test_pytorch_habits_get_pointed_to_keras_names() -> None:
    """torch's lr= names Keras's learning_rate=; an empty params list (a model not built yet:
    its trainable_weights are empty) is an error, as torch's, not an optimizer training
    nothing."""
    with pytest.raises(TypeError, match=r"unexpected argument\(s\) lr; the rate is "
                                        r"learning_rate="):
        Adam(lr=0.1)
    with pytest.raises(TypeError, match=r"betas, eps; betas=\(b1, b2\) is beta_1=b1, "
                                        r"beta_2=b2 .*; eps= is epsilon="):
        Adam(0.1, betas=(0.9, 0.99), eps=1e-8)
    unbuilt = shenjing.Sequential([shenjing.layers.Dense(2)])
    with pytest.raises(ValueError, match="empty params list.*until it is built"):
        SGD(learning_rate=0.1, params=unbuilt.trainable_weights)


def test_gradient_shape_mismatch_names_parameter() -> None:
    p = Parameter(np.zeros((2, 3), np.float32), name="kernel")
    with pytest.raises(ValueError, match="kernel"):
        SGD().apply_gradients([(np.zeros(3, np.float32), p)])


# -- learning rate and schedules ------------------------------------------------------------
def test_schedule_is_evaluated_at_iterations() -> None:
    sched = schedules.PiecewiseConstantDecay([0, 1], [1.0, 0.5, 0.25])
    p = Parameter(np.zeros(1, np.float32))
    opt = SGD(learning_rate=sched, params=[p])
    seen = []
    for _ in range(3):
        seen.append(opt.learning_rate)
        opt.apply_gradients([(np.ones(1, np.float32), p)])
    assert seen == [1.0, 0.5, 0.25]
    np.testing.assert_allclose(p.numpy(), [-1.75])


def test_learning_rate_setter() -> None:
    p = Parameter(np.zeros(1, np.float32))
    opt = SGD(learning_rate=0.1, params=[p])
    opt.learning_rate = 0.5  # what ReduceLROnPlateau does
    opt.apply_gradients([(np.ones(1, np.float32), p)])
    np.testing.assert_allclose(p.numpy(), [-0.5])
    assert isinstance(opt.learning_rate, float)
    opt.learning_rate = schedules.ExponentialDecay(1.0, 1, 0.5)
    assert opt.learning_rate == 0.5  # evaluated at iterations == 1
    with pytest.raises(TypeError, match="schedule"):
        opt.learning_rate = 0.1


# -- saving and resuming --------------------------------------------------------------------
RESUMABLE = {
    "sgd_nesterov": lambda: SGD(learning_rate=0.1, momentum=0.9, nesterov=True),
    "adam_amsgrad_decay": lambda: Adam(learning_rate=0.01, amsgrad=True, weight_decay=0.1),
    "adamw_cosine": lambda: AdamW(learning_rate=schedules.CosineDecay(
        0.0, 8, warmup_target=0.02, warmup_steps=3), global_clipnorm=1.0),
    "rmsprop_centered_momentum": lambda: RMSprop(learning_rate=0.01, momentum=0.9,
                                                 centered=True, clipnorm=0.5),
    "adagrad": lambda: Adagrad(learning_rate=0.1, clipvalue=0.1),
    "adamax_decay": lambda: Adamax(learning_rate=0.01, weight_decay=0.1, clipnorm=0.5),
    "nadam_schedule": lambda: Nadam(learning_rate=schedules.ExponentialDecay(0.02, 3, 0.5),
                                    weight_decay=0.1),
    "adadelta_decay": lambda: Adadelta(learning_rate=1.0, rho=0.9, weight_decay=0.1,
                                       clipvalue=0.5),
    "lion_decay": lambda: Lion(learning_rate=0.003, beta_1=0.8, weight_decay=0.1,
                               global_clipnorm=1.0),
}


def _as_saved(sd: dict[str, Any]) -> dict[str, Any]:
    """What a safetensors + JSON save and load gives back: string keys, fresh arrays."""
    text = json.dumps({k: v for k, v in sd.items() if k != "state"})
    return {**json.loads(text),
            "state": {str(i): {k: np.array(a) for k, a in s.items()}
                      for i, s in sd["state"].items()}}


@pytest.mark.parametrize("case", list(RESUMABLE))
@pytest.mark.parametrize("lazy", [False, True])
def test_load_state_dict_resumes_bit_identical(case: str, lazy: bool) -> None:
    make = RESUMABLE[case]
    straight = _train_ours(_built_later(make))[-1]

    x, y, weights = _problem()
    xt, yt = shenjing.Tensor(x), shenjing.Tensor(y)
    params = [Parameter(w.copy()) for w in weights]
    opt = make()
    opt.build(params)
    for _ in range(4):
        opt.zero_grad()
        _loss(params, xt, yt, F.linear, F.tanh).backward()
        opt.step()
    saved, saved_weights = _as_saved(opt.state_dict()), [p.numpy().copy() for p in params]

    params = [Parameter(w) for w in saved_weights]
    opt = make()
    if lazy:  # state loaded before the parameters are known (Keras's lazy build)
        opt.load_state_dict(saved)
        opt.build(params)
    else:
        opt.build(params)
        opt.load_state_dict(saved)
    assert opt.iterations == 4
    for _ in range(STEPS - 4):
        opt.zero_grad()
        _loss(params, xt, yt, F.linear, F.tanh).backward()
        opt.step()
    for a, b in zip(params, straight, strict=True):
        np.testing.assert_array_equal(a.numpy(), b)


def _is_plain(x: Any) -> bool:
    if isinstance(x, dict):
        return all(isinstance(k, (str, int)) and _is_plain(v) for k, v in x.items())
    if isinstance(x, (list, tuple)):
        return all(_is_plain(v) for v in x)
    return x is None or isinstance(x, (bool, int, float, str, np.ndarray))


@pytest.mark.parametrize("case", list(RESUMABLE))
def test_state_dict_is_plain_data_and_a_copy(case: str) -> None:
    p = Parameter(np.ones(3, np.float32))
    opt = RESUMABLE[case]()
    opt.apply_gradients([(np.ones(3, np.float32), p)])
    sd = opt.state_dict()
    assert _is_plain(sd) and sd["iterations"] == 1 and sd["class_name"] == type(opt).__name__
    json.dumps(sd["config"])
    before = {k: a.copy() for k, a in sd["state"][0].items()}
    opt.apply_gradients([(np.ones(3, np.float32), p)])
    for k, a in sd["state"][0].items():
        np.testing.assert_array_equal(a, before[k])


def test_load_state_dict_restores_set_learning_rate() -> None:
    opt = SGD(learning_rate=0.1)
    opt.learning_rate = 0.01
    fresh = SGD(learning_rate=0.1)
    fresh.load_state_dict(_as_saved(opt.state_dict()))
    assert fresh.learning_rate == 0.01


def test_load_state_dict_mismatch_raises() -> None:
    p = Parameter(np.ones(3, np.float32))
    opt = Adam(params=[p])
    opt.apply_gradients([(np.ones(3, np.float32), p)])
    sd = opt.state_dict()
    with pytest.raises(ValueError, match="Adam"):
        SGD().load_state_dict(sd)
    with pytest.raises(ValueError, match="shape"):
        Adam(params=[Parameter(np.ones(4, np.float32))]).load_state_dict(sd)
    with pytest.raises(ValueError, match="velocity_hat"):
        Adam(amsgrad=True, params=[Parameter(np.ones(3, np.float32))]).load_state_dict(sd)


def test_state_dict_with_plain_callable_lr() -> None:
    opt = SGD(learning_rate=lambda step: 0.1 / (step + 1))
    assert opt.state_dict()["config"]["learning_rate"] is None
    with pytest.raises(TypeError, match="cannot be saved"):
        opt.get_config()


@pytest.mark.parametrize("opt", [
    SGD(learning_rate=0.05, momentum=0.9, nesterov=True, clipvalue=0.5, name="mine"),
    Adam(learning_rate=schedules.ExponentialDecay(0.1, 10, 0.9), amsgrad=True, clipnorm=1.0),
    AdamW(weight_decay=0.1, beta_1=0.8, global_clipnorm=2.0),
    RMSprop(rho=0.8, momentum=0.1, centered=True, weight_decay=0.01),
    Adagrad(initial_accumulator_value=0.0, epsilon=1e-6),
    Adamax(learning_rate=0.002, beta_2=0.99, epsilon=1e-6, clipvalue=0.5, name="amax"),
    Nadam(learning_rate=schedules.CosineDecay(0.01, 100), beta_1=0.8, weight_decay=0.01),
    Adadelta(learning_rate=1.0, rho=0.9, epsilon=1e-6, global_clipnorm=1.0, name="ada"),
    Lion(learning_rate=schedules.PolynomialDecay(1e-3, 100, power=2.0), beta_2=0.95,
         weight_decay=0.3),
], ids=lambda o: type(o).__name__)
def test_get_config_round_trips(opt: Optimizer) -> None:
    config = opt.get_config()
    again = type(opt).from_config(json.loads(json.dumps(config)))
    assert type(again) is type(opt) and again.get_config() == config
    assert get(shenjing.optimizers.serialize(opt)).get_config() == config


# -- get --------------------------------------------------------------------------------------
@pytest.mark.parametrize("name, cls", [("sgd", SGD), ("Adam", Adam), ("ADAMW", AdamW),
                                       ("RMSprop", RMSprop), ("adagrad", Adagrad),
                                       ("adamax", Adamax), ("Nadam", Nadam),
                                       ("AdaDelta", Adadelta), ("lion", Lion),
                                       ("LAMB", Lamb), ("adafactor", Adafactor),
                                       ("FTRL", Ftrl), ("muon", Muon)])
def test_get_resolves_names(name: str, cls: type[Optimizer]) -> None:
    opt = get(name)
    assert type(opt) is cls and opt.get_config() == cls().get_config()


def test_get_passes_instances_and_rejects_unknown() -> None:
    opt = Adam()
    assert get(opt) is opt
    with pytest.raises(ValueError, match="adadelta.*adagrad.*nadam.*rmsprop"):
        get("sophia")
    with pytest.raises(ValueError):
        get(42)


KERAS_BASE_DEFAULTS = {"weight_decay": None, "clipnorm": None, "clipvalue": None,
                       "global_clipnorm": None, "use_ema": False, "ema_momentum": 0.99,
                       "ema_overwrite_frequency": None, "loss_scale_factor": None,
                       "gradient_accumulation_steps": None}


def test_keras_defaults() -> None:
    assert Adam().get_config() == {
        "name": "adam", "learning_rate": 0.001, "beta_1": 0.9, "beta_2": 0.999,
        "epsilon": 1e-7, "amsgrad": False, **KERAS_BASE_DEFAULTS}
    assert (SGD().learning_rate, SGD().momentum, SGD().nesterov) == (0.01, 0.0, False)
    r = RMSprop()
    assert (r.learning_rate, r.rho, r.momentum, r.epsilon, r.centered) == (
        0.001, 0.9, 0.0, 1e-7, False)
    a = Adagrad()
    assert (a.learning_rate, a.initial_accumulator_value, a.epsilon) == (0.001, 0.1, 1e-7)
    assert (AdamW().learning_rate, AdamW().weight_decay) == (0.001, 0.004)
    for cls in (Adamax, Nadam):
        assert cls().get_config() == {
            "name": cls.__name__.lower(), "learning_rate": 0.001, "beta_1": 0.9,
            "beta_2": 0.999, "epsilon": 1e-7, **KERAS_BASE_DEFAULTS}


@pytest.mark.parametrize("name", ["adamax", "nadam", "lion"])
def test_compile_by_name_trains(name: str) -> None:
    rng = np.random.default_rng(3)
    x = rng.standard_normal((64, 3)).astype(np.float32)
    y = x @ np.array([[1.0], [-2.0], [0.5]], np.float32)
    model = shenjing.Sequential([shenjing.Input((3,)), shenjing.layers.Dense(1)])
    model.compile(optimizer=name, loss="mse")
    assert type(model.optimizer).__name__.lower() == name
    before = model.evaluate(x, y, verbose=0)
    losses = model.fit(x, y, batch_size=16, epochs=20, verbose=0).history["loss"]
    assert model.optimizer.iterations == 80  # Keras's default learning rate: small steps
    assert all(b < a for a, b in zip(losses, losses[1:], strict=False))
    assert model.evaluate(x, y, verbose=0) < 0.95 * before


# -- gradient descent is SGD with the whole set as one batch ---------------------------------
@pytest.mark.parametrize("batch_size", [64, 8])
def test_sgd_converges_on_convex_quadratic(batch_size: int) -> None:
    """Least squares, noise-free: full-batch (GD) and mini-batch SGD both reach w*."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 3)).astype(np.float32)
    w_star = np.array([1.5, -2.0, 0.5], np.float32)
    y = x @ w_star
    w = Parameter(np.zeros(3, np.float32))
    opt = SGD(learning_rate=0.1, params=[w])
    for _ in range(150):  # epochs
        for i in range(0, 64, batch_size):
            xb, yb = shenjing.Tensor(x[i:i + batch_size]), shenjing.Tensor(y[i:i + batch_size])
            opt.zero_grad()
            d = (xb @ w) - yb
            (d * d).mean().backward()
            opt.step()
    np.testing.assert_allclose(w.numpy(), w_star, atol=1e-4)


def test_a_step_invalidates_a_graph_recorded_before_it():
    # PyTorch's rule: backward through a graph whose parameters the optimizer changed since
    w = shenjing.tensor([1.0, 2.0], requires_grad=True)
    opt = SGD(learning_rate=0.1, params=[w])
    y = (w * w).sum()
    y.backward(retain_graph=True)
    opt.step()
    opt.zero_grad()
    with pytest.raises(RuntimeError, match="modified in place"):
        y.backward()


def test_pytorch_argument_order_gets_a_pointer_to_keras_order():
    w = shenjing.tensor([1.0], requires_grad=True)
    with pytest.raises(TypeError, match=r"params=\[\.\.\.\]"):
        SGD([w])


def test_ftrl_l1_sets_weights_exactly_to_zero() -> None:
    """FTRL's point: where the summed gradient stays under l1, the weight is exactly 0."""
    target = np.array([0.005, 3.0], np.float32)  # a weak and a strong pull
    p = Parameter(np.zeros(2, np.float32))
    opt = Ftrl(learning_rate=0.5, l1_regularization_strength=0.5, params=[p])
    for _ in range(50):
        p.grad = shenjing.Tensor(p.numpy() - target)  # the gradient of 0.5 ||p - target||^2
        opt.step()
    assert p.numpy()[0] == 0.0 and p.numpy()[1] > 1.0


def test_new_optimizers_refuse_what_keras_cannot_use() -> None:
    import math

    with pytest.raises(ValueError, match="`learning_rate_power` must be a non-positive number"):
        Ftrl(learning_rate_power=math.nan)
    with pytest.raises(ValueError, match="needs a positive learning rate"):
        Ftrl(0.0)
    p = Parameter(np.ones(2, np.float32))
    opt = Ftrl(schedules.PolynomialDecay(0.1, decay_steps=1, end_learning_rate=0.0), params=[p])
    p.grad = shenjing.Tensor(np.ones(2, np.float32))
    opt.step()
    with pytest.raises(ValueError, match=r"got 0.0 at step 1"):
        opt.step()
    with pytest.raises(ValueError, match="`beta_2_decay` must be a non-positive number"):
        Adafactor(beta_2_decay=0.5)
    assert Ftrl(learning_rate_power=np.float32(-0.5)).learning_rate_power == -0.5
    assert Adafactor(beta_2_decay=np.float64(0.0)).beta_2_decay == 0.0  # v = g ** 2 each step


def test_adafactor_keeps_factored_state_and_skips_empty_weights() -> None:
    w, v, empty = (Parameter(np.ones(s, np.float32)) for s in ((3, 4), (4,), (3, 0)))
    opt = Adafactor(learning_rate=0.1, params=[w, v, empty])
    for p in (w, v, empty):
        p.grad = shenjing.Tensor(np.ones(p.shape, np.float32))
    opt.step()
    state = opt.state_dict()["state"]
    assert {k: a.shape for k, a in state[0].items()} == {"row": (3,), "column": (4,)}
    assert {k: a.shape for k, a in state[1].items()} == {"velocity": (4,)}
    assert empty.shape == (3, 0) and np.isfinite(state[2]["row"]).all()


def test_muon_orthogonalizes_matrix_steps_and_sends_the_rest_to_adamw() -> None:
    """The Newton-Schulz step of a matrix has its singular values near 1 (they land in
    roughly [0.7, 1.2] with Keras's coefficients); vectors, embeddings and excluded names
    take AdamW's step."""
    rng = np.random.default_rng(0)
    kernel = Parameter(np.zeros((6, 4), np.float32), name="kernel")
    bias = Parameter(np.zeros(4, np.float32), name="bias")
    table = Parameter(np.zeros((10, 4), np.float32), name="embeddings")
    head = Parameter(np.zeros((4, 3), np.float32), name="output_head")
    opt = Muon(learning_rate=1.0, weight_decay=None, nesterov=False, momentum=0.0,
               exclude_layers=["output"], params=[kernel, bias, table, head])
    for p in opt.params:
        p.grad = shenjing.Tensor(rng.standard_normal(p.shape).astype(np.float32))
    opt.step()
    singular = np.linalg.svd(-kernel.numpy() / np.sqrt(6 / 4), compute_uv=False)
    assert 0.6 < singular.min() and singular.max() < 1.25
    assert [opt.uses_adamw(p) for p in opt.params] == [False, True, True, True]
    assert set(opt.state_dict()["state"][1]) == {"momentum", "velocity"}


def test_muon_excludes_by_layer_path_and_skips_empty_weights() -> None:
    model = shenjing.Sequential([shenjing.Input((4,)), shenjing.layers.Dense(5),
                                 shenjing.layers.Dense(3, name="output_dense")])
    opt = Muon(exclude_layers=["output_dense"])
    kernels = [w for w in model.trainable_weights if w.ndim == 2]
    assert [w.path.split("/")[-1] for w in kernels] == ["kernel", "kernel"]
    assert [opt.uses_adamw(w) for w in kernels] == [False, True]
    empty = Parameter(np.zeros((3, 0), np.float32))
    opt.apply_gradients([(np.zeros((3, 0), np.float32), empty)])
    assert empty.shape == (3, 0) and opt.iterations == 1


def test_zero_grad_set_to_none_as_torch_and_a_non_leaf_is_refused():
    w = shenjing.tensor([1.0, 2.0], requires_grad=True)
    unused = shenjing.tensor([3.0], requires_grad=True)
    opt = shenjing.optimizers.SGD(0.1, params=[w, unused])
    (w * w).sum().backward()
    grad = w.grad
    opt.zero_grad(set_to_none=False)  # zeros in place, as torch's; None stays None
    assert w.grad is grad and w.grad.numpy().tolist() == [0.0, 0.0] and unused.grad is None
    opt.zero_grad(False)
    opt.zero_grad()
    assert w.grad is None
    with pytest.raises(ValueError, match="non-leaf Tensor"):  # its .grad would stay None
        shenjing.optimizers.SGD(0.1, params=[w * 2])


@pytest.mark.parametrize("native", [True, False])
def test_adam_survives_a_gradient_whose_square_overflows(native):
    """One gradient of 1e20 (its square overflows float32): v = beta_2 v + (1 - beta_2) g g,
    with (1 - beta_2) g taken first as torch's addcmul, stays finite; the difference form
    v += (1 - beta_2)(g g - v) went inf and then NaN, and every weight with it, for good."""
    torch = require_torch()
    from shenjing import native as native_module

    size = 4096  # large enough for the one-pass C kernel where it is built
    ours = shenjing.tensor(np.zeros(size, np.float32), requires_grad=True)
    theirs = torch.zeros(size, requires_grad=True)
    opt = shenjing.optimizers.Adam(1e-3, epsilon=1e-8, params=[ours])
    topt = torch.optim.Adam([theirs], lr=1e-3, eps=1e-8)
    context = native_module.disabled() if not native else contextlib.nullcontext()
    with context:
        for g in (1e20, 1.0, 1.0):
            grad = np.resize(np.array([g, -g], np.float32), size)
            ours.grad, theirs.grad = shenjing.tensor(grad), torch.tensor(grad)
            opt.step()
            topt.step()
    assert np.isfinite(ours.numpy()).all()
    np.testing.assert_allclose(ours.numpy(), theirs.detach().numpy(), rtol=1e-5)


def test_centered_rmsprop_survives_a_gradient_whose_square_overflows():
    # v = inf and the average's square inf: inf - inf was NaN; torch's step is 0
    torch = require_torch()
    p = shenjing.tensor(np.zeros(2, np.float32), requires_grad=True)
    opt = shenjing.optimizers.RMSprop(params=[p], centered=True)
    with np.errstate(over="ignore"):
        opt.apply_gradients([(shenjing.tensor(np.array([1e30, -1e30], np.float32)), p)])
    q = torch.zeros(2, requires_grad=True)
    q.grad = torch.tensor([1e30, -1e30])
    torch.optim.RMSprop([q], lr=1e-3, alpha=0.9, eps=1e-7, centered=True).step()
    np.testing.assert_array_equal(p.numpy(), q.detach().numpy())


def test_centered_rmsprop_steps_a_scalar_parameter():
    # the inf guard indexed into a 0-d result (a NumPy scalar): TypeError (review)
    p = shenjing.tensor(np.float32(1.5), requires_grad=True)
    opt = shenjing.optimizers.RMSprop(0.1, params=[p], centered=True)
    p.grad = shenjing.tensor(np.float32(2.0))
    opt.step()
    assert np.isfinite(p.numpy()) and float(p.numpy()) < 1.5
