"""Functions in configs (Keras 3): a layer's custom activation is saved by its name and found again
in ``custom_objects`` or among registered objects; a lambda cannot be saved, and says why."""

from __future__ import annotations

import json

import numpy as np
import pytest

import shenjing as keras
from shenjing import layers
from shenjing.saving import custom_object_scope, load_model, register_keras_serializable

X = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)


def cube(x):
    return x * x * x


@register_keras_serializable(package="ConfigTest")
def registered_halve(x):
    return x * 0.5


@pytest.mark.parametrize("make", [lambda fn: layers.Dense(2, activation=fn),
                                  lambda fn: layers.Activation(fn)])
def test_custom_activation_config_names_the_function(make):
    layer = make(cube)
    config = json.loads(json.dumps(layer.get_config()))
    assert config["activation"] == "cube"
    with pytest.raises(ValueError, match=r"unknown activation 'cube'.*custom_objects="
                                         r"\{'cube': cube\}"):
        type(layer).from_config(config)
    with custom_object_scope({"cube": cube}):
        assert type(layer).from_config(config).activation is cube
    config = make(registered_halve).get_config()
    assert type(layer).from_config(config).activation is registered_halve


def test_model_with_custom_activations_saves_and_loads(tmp_path):
    model = keras.Sequential([keras.Input((3,)), layers.Dense(4, activation=cube),
                              layers.Activation(registered_halve), layers.Dense(2)])
    model.save(tmp_path / "m.keras")
    with pytest.raises(ValueError, match="'cube'"):
        load_model(tmp_path / "m.keras")
    loaded = load_model(tmp_path / "m.keras", custom_objects={"cube": cube})
    kernel, bias = model.layers[0].get_weights()
    hidden = (X @ kernel + bias) ** 3 * 0.5
    expected = hidden @ model.layers[2].kernel.numpy() + model.layers[2].bias.numpy()
    np.testing.assert_allclose(loaded.predict(X, verbose=0), expected, rtol=1e-5, atol=1e-6)


def test_lambda_or_shadowing_activation_cannot_be_saved():
    with pytest.raises(ValueError, match="cannot be serialized.*define it with def.*"
                                         "register_keras_serializable"):
        layers.Dense(2, activation=lambda t: t * 2).get_config()

    def relu(x):  # saved as 'relu', it would load as the built-in one
        return x * 2

    with pytest.raises(ValueError, match="built-in activation's.*rename"):
        layers.Activation(relu).get_config()


# -- Lambda --------------------------------------------------------------------------------------
def scaled_square(x, scale=1.0):
    return keras.ops.square(x) * scale


def first_step_mask(inputs, mask):
    return None if mask is None else mask[:, :1]


def test_lambda_computes_and_differentiates_in_both_model_kinds():
    seq = keras.Sequential([keras.Input((3,)), layers.Lambda(lambda x: x ** 2), layers.Dense(1)])
    np.testing.assert_allclose(seq.predict(X, verbose=0),
                               X ** 2 @ seq.layers[1].kernel.numpy() + seq.layers[1].bias.numpy(),
                               rtol=1e-5, atol=1e-6)
    a, b = keras.Input((3,)), keras.Input((3,))
    out = layers.Lambda(lambda xs: xs[0] * xs[1] + 1.0)([a, b])
    model = keras.Model([a, b], out)
    assert model.output.shape == (None, 3)
    np.testing.assert_allclose(model.predict([X, 2 * X], verbose=0), 2 * X * X + 1, rtol=1e-6)
    x = keras.Tensor(X.astype(np.float64), requires_grad=True)
    layers.Lambda(scaled_square, arguments={"scale": 3.0})(x).sum().backward()
    np.testing.assert_allclose(x.grad, 6 * X, rtol=1e-6)


def test_lambda_passes_training_and_mask_to_a_function_that_takes_them():
    seen = {}

    def record(x, training=None, mask=None):
        seen.update(training=training, mask=mask)
        return x * 1.0

    ids = np.array([[3, 4, 0], [5, 0, 0]])
    embedded = layers.Embedding(6, 2, mask_zero=True)(ids)
    out = layers.Lambda(record)(embedded, training=True)
    assert seen["training"] is True
    np.testing.assert_array_equal(np.asarray(seen["mask"]), ids != 0)
    assert getattr(out, "_keras_mask", None) is None  # Keras: no mask unless mask= says one
    kept = layers.Lambda(lambda x: x[:, :1], mask=first_step_mask)(embedded)
    np.testing.assert_array_equal(np.asarray(kept._keras_mask), [[True], [True]])


def test_lambda_of_a_named_function_saves_by_name(tmp_path):
    layer = layers.Lambda(scaled_square, output_shape=(3,), mask=first_step_mask,
                          arguments={"scale": 2.0}, name="sq")
    config = json.loads(json.dumps(layer.get_config()))
    assert config == {"function": "scaled_square", "output_shape": [3],
                      "mask": "first_step_mask", "arguments": {"scale": 2.0}, "name": "sq",
                      "trainable": True, "dtype": "float32"}
    with pytest.raises(ValueError, match="'scaled_square'.*custom_objects"):
        layers.Lambda.from_config(config)
    named = {"scaled_square": scaled_square, "first_step_mask": first_step_mask}
    with custom_object_scope(named):
        clone = layers.Lambda.from_config(config)
    assert (clone.function, clone.mask, clone.arguments) == (scaled_square, first_step_mask,
                                                             {"scale": 2.0})
    builtin = layers.Lambda.from_config(layers.Lambda(keras.activations.relu).get_config())
    np.testing.assert_array_equal(builtin(np.array([[-1.0, 2.0]])).numpy(), [[0.0, 2.0]])

    model = keras.Sequential([keras.Input((3,)), layers.Lambda(scaled_square,
                                                               arguments={"scale": 0.5})])
    model.save(tmp_path / "m.keras")
    with pytest.raises(ValueError, match="'scaled_square'"):
        load_model(tmp_path / "m.keras")
    loaded = load_model(tmp_path / "m.keras", custom_objects=named)
    np.testing.assert_allclose(loaded.predict(X, verbose=0), 0.5 * X ** 2, rtol=1e-6)


def test_lambda_of_a_lambda_refuses_to_save_and_says_what_to_do(tmp_path):
    model = keras.Sequential([keras.Input((3,)), layers.Lambda(lambda x: x + 1, name="plus")])
    np.testing.assert_allclose(model.predict(X, verbose=0), X + 1)  # it runs; it cannot save
    with pytest.raises(ValueError, match="Lambda 'plus': the function .*cannot be serialized.*"
                                         "define it with def.*custom_objects"):
        model.save(tmp_path / "m.keras")
    assert not (tmp_path / "m.keras").exists()
    with pytest.raises(TypeError, match="function must be a function"):
        layers.Lambda("x + 1")
