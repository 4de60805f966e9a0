"""Every optimizer against Keras 3's update rules written out here in NumPy, independently of
the code under test: several steps in float64 on random weights and gradients, with a
schedule, decoupled weight decay, each kind of clipping, and a parameter that has no gradient
at some steps (Keras skips it, and its bias correction still uses the optimizer's
``iterations``, where torch counts steps per parameter). Also: Keras 3's zero-argument callable
learning rates, a learning rate changed mid-training against torch's ``param_groups``, and
the checks on bad hyper-parameters.

The NumPy transcriptions follow ``keras/src/optimizers/*.py`` (``update_step``) and
``base_optimizer.py`` (clip, then ``variable -= variable * weight_decay * lr``, then the
update, then ``iterations += 1``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from oracle import require_torch
from shenjing import native
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

SHAPES = [(3, 4), (4,), (2, 2, 2)]
STEPS = 6
SKIPPED = {(1, 1), (1, 3)}  # (parameter, step) without a gradient


# -- Keras 3's update_step, one optimizer each (v: the weight; s: its slots; t = iterations+1) --
def _sgd(h: dict, v: np.ndarray, g: np.ndarray, s: dict, lr: float, t: int) -> None:
    mu = h.get("momentum", 0.0)
    if mu == 0:
        v -= lr * g
        return
    s.setdefault("m", np.zeros_like(v))
    s["m"] = mu * s["m"] - lr * g
    v += mu * s["m"] - lr * g if h.get("nesterov") else s["m"]


def _adam(h: dict, v: np.ndarray, g: np.ndarray, s: dict, lr: float, t: int) -> None:
    b1, b2, eps = h.get("beta_1", 0.9), h.get("beta_2", 0.999), h.get("epsilon", 1e-7)
    m, u = s.setdefault("m", np.zeros_like(v)), s.setdefault("v", np.zeros_like(v))
    alpha = lr * math.sqrt(1 - b2**t) / (1 - b1**t)
    m += (g - m) * (1 - b1)
    u += (g * g - u) * (1 - b2)
    if h.get("amsgrad"):
        s["vhat"] = np.maximum(s.get("vhat", np.zeros_like(v)), u)
        u = s["vhat"]
    v -= (m * alpha) / (np.sqrt(u) + eps)


def _rmsprop(h: dict, v: np.ndarray, g: np.ndarray, s: dict, lr: float, t: int) -> None:
    rho, mom, eps = h.get("rho", 0.9), h.get("momentum", 0.0), h.get("epsilon", 1e-7)
    s["v"] = rho * s.get("v", np.zeros_like(v)) + (1 - rho) * g * g
    if h.get("centered"):
        s["a"] = rho * s.get("a", np.zeros_like(v)) + (1 - rho) * g
        denominator = s["v"] - s["a"] ** 2 + eps
    else:
        denominator = s["v"] + eps
    increment = lr * g / np.sqrt(denominator)
    if mom > 0:
        s["b"] = mom * s.get("b", np.zeros_like(v)) + increment
        v -= s["b"]
    else:
        v -= increment


def _adagrad(h: dict, v: np.ndarray, g: np.ndarray, s: dict, lr: float, t: int) -> None:
    acc = s.setdefault("acc", np.full_like(v, h.get("initial_accumulator_value", 0.1)))
    acc += g * g
    v -= lr * g / np.sqrt(acc + h.get("epsilon", 1e-7))


def _adadelta(h: dict, v: np.ndarray, g: np.ndarray, s: dict, lr: float, t: int) -> None:
    rho, eps = h.get("rho", 0.95), h.get("epsilon", 1e-7)
    s["ag"] = rho * s.get("ag", np.zeros_like(v)) + (1 - rho) * g * g
    ad = s.get("ad", np.zeros_like(v))
    delta = -np.sqrt(ad + eps) * g / np.sqrt(s["ag"] + eps)
    s["ad"] = rho * ad + (1 - rho) * delta * delta
    v += lr * delta


def _adamax(h: dict, v: np.ndarray, g: np.ndarray, s: dict, lr: float, t: int) -> None:
    b1, b2, eps = h.get("beta_1", 0.9), h.get("beta_2", 0.999), h.get("epsilon", 1e-7)
    m, u = s.setdefault("m", np.zeros_like(v)), s.setdefault("u", np.zeros_like(v))
    m += (g - m) * (1 - b1)
    np.maximum(b2 * u, np.abs(g), out=u)
    v -= (lr * m) / ((1 - b1**t) * (u + eps))


def _nadam(h: dict, v: np.ndarray, g: np.ndarray, s: dict, lr: float, t: int) -> None:
    b1, b2, eps = h.get("beta_1", 0.9), h.get("beta_2", 0.999), h.get("epsilon", 1e-7)
    u_t = b1 * (1 - 0.5 * 0.96**t)
    u_t1 = b1 * (1 - 0.5 * 0.96 ** (t + 1))
    u_product_t = h["_u_product"]  # the optimizer's variable, already times u_t this step
    m, u = s.setdefault("m", np.zeros_like(v)), s.setdefault("v", np.zeros_like(v))
    m += (g - m) * (1 - b1)
    u += (g * g - u) * (1 - b2)
    m_hat = u_t1 * m / (1 - u_product_t * u_t1) + (1 - u_t) * g / (1 - u_product_t)
    v_hat = u / (1 - b2**t)
    v -= (m_hat * lr) / (np.sqrt(v_hat) + eps)


def _lion(h: dict, v: np.ndarray, g: np.ndarray, s: dict, lr: float, t: int) -> None:
    b1, b2 = h.get("beta_1", 0.9), h.get("beta_2", 0.99)
    m = s.setdefault("m", np.zeros_like(v))
    v -= lr * np.sign(m * b1 + g * (1 - b1))
    s["m"] = m * b2 + g * (1 - b2)


def _lamb(h: dict, v: np.ndarray, g: np.ndarray, s: dict, lr: float, t: int) -> None:
    b1, b2, eps = h.get("beta_1", 0.9), h.get("beta_2", 0.999), h.get("epsilon", 1e-7)
    m, vel = s.setdefault("m", np.zeros_like(v)), s.setdefault("v", np.zeros_like(v))
    m += (g - m) * (1 - b1)
    vel += (g * g - vel) * (1 - b2)
    update = (m / (1 - b1**t)) / (np.sqrt(vel / (1 - b2**t)) + eps)
    w_norm, u_norm = np.sqrt(np.sum(v**2)), np.sqrt(np.sum(update**2))
    ratio = w_norm / u_norm if w_norm > 0 and u_norm > 0 else 1.0
    v -= ratio * lr * update


def _adafactor(h: dict, v: np.ndarray, g: np.ndarray, s: dict, lr: float, t: int) -> None:
    decay, eps1 = h.get("beta_2_decay", -0.8), h.get("epsilon_1", 1e-30)
    eps2, clip = h.get("epsilon_2", 1e-3), h.get("clip_threshold", 1.0)
    if h.get("_constant_lr") and h.get("relative_step", True):
        lr = min(lr, 1 / np.sqrt(t))
    alpha = max(eps2, np.sqrt(np.mean(v**2))) * min(lr, 1 / np.sqrt(t))
    g2, beta = g * g + eps1, 1 - t**decay
    if v.ndim >= 2:
        r = s.setdefault("r", np.zeros(v.shape[:-1]))
        c = s.setdefault("c", np.zeros(v.shape[:-2] + v.shape[-1:]))
        r[...] = beta * r + (1 - beta) * g2.mean(-1)
        c[...] = beta * c + (1 - beta) * g2.mean(-2)
        vel = (r / r.mean(-1, keepdims=True))[..., None] * c[..., None, :]
    else:
        vel = s.setdefault("v", np.zeros_like(v))
        vel[...] = beta * vel + (1 - beta) * g2
    u = g / np.sqrt(vel)
    v -= alpha * u / max(1.0, np.sqrt(np.mean(u**2)) / clip)


def _ftrl(h: dict, v: np.ndarray, g: np.ndarray, s: dict, lr: float, t: int) -> None:
    power, l1 = h.get("learning_rate_power", -0.5), h.get("l1_regularization_strength", 0.0)
    l2 = h.get("l2_regularization_strength", 0.0) + h.get("beta", 0.0) / (2.0 * lr)
    shrink = h.get("l2_shrinkage_regularization_strength", 0.0)
    accum = s.setdefault("n", np.full_like(v, h.get("initial_accumulator_value", 0.1)))
    linear = s.setdefault("z", np.zeros_like(v))
    new_accum = accum + g**2
    linear += (g + 2 * shrink * v) - (new_accum ** -power - accum ** -power) / lr * v
    quadratic = new_accum ** -power / lr + 2 * l2
    v[...] = (np.clip(linear, -l1, l1) - linear) / quadratic
    accum[...] = new_accum


def _muon(h: dict, v: np.ndarray, g: np.ndarray, s: dict, lr: float, t: int) -> None:
    momentum = h.get("momentum", 0.95)
    if not 1 < v.ndim < 4:  # AdamW, with a tenth of the learning rate
        b1, b2, eps = h.get("adam_beta_1", 0.9), h.get("adam_beta_2", 0.999), h.get("epsilon", 1e-7)
        alpha = lr * h.get("adam_lr_ratio", 0.1) * np.sqrt(1 - b2**t) / (1 - b1**t)
        m, vel = s.setdefault("m", np.zeros_like(v)), s.setdefault("v", np.zeros_like(v))
        m += (g - m) * (1 - b1)
        vel += (g * g - vel) * (1 - b2)
        v -= m * alpha / (np.sqrt(vel) + eps)
        return
    m = s.setdefault("m", np.zeros_like(v))
    m += g + m * (momentum - 1)
    x = g + momentum * m if h.get("nesterov", True) else m.copy()
    tall = x.shape[-2] > x.shape[-1]
    if tall:
        x = np.swapaxes(x, -1, -2)
    x = x / (np.linalg.norm(x, axis=(-2, -1), keepdims=True) + 1e-7)
    a, b, c = h.get("muon_a", 3.4445), h.get("muon_b", -4.7750), h.get("muon_c", 2.0315)
    for _ in range(h.get("ns_steps", 6)):
        gram = x @ np.swapaxes(x, -1, -2)
        x = a * x + (b * gram + c * gram @ gram) @ x
    if tall:
        x = np.swapaxes(x, -1, -2)
    v -= lr * x * max(1, v.shape[0] / v.shape[1]) ** 0.5


RULES = {SGD: _sgd, Adam: _adam, AdamW: _adam, RMSprop: _rmsprop, Adagrad: _adagrad,
         Adadelta: _adadelta, Adamax: _adamax, Nadam: _nadam, Lion: _lion, Lamb: _lamb,
         Adafactor: _adafactor, Ftrl: _ftrl, Muon: _muon}

CASES = {
    "sgd": (SGD, {}),
    "sgd_momentum": (SGD, {"momentum": 0.9}),
    "sgd_nesterov": (SGD, {"momentum": 0.8, "nesterov": True}),
    "adam": (Adam, {}),
    "adam_amsgrad": (Adam, {"amsgrad": True, "beta_1": 0.8, "epsilon": 1e-3}),
    "adamw": (AdamW, {"epsilon": 1e-4}),
    "rmsprop": (RMSprop, {}),
    "rmsprop_momentum_centered": (RMSprop, {"momentum": 0.5, "centered": True, "rho": 0.8}),
    "adagrad": (Adagrad, {"initial_accumulator_value": 0.5, "epsilon": 1e-3}),
    "adadelta": (Adadelta, {"rho": 0.9, "epsilon": 1e-4}),
    "adamax": (Adamax, {"epsilon": 1e-3}),
    "nadam": (Nadam, {"beta_2": 0.99, "epsilon": 1e-3}),
    "lion": (Lion, {}),
    "lion_betas": (Lion, {"beta_1": 0.5, "beta_2": 0.9}),
    "lamb": (Lamb, {}),
    "lamb_betas": (Lamb, {"beta_1": 0.8, "beta_2": 0.99, "epsilon": 1e-4}),
    "adafactor": (Adafactor, {}),
    "adafactor_options": (Adafactor, {"beta_2_decay": -0.5, "epsilon_2": 0.05,
                                      "clip_threshold": 0.5}),
    "ftrl": (Ftrl, {}),
    "muon": (Muon, {}),
    "muon_plain_momentum": (Muon, {"nesterov": False, "momentum": 0.8, "ns_steps": 3,
                                   "adam_lr_ratio": 0.5}),
    "ftrl_penalties": (Ftrl, {"learning_rate_power": -0.7, "initial_accumulator_value": 0.5,
                              "l1_regularization_strength": 0.05,
                              "l2_regularization_strength": 0.1,
                              "l2_shrinkage_regularization_strength": 0.02, "beta": 0.3}),
}

OPTIONS = {
    "plain": {},
    "decay_clipnorm": {"weight_decay": 0.1, "clipnorm": 1.0},
    "global_clipnorm": {"global_clipnorm": 1.5},
    "decay_clipvalue": {"weight_decay": 0.05, "clipvalue": 0.3},
    "accumulate_clipnorm": {"gradient_accumulation_steps": 3, "clipnorm": 1.0},
    "ema_overwrite": {"use_ema": True, "ema_momentum": 0.8, "ema_overwrite_frequency": 2,
                      "loss_scale_factor": 4.0},
    "ema_accumulate": {"use_ema": True, "ema_momentum": 0.7, "gradient_accumulation_steps": 2,
                       "weight_decay": 0.05},
}


def _data(dtype: Any) -> tuple[list[np.ndarray], list[list[np.ndarray | None]]]:
    rng = np.random.default_rng(11)
    weights = [rng.standard_normal(s).astype(dtype) for s in SHAPES]
    grads = [[None if (i, k) in SKIPPED else rng.standard_normal(s).astype(dtype)
              for i, s in enumerate(SHAPES)] for k in range(STEPS)]
    return weights, grads


def _schedule() -> schedules.ExponentialDecay:
    return schedules.ExponentialDecay(0.05, decay_steps=3, decay_rate=0.7)


def _keras_reference(cls: type[Optimizer], hyper: dict, options: dict) -> list[np.ndarray]:
    """Keras 3's ``apply``: unscale; accumulate (an update every k-th call, with the mean);
    clip the given gradients, decay, update; the EMA of every weight (and its overwrite); count
    the call. In float64."""
    weights, grads = _data(np.float64)
    rule, lr_of = RULES[cls], _schedule()
    hyper = dict(hyper)
    wd = options.get("weight_decay", {AdamW: 0.004, Muon: 0.1}.get(cls))
    k = options.get("gradient_accumulation_steps")
    slots: list[dict] = [{} for _ in weights]
    accumulators = [np.zeros_like(w) for w in weights]
    averages = [np.zeros_like(w) for w in weights]
    u_product = 1.0
    for calls, step_grads in enumerate(grads):  # Keras's _iterations: every call
        iterations = calls // k if k else calls  # Keras's iterations: the updates made
        scale = options.get("loss_scale_factor", 1.0)
        pairs = [(g / scale, i) for i, g in enumerate(step_grads) if g is not None]
        update = not k or (calls + 1) % k == 0
        if k and not update:
            for g, i in pairs:
                accumulators[i] += g
        elif k:
            pairs = [((g + accumulators[i]) / k, i) for g, i in pairs]
            accumulators = [np.zeros_like(w) for w in weights]
        if update:
            if "clipnorm" in options:
                c = options["clipnorm"]
                pairs = [(g * c / max(np.linalg.norm(g), c), i) for g, i in pairs]
            if "global_clipnorm" in options:
                c = options["global_clipnorm"]
                norm = math.sqrt(sum(float(np.sum(g * g)) for g, _ in pairs))
                pairs = [(g * c / max(norm, c), i) for g, i in pairs]
            if "clipvalue" in options:
                c = options["clipvalue"]
                pairs = [(np.clip(g, -c, c), i) for g, i in pairs]
            lr = lr_of(calls)
            if cls is Nadam:
                u_product *= hyper.get("beta_1", 0.9) * (1 - 0.5 * 0.96 ** (iterations + 1))
                hyper["_u_product"] = u_product
            for g, i in pairs:
                if wd:
                    weights[i] -= weights[i] * wd * lr
                rule(hyper, weights[i], g, slots[i], lr, iterations + 1)
        if options.get("use_ema"):
            m = options["ema_momentum"] if iterations != 0 else 0.0
            averages = [m * a + (1 - m) * w for a, w in zip(averages, weights)]
            every = options.get("ema_overwrite_frequency")
            if every and (iterations + 1) % every == 0:
                weights = [a.copy() for a in averages]
    return weights


def _ours(cls: type[Optimizer], hyper: dict, options: dict, dtype: Any,
          pytorch_style: bool) -> list[np.ndarray]:
    weights, grads = _data(dtype)
    params = [Parameter(w.copy(), dtype=dtype) for w in weights]
    opt = cls(learning_rate=_schedule(), **hyper, **options)
    if pytorch_style:
        opt.build(params)
    for step_grads in grads:
        if pytorch_style:  # opt.zero_grad(); loss.backward() leaves some grads None
            opt.zero_grad()
            for p, g in zip(params, step_grads, strict=True):
                p.grad = None if g is None else Parameter(g, dtype=dtype)
            opt.step()
        else:
            opt.apply_gradients(zip(step_grads, params, strict=True))
    assert opt.iterations == STEPS // options.get("gradient_accumulation_steps", 1)
    assert opt.steps == STEPS
    assert all(p.dtype == dtype for p in params)
    return [p.numpy() for p in params]


@pytest.mark.parametrize("option", list(OPTIONS))
@pytest.mark.parametrize("case", list(CASES))
def test_matches_keras_update_rules_float64(case: str, option: str) -> None:
    cls, hyper = CASES[case]
    expected = _keras_reference(cls, hyper, OPTIONS[option])
    got = _ours(cls, hyper, OPTIONS[option], np.float64, pytorch_style=option == "plain")
    for k, (a, b) in enumerate(zip(got, expected, strict=True)):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12, err_msg=f"parameter {k}")
    # the skipped parameter really moved less often, and everything moved
    assert not np.allclose(got[0], _data(np.float64)[0][0])


@pytest.mark.parametrize("use_native", [True, False])
@pytest.mark.parametrize("case", ["adam", "adam_amsgrad", "adamw"])
def test_adam_float32_both_paths_match_keras(case: str, use_native: bool) -> None:
    """The C kernel (native/adam.c) and the NumPy path, each against the float64 reference."""
    cls, hyper = CASES[case]
    options = OPTIONS["decay_clipnorm"]
    expected = _keras_reference(cls, hyper, options)
    if use_native:
        got = _ours(cls, hyper, options, np.float32, pytorch_style=True)
    else:
        with native.disabled():
            got = _ours(cls, hyper, options, np.float32, pytorch_style=True)
    for a, b in zip(got, expected, strict=True):
        assert a.dtype == np.float32
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_adam_bias_correction_counts_optimizer_iterations() -> None:
    """Keras's ``t`` is the optimizer's step, shared by all weights: a weight first updated at
    the second step is corrected with t = 2 (torch would use its own count, 1)."""
    a, b = Parameter(np.zeros(1), dtype=np.float64), Parameter(np.zeros(1), dtype=np.float64)
    opt = Adam(learning_rate=0.1, params=[a, b])
    opt.apply_gradients([(np.ones(1), a), (None, b)])
    opt.apply_gradients([(np.ones(1), a), (np.ones(1), b)])
    m, v, t = 0.1, 0.001, 2
    alpha = 0.1 * math.sqrt(1 - 0.999**t) / (1 - 0.9**t)
    np.testing.assert_allclose(b.numpy(), [-alpha * m / (math.sqrt(v) + 1e-7)], rtol=1e-12)


# -- learning rates ---------------------------------------------------------------------------
def test_zero_argument_callable_learning_rate_keras3() -> None:
    """Keras 3 calls a callable that is not a schedule with no argument; one that takes the
    step still gets it."""
    p, q = Parameter(np.zeros(2), dtype=np.float64), Parameter(np.zeros(2), dtype=np.float64)
    rate = [0.1]
    opt = SGD(learning_rate=lambda: rate[0], params=[p])
    opt.apply_gradients([(np.ones(2), p)])
    rate[0] = 0.5
    assert opt.learning_rate == 0.5
    opt.apply_gradients([(np.ones(2), p)])
    np.testing.assert_allclose(p.numpy(), [-0.6, -0.6])
    by_step = SGD(learning_rate=lambda step: 0.1 * (step + 1), params=[q])
    by_step.apply_gradients([(np.ones(2), q)])
    by_step.apply_gradients([(np.ones(2), q)])
    np.testing.assert_allclose(q.numpy(), [-0.3, -0.3])
    opt.learning_rate = lambda: 0.25  # the setter takes either kind too
    assert opt.learning_rate == 0.25


@pytest.mark.parametrize("case", ["sgd", "adam", "rmsprop", "adagrad"])
def test_learning_rate_set_mid_training_matches_torch_param_groups(case: str) -> None:
    """``opt.learning_rate = x`` between steps (Keras, ReduceLROnPlateau) against torch's
    ``param_groups[0]['lr'] = x``, for the optimizers whose state does not carry the rate."""
    torch = require_torch()
    rng = np.random.default_rng(5)
    w0 = rng.standard_normal((3, 2)).astype(np.float32)
    grads = [rng.standard_normal((3, 2)).astype(np.float32) for _ in range(6)]
    rates = [0.1, 0.1, 0.02, 0.02, 0.3, 0.05]
    make = {
        "sgd": (lambda p: SGD(learning_rate=0.1, params=p),
                lambda p: torch.optim.SGD(p, lr=0.1)),
        "adam": (lambda p: Adam(learning_rate=0.1, epsilon=1e-12, params=p),
                 lambda p: torch.optim.Adam(p, lr=0.1, eps=1e-12)),
        "rmsprop": (lambda p: RMSprop(learning_rate=0.1, epsilon=1e-12, params=p),
                    lambda p: torch.optim.RMSprop(p, lr=0.1, alpha=0.9, eps=1e-12)),
        "adagrad": (lambda p: Adagrad(learning_rate=0.1, params=p),
                    lambda p: torch.optim.Adagrad(p, lr=0.1, initial_accumulator_value=0.1)),
    }[case]
    p = Parameter(w0.copy())
    tp = torch.tensor(w0.copy(), requires_grad=True)
    opt, topt = make[0]([p]), make[1]([tp])
    for g, lr in zip(grads, rates, strict=True):
        opt.learning_rate = lr
        topt.param_groups[0]["lr"] = lr
        opt.apply_gradients([(g, p)])
        tp.grad = torch.from_numpy(g.copy())
        topt.step()
        np.testing.assert_allclose(p.numpy(), tp.detach().numpy(), rtol=1e-5, atol=1e-6)


# -- bad arguments ----------------------------------------------------------------------------
@pytest.mark.parametrize("bad, match", [
    (lambda: Adam(beta_1=1.0), "beta_1"),
    (lambda: Adam(beta_2=-0.1), "beta_2"),
    (lambda: Adamax(beta_1=1.5), "beta_1"),
    (lambda: Nadam(beta_2=1.0), "beta_2"),
    (lambda: Adam(epsilon=-1e-7), "epsilon"),
    (lambda: RMSprop(rho=1.5), "rho"),
    (lambda: RMSprop(epsilon=-1.0), "epsilon"),
    (lambda: Adagrad(epsilon=-1.0), "epsilon"),
    (lambda: Lion(beta_1=0.0), "beta_1"),
    (lambda: Lion(beta_2=1.5), "beta_2"),
    (lambda: get("adamx"), "unknown optimizer 'adamx'"),
])
def test_bad_hyper_parameters_raise_clearly(bad: Callable[[], Any], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        bad()


@pytest.mark.parametrize("relative_step", [True, False])
def test_adafactor_caps_a_constant_learning_rate_at_one_over_root_t(relative_step):
    weights, grads = _data(np.float64)
    params = [Parameter(w.copy(), dtype=np.float64) for w in weights]
    opt = Adafactor(learning_rate=0.9, relative_step=relative_step)
    hyper = {"_constant_lr": True, "relative_step": relative_step}
    slots: list[dict] = [{} for _ in weights]
    for step, step_grads in enumerate(grads):
        opt.apply_gradients(zip(step_grads, params, strict=True))
        for i, g in enumerate(step_grads):
            if g is not None:
                _adafactor(hyper, weights[i], g, slots[i], 0.9, step + 1)
    for got, expected in zip(params, weights, strict=True):
        np.testing.assert_allclose(got.numpy(), expected, rtol=1e-12, atol=1e-12)


def test_adafactor_survives_a_row_and_column_without_gradient():
    """A float32 weight whose first row and column get no gradient (blank pixels, dead units)
    beside large ones: the factored second moment of that corner underflows to 0, where
    Keras's rule divides 0 by 0; it is floored at epsilon_1, so the step stays finite and the
    corner does not move."""
    w = Parameter(np.ones((3, 3), np.float32))
    g = np.full((3, 3), 1e3, np.float32)
    g[0, :] = g[:, 0] = 0.0
    Adafactor().apply_gradients([(g, w)])
    assert np.isfinite(w.numpy()).all() and w.numpy()[0, 0] == 1.0
