"""keras.models.clone_model: Keras 3's arguments, new weights, shared layers by clone_function."""

from __future__ import annotations

import numpy as np
import pytest

import shenjing as keras
from shenjing import layers


def _sequential():
    return keras.Sequential([keras.Input(shape=(4,)), layers.Dense(3, activation="relu"),
                             layers.Dropout(0.5), layers.Dense(2)], name="seq")


def test_clone_sequential_has_new_weights_and_the_same_architecture(rng):
    model = _sequential()
    clone = keras.models.clone_model(model)
    assert isinstance(clone, keras.Sequential) and clone.name == "seq"
    assert [type(a) for a in clone.layers] == [type(b) for b in model.layers]
    assert [a.name for a in clone.layers] == [b.name for b in model.layers]
    assert all(a is not b for a, b in zip(clone.layers, model.layers))
    assert [w.shape for w in clone.weights] == [w.shape for w in model.weights]
    assert not np.array_equal(clone.weights[0].numpy(), model.weights[0].numpy())
    clone.set_weights(model.get_weights())
    x = rng.normal(size=(5, 4)).astype("float32")
    np.testing.assert_allclose(clone.predict(x, verbose=0), model.predict(x, verbose=0))
    assert clone.get_config() == model.get_config()


def test_clone_function_may_share_or_change_layers():
    model = _sequential()
    shared = keras.models.clone_model(model, clone_function=lambda layer: layer)
    assert all(a is b for a, b in zip(shared.layers, model.layers))

    def no_dropout(layer):
        if isinstance(layer, layers.Dropout):
            return layers.Dropout(0.0)
        return layer.__class__.from_config(layer.get_config())

    assert keras.models.clone_model(model, clone_function=no_dropout).layers[1].rate == 0.0


def test_clone_functional_model_keeps_its_graph_and_sharing(rng):
    inputs = keras.Input(shape=(4,), name="features")
    dense = layers.Dense(4, activation="tanh")
    x = dense(dense(inputs))  # one layer called twice stays one (shared) layer
    outputs = [layers.Dense(1, name="a")(x), layers.Dense(2, name="b")(layers.add([x, inputs]))]
    model = keras.Model(inputs, outputs, name="two")
    clone = keras.models.clone_model(model)
    assert clone.name == "two" and clone.output_names == ["a", "b"]
    assert len(clone.weights) == len(model.weights) == 6
    clone.set_weights(model.get_weights())
    x = rng.normal(size=(3, 4)).astype("float32")
    for a, b in zip(clone.predict(x, verbose=0), model.predict(x, verbose=0)):
        np.testing.assert_allclose(a, b, rtol=1e-6)

    new_input = keras.Input(shape=(4,), name="other")
    on_tensor = keras.models.clone_model(model, input_tensors=new_input)
    assert on_tensor.inputs[0] is new_input


def test_clone_recursive_clones_nested_models_layer_by_layer():
    inner = _sequential()
    inputs = keras.Input(shape=(4,))
    model = keras.Model(inputs, layers.Dense(1)(inner(inputs)))
    seen = []

    def record(layer):
        seen.append(type(layer).__name__)
        return layer.__class__.from_config(layer.get_config())

    keras.models.clone_model(model, clone_function=record, recursive=True)
    assert seen == ["Dense", "Dropout", "Dense", "Dense"]
    seen.clear()
    keras.models.clone_model(model, clone_function=record)
    assert seen == ["Sequential", "Dense"]


def test_clone_subclassed_model_from_its_config_and_clear_errors():
    class Tiny(keras.Model):
        def __init__(self, units=3, **kwargs):
            super().__init__(**kwargs)
            self.units = units
            self.dense = layers.Dense(units)

        def call(self, x):
            return self.dense(x)

    clone = keras.models.clone_model(Tiny(5))
    assert isinstance(clone, Tiny) and clone.units == 5
    with pytest.raises(ValueError, match="only supported for Sequential models or Functional"):
        keras.models.clone_model(Tiny(), clone_function=lambda layer: layer)
    with pytest.raises(ValueError, match="must be a KerasTensor"):
        keras.models.clone_model(_sequential(), input_tensors=np.zeros((1, 4)))
    with pytest.raises(TypeError, match="call_function"):
        keras.models.clone_model(_sequential(), call_function=lambda layer, *a: layer(*a))
    with pytest.raises(ValueError, match="Unexpected keyword"):
        keras.models.clone_model(_sequential(), share_weights=True)
