"""Reloading what was saved: a Sequential built by its data loads; custom losses and
metrics load through ``custom_objects`` (or are skipped with ``compile=False``); ``load_model``
takes a run folder; ``Sequential.pop``; ``weighted_metrics`` survive."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest

import shenjing as sj
from shenjing import layers, losses, optimizers
from shenjing.io import saving
from shenjing.layers import Dense
from shenjing.models import Sequential, load_model

RNG = np.random.default_rng(0)
X = RNG.standard_normal((24, 4)).astype(np.float32)
Y = RNG.standard_normal((24, 2)).astype(np.float32)
IDS = RNG.integers(1, 10, (24, 5))
IDS[::2, 3:] = 0  # padding that mask_zero=True must skip


def _dense() -> Sequential:
    return Sequential([Dense(3), Dense(2)])


def _embedding_lstm() -> Sequential:
    return Sequential([layers.Embedding(10, 4, mask_zero=True), layers.LSTM(3), Dense(2)])


def _saved_config(path) -> dict:
    with zipfile.ZipFile(path) as z:
        return json.loads(z.read(saving.CONFIG))


def _assert_same_weights(a, b):
    for u, v in zip(a.get_weights(), b.get_weights(), strict=True):
        np.testing.assert_array_equal(u, v)


def _assert_same_optimizer_state(a, b):
    assert a.iterations == b.iterations > 0
    state_a, state_b = a.state_dict()["state"], b.state_dict()["state"]
    assert state_a.keys() == state_b.keys() and state_a
    for i, slots in state_a.items():
        for key, value in slots.items():
            np.testing.assert_array_equal(state_b[i][key], value)


def twice_mse(y_true, y_pred):
    return losses.mean_squared_error(y_true, y_pred) * 2.0


def max_abs_error(y_true, y_pred):
    return np.abs(np.asarray(y_pred) - y_true).max(axis=-1)


# -- 1. a Sequential built by its data ----------------------------------------------------------
@pytest.mark.parametrize("make, x, dtype", [(_dense, X, "float32"),
                                            (_embedding_lstm, IDS, IDS.dtype.name)],
                         ids=["dense", "embedding-lstm"])
def test_sequential_built_by_fit_loads_and_trains_on(tmp_path, make, x, dtype):
    model = make()
    model.compile(optimizer="adam", loss="mse")
    model.fit(x, Y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    model.save(tmp_path / "m.shenjing")
    # the input is recorded with a free batch axis and the data's dtype
    assert _saved_config(tmp_path / "m.shenjing")["model"]["config"]["input"] == {
        "shape": [None, *x.shape[1:]], "dtype": dtype}

    loaded = load_model(tmp_path / "m.shenjing")
    _assert_same_weights(model, loaded)
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    _assert_same_optimizer_state(model.optimizer, loaded.optimizer)
    # both go on with the same state, so one more epoch leaves the same weights
    model.fit(x, Y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    loaded.fit(x, Y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    _assert_same_weights(model, loaded)
    assert loaded.optimizer.iterations == 2 * 3


def test_sequential_built_by_a_call_or_build_loads_uncompiled(tmp_path):
    called, built = _dense(), _dense()
    called(X[:1])
    built.build((7, 4))  # the batch size given to build is not kept
    for model in (called, built):
        model.save(tmp_path / "m.shenjing")
        assert _saved_config(tmp_path / "m.shenjing")["model"]["config"]["input"]["shape"] == \
            [None, 4]
        loaded = load_model(tmp_path / "m.shenjing")
        assert loaded.optimizer is None
        np.testing.assert_array_equal(loaded.predict(X), model.predict(X))


# -- 2. custom objects --------------------------------------------------------------------------
def _compiled_with(loss, metrics=()):
    model = Sequential([Dense(2, input_shape=(4,))])
    model.compile(optimizers.Adam(learning_rate=0.01), loss, metrics=list(metrics))
    model.fit(X, Y, batch_size=8, epochs=1, verbose=0)
    return model


def test_custom_loss_and_metric_functions_load_with_custom_objects(tmp_path):
    model = _compiled_with(twice_mse, metrics=[max_abs_error])
    model.save(tmp_path / "m.shenjing")
    loaded = load_model(tmp_path / "m.shenjing",
                        custom_objects={"twice_mse": twice_mse, "max_abs_error": max_abs_error})
    assert loaded.loss.fn is twice_mse
    _assert_same_optimizer_state(model.optimizer, loaded.optimizer)
    logs = loaded.evaluate(X, Y, batch_size=24, verbose=0, return_dict=True)
    assert logs == model.evaluate(X, Y, batch_size=24, verbose=0, return_dict=True)
    pred = model.predict(X)
    np.testing.assert_allclose(logs["loss"], 2 * np.mean((pred - Y) ** 2), rtol=1e-5)
    np.testing.assert_allclose(logs["max_abs_error"], np.abs(pred - Y).max(axis=-1).mean(),
                               rtol=1e-5)


def test_custom_loss_class_loads_with_custom_objects(tmp_path):
    class ScaledMSE(losses.Loss):
        def __init__(self, scale=1.0, **kwargs):
            super().__init__(**kwargs)
            self.scale = scale

        def call(self, y_true, y_pred):
            return losses.mean_squared_error(y_true, y_pred) * self.scale

        def get_config(self):
            return {**super().get_config(), "scale": self.scale}

    model = _compiled_with(ScaledMSE(scale=3.0))
    model.save(tmp_path / "m.shenjing")
    with pytest.raises(ValueError, match="'ScaledMSE'.*custom_objects=.*compile=False"):
        load_model(tmp_path / "m.shenjing")
    loaded = load_model(tmp_path / "m.shenjing", custom_objects={"ScaledMSE": ScaledMSE})
    assert isinstance(loaded.loss, ScaledMSE) and loaded.loss.scale == 3.0
    assert loaded.evaluate(X, Y, verbose=0) == model.evaluate(X, Y, verbose=0)


def test_unknown_custom_loss_names_it_and_suggests_both_ways(tmp_path):
    _compiled_with(twice_mse).save(tmp_path / "def.shenjing")
    _compiled_with(lambda t, p: losses.mean_squared_error(t, p)).save(tmp_path / "lambda.shenjing")
    with pytest.raises(ValueError, match=r"'twice_mse'.*custom_objects=\{'twice_mse': \.\.\.\}"
                                         r".*compile=False"):
        load_model(tmp_path / "def.shenjing")
    with pytest.raises(ValueError, match="'<lambda>'.*compile=False.*define the function with def"):
        load_model(tmp_path / "lambda.shenjing")


def test_compile_false_skips_an_unknown_loss_and_keeps_the_weights(tmp_path):
    model = _compiled_with(lambda t, p: losses.mean_squared_error(t, p))
    model.save(tmp_path / "m.shenjing")
    loaded = load_model(tmp_path / "m.shenjing", compile=False)
    assert loaded.optimizer is None and loaded.loss is None
    _assert_same_weights(model, loaded)
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))


# -- 3. run folders -----------------------------------------------------------------------------
def test_load_model_and_load_weights_take_a_run_folder(tmp_path):
    model = _compiled_with("mse")
    run = tmp_path / "runs" / "20240101-000000-digits-cnn"
    model.save(run / "model.shenjing")
    (run / "history.csv").write_text("epoch,loss\n0,1.0\n")
    loaded = load_model(run)
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    _assert_same_optimizer_state(model.optimizer, loaded.optimizer)
    other = Sequential([Dense(2, input_shape=(4,))])
    other.load_weights(run)
    _assert_same_weights(model, other)


def test_folder_without_a_model_file_is_file_not_found(tmp_path):
    (tmp_path / "other.shenjing").write_bytes(b"")
    with pytest.raises(FileNotFoundError, match=f"{tmp_path}.*no model file.*model.shenjing"):
        load_model(tmp_path)
    with pytest.raises(FileNotFoundError, match="no model file"):
        _dense().load_weights(tmp_path)


# -- 4. Sequential.pop --------------------------------------------------------------------------
def test_pop_removes_the_last_layer_and_rebuilds():
    first, second = Dense(8, activation="relu"), Dense(3)
    model = Sequential([sj.Input((4,)), first, second])
    assert model.pop() is second
    assert model.layers == [first] and model.output_shapes == [(None, 8)]
    assert [w.shape for w in model.weights] == [(4, 8), (8,)]
    np.testing.assert_array_equal(model.predict(X), first(X).numpy())
    model.add(Dense(2))
    assert model.predict(X).shape == (24, 2) and len(model.weights) == 4


def test_pop_on_a_model_built_by_data_and_until_empty():
    model = _dense()
    model(X[:1])
    model.pop()
    assert model.built and model.predict(X).shape == (24, 3)
    model.pop()
    assert model.layers == [] and model.weights == [] and not model.built
    with pytest.raises(IndexError, match="no layers"):
        model.pop()


def test_weighted_metrics_survive_save_and_load(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 4)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64)
    model = Sequential([layers.Dense(2, input_shape=(4,))])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"], weighted_metrics=["accuracy"])
    sw = np.r_[np.ones(32), np.zeros(32)].astype(np.float32)
    before = model.evaluate(x, y, sample_weight=sw, verbose=0, return_dict=True)
    model.save(tmp_path / "m.shenjing")
    loaded = load_model(tmp_path / "m.shenjing")
    after = loaded.evaluate(x, y, sample_weight=sw, verbose=0, return_dict=True)
    assert set(after) == {"loss", "accuracy", "weighted_accuracy"}
    for k in before:
        assert after[k] == pytest.approx(before[k], rel=1e-6)


def test_scalar_weights_round_trip(tmp_path):
    # Normalization(axis=None) holds 0-d mean and variance; they must stay 0-d in the file
    rng = np.random.default_rng(0)
    model = Sequential([sj.Input((3,)), layers.Normalization(axis=None), layers.Dense(1)])
    model.layers[0].adapt(rng.uniform(0, 5, (10, 3)).astype(np.float32))
    model.compile(optimizer="adam", loss="mse")
    model.fit(np.ones((4, 3), np.float32), np.ones((4, 1), np.float32), verbose=0)
    assert [w.shape for w in model.layers[0].weights] == [(), ()]
    model.save(tmp_path / "m.shenjing")
    loaded = load_model(tmp_path / "m.shenjing")
    x = rng.standard_normal((5, 3)).astype(np.float32)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    model.save_weights(tmp_path / "w.safetensors")
    loaded.load_weights(tmp_path / "w.safetensors")
    for a, b in zip(loaded.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_saving_onto_a_folder_names_the_folder(tmp_path):
    model = Sequential([layers.Dense(1, input_shape=(2,))])
    with pytest.raises(IsADirectoryError, match=f"cannot write to {tmp_path}: it is a folder"):
        model.save(tmp_path)
    assert list(tmp_path.iterdir()) == []  # no temporary file left behind


# -- custom layers: custom_objects, custom_object_scope, register_keras_serializable ---------------
class CustomDense(layers.Layer):
    """The functional guide's custom layer, verbatim but for its imports."""

    def __init__(self, units=32):
        super().__init__()
        self.units = units

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1], self.units),
                                 initializer="random_normal", trainable=True)
        self.b = self.add_weight(shape=(self.units,), initializer="random_normal",
                                 trainable=True)

    def call(self, inputs):
        return sj.ops.matmul(inputs, self.w) + self.b

    def get_config(self):
        return {"units": self.units}


