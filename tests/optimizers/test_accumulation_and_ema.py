"""Keras 3's gradient accumulation, weight EMA and loss scaling, seen through ``fit``: k small
batches accumulated equal one batch k times larger; the weights after ``fit`` are the moving
average of the weights after each batch; a scaled loss trains the same weights. (The update
rules themselves, with every optimizer and these options, are checked against Keras 3's
formulas in test_keras_reference.py.)"""

from __future__ import annotations

import json

import numpy as np
import pytest

import shenjing as sj
from shenjing import layers
from shenjing.callbacks import LambdaCallback
from shenjing.layers import Parameter
from shenjing.optimizers import SGD, Adam


def _data():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 5)).astype(np.float32)
    y = (x @ rng.standard_normal((5, 3)) > 0).argmax(axis=1)
    return x, y


def _model(optimizer):
    sj.utils.set_random_seed(1)
    model = sj.Sequential([sj.Input((5,)), layers.Dense(8, activation="relu"), layers.Dense(3)])
    model.compile(optimizer=optimizer,
                  loss=sj.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


def _weights(model):
    return [w.numpy().copy() for w in model.trainable_weights]


@pytest.mark.parametrize("make", [lambda **kw: SGD(0.1, momentum=0.9, **kw),
                                  lambda **kw: Adam(0.01, **kw)])
def test_k_accumulated_batches_train_as_one_batch_k_times_larger(make):
    x, y = _data()
    small = _model(make(gradient_accumulation_steps=4))
    small.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    large = _model(make())
    large.fit(x, y, batch_size=32, epochs=2, shuffle=False, verbose=0)
    assert small.optimizer.iterations == large.optimizer.iterations == 4
    assert small.optimizer.steps == 16
    for a, b in zip(_weights(small), _weights(large)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_fit_ends_with_the_moving_average_of_the_weights():
    x, y = _data()
    model = _model(SGD(0.2, use_ema=True, ema_momentum=0.8))
    seen = []
    model.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0,
              callbacks=[LambdaCallback(on_train_batch_end=lambda b, logs: seen.append(
                  _weights(model)))])
    average = seen[0]  # the first step copies the weights
    for w in seen[1:]:
        average = [0.8 * a + 0.2 * v for a, v in zip(average, w)]
    assert len(seen) == 8 and not np.allclose(seen[-1][0], average[0])
    for got, expected in zip(_weights(model), average):
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


def test_without_use_ema_fit_keeps_the_last_weights():
    x, y = _data()
    model = _model(SGD(0.2))
    seen = []
    model.fit(x, y, batch_size=16, verbose=0,
              callbacks=[LambdaCallback(on_train_batch_end=lambda b, logs: seen.append(
                  _weights(model)))])
    for got, expected in zip(_weights(model), seen[-1]):
        np.testing.assert_array_equal(got, expected)


def test_a_scaled_loss_trains_the_same_weights():
    x, y = _data()
    scaled = _model(Adam(0.01, loss_scale_factor=1024.0))
    history = scaled.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0)
    plain = _model(Adam(0.01))
    reference = plain.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0)
    np.testing.assert_allclose(history.history["loss"], reference.history["loss"], rtol=1e-5)
    for a, b in zip(_weights(scaled), _weights(plain)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert float(scaled.optimizer.scale_loss(sj.tensor(2.0)).item()) == 2048.0


def test_a_resumed_accumulation_goes_on_where_it_stopped():
    rng = np.random.default_rng(2)
    grads = [rng.standard_normal(3).astype(np.float32) for _ in range(7)]

    def run(stop_at=None):
        p = Parameter(np.ones(3, np.float32))
        opt = Adam(0.1, gradient_accumulation_steps=3, use_ema=True)
        for i, g in enumerate(grads):
            if i == stop_at:  # save and restore mid-accumulation, as a checkpoint would
                state = json.loads(json.dumps(opt.state_dict(), default=lambda a: a.tolist()))
                state["state"] = {k: {n: np.array(a, np.float32) for n, a in s.items()}
                                  for k, s in state["state"].items()}
                opt = Adam(0.1, gradient_accumulation_steps=3, use_ema=True)
                opt.build([p])
                opt.load_state_dict(state)
            opt.apply_gradients([(g, p)])
        return p.numpy(), opt

    (whole, a), (resumed, b) = run(), run(stop_at=4)
    np.testing.assert_array_equal(whole, resumed)
    assert (a.iterations, a.steps) == (b.iterations, b.steps) == (2, 7)


@pytest.mark.parametrize("kwargs, match", [
    ({"gradient_accumulation_steps": 1}, "must be an integer >= 2"),
    ({"gradient_accumulation_steps": 2.5}, "must be an integer >= 2"),
    ({"use_ema": True, "ema_momentum": 1.5}, r"`ema_momentum` must be in \[0, 1\]"),
    ({"use_ema": True, "ema_overwrite_frequency": 0}, "must be an integer >= 1 or None"),
    ({"loss_scale_factor": 0.0}, "`loss_scale_factor` must be a positive number"),
])
def test_bad_arguments_say_what_is_wrong(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Adam(**kwargs)


def test_the_options_survive_get_config():
    opt = Adam(use_ema=True, ema_momentum=0.9, ema_overwrite_frequency=5,
               loss_scale_factor=8.0, gradient_accumulation_steps=4)
    again = Adam.from_config(json.loads(json.dumps(opt.get_config())))
    assert again.get_config() == opt.get_config()
    assert (again.use_ema, again.ema_overwrite_frequency, again.gradient_accumulation_steps) == (
        True, 5, 4)


def test_a_saved_model_keeps_the_accumulators_and_averages(tmp_path):
    x, y = _data()
    model = _model(Adam(0.01, gradient_accumulation_steps=4, use_ema=True))
    model.fit(x[:24], y[:24], batch_size=8, shuffle=False, verbose=0)  # 3 of 4 steps
    model.save(tmp_path / "m.shenjing")
    loaded = sj.models.load_model(tmp_path / "m.shenjing")
    assert (loaded.optimizer.iterations, loaded.optimizer.steps) == (0, 3)
    for model_ in (model, loaded):  # the 4th step updates both the same way
        model_.fit(x[24:32], y[24:32], batch_size=8, verbose=0)
    assert loaded.optimizer.iterations == 1
    for a, b in zip(_weights(model), _weights(loaded)):
        np.testing.assert_array_equal(a, b)
