"""Complete configs (Keras 3): ``get_config()`` lists every constructor argument with the value
in use, defaults included, for every public layer, optimizer, loss and metric (and the
initializers and regularizers they hold); ``from_config`` rebuilds an object with the same
config; a saved model keeps its configs through load and save; a file written when configs held
only the arguments given still loads."""

from __future__ import annotations

import inspect
import io
import json
import zipfile

import numpy as np
import pytest

from shenjing import activations, initializers, losses, metrics, optimizers, regularizers
from shenjing import layers as L
from shenjing._config import constructor_parameters
from shenjing.models import Model, Sequential, load_model

# -- every public class ------------------------------------------------------------------------
# Classes whose constructor needs arguments (some given non-default options, so that the values
# in use, not only the defaults, go through the round trip); the others are built bare.
_MAKE = {
    L.Activation: lambda: L.Activation("relu"),
    L.Bidirectional: lambda: L.Bidirectional(L.GRU(3, return_sequences=True), merge_mode="sum"),
    L.Conv1D: lambda: L.Conv1D(4, 3, padding="causal", dilation_rate=2),
    L.ConvLSTM1D: lambda: L.ConvLSTM1D(2, 3, padding="same", return_state=True),
    L.ConvLSTM2D: lambda: L.ConvLSTM2D(3, (3, 2), strides=2, activation="relu", dropout=0.1,
                                       return_sequences=True, seed=4),
    L.ConvLSTM3D: lambda: L.ConvLSTM3D(2, 2, use_bias=False, go_backwards=True),
    L.Conv2D: lambda: L.Conv2D(4, (3, 2), strides=2, padding="SAME", activation="relu",
                               kernel_initializer=initializers.HeNormal(seed=1),
                               kernel_regularizer=regularizers.L2(0.1)),
    L.Dense: lambda: L.Dense(3, activation="sigmoid", use_bias=False),
    L.Dot: lambda: L.Dot((1, 2), normalize=True),
    L.CategoryEncoding: lambda: L.CategoryEncoding(5, output_mode="count"),
    L.StringLookup: lambda: L.StringLookup(vocabulary=["b", "a"], mask_token="", max_tokens=9),
    L.IntegerLookup: lambda: L.IntegerLookup(vocabulary=[7, 3], output_mode="one_hot"),
    L.TextVectorization: lambda: L.TextVectorization(max_tokens=9, ngrams=(1, 2),
                                                     output_sequence_length=5,
                                                     vocabulary=["b", "a b"]),
    L.Conv2DTranspose: lambda: L.Conv2DTranspose(3, (3, 2), strides=2, output_padding=1),
    L.Conv1DTranspose: lambda: L.Conv1DTranspose(3, 2, strides=2, output_padding=1,
                                                 dilation_rate=1),
    L.Conv3D: lambda: L.Conv3D(4, (3, 2, 2), strides=2, padding="same", groups=2,
                               dilation_rate=1, activation="relu"),
    L.DepthwiseConv2D: lambda: L.DepthwiseConv2D((3, 2), depth_multiplier=2, padding="same"),
    L.SeparableConv2D: lambda: L.SeparableConv2D(4, 3, strides=2, activation="relu"),
    L.RandomRotation: lambda: L.RandomRotation(0.1, fill_mode="constant", seed=3),
    L.RandomZoom: lambda: L.RandomZoom((-0.2, 0.1), fill_mode="nearest", seed=1),
    L.InputLayer: lambda: L.InputLayer(shape=(None, 3), dtype="int32", name="ids"),
    L.Dropout: lambda: L.Dropout(0.25, seed=3),
    L.GaussianNoise: lambda: L.GaussianNoise(0.1, seed=2),
    L.GaussianDropout: lambda: L.GaussianDropout(0.2, seed=2),
    L.EinsumDense: lambda: L.EinsumDense("...b,bc->...c", 4, activation="relu", bias_axes="c"),
    L.AlphaDropout: lambda: L.AlphaDropout(0.2, noise_shape=(None, 1), seed=2),
    L.Lambda: lambda: L.Lambda(activations.relu, output_shape=(3,),
                               arguments={"max_value": 6.0}),
    L.Permute: lambda: L.Permute((2, 1)),
    L.RepeatVector: lambda: L.RepeatVector(3),
    L.OpLayer: lambda: L.OpLayer("getitem", [{"__tensor__": 0}, (Ellipsis, slice(1, None), 0)]),
    L.SpatialDropout1D: lambda: L.SpatialDropout1D(0.25),
    L.SpatialDropout2D: lambda: L.SpatialDropout2D(0.25, seed=1),
    L.Embedding: lambda: L.Embedding(10, 4, mask_zero=True),
    L.MultiHeadAttention: lambda: L.MultiHeadAttention(2, 3, value_dim=4, dropout=0.1, seed=1),
    L.GRU: lambda: L.GRU(4, go_backwards=True, recurrent_dropout=0.1),
    L.LSTM: lambda: L.LSTM(4, activation="relu", unit_forget_bias=False, return_sequences=True,
                           dropout=0.1, seed=2),
    L.SimpleRNN: lambda: L.SimpleRNN(4, return_state=True),
    L.GRUCell: lambda: L.GRUCell(4, reset_after=False),
    L.RNN: lambda: L.RNN(L.LSTMCell(3), return_sequences=True, stateful=True),
    L.StackedRNNCells: lambda: L.StackedRNNCells([L.SimpleRNNCell(2), L.GRUCell(3)]),
    L.LSTMCell: lambda: L.LSTMCell(4, recurrent_activation="tanh"),
    L.SimpleRNNCell: lambda: L.SimpleRNNCell(4, use_bias=False),
    L.MaxPooling2D: lambda: L.MaxPooling2D(3, strides=1),
    L.Normalization: lambda: L.Normalization(mean=[1.0, 2.0], variance=[1.0, 4.0]),
    L.RandomCrop: lambda: L.RandomCrop(4, 4, padding=1, seed=2),
    L.Rescaling: lambda: L.Rescaling(1 / 255, offset=-1.0),
    L.Resizing: lambda: L.Resizing(4, 6, interpolation="nearest", crop_to_aspect_ratio=True),
    L.Reshape: lambda: L.Reshape((2, -1)),
    L.RecursiveNN: lambda: L.RecursiveNN(10, 4, 2),
    L.RNTN: lambda: L.RNTN(10, 4, 2, embedding_dim=4),
    L.TreeLSTM: lambda: L.TreeLSTM(10, 4, 2, variant="child_sum"),
    L.TimeDistributed: lambda: L.TimeDistributed(L.Dense(3)),
    L.UpSampling2D: lambda: L.UpSampling2D(interpolation="BILINEAR"),
    L.CenterCrop: lambda: L.CenterCrop(4, 6),
    L.Discretization: lambda: L.Discretization(bin_boundaries=[0.0, 1.5], output_mode="one_hot"),
    L.Hashing: lambda: L.Hashing(8, mask_value=0, salt=3),
    L.RandomBrightness: lambda: L.RandomBrightness(0.2, value_range=(0, 1), seed=1),
    L.RandomContrast: lambda: L.RandomContrast((0.1, 0.3), seed=2),
    L.RandomTranslation: lambda: L.RandomTranslation(0.1, (-0.2, 0.1), fill_mode="nearest",
                                                     seed=3),
    metrics.IoU: lambda: metrics.IoU(3, [0, 2], ignore_class=1),
    metrics.MeanIoU: lambda: metrics.MeanIoU(4, sparse_y_pred=False),
    metrics.OneHotIoU: lambda: metrics.OneHotIoU(3, [1]),
    metrics.OneHotMeanIoU: lambda: metrics.OneHotMeanIoU(3, sparse_y_pred=True),
    metrics.SensitivityAtSpecificity: lambda: metrics.SensitivityAtSpecificity(0.8, 50),
    metrics.SpecificityAtSensitivity: lambda: metrics.SpecificityAtSensitivity(0.4, class_id=1),
    metrics.PrecisionAtRecall: lambda: metrics.PrecisionAtRecall(0.5),
    metrics.RecallAtPrecision: lambda: metrics.RecallAtPrecision(0.9, dtype="float64"),
    optimizers.SGD: lambda: optimizers.SGD(0.1, momentum=0.9, nesterov=True, clipnorm=1.0),
    optimizers.Adam: lambda: optimizers.Adam(
        optimizers.schedules.ExponentialDecay(0.01, 100, 0.5), amsgrad=True),
    optimizers.LossScaleOptimizer: lambda: optimizers.LossScaleOptimizer(
        optimizers.SGD(0.1, momentum=0.5), initial_scale=128.0, dynamic_growth_steps=5),
    losses.LossFunctionWrapper: lambda: losses.LossFunctionWrapper(losses.huber, delta=2.0),
    metrics.MeanMetricWrapper: lambda: metrics.MeanMetricWrapper(metrics.binary_accuracy,
                                                                 threshold=0.2),
    metrics.AUC: lambda: metrics.AUC(curve="PR", thresholds=[0.3, 0.6]),
    initializers.Constant: lambda: initializers.Constant(0.5),
}
_BASES = (L.Layer, optimizers.Optimizer, losses.Loss, metrics.Metric, initializers.Initializer)