def _custom_model():
    inputs = sj.Input((4,))
    return sj.Model(inputs, Dense(2)(CustomDense(10)(inputs)))


def test_a_custom_layer_loads_by_the_classes_the_caller_names(tmp_path):
    model = _custom_model()
    x = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)
    new = sj.Model.from_config(model.get_config(), custom_objects={"CustomDense": CustomDense})
    assert type(new.layers[1]) is CustomDense and new.layers[1].units == 10
    model.save(tmp_path / "m.keras")
    with pytest.raises(ValueError, match="unknown layer class 'CustomDense'.*custom_objects="
                                         "\\{'CustomDense': CustomDense\\}"):
        load_model(tmp_path / "m.keras")
    loaded = load_model(tmp_path / "m.keras", custom_objects={"CustomDense": CustomDense})
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    with sj.saving.custom_object_scope({"CustomDense": CustomDense}):
        np.testing.assert_array_equal(load_model(tmp_path / "m.keras").predict(x),
                                      model.predict(x))
    with pytest.raises(ValueError, match="unknown layer class"):  # the scope has ended
        sj.Model.from_config(model.get_config())


def test_a_registered_custom_layer_loads_without_custom_objects(tmp_path):
    @sj.saving.register_keras_serializable(package="tests")
    class Scale(layers.Layer):
        def __init__(self, factor=2.0, **kwargs):
            super().__init__(**kwargs)
            self.factor = factor

        def call(self, inputs):
            return inputs * self.factor

    try:
        inputs = sj.Input((3,))
        model = sj.Model(inputs, Scale(3.0)(inputs))
        model.save(tmp_path / "m.keras")
        loaded = load_model(tmp_path / "m.keras")
        assert loaded.layers[1].factor == 3.0 and type(loaded.layers[1]) is Scale
        assert sj.utils.get_custom_objects()["tests>Scale"] is Scale
    finally:
        for key in ("Scale", "tests>Scale"):
            sj.saving.get_custom_objects().pop(key, None)


