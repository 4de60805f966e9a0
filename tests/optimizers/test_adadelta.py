"""Adadelta: Keras 3's formula (a NumPy reference written from it), torch.optim.Adadelta (the
same formula, epsilon under both roots), Keras's defaults, a fit, saving and resuming, and
clear errors for bad arguments. The shared contract (decoupled decay, dtypes, state_dict, config
round trips, get by name) runs in test_optimizers.py."""

from __future__ import annotations

import numpy as np
import pytest

import shenjing
from oracle import require_torch
from shenjing.layers import Parameter
from shenjing.models import load_model
from shenjing.optimizers import Adadelta, get


def _keras_reference(p0: np.ndarray, grads: list[np.ndarray], lr: float, rho: float,
                     eps: float, weight_decay: float = 0.0) -> list[np.ndarray]:
    """Keras 3's update_step in float64: accumulate g², step by rms(acc_delta) / rms(acc_g),
    then accumulate the step²; rms(a) = sqrt(a + eps). Decoupled decay comes first."""
    p = p0.astype(np.float64)
    acc_g, acc_d = np.zeros_like(p), np.zeros_like(p)
    out = []
    for g in grads:
        p = p - p * weight_decay * lr
        acc_g = rho * acc_g + (1 - rho) * g * g
        delta = -np.sqrt(acc_d + eps) * g / np.sqrt(acc_g + eps)
        acc_d = rho * acc_d + (1 - rho) * delta * delta
        p = p + lr * delta
        out.append(p)
    return out


def _random(seed: int = 3, steps: int = 8, scale: float = 1.0):
    rng = np.random.default_rng(seed)
    p0 = rng.standard_normal((5, 4)).astype(np.float32)
    return p0, [(scale * rng.standard_normal((5, 4))).astype(np.float32) for _ in range(steps)]


@pytest.mark.parametrize("kwargs", [
    {},                                                   # Keras's defaults
    {"learning_rate": 1.0, "rho": 0.9, "epsilon": 1e-6},  # torch's defaults, the paper's lr
    {"learning_rate": 0.5, "rho": 0.5, "epsilon": 1e-3, "weight_decay": 0.1},
])
@pytest.mark.parametrize("scale", [1.0, 1e-4])  # tiny gradients: epsilon dominates the ratio
def test_steps_follow_keras_formula(kwargs, scale):
    p0, grads = _random(scale=scale)
    p = Parameter(p0.copy())
    opt = Adadelta(params=[p], **kwargs)
    expected = _keras_reference(p0, grads, opt.learning_rate, opt.rho, opt.epsilon,
                                kwargs.get("weight_decay", 0.0))
    for g, want in zip(grads, expected, strict=True):
        opt.apply_gradients([(g, p)])
        assert p.dtype == np.float32
        np.testing.assert_allclose(p.numpy(), want, rtol=1e-5, atol=1e-7)
    assert not np.array_equal(p.numpy(), p0)


@pytest.mark.parametrize("dtype, tol", [(np.float32, 1e-6), (np.float64, 1e-12)])
@pytest.mark.parametrize("lr, rho, eps", [(0.001, 0.95, 1e-7), (1.0, 0.9, 1e-6),
                                          (0.3, 0.7, 1e-4)])
def test_steps_match_torch(dtype, tol, lr, rho, eps):
    torch = require_torch()
    p0, grads = _random(seed=11, steps=10)
    p = Parameter(p0.astype(dtype), dtype=dtype)
    opt = Adadelta(learning_rate=lr, rho=rho, epsilon=eps, params=[p])
    tp = torch.tensor(p0.astype(dtype), requires_grad=True)
    topt = torch.optim.Adadelta([tp], lr=lr, rho=rho, eps=eps)
    for g in grads:
        opt.apply_gradients([(g.astype(dtype), p)])
        tp.grad = torch.from_numpy(g.astype(dtype))
        topt.step()
        assert p.dtype == dtype
        np.testing.assert_allclose(p.numpy(), tp.detach().numpy(), rtol=tol, atol=tol)
    state, tstate = opt.state_dict()["state"][0], topt.state[tp]
    np.testing.assert_allclose(state["accumulated_grad"], tstate["square_avg"].numpy(),
                               rtol=tol, atol=tol)
    np.testing.assert_allclose(state["accumulated_delta_var"], tstate["acc_delta"].numpy(),
                               rtol=tol, atol=tol)