def _public_classes() -> list[tuple[str, type]]:
    """(family, class) for each class in the public modules' ``__all__``, aliases once."""
    found: dict[type, str] = {}
    for module, base in ((L, L.Layer), (optimizers, optimizers.Optimizer), (losses, losses.Loss),
                         (metrics, metrics.Metric), (initializers, initializers.Initializer),
                         (regularizers, regularizers.L1L2)):
        for name in module.__all__:
            cls = getattr(module, name)
            if inspect.isclass(cls) and issubclass(cls, base) and cls not in _BASES:
                found.setdefault(cls, module.__name__.rsplit(".", 1)[-1])
    return [(family, cls) for cls, family in found.items()]


def _make(cls: type):
    make = _MAKE.get(cls)
    if make is None and any(p.default is p.empty for p in constructor_parameters(cls)):
        pytest.fail(f"{cls.__name__} needs constructor arguments: add it to _MAKE")
    return make() if make is not None else cls()


_CLASSES = _public_classes()


@pytest.mark.parametrize("cls", [c for _, c in _CLASSES],
                         ids=[f"{family}.{c.__name__}" for family, c in _CLASSES])
def test_config_lists_every_argument_and_round_trips(cls):
    obj = _make(cls)
    config = obj.get_config()
    assert json.loads(json.dumps(config)) == config, "JSON-stable: lists, not tuples"
    expected = {p.name for p in constructor_parameters(cls)} - {
        "params", "input_shape", "input_dim", "activity_regularizer"}  # these: when given
    if issubclass(cls, L.Layer):
        expected |= {"name", "trainable", "dtype"}
        if hasattr(obj, "cell") and "cell" not in config:  # options passed to its cell
            expected |= {p.name for p in constructor_parameters(type(obj.cell))} - {
                "input_shape", "input_dim", "activity_regularizer"}
            # a layer that makes its cell (ConvLSTM2D over RNN) gives RNN's `cell` and the
            # cell's `rank` itself: they are the class's, not the user's
            expected -= {"cell", "rank"}
    assert expected - set(config) == set(), f"{cls.__name__}'s config leaves out arguments"
    clone = cls.from_config(json.loads(json.dumps(config)))
    assert type(clone) is cls and clone.get_config() == config