def test_a_custom_layer_registered_under_another_name_loads(tmp_path):
    # Keras's name= is the name the registry knows; the file names the class itself
    @sj.saving.register_keras_serializable(package="tests", name="Doubler")
    class Twice(layers.Layer):
        def call(self, inputs):
            return inputs * 2.0

    try:
        inputs = sj.Input((3,))
        sj.Model(inputs, Twice()(inputs)).save(tmp_path / "m.keras")
        assert type(load_model(tmp_path / "m.keras").layers[1]) is Twice
    finally:
        for key in ("Twice", "Doubler", "tests>Doubler"):
            sj.saving.get_custom_objects().pop(key, None)


class TwoLayerModel(sj.Model):
    """A subclassed model (Keras's guide): layers made in __init__, used in call."""

    def __init__(self, units=3, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.hidden = Dense(units, activation="relu")
        self.out = Dense(2)

    def call(self, x):
        return self.out(self.hidden(x))


def test_a_called_subclassed_model_saves_its_build_shape_and_loads(tmp_path):
    model = TwoLayerModel(units=5)
    model(X[:2])
    assert model.get_build_config() == {"input_shape": (None, 4)}
    model.compile("adam", "mse")
    model.fit(X, Y, epochs=1, verbose=0)
    model.save(tmp_path / "m.keras")
    assert _saved_config(tmp_path / "m.keras")["model"]["build_config"] == {
        "input_shape": [None, 4]}
    loaded = load_model(tmp_path / "m.keras", custom_objects={"TwoLayerModel": TwoLayerModel},
                        safe_mode=True)
    assert isinstance(loaded, TwoLayerModel) and loaded.units == 5
    _assert_same_weights(loaded, model)
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    assert loaded.optimizer.iterations == model.optimizer.iterations


def test_a_subclassed_models_own_build_from_config_is_what_loading_calls(tmp_path):
    class TwoInputs(sj.Model):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.dense = Dense(2)
            self.built_from = None

        def call(self, inputs):
            a, b = inputs
            return self.dense(a) + b

        def build_from_config(self, config):
            self.built_from = config
            super().build_from_config(config)

    model = TwoInputs()
    model([X[:2], Y[:2]])
    assert model.get_build_config() == {"input_shape": [(None, 4), (None, 2)]}
    model.save(tmp_path / "two.keras")
    loaded = load_model(tmp_path / "two.keras", custom_objects={"TwoInputs": TwoInputs})
    assert loaded.built_from == {"input_shape": [[None, 4], [None, 2]]}
    np.testing.assert_array_equal(loaded.predict([X, Y]), model.predict([X, Y]))


def test_serialize_keras_object_round_trips_shenjing_objects():
    from shenjing.saving import deserialize_keras_object, serialize_keras_object

    objects = [optimizers.Adam(learning_rate=0.01), losses.MeanSquaredError(),
               sj.metrics.MeanSquaredError(), sj.initializers.HeNormal(seed=1),
               sj.regularizers.L2(0.1), Dense(3, activation="tanh", name="d")]
    for obj in objects:
        config = serialize_keras_object(obj)
        assert json.loads(json.dumps(config)) == config  # JSON-ready
        back = deserialize_keras_object(config)
        # MeanSquaredError is a loss's and a metric's name: the module says which
        assert type(back) is type(obj) and back.get_config() == obj.get_config()
    assert serialize_keras_object([1, "a", None, {"k": 2.5}]) == [1, "a", None, {"k": 2.5}]
    array = deserialize_keras_object(serialize_keras_object(np.arange(3, dtype=np.int16)))
    assert array.dtype == np.int16 and list(array) == [0, 1, 2]
    assert deserialize_keras_object(serialize_keras_object(sj.activations.relu)) \
        is sj.activations.relu

    def my_loss(y_true, y_pred):
        return (y_true - y_pred) ** 2

    config = serialize_keras_object(my_loss)
    assert config == {"class_name": "function", "config": "my_loss"}
    assert deserialize_keras_object(config, custom_objects={"my_loss": my_loss}) is my_loss
    with pytest.raises(ValueError, match="unknown function 'my_loss'.*custom_objects"):
        deserialize_keras_object(config)
    with pytest.raises(ValueError, match="unknown class 'Evil'"):
        deserialize_keras_object({"class_name": "Evil", "config": {}})


def test_to_json_and_model_from_json_rebuild_the_architecture():
    model = Sequential([sj.Input((4,)), Dense(3, activation="relu"), Dense(2)], name="arch")
    text = model.to_json(indent=1)
    rebuilt = sj.models.model_from_json(text)
    assert rebuilt.get_config() == model.get_config()
    assert rebuilt.predict(X).shape == (24, 2)

    subclassed = TwoLayerModel(units=4)
    subclassed(X[:1])
    again = sj.models.model_from_json(subclassed.to_json(),
                                      custom_objects={"TwoLayerModel": TwoLayerModel})
    assert again.units == 4 and again.count_params() == subclassed.count_params()  # built


class _HalvingEveryStep(optimizers.schedules.LearningRateSchedule):
    """A schedule of the user's own, as the LearningRateSchedule docstring writes one."""

    def __init__(self, initial_learning_rate):
        self.initial_learning_rate = initial_learning_rate

    def __call__(self, step):
        return self.initial_learning_rate * 0.5 ** step

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate}


