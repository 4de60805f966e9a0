"""LossScaleOptimizer: the inner optimizer's updates (scaling by powers of two is exact), a
skipped step and a halved scale on non-finite gradients, growth after enough good steps, fit
and saving, and Keras's argument rules."""

from __future__ import annotations

import numpy as np
import pytest

import shenjing as sj
from shenjing import layers
from shenjing.layers import Parameter
from shenjing.optimizers import SGD, Adam, LossScaleOptimizer, get


def _model(optimizer):
    sj.utils.set_random_seed(3)
    model = sj.Sequential([sj.Input((4,)), layers.Dense(8, activation="relu"), layers.Dense(3)])
    model.compile(optimizer=optimizer,
                  loss=sj.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


def _data():
    rng = np.random.default_rng(0)
    return rng.standard_normal((64, 4)).astype(np.float32), rng.integers(0, 3, 64)


def test_fit_trains_exactly_as_the_inner_optimizer():
    x, y = _data()
    wrapped = _model(LossScaleOptimizer(Adam(0.01), initial_scale=2.0**10,
                                        dynamic_growth_steps=3))
    wrapped.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0)
    plain = _model(Adam(0.01))
    plain.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0)
    for a, b in zip(wrapped.trainable_weights, plain.trainable_weights):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6, atol=1e-7)
    opt = wrapped.optimizer
    assert opt.iterations == 8 and opt.dynamic_scale == 2.0**12  # doubled after 3 and 6 steps
    assert opt.step_counter == 2


def test_a_non_finite_gradient_skips_the_step_and_halves_the_scale():
    p = Parameter(np.ones(3, np.float32))
    opt = LossScaleOptimizer(SGD(0.5), initial_scale=8.0, dynamic_growth_steps=2)
    opt.apply_gradients([(np.array([8.0, 8.0, np.inf], np.float32), p)])
    np.testing.assert_array_equal(p.numpy(), [1.0, 1.0, 1.0])
    assert (opt.iterations, opt.dynamic_scale, opt.step_counter) == (0, 4.0, 0)
    opt.apply_gradients([(np.array([4.0, 0.0, -4.0], np.float32), p)])  # a gradient of 1, 0, -1
    np.testing.assert_array_equal(p.numpy(), [0.5, 1.0, 1.5])
    opt.apply_gradients([(np.zeros(3, np.float32), p)])
    assert (opt.iterations, opt.dynamic_scale, opt.step_counter) == (2, 8.0, 0)
    assert float(opt.scale_loss(sj.tensor(2.0)).item()) == 16.0


def test_pytorch_style_step_and_the_learning_rate_go_to_the_inner_optimizer():
    p = Parameter(np.zeros(2, np.float32))
    opt = LossScaleOptimizer(SGD(0.1), initial_scale=4.0, params=[p])
    opt.scale_loss((p - sj.tensor([1.0, -1.0])).square().sum()).backward()
    opt.step()
    np.testing.assert_allclose(p.numpy(), [0.2, -0.2], rtol=1e-6)  # the unscaled gradient
    opt.learning_rate = 0.05
    assert opt.inner_optimizer.learning_rate == 0.05 == opt.learning_rate