# -- defaults and the values in use ------------------------------------------------------------
def test_dense_config_holds_the_defaults():
    assert L.Dense(3, name="d").get_config() == {
        "units": 3, "activation": "linear", "use_bias": True,
        "kernel_initializer": "glorot_uniform", "bias_initializer": "zeros",
        "kernel_regularizer": None, "bias_regularizer": None, "kernel_constraint": None,
        "bias_constraint": None, "name": "d", "trainable": True, "dtype": "float32",
    }


# Keras 3's config keys, less those of options shenjing does not have (synchronized batch
# norm) and the activity_regularizer, which shenjing's configs list only when it is given.
_NOT_HERE = {"activity_regularizer", "synchronized"}
_BASE = {"name", "trainable", "dtype"}
_CONV = {"filters", "kernel_size", "strides", "padding", "data_format", "dilation_rate", "groups",
         "activation", "use_bias", "kernel_initializer", "bias_initializer",
         "kernel_regularizer", "bias_regularizer", "activity_regularizer", "kernel_constraint",
         "bias_constraint"}
_RNN = {"units", "activation", "use_bias", "kernel_initializer", "recurrent_initializer",
        "bias_initializer", "kernel_regularizer", "recurrent_regularizer", "bias_regularizer",
        "activity_regularizer", "kernel_constraint", "recurrent_constraint", "bias_constraint",
        "dropout", "recurrent_dropout", "seed", "return_sequences", "return_state",
        "go_backwards", "stateful", "unroll", "zero_output_for_mask"}