def _fitted_with_own_schedule(tmp_path):
    model = Sequential([layers.Input((3,)), Dense(2)])
    model.compile(optimizer=optimizers.Adam(_HalvingEveryStep(0.1)), loss="mse")
    x, y = np.ones((8, 3), np.float32), np.zeros((8, 2), np.float32)
    model.fit(x, y, epochs=2, batch_size=4, verbose=0)
    model.save(tmp_path / "m.shenjing")
    return model, x, y


@pytest.mark.parametrize("how", ["custom_objects", "scope", "registered"])
def test_a_schedule_of_ones_own_loads_and_training_continues_the_same(tmp_path, how):
    model, x, y = _fitted_with_own_schedule(tmp_path)
    path, own = tmp_path / "m.shenjing", {"_HalvingEveryStep": _HalvingEveryStep}
    if how == "custom_objects":
        again = load_model(path, custom_objects=own)
    elif how == "scope":
        with sj.saving.custom_object_scope(own):
            again = load_model(path)
    else:
        sj.saving.register_keras_serializable("tests")(_HalvingEveryStep)
        try:
            again = load_model(path)
        finally:  # the registry is global: leave it as it was
            for key in ("_HalvingEveryStep", "tests>_HalvingEveryStep"):
                sj.saving.get_custom_objects().pop(key, None)
    assert isinstance(again.optimizer._learning_rate, _HalvingEveryStep)
    for m in (model, again):
        m.fit(x, y, epochs=1, batch_size=4, verbose=0)
    for a, b in zip(model.get_weights(), again.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_an_unknown_schedule_names_itself_not_the_optimizer(tmp_path):
    _fitted_with_own_schedule(tmp_path)
    with pytest.raises(ValueError, match="unknown learning-rate schedule '_HalvingEveryStep'") \
            as info:
        load_model(tmp_path / "m.shenjing")
    assert "'Adam' is your own" not in str(info.value)


def test_an_optimizer_with_a_schedule_of_the_same_class_takes_its_saved_state():
    p = layers.Parameter(np.ones(3, np.float32))
    opt = optimizers.SGD(_HalvingEveryStep(0.1), params=[p])
    opt.apply_gradients([(np.ones(3, np.float32), p)])
    fresh = optimizers.SGD(_HalvingEveryStep(0.7), params=[p])
    fresh.load_state_dict(opt.state_dict())  # the class is known: the fresh one's own
    assert fresh.iterations == 1 and fresh._learning_rate.initial_learning_rate == 0.1


def test_registered_losses_and_metrics_load_without_custom_objects(tmp_path):
    """register_keras_serializable finds a loss function and a Metric class at load_model as
    it finds layers (only custom_objects= did before)."""
    registry = sj.saving.get_custom_objects()

    def plain_abs(y_true, y_pred):
        return sj.ops.mean(sj.ops.abs(y_true - y_pred), axis=-1)

    class AbsMean(sj.metrics.Mean):
        def update_state(self, y_true, y_pred, sample_weight=None):
            return super().update_state(sj.ops.abs(y_true - y_pred))

    sj.saving.register_keras_serializable("tests")(plain_abs)
    sj.saving.register_keras_serializable("tests")(AbsMean)
    try:
        rng = np.random.default_rng(0)
        x, y = rng.random((6, 4)).astype(np.float32), rng.random((6, 1)).astype(np.float32)
        model = Sequential([layers.Input((4,)), Dense(1)])
        model.compile("adam", plain_abs, metrics=[AbsMean(name="abs_mean"), plain_abs])
        model.fit(x, y, verbose=0)
        model.save(tmp_path / "m.shenjing")
        again = load_model(tmp_path / "m.shenjing")
        assert again.evaluate(x, y, verbose=0) == pytest.approx(model.evaluate(x, y, verbose=0))
    finally:
        for key in ("plain_abs", "tests>plain_abs", "AbsMean", "tests>AbsMean"):
            registry.pop(key, None)


def test_a_subclassed_model_called_on_a_dict_saves_and_loads(tmp_path):
    """Its build config is a dict of shapes (load_model built it from [0]: KeyError); and an
    __init__ whose first parameter is not named self (here `s`) is still read right."""

    class TwoInputs(sj.keras.Model):
        def __init__(s, **kwargs):  # noqa: N805 - the name is the point
            super().__init__(**kwargs)
            s.a, s.b = Dense(2), Dense(2)

        def call(s, inputs):  # noqa: N805
            return s.a(inputs["p"]) + s.b(inputs["q"])

    x = np.random.default_rng(0).random((6, 4)).astype(np.float32)
    feed = {"p": x, "q": x[:, :3]}
    model = TwoInputs()
    expected = model(feed).numpy()
    model.save(tmp_path / "m.shenjing")
    again = load_model(tmp_path / "m.shenjing", custom_objects={"TwoInputs": TwoInputs})
    np.testing.assert_allclose(again(feed).numpy(), expected)



def test_optimizer_state_follows_the_weights_names_not_their_order(tmp_path):
    """A file lists its weights in the order of the shenjing that wrote it (sibling branches
    were once listed last first), and its optimizer state is indexed in that order: each
    weight gets its own Adam moments back, matched by name (two same-shaped branches were
    silently swapped)."""
    inp = layers.Input((4,))
    a, b = layers.Dense(3, name="a")(inp), layers.Dense(3, name="b")(inp)
    model = sj.Model(inp, layers.Dense(2, name="head")(layers.Concatenate()([a, b])))
    model.compile(optimizers.Adam(0.01), "mse")
    model.fit(X, Y, epochs=2, verbose=0)
    state = model.optimizer.state_dict(model.trainable_weights)["state"]
    want = {w.path: state[i]["momentum"] for i, w in enumerate(model.trainable_weights)}
    path = tmp_path / "m.shenjing"
    model.save(path)
    # rewrite it as written in the other order: branch b's weights first, in names and state
    order = [2, 3, 0, 1, 4, 5]  # file position -> the position this shenjing lists it at
    with zipfile.ZipFile(path) as z:
        files = {n: z.read(n) for n in z.namelist()}
    from safetensors.numpy import load, save
    weights = load(files["model.weights.safetensors"])
    keys = sorted(weights)
    files["model.weights.safetensors"] = save({f"{k:04d}/{keys[old].split('/', 1)[1]}":
                                               weights[keys[old]] for k, old in enumerate(order)})
    config = json.loads(files["config.json"])
    saved = config["compile"]["optimizer_state"]["state"]
    config["compile"]["optimizer_state"]["state"] = {str(k): saved[str(old)]
                                                     for k, old in enumerate(order)}
    files["config.json"] = json.dumps(config).encode()
    with zipfile.ZipFile(path, "w") as z:
        for name, data in files.items():
            z.writestr(name, data)
    loaded = load_model(path)
    state = loaded.optimizer.state_dict(loaded.trainable_weights)["state"]
    assert [w.path for w in loaded.trainable_weights] == list(want)
    for i, w in enumerate(loaded.trainable_weights):
        np.testing.assert_array_equal(state[i]["momentum"], want[w.path])
    np.testing.assert_array_equal(loaded.predict(X, verbose=0), model.predict(X, verbose=0))