def test_saved_and_loaded_it_resumes_where_it_stopped(tmp_path):
    x, y = _data()
    model = _model(LossScaleOptimizer(Adam(0.01), initial_scale=64.0, dynamic_growth_steps=3))
    model.fit(x[:32], y[:32], batch_size=16, verbose=0)  # two steps: counter 2 of 3
    model.save(tmp_path / "m.shenjing")
    loaded = sj.models.load_model(tmp_path / "m.shenjing")
    assert isinstance(loaded.optimizer, LossScaleOptimizer)
    assert (loaded.optimizer.dynamic_scale, loaded.optimizer.step_counter) == (64.0, 2)
    for m in (model, loaded):
        m.fit(x[32:], y[32:], batch_size=16, shuffle=False, verbose=0)
    assert loaded.optimizer.dynamic_scale == 128.0 and loaded.optimizer.iterations == 4
    for a, b in zip(model.trainable_weights, loaded.trainable_weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    again = get({"class_name": "LossScaleOptimizer",
                 "config": model.optimizer.get_config()})
    assert type(again.inner_optimizer) is Adam and again.dynamic_growth_steps == 3


@pytest.mark.parametrize("kwargs, error, match", [
    ({"clipnorm": 1.0}, TypeError, "unexpected keyword argument 'clipnorm'"),
    ({"initial_scale": 0.0}, ValueError, "`initial_scale` must be a positive number"),
    ({"dynamic_growth_steps": 0}, ValueError, "an integer >= 1"),
])
def test_mistakes_are_named(kwargs, error, match):
    with pytest.raises(error, match=match):
        LossScaleOptimizer(Adam(), **kwargs)


def test_the_inner_optimizers_loss_scale_factor_is_turned_off():
    inner = Adam(loss_scale_factor=8.0)
    LossScaleOptimizer(inner)
    assert inner.loss_scale_factor is None
    with pytest.raises(ValueError, match="not another LossScaleOptimizer"):
        LossScaleOptimizer(LossScaleOptimizer(Adam()))


def test_parameters_given_to_the_inner_optimizer_are_stepped():
    p = Parameter(np.zeros(2, np.float32))
    opt = LossScaleOptimizer(SGD(0.1, params=[p]), initial_scale=4.0)
    opt.zero_grad()
    opt.scale_loss((p - sj.tensor([1.0, -1.0])).square().sum()).backward()
    opt.step()
    np.testing.assert_allclose(p.numpy(), [0.2, -0.2], rtol=1e-6)
    assert opt.params == [p] and opt.iterations == 1


def test_a_weight_without_a_gradient_keeps_its_state_index(tmp_path):
    x, y = _data()
    model = _model(LossScaleOptimizer(Adam(0.01)))
    model(x[:2])
    weights = model.trainable_weights
    grads = [None, None] + [np.ones(w.shape, np.float32) for w in weights[2:]]
    model.optimizer.apply_gradients(zip(grads, weights))
    inner = model.optimizer.inner_optimizer
    assert inner.params == weights  # the model's order, not the order gradients came in
    model.save(tmp_path / "m.shenjing")
    loaded = sj.models.load_model(tmp_path / "m.shenjing").optimizer.inner_optimizer
    for a, b in zip(inner.params, loaded.params):
        assert a.shape == b.shape
    assert sorted(loaded.state_dict()["state"]) == [2, 3]


def test_exclusions_from_weight_decay_reach_the_inner_optimizer():
    from shenjing.optimizers import AdamW

    bias = Parameter(np.ones(2, np.float32), name="bias")
    opt = LossScaleOptimizer(AdamW(0.1, weight_decay=0.5), params=[bias])
    opt.exclude_from_weight_decay(var_names=["bias"])
    bias.grad = sj.tensor(np.zeros(2, np.float32))
    opt.step()
    np.testing.assert_array_equal(bias.numpy(), [1.0, 1.0])


def test_params_are_in_the_inner_optimizers_state_order():
    """An inner optimizer that already had parameters, and more given to the wrapper: the
    wrapper's ``params`` are the inner optimizer's order (its state indices), so a state
    restored into a wrapper built with ``params=lso.params`` continues identically."""
    rng = np.random.default_rng(0)
    x, y = (Parameter(rng.normal(size=3).astype(np.float32)) for _ in range(2))
    lso = LossScaleOptimizer(Adam(0.1, params=[x]), params=[y])
    assert lso.params == [x, y] and lso.inner_optimizer.params == [x, y]
    for _ in range(3):
        lso.apply_gradients([(np.full(3, 5.0, np.float32), x), (np.full(3, -0.01, np.float32), y)])
    x2, y2 = Parameter(x.data.copy()), Parameter(y.data.copy())
    again = LossScaleOptimizer(Adam(0.1), params=[x2, y2])
    again.load_state_dict(lso.state_dict())
    zero = np.zeros(3, np.float32)
    lso.apply_gradients([(zero, x), (zero, y)])
    again.apply_gradients([(zero, x2), (zero, y2)])
    np.testing.assert_array_equal(x2.data, x.data)
    np.testing.assert_array_equal(y2.data, y.data)
