"""GradientMonitor: per-layer gradient norms, ratios, saturation and dead units, and warnings."""

import math

import numpy as np
import pytest

import shenjing as sj
from shenjing.callbacks import GradientMonitor, GradientWarning

L = sj.layers


def _data(n=128, d=16, classes=4, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, d)).astype("float32")
    return x, rng.integers(0, classes, n)


def _mlp(depth, activation, init, width=16, d=16, classes=4, lr=0.01, **kw):
    sj.utils.set_random_seed(0)
    hidden = [L.Dense(width, activation=activation, kernel_initializer=init, **kw)
              for _ in range(depth)]
    model = sj.Sequential([L.Input((d,)), *hidden, L.Dense(classes)])
    model.compile(sj.optimizers.SGD(lr),
                  sj.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


def test_values_match_a_hand_computed_gradient():
    x, y = _data()
    model = _mlp(2, "tanh", "glorot_uniform", lr=0.0)  # the weights stay where they are read
    mon = GradientMonitor()
    history = model.fit(x, y, epochs=1, batch_size=len(x), shuffle=False, verbose=0,
                        callbacks=[mon])
    loss = model.compute_loss(y=y, y_pred=model(x, training=True))
    model.optimizer.zero_grad()
    loss.backward()
    for layer in model.layers:
        g = math.sqrt(sum(float((p.grad.data.astype(np.float64) ** 2).sum())
                          for p in layer.trainable_weights))
        w = math.sqrt(sum(float((p.data.astype(np.float64) ** 2).sum())
                          for p in layer.trainable_weights))
        assert history.history[f"grad_norm/{layer.name}"] == pytest.approx([g], rel=1e-5)
        assert history.history[f"grad_ratio/{layer.name}"] == pytest.approx([g / w], rel=1e-5)
    assert mon.history == {k: v for k, v in history.history.items() if "/" in k}


def test_sigmoid_gradients_vanish_where_relu_he_does_not():
    x, y = _data()
    first_last = {}
    for act, init in (("sigmoid", "glorot_uniform"), ("relu", "he_normal")):
        model = _mlp(12, act, init)
        mon = GradientMonitor()
        with pytest.warns(GradientWarning) if act == "sigmoid" else _no_warning():
            history = model.fit(x, y, epochs=1, batch_size=32, verbose=0, callbacks=[mon])
        norms = [v[-1] for k, v in history.history.items() if k.startswith("grad_norm/")]
        assert len(norms) == 13
        first_last[act] = norms[0] / norms[-1]
        if act == "sigmoid":
            assert "gradients vanish" in mon.messages[0]
            assert f"'{model.layers[0].name}'" in mon.messages[0]
            assert "He initialization" in mon.messages[0]
    assert first_last["sigmoid"] < 1e-4 * first_last["relu"]


class _no_warning:
    def __enter__(self):
        import warnings

        self._cm = warnings.catch_warnings()
        self._cm.__enter__()
        warnings.simplefilter("error", GradientWarning)

    def __exit__(self, *exc):
        return self._cm.__exit__(*exc)


def test_exploding_gradients_warn_once_and_name_the_layer():
    x, y = _data()
    model = _mlp(6, None, sj.initializers.RandomNormal(stddev=2.0), lr=0.0)
    mon = GradientMonitor()
    with pytest.warns(GradientWarning, match="explode"):
        model.fit(x, y, epochs=2, batch_size=64, verbose=0, callbacks=[mon])
    exploding = [m for m in mon.messages if "explode" in m]
    assert exploding and "global_clipnorm" in exploding[0]
    names = [m.split("'")[1] for m in exploding]
    assert len(names) == len(set(names))  # once per layer per fit, not once per epoch


@pytest.mark.parametrize("fused", [True, False])
def test_dead_relu_units_through_fused_and_separate_activations(fused):
    x, y = _data()
    dead_bias = np.zeros(8, "float32")
    dead_bias[:6] = -100.0  # 6 of 8 units are negative for every input
    sj.utils.set_random_seed(0)
    dense = L.Dense(8, activation="relu" if fused else None,
                    kernel_initializer=sj.initializers.RandomNormal(stddev=0.01),
                    bias_initializer=sj.initializers.Constant(dead_bias))
    rest = [] if fused else [L.Activation("relu")]
    model = sj.Sequential([L.Input((16,)), dense, *rest, L.Dense(4)])
    model.compile("adam", sj.losses.SparseCategoricalCrossentropy(from_logits=True))
    history = model.fit(x, y, epochs=2, batch_size=32, verbose=0,
                        callbacks=[GradientMonitor()])
    watched = dense if fused else rest[0]
    assert history.history[f"dead/{watched.name}"] == [0.75, 0.75]
    assert not any(k.startswith("saturated/") for k in history.history)


def test_saturated_sigmoid_and_tanh():
    x, y = _data()
    sj.utils.set_random_seed(0)
    pinned = L.Dense(8, activation="sigmoid", bias_initializer=sj.initializers.Constant(30.0))
    calm = L.Dense(8, activation="tanh", kernel_initializer="zeros")
    model = sj.Sequential([L.Input((16,)), pinned, calm, L.Dense(4)])
    model.compile(sj.optimizers.SGD(0.0),
                  sj.losses.SparseCategoricalCrossentropy(from_logits=True))
    with pytest.warns(GradientWarning, match=f"'{pinned.name}'.*vanish"):  # nothing gets through
        history = model.fit(x, y, epochs=1, batch_size=32, verbose=0,
                            callbacks=[GradientMonitor()])
    assert history.history[f"saturated/{pinned.name}"] == [1.0]
    assert history.history[f"saturated/{calm.name}"] == [0.0]


def test_hooks_are_removed_and_evaluate_records_nothing():
    x, y = _data()
    model = _mlp(2, "relu", "he_normal")
    mon = GradientMonitor()
    model.fit(x, y, epochs=1, batch_size=64, verbose=0, callbacks=[mon])
    assert all(not layer._forward_hooks for layer in model.layers)
    before = {k: list(v) for k, v in mon.history.items()}
    model.evaluate(x, y, verbose=0)
    assert mon.history == before


def test_every_skips_batches_and_nested_models_are_opened():
    x, y = _data(n=128)
    sj.utils.set_random_seed(0)
    inner = sj.Sequential([L.Input((16,)), L.Dense(8, activation="relu")])
    model = sj.Sequential([L.Input((16,)), inner, L.Dense(4)])
    model.compile("sgd", sj.losses.SparseCategoricalCrossentropy(from_logits=True))
    seen = []
    mon = GradientMonitor(every=3)
    orig = mon.on_train_batch_end

    def spy(batch, logs=None):
        if mon._watching:
            seen.append(batch)
        orig(batch, logs)

    mon.on_train_batch_end = spy
    history = model.fit(x, y, epochs=1, batch_size=16, verbose=0, callbacks=[mon])
    assert seen == [0, 3, 6]
    assert f"grad_norm/{inner.layers[0].name}" in history.history
    assert f"dead/{inner.layers[0].name}" in history.history


@pytest.mark.parametrize("kwargs", [{"every": 0}, {"every": 1.5}, {"vanishing": 0},
                                    {"exploding": -1}, {"saturation": float("nan")}])
def test_bad_arguments_are_named(kwargs):
    name = next(iter(kwargs))
    with pytest.raises(ValueError, match=name):
        GradientMonitor(**kwargs)


def test_a_layer_vanishing_because_its_relus_died_is_told_so():
    x, y = _data()
    sj.utils.set_random_seed(0)
    dead = L.Dense(8, activation="relu", bias_initializer=sj.initializers.Constant(-100.0))
    model = sj.Sequential([L.Input((16,)), L.Dense(8), dead, L.Dense(4)])
    model.compile("sgd", sj.losses.SparseCategoricalCrossentropy(from_logits=True))
    mon = GradientMonitor()
    with pytest.warns(GradientWarning):
        model.fit(x, y, epochs=1, batch_size=64, verbose=0, callbacks=[mon])
    said = next(m for m in mon.messages if f"'{dead.name}'" in m)
    assert "100% of its ReLU units are dead" in said and "leaky_relu" in said


def test_a_relu_layer_is_watched_like_a_fused_one():
    x, y = _data()
    sj.utils.set_random_seed(0)
    relu = L.ReLU()
    model = sj.Sequential([L.Input((16,)), L.Dense(8, bias_initializer=sj.initializers.Constant(
        np.r_[np.full(4, -100.0), np.zeros(4)].astype("float32"))), relu, L.Dense(4)])
    model.compile("sgd", sj.losses.SparseCategoricalCrossentropy(from_logits=True))
    history = model.fit(x, y, epochs=1, batch_size=64, verbose=0,
                        callbacks=[GradientMonitor()])
    assert history.history[f"dead/{relu.name}"] == [0.5]