_KERAS_KEYS = [
    (lambda: L.Dense(3), _BASE | {"units", "activation", "use_bias", "kernel_initializer",
                                  "bias_initializer", "kernel_regularizer", "bias_regularizer",
                                  "kernel_constraint", "bias_constraint"}),
    (lambda: L.Conv2D(8, 3), _BASE | _CONV),
    (lambda: L.Conv1D(8, 3), _BASE | _CONV),
    (lambda: L.SimpleRNN(4), _BASE | _RNN),
    (lambda: L.LSTM(4), _BASE | _RNN | {"recurrent_activation", "unit_forget_bias"}),
    (lambda: L.GRU(4), _BASE | _RNN | {"recurrent_activation", "reset_after"}),
    (lambda: L.ConvLSTM2D(4, 3), _BASE | (_RNN - {"units"}) | (_CONV - {"groups"}) | {
        "recurrent_activation", "unit_forget_bias"}),  # (Keras 3.15's keys, read there)
    (lambda: L.BatchNormalization(), _BASE | {
        "axis", "momentum", "epsilon", "center", "scale", "beta_initializer",
        "gamma_initializer", "moving_mean_initializer", "moving_variance_initializer",
        "beta_regularizer", "gamma_regularizer", "beta_constraint", "gamma_constraint",
        "synchronized"}),
    (lambda: L.Dropout(0.5), _BASE | {"rate", "seed", "noise_shape"}),
    (lambda: L.Embedding(10, 4), _BASE | {"input_dim", "output_dim", "embeddings_initializer",
                                          "embeddings_regularizer", "activity_regularizer",
                                          "embeddings_constraint", "mask_zero"}),
    (lambda: L.MaxPooling2D(), _BASE | {"pool_size", "strides", "padding", "data_format"}),
    (lambda: L.GlobalAveragePooling2D(), _BASE | {"data_format", "keepdims"}),
    (lambda: L.TimeDistributed(L.Dense(2)), _BASE | {"layer"}),
    (lambda: L.Dot(1), _BASE | {"axes", "normalize"}),
    (lambda: L.Bidirectional(L.LSTM(2)), _BASE | {"layer", "backward_layer", "merge_mode"}),
    (lambda: optimizers.Adam(), {
        "name", "learning_rate", "weight_decay", "clipnorm", "global_clipnorm", "clipvalue",
        "use_ema", "ema_momentum", "ema_overwrite_frequency", "loss_scale_factor",
        "gradient_accumulation_steps", "beta_1", "beta_2", "epsilon", "amsgrad"}),
    (lambda: optimizers.Adafactor(), {
        "name", "learning_rate", "weight_decay", "clipnorm", "global_clipnorm", "clipvalue",
        "use_ema", "ema_momentum", "ema_overwrite_frequency", "loss_scale_factor",
        "gradient_accumulation_steps", "beta_2_decay", "epsilon_1", "epsilon_2",
        "clip_threshold", "relative_step"}),
    (lambda: optimizers.Ftrl(), {
        "name", "learning_rate", "weight_decay", "clipnorm", "global_clipnorm", "clipvalue",
        "use_ema", "ema_momentum", "ema_overwrite_frequency", "loss_scale_factor",
        "gradient_accumulation_steps", "learning_rate_power", "initial_accumulator_value",
        "l1_regularization_strength", "l2_regularization_strength",
        "l2_shrinkage_regularization_strength", "beta"}),
    (lambda: optimizers.Muon(), {
        "name", "learning_rate", "weight_decay", "clipnorm", "global_clipnorm", "clipvalue",
        "use_ema", "ema_momentum", "ema_overwrite_frequency", "loss_scale_factor",
        "gradient_accumulation_steps", "adam_beta_1", "adam_beta_2", "epsilon",
        "exclude_layers", "exclude_embeddings", "muon_a", "muon_b", "muon_c", "adam_lr_ratio",
        "momentum", "ns_steps", "nesterov"}),
    (lambda: optimizers.Lamb(), {
        "name", "learning_rate", "weight_decay", "clipnorm", "global_clipnorm", "clipvalue",
        "use_ema", "ema_momentum", "ema_overwrite_frequency", "loss_scale_factor",
        "gradient_accumulation_steps", "beta_1", "beta_2", "epsilon"}),
]


