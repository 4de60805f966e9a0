"""Weight constraints (Keras's MaxNorm, MinMaxNorm, NonNeg, UnitNorm), applied by the
optimizer after each update, and activity regularizers, added to the loss at each call:
values against NumPy, the step against a hand-written SGD step, configs and model files."""

from __future__ import annotations

import numpy as np
import pytest

import shenjing as sj
from shenjing import constraints, layers, regularizers

W = np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32) * 2


def _col_norms(w, axis=0):
    return np.sqrt((w * w).sum(axis=axis, keepdims=True))


@pytest.mark.parametrize("constraint, expected", [
    (constraints.MaxNorm(1.5), W * np.minimum(_col_norms(W), 1.5) / (1e-7 + _col_norms(W))),
    (constraints.MaxNorm(1.5, axis=1),
     W * np.minimum(_col_norms(W, 1), 1.5) / (1e-7 + _col_norms(W, 1))),
    (constraints.MinMaxNorm(2.0, 3.0, rate=0.5),
     W * (0.5 * np.clip(_col_norms(W), 2, 3) + 0.5 * _col_norms(W)) / (1e-7 + _col_norms(W))),
    (constraints.NonNeg(), np.maximum(W, 0)),
    (constraints.UnitNorm(axis=[0, 1]), W / (1e-7 + np.sqrt((W * W).sum()))),
])
def test_constraints_project_as_keras_does(constraint, expected):
    np.testing.assert_allclose(constraint(W), expected, rtol=1e-6)
    np.testing.assert_allclose(constraint(sj.tensor(W)), expected, rtol=1e-6)
    again = constraints.get(constraints.serialize(constraint))
    np.testing.assert_allclose(again(W), expected, rtol=1e-6)


def test_constraints_by_name_and_bad_ones():
    assert isinstance(constraints.get("max_norm"), constraints.MaxNorm)
    assert isinstance(constraints.get("NonNeg"), constraints.NonNeg)
    assert constraints.max_norm is constraints.MaxNorm
    with pytest.raises(ValueError, match="unknown constraint 'maxnorm2'; known: max_norm"):
        constraints.get("maxnorm2")
    with pytest.raises(ValueError, match="max_value must be > 0"):
        constraints.MaxNorm(0)
    with pytest.raises(ValueError, match="min_value <= max_value"):
        constraints.MinMaxNorm(2.0, 1.0)


def test_the_optimizer_projects_after_each_step():
    """One SGD step on a constrained Dense: the kernel is the plain step's result, then the
    constraint; the unconstrained bias is the plain step's."""
    sj.utils.set_random_seed(0)
    dense = layers.Dense(3, kernel_constraint=constraints.MaxNorm(0.3), bias_constraint=None)
    x = sj.tensor(np.random.default_rng(1).standard_normal((8, 4)).astype(np.float32))
    dense(x)
    opt = sj.optimizers.SGD(learning_rate=0.5, params=dense.trainable_weights)
    (dense(x) ** 2).mean().backward()
    plain = [p.numpy() - 0.5 * p.grad.numpy() for p in (dense.kernel, dense.bias)]
    opt.step()
    np.testing.assert_allclose(dense.kernel.numpy(), constraints.MaxNorm(0.3)(plain[0]),
                               rtol=1e-6)
    np.testing.assert_allclose(dense.bias.numpy(), plain[1], rtol=1e-6)


def test_constraints_hold_through_fit_and_a_saved_model(tmp_path):
    x = np.random.default_rng(2).standard_normal((64, 4)).astype(np.float32)
    y = x[:, :2] * 5 - 3
    sj.utils.set_random_seed(0)
    model = sj.Sequential([
        sj.Input((4,)),
        layers.Dense(8, activation="relu", kernel_constraint="unit_norm"),
        layers.BatchNormalization(gamma_constraint=constraints.NonNeg(),
                                  beta_regularizer=regularizers.L2(0.1)),
        layers.Dense(2, bias_constraint=constraints.NonNeg())])
    model.compile(sj.optimizers.Adam(learning_rate=0.05), "mse")
    model.fit(x, y, epochs=3, verbose=0)
    dense, bn, out = model.layers
    np.testing.assert_allclose(_col_norms(dense.kernel.numpy()), 1.0, rtol=1e-5)
    assert (out.bias.numpy() >= 0).all() and (bn.gamma.numpy() >= 0).all()
    model.save(tmp_path / "m.shenjing")
    loaded = sj.load_model(tmp_path / "m.shenjing")
    assert isinstance(loaded.layers[0].kernel.constraint, constraints.UnitNorm)
    assert loaded.layers[1].get_config()["beta_regularizer"] == {"class_name": "L2",
                                                                 "config": {"l2": 0.1}}
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-6)


@pytest.mark.parametrize("make", [
    lambda: layers.Conv2D(2, 3, kernel_constraint="max_norm", bias_constraint="non_neg"),
    lambda: layers.DepthwiseConv2D(3, depthwise_constraint="max_norm"),
    lambda: layers.SeparableConv2D(2, 3, depthwise_constraint="non_neg",
                                   pointwise_constraint="unit_norm"),
    lambda: layers.LSTM(3, kernel_constraint="max_norm", recurrent_constraint="unit_norm"),
    lambda: layers.Embedding(10, 3, embeddings_constraint="unit_norm"),
    lambda: layers.LayerNormalization(gamma_constraint="non_neg"),
])
def test_layers_give_their_weights_the_constraints(make):
    layer = make()
    config = layer.get_config()
    given = {k: v for k, v in config.items() if k.endswith("_constraint") and v is not None}
    assert given
    rebuilt = type(layer).from_config(config)
    assert {k: rebuilt.get_config()[k] for k in given} == given
    x = np.zeros((1, 5, 5, 3) if "Conv" in type(layer).__name__ else (1, 4, 3) if isinstance(
        layer, (layers.LSTM, layers.LayerNormalization)) else (1, 4))
    layer(x)
    assert any(p.constraint is not None for p in layer.weights)


def test_activity_regularizer_adds_its_penalty_on_the_output():
    """Keras 3: the penalty of each call's output divided by the batch size (Keras 3.15's
    layer.py, checked there: 0.9 / 5 for a batch of 5), in ``losses`` and so in the loss fit
    minimizes; listed in the config when given."""
    x = np.random.default_rng(3).standard_normal((6, 4)).astype(np.float32)
    dense = layers.Dense(3, activity_regularizer=regularizers.L2(0.01))
    out = dense(x).numpy()
    (penalty,) = dense.losses
    np.testing.assert_allclose(penalty.numpy(), 0.01 * (out ** 2).sum() / 6, rtol=1e-6)
    assert "activity_regularizer" not in layers.Dense(3).get_config()
    config = dense.get_config()
    assert config["activity_regularizer"] == {"class_name": "L2", "config": {"l2": 0.01}}
    sj.utils.set_random_seed(0)
    model = sj.Sequential([sj.Input((4,)), layers.Dense(3, activity_regularizer="l1")])
    model.compile("sgd", "mse")
    y = np.zeros((6, 3), np.float32)
    plain = float(np.mean((model.predict(x, verbose=0) - y) ** 2))
    activity = 0.01 * np.abs(model.predict(x, verbose=0)).sum() / 6  # one batch of 6
    assert model.evaluate(x, y, verbose=0) == pytest.approx(plain + activity, rel=1e-5)
    lstm = layers.LSTM(2, activity_regularizer="l2")
    lstm(np.ones((2, 3, 4), np.float32))
    assert len(lstm.losses) == 1 and lstm.get_config()["activity_regularizer"] is not None