def test_first_step_by_hand():
    """From zero state: acc_g = (1 - rho) g², step = lr sqrt(eps) / sqrt(acc_g + eps) g."""
    g = 2.0
    p = Parameter(np.zeros(3, np.float32))
    Adadelta().apply_gradients([(np.full(3, g, np.float32), p)])
    step = 0.001 * np.sqrt(1e-7) / np.sqrt(0.05 * g * g + 1e-7) * g
    np.testing.assert_allclose(-p.numpy(), np.full(3, step), rtol=1e-5)


def test_keras_defaults_and_names():
    assert Adadelta().get_config() == {
        "name": "adadelta", "learning_rate": 0.001, "rho": 0.95, "epsilon": 1e-7,
        "weight_decay": None, "clipnorm": None, "clipvalue": None, "global_clipnorm": None,
        "use_ema": False, "ema_momentum": 0.99, "ema_overwrite_frequency": None,
        "loss_scale_factor": None, "gradient_accumulation_steps": None}
    assert type(get("adadelta")) is Adadelta and type(get("Adadelta")) is Adadelta
    assert shenjing.optimizers.Adadelta is Adadelta and "Adadelta" in shenjing.optimizers.__all__


@pytest.mark.parametrize("kwargs, message", [
    ({"rho": -0.1}, "`rho` must be a non-negative number"),
    ({"rho": 1.5}, r"`rho` must be in \[0, 1\]"),
    ({"rho": "high"}, "`rho` must be a non-negative number"),
    ({"epsilon": -1e-7}, "`epsilon` must be a non-negative number"),
    ({"learning_rate": -1.0}, "`learning_rate` must be a non-negative number"),
])
def test_bad_arguments_name_what_was_wrong(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Adadelta(**kwargs)


def _data():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((64, 3)).astype(np.float32)
    return x, x @ np.array([[1.0], [-2.0], [0.5]], np.float32)


def _model():
    return shenjing.Sequential([shenjing.Input((3,)), shenjing.layers.Dense(1)])


def test_fit_with_adadelta_learns():
    x, y = _data()
    model = _model()
    # epsilon sizes the first steps (sqrt(epsilon)); Keras's 1e-7 starts very slowly
    model.compile(optimizer=Adadelta(learning_rate=1.0, epsilon=1e-3, rho=0.9), loss="mse")
    before = model.evaluate(x, y, verbose=0)
    losses = model.fit(x, y, batch_size=16, epochs=10, verbose=0).history["loss"]
    assert all(b < a for a, b in zip(losses, losses[1:], strict=False))
    assert model.evaluate(x, y, verbose=0) < 1e-3 * before


def test_saved_and_loaded_run_continues_exactly(tmp_path):
    """Two epochs straight equal one epoch, save, load, one more epoch: the accumulators are
    saved with the model."""
    x, y = _data()
    shenjing.utils.set_random_seed(0)
    straight = _model()
    straight.compile(optimizer=Adadelta(learning_rate=1.0, rho=0.9), loss="mse")
    initial = straight.get_weights()
    straight.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0)

    first = _model()
    first.set_weights(initial)
    first.compile(optimizer=Adadelta(learning_rate=1.0, rho=0.9), loss="mse")
    first.fit(x, y, batch_size=16, epochs=1, shuffle=False, verbose=0)
    first.save(tmp_path / "m.shenjing")
    loaded = load_model(tmp_path / "m.shenjing")
    assert type(loaded.optimizer) is Adadelta and loaded.optimizer.rho == 0.9
    assert loaded.optimizer.iterations == 4
    loaded.fit(x, y, batch_size=16, epochs=1, shuffle=False, verbose=0)
    for a, b in zip(loaded.get_weights(), straight.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