@pytest.mark.parametrize("make, keras_keys", _KERAS_KEYS,
                         ids=[type(m()).__name__ + str(i) for i, (m, _) in enumerate(_KERAS_KEYS)])
def test_config_keys_are_keras_3s(make, keras_keys):
    assert set(make().get_config()) == keras_keys - _NOT_HERE


def test_config_holds_the_values_in_use():
    conv = L.Conv2D(8, 3, padding="SAME").get_config()
    assert (conv["kernel_size"], conv["strides"], conv["dilation_rate"]) == ([3, 3], [1, 1],
                                                                            [1, 1])
    assert (conv["padding"], conv["data_format"], conv["activation"]) == (
        "same", "channels_last", "linear")
    assert L.MaxPooling2D(3).get_config()["strides"] == [3, 3]  # None: the pool size
    assert L.ZeroPadding2D(2).get_config()["padding"] == [[2, 2], [2, 2]]
    assert L.LSTM(2, activation=None).get_config()["activation"] == "linear"
    assert L.Dense(2, dtype="float64").get_config()["dtype"] == "float64"
    layer = L.Dense(2)
    layer.trainable = False
    assert layer.get_config()["trainable"] is False


def test_recurrent_config_holds_the_cells_options():
    lstm = L.LSTM(4, activation="relu", kernel_regularizer="l2", name="lstm")
    config = lstm.get_config()
    assert {k: config[k] for k in ("units", "activation", "recurrent_activation",
                                   "unit_forget_bias", "recurrent_initializer", "use_bias",
                                   "return_sequences", "dropout")} == {
        "units": 4, "activation": "relu", "recurrent_activation": "sigmoid",
        "unit_forget_bias": True, "recurrent_initializer": "orthogonal", "use_bias": True,
        "return_sequences": False, "dropout": 0.0}
    again = L.LSTM.from_config(config)
    assert again.cell.kernel_regularizer == "l2" and again.cell.activation == "relu"
    strip = ("name",)
    assert {k: v for k, v in again.cell.get_config().items() if k not in strip} == {
        k: v for k, v in lstm.cell.get_config().items() if k not in strip}


def test_bidirectional_config_holds_the_backward_layer():
    given = L.Bidirectional(L.LSTM(3, name="f"), backward_layer=L.LSTM(
        3, activation="relu", go_backwards=True, name="b"))
    config = given.get_config()
    assert config["backward_layer"]["config"]["activation"] == "relu"
    again = L.Bidirectional.from_config(json.loads(json.dumps(config)))
    assert again.backward_layer.cell.activation == "relu" and again.get_config() == config
    made = L.Bidirectional(L.GRU(3, name="g")).get_config()
    assert made["backward_layer"]["config"]["name"] == "backward_g"
    assert made["backward_layer"]["config"]["go_backwards"] is True


def test_custom_layer_config_lists_its_defaults():
    class Scale(L.Layer):
        def __init__(self, factor=2.0, bias=None, table=(1, 2), **kwargs):
            super().__init__(**kwargs)
            self.factor = factor
            self.table = np.asarray(table)  # no JSON data: the argument is saved instead

        def call(self, x):
            return x * self.factor

    config = Scale(name="s").get_config()
    assert config == {"factor": 2.0, "bias": None, "table": [1, 2], "name": "s",
                      "trainable": True, "dtype": "float32"}
    assert Scale.from_config(config).get_config() == config


# -- saving ----------------------------------------------------------------------------------
def _read_config(path) -> dict:
    with zipfile.ZipFile(path) as z:
        return json.loads(z.read("config.json"))


def _write_config(path, config: dict) -> None:
    """Replace the file's config.json, keeping its other members."""
    with zipfile.ZipFile(path) as z:
        members = {name: z.read(name) for name in z.namelist()}
    members["config.json"] = json.dumps(config).encode()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
    path.write_bytes(buf.getvalue())


