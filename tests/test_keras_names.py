"""Keras 3 names that keras.io code reaches for first: the base classes at the top
(``keras.Layer``), ``keras.config`` and its ``keras.backend`` twins, ``keras.version()``,
``keras.models.save_model``, the ``GlobalAvgPool*`` aliases, the utils' serialization names,
and ``keras.random.categorical``. Each once stopped a port with an AttributeError."""

from __future__ import annotations

import numpy as np
import pytest

import shenjing as keras


def test_base_classes_at_the_top_are_the_librarys_own():
    assert keras.Layer is keras.layers.Layer and keras.Loss is keras.losses.Loss
    assert keras.Metric is keras.metrics.Metric and keras.Optimizer is keras.optimizers.Optimizer
    assert keras.InputSpec is keras.layers.InputSpec
    assert keras.Initializer is keras.initializers.Initializer
    assert keras.Regularizer is keras.regularizers.Regularizer
    assert keras.Constraint is keras.constraints.Constraint

    class Double(keras.Layer):
        def call(self, x):
            return x * 2

    np.testing.assert_array_equal(Double()(np.ones((2, 3), np.float32)).numpy(), 2)
    assert keras.version() == keras.__version__


def test_config_reads_shenjings_settings_and_refuses_others():
    for module in (keras.config, keras.backend):
        assert module.floatx() == "float32" and module.epsilon() == 1e-7
        assert module.image_data_format() == "channels_last" and module.backend() == "numpy"
        module.set_floatx("float32")  # what it is: fine
    keras.config.enable_unsafe_deserialization()  # nothing unsafe to enable: accepted
    with pytest.raises(ValueError, match="floatx is fixed at 'float32', not 'float64'"):
        keras.config.set_floatx("float64")
    with pytest.raises(ValueError, match="channels_first' one by one"):
        keras.backend.set_image_data_format("channels_first")
    with pytest.raises(ValueError, match="epsilon is fixed"):
        keras.config.set_epsilon(1e-3)


def test_save_model_and_the_utils_names(tmp_path):
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    path = tmp_path / "m.keras"
    keras.models.save_model(model, str(path))
    x = np.ones((1, 3), np.float32)
    np.testing.assert_array_equal(keras.models.load_model(path).predict(x, verbose=0),
                                  model.predict(x, verbose=0))
    config = keras.utils.serialize_keras_object(keras.layers.Dense(4, name="d"))
    assert keras.utils.deserialize_keras_object(config).units == 4

    class Mine(keras.layers.Dense):
        pass

    with keras.utils.CustomObjectScope({"Mine": Mine}):
        assert type(keras.utils.deserialize_keras_object(
            {"class_name": "Mine", "config": {"units": 2}})) is Mine


def test_global_pool_short_names():
    for n in (1, 2, 3):
        assert getattr(keras.layers, f"GlobalAvgPool{n}D") is getattr(
            keras.layers, f"GlobalAveragePooling{n}D")
        assert getattr(keras.layers, f"GlobalMaxPool{n}D") is getattr(
            keras.layers, f"GlobalMaxPooling{n}D")


def test_random_categorical_draws_by_softmax_of_the_logits():
    probs = np.array([[0.1, 0.6, 0.3], [0.5, 0.5, 0.0]])
    with np.errstate(divide="ignore"):
        logits = np.log(probs)
    draws = keras.random.categorical(logits, 40_000, seed=3).numpy()
    assert draws.shape == (2, 40_000) and draws.dtype == np.int32
    freq = np.stack([np.bincount(row, minlength=3) / 40_000 for row in draws])
    np.testing.assert_allclose(freq, probs, atol=0.01)  # ~5 standard errors
    assert not (draws[1] == 2).any()  # a -inf logit is never drawn
    np.testing.assert_array_equal(keras.random.categorical(logits, 5, seed=3).numpy(),
                                  keras.random.categorical(logits, 5, seed=3).numpy())
    with pytest.raises(ValueError, match="batch, classes"):
        keras.random.categorical(np.zeros(3), 2)


def test_progbar_averages_values_as_keras(capsys):
    # Keras 3.15 printed "4/4 - 0s - 7us/step - loss: 2.0000 - acc: 0.9000" for these
    bar = keras.utils.Progbar(4, verbose=2, stateful_metrics=["acc"])
    for step, (loss, acc) in enumerate([(1.0, 0.5), (3.0, 0.6), (2.0, 0.7)]):
        bar.update(step + 1, [("loss", loss), ("acc", acc)])
    assert capsys.readouterr().out == ""  # verbose=2 says it once, at the end
    bar.add(1, [("loss", 2.0), ("acc", 0.9)])
    line = capsys.readouterr().out.strip()
    assert line.startswith("4/4 - ") and line.endswith("loss: 2.0000 - acc: 0.9000")
    quiet = keras.utils.Progbar(None, verbose=0)
    quiet.update(5, [("loss", 1.0)])
    quiet.add(5, [("loss", 3.0)])  # steps weigh the average: (5 * 1 + 5 * 3) / 10
    assert quiet._logs() == {"loss": 2.0}
