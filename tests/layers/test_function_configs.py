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