def _sequential():
    return Sequential([L.Input((6, 3)), L.Conv1D(4, 3, padding="same", activation="relu"),
                       L.Bidirectional(L.LSTM(3, return_sequences=True)),
                       L.TimeDistributed(L.Dense(2)), L.BatchNormalization(),
                       L.Dropout(0.1, seed=1), L.Flatten(), L.Dense(3, activation="softmax")])


def _functional():
    ids = L.Input((5,), dtype="int64")
    x = L.Embedding(12, 4, mask_zero=True)(ids)
    x = L.GRU(3, return_sequences=True)(x)
    x = L.GlobalAveragePooling1D()(x)
    return Model(ids, L.Dense(3, activation="softmax")(x))


@pytest.mark.parametrize("build", [_sequential, _functional])
def test_saved_load_saved_again_gives_the_same_config(build, tmp_path):
    rng = np.random.default_rng(0)
    model = build()
    x = rng.integers(1, 12, (8, 5)) if build is _functional else rng.standard_normal((8, 6, 3))
    y = rng.integers(0, 3, 8)
    model.compile(optimizer=optimizers.Adam(1e-3, clipnorm=1.0),
                  loss=losses.SparseCategoricalCrossentropy(),
                  metrics=["accuracy", metrics.SparseTopKCategoricalAccuracy(k=2)])
    model.fit(x, y, epochs=1, batch_size=4, verbose=0)
    model.save(tmp_path / "a.shenjing")
    first = _read_config(tmp_path / "a.shenjing")
    load_model(tmp_path / "a.shenjing").save(tmp_path / "b.shenjing")
    assert _read_config(tmp_path / "b.shenjing") == first
    # the file holds full configs: the defaults are written out
    saved = first["model"]["config"]
    assert saved["dtype"] == "float32"
    dense = saved["layers"][-1]["config"]
    assert (dense["use_bias"], dense["kernel_initializer"], dense["dtype"]) == (
        True, "glorot_uniform", "float32")
    assert first["compile"]["optimizer"]["config"]["beta_2"] == 0.999


# The config that shenjing wrote before configs were complete: only the arguments given.
_OLD_CONFIG = {
    "name": "old", "trainable": True,
    "layers": [
        {"class_name": "Conv1D", "config": {"filters": 4, "kernel_size": 2, "activation": "relu",
                                            "name": "conv", "trainable": True}},
        {"class_name": "Bidirectional", "config": {
            "layer": {"class_name": "LSTM", "config": {"units": 3, "name": "lstm",
                                                       "trainable": True}},
            "name": "bi", "trainable": True}},
        {"class_name": "Dense", "config": {"units": 2, "activation": "softmax", "name": "out",
                                           "trainable": True}},
    ],
    "input": {"shape": [None, 5, 3], "dtype": "float32"},
}


def test_a_file_with_the_old_partial_configs_loads(tmp_path):
    model = Sequential([L.Input((5, 3)), L.Conv1D(4, 2, activation="relu", name="conv"),
                        L.Bidirectional(L.LSTM(3, name="lstm"), name="bi"),
                        L.Dense(2, activation="softmax", name="out")], name="old")
    x = np.random.default_rng(1).standard_normal((6, 5, 3)).astype(np.float32)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(x, np.arange(6) % 2, epochs=1, batch_size=3, verbose=0)
    path = tmp_path / "old.shenjing"
    model.save(path)
    config = _read_config(path)
    config["model"]["config"] = _OLD_CONFIG
    _write_config(path, config)

    loaded = load_model(path)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    # the missing arguments took their defaults, and the config lists them now
    assert loaded.get_config() == model.get_config()
    out = loaded.layers[-1].get_config()
    assert (out["use_bias"], out["bias_initializer"], out["dtype"]) == (True, "zeros", "float32")
    backward = loaded.layers[1].get_config()["backward_layer"]["config"]
    assert (backward["name"], backward["go_backwards"]) == ("backward_lstm", True)
    assert loaded.optimizer.iterations == model.optimizer.iterations
    loaded.save(tmp_path / "again.shenjing")
    assert _read_config(tmp_path / "again.shenjing")["model"] == {
        "module": "shenjing.models.sequential", "class_name": "Sequential",
        "config": model.get_config()}
