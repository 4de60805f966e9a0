"""The Layer base class: lazy build, Keras default names, tracking of weights and child layers by
assignment, freezing, configs, shape errors, forward hooks, Keras defaults, activations by name,
and the shapes that symbolic ``Input`` tensors infer."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

import shenjing
from shenjing import Tensor, activations, initializers
from shenjing import layers as L
from shenjing.layers import layer as layer_module


@pytest.fixture
def fresh_names(monkeypatch):
    """Default names count from zero, as in a new Keras session."""
    monkeypatch.setattr(layer_module, "_name_counts", {})


# -- build ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("make, x_shape, shapes", [
    (lambda: L.Dense(3), (2, 4), {"kernel": (4, 3), "bias": (3,)}),
    (lambda: L.Dense(3), (2, 6, 5), {"kernel": (5, 3), "bias": (3,)}),
    (lambda: L.Conv2D(8, (3, 2)), (1, 5, 5, 3), {"kernel": (3, 2, 3, 8), "bias": (8,)}),
    (lambda: L.BatchNormalization(), (4, 6, 6, 3), {"gamma": (3,), "beta": (3,),
                                                     "moving_mean": (3,),
                                                     "moving_variance": (3,)}),
    (lambda: L.LayerNormalization(axis=(1, 2)), (2, 3, 4), {"gamma": (3, 4), "beta": (3, 4)}),
    (lambda: L.Embedding(7, 5), (2, 3), {"embeddings": (7, 5)}),
])
def test_build_on_first_call_creates_weights_of_the_right_shapes(make, x_shape, shapes):
    layer = make()
    assert not layer.built and layer.weights == []
    x = np.zeros(x_shape, dtype=np.int64 if isinstance(layer, L.Embedding) else np.float32)
    layer(x)
    assert layer.built
    assert {p.name: p.shape for p in layer.weights} == shapes
    for name, shape in shapes.items():
        assert getattr(layer, name).shape == shape


def test_build_happens_once():
    layer = L.Dense(3)
    layer(np.ones((2, 4)))
    kernel = layer.kernel
    layer(np.ones((5, 4)))
    assert layer.kernel is kernel and len(layer.weights) == 2


def test_input_shape_argument_is_kept_for_an_eager_build():
    layer = L.Dense(3, input_shape=(4,))
    assert layer.batch_input_shape == (None, 4)
    assert L.Dense(3, input_dim=6).batch_input_shape == (None, 6)


# -- names ---------------------------------------------------------------------------------------
def test_default_names_are_keras_names(fresh_names):
    names = [L.Dense(2).name, L.Dense(2).name, L.Conv2D(2, 3).name, L.MaxPooling2D().name,
             L.MaxPool2D().name, L.AveragePooling2D().name, L.GlobalAveragePooling2D().name,
             L.BatchNormalization().name, L.LayerNormalization().name, L.Embedding(3, 2).name,
             L.Dropout(0.1).name, L.Conv2D(2, 3).name, L.Dense(2).name]
    assert names == ["dense", "dense_1", "conv2d", "max_pooling2d", "max_pooling2d_1",
                     "average_pooling2d", "global_average_pooling2d", "batch_normalization",
                     "layer_normalization", "embedding", "dropout", "conv2d_1", "dense_2"]


def test_explicit_name_is_kept(fresh_names):
    assert L.Dense(2, name="head").name == "head"
    assert L.Dense(2).name == "dense"


def test_unknown_constructor_argument_raises():
    with pytest.raises(TypeError, match="unitz"):
        L.Dense(2, unitz=3)


# -- tracking ------------------------------------------------------------------------------------
class _Block(L.Layer):
    """Two Dense children, a batch norm child, and a Parameter assigned directly."""

    def __init__(self, hidden: int = 5, **kwargs):
        super().__init__(**kwargs)
        self.hidden = hidden
        self.first = L.Dense(hidden, activation="relu")
        self.norm = L.BatchNormalization()
        self.second = L.Dense(2)
        self.scale = L.Parameter(np.full(2, 0.5, np.float32), name="scale")

    def call(self, x, training=False):
        return self.second(self.norm(self.first(x), training=training)) * self.scale


def test_child_layers_and_parameters_are_tracked_by_assignment():
    block = _Block()
    assert block.layers == [block.first, block.norm, block.second]
    assert block.weights == [block.scale]  # the children are not built yet
    block(np.ones((3, 4)))
    names = sorted(p.name for p in block.weights)
    assert names == sorted(["scale", "kernel", "bias", "gamma", "beta", "moving_mean",
                            "moving_variance", "kernel", "bias"])
    assert len(block.trainable_weights) == 7
    assert {p.name for p in block.non_trainable_weights} == {"moving_mean", "moving_variance"}
    # layer by layer in creation order (Keras 3), whatever is trainable
    in_order = [block.scale, *block.first.weights, *block.norm.weights, *block.second.weights]
    assert [id(p) for p in block.weights] == [id(p) for p in in_order]
    assert block.count_params() == 2 + (4 * 5 + 5) + 4 * 5 + (5 * 2 + 2)


def test_training_a_custom_layer_reaches_every_trainable_weight():
    block = _Block()
    y = block(np.random.default_rng(0).standard_normal((6, 4)), training=True)
    (y * y).sum().backward()
    assert all(p.grad is not None for p in block.trainable_weights)
    assert all(p.grad is None for p in block.non_trainable_weights)


def test_assigning_none_untracks():
    block = _Block()
    block.second = None
    block.scale = None
    assert block.layers == [block.first, block.norm] and block.weights == []


def test_a_weight_is_counted_once_however_it_is_reached():
    shared = L.Dense(2)

    class Twice(L.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.a, self.b = shared, shared

        def call(self, x):
            return self.b(self.a(x))

    twice = Twice()
    twice(np.ones((1, 2)))
    assert len(twice.weights) == 2


# -- freezing ------------------------------------------------------------------------------------
def test_trainable_false_freezes_and_true_unfreezes():
    layer = L.Dense(3)
    x = Tensor(np.ones((2, 4), np.float32), requires_grad=True)
    layer(x).sum().backward()
    layer.trainable = False
    assert layer.trainable_weights == [] and len(layer.non_trainable_weights) == 2
    assert not any(p.requires_grad for p in layer.weights)
    assert all(p.grad is None for p in layer.weights)
    x.grad = None
    layer(x).sum().backward()
    assert x.grad is not None  # gradients still flow through a frozen layer
    assert all(p.grad is None for p in layer.weights)
    layer.trainable = True
    assert len(layer.trainable_weights) == 2 and all(p.requires_grad for p in layer.weights)


def test_unfreezing_keeps_batch_norm_statistics_non_trainable():
    block = _Block()
    block(np.ones((3, 4)))
    block.trainable = False
    assert block.trainable_weights == [] and len(block.non_trainable_weights) == 9
    assert not block.first.trainable and not block.norm.trainable
    block.trainable = True
    assert {p.name for p in block.non_trainable_weights} == {"moving_mean", "moving_variance"}
    assert len(block.trainable_weights) == 7


def test_frozen_constructor_argument_freezes_children_and_later_weights():
    block = _Block(trainable=False)
    block(np.ones((3, 4)))
    assert block.trainable_weights == [] and len(block.non_trainable_weights) == 9
    dense = L.Dense(2, trainable=False)
    dense(np.ones((1, 3)))
    assert dense.trainable_weights == []


def test_a_list_of_child_layers_is_tracked_and_frozen_with_its_parent():
    class Stack(L.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.blocks = [L.Dense(3), L.Dense(2)]

        def call(self, x):
            for block in self.blocks:
                x = block(x)
            return x

    stack = Stack(trainable=False)
    stack(np.ones((1, 4)))
    assert stack.layers == stack.blocks
    assert stack.trainable_weights == [] and len(stack.non_trainable_weights) == 4
    stack.trainable = True
    assert len(stack.trainable_weights) == 4


def test_unfreezing_keeps_a_non_trainable_parameter_non_trainable():
    class Counter(L.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.count = L.Parameter(np.zeros(()), trainable=False, name="count")
            self.weight = L.Parameter(np.ones(()), name="weight")

        def call(self, x):
            return x * self.weight

    layer = Counter()
    layer.trainable = False
    layer.trainable = True
    assert [p.name for p in layer.trainable_weights] == ["weight"]
    assert [p.name for p in layer.non_trainable_weights] == ["count"]


def test_frozen_batch_norm_runs_in_inference_mode():
    bn = L.BatchNormalization(trainable=False)
    x = np.random.default_rng(0).standard_normal((8, 3)).astype(np.float32) + 5
    y = bn(x, training=True)
    np.testing.assert_array_equal(bn.moving_mean.numpy(), np.zeros(3))
    np.testing.assert_allclose(y.numpy(), x / np.sqrt(1 + 1e-3), rtol=1e-6)


# -- config --------------------------------------------------------------------------------------
def test_config_records_the_constructor_arguments():
    dense = L.Dense(3, activation=shenjing.F.relu,
                    kernel_initializer=initializers.GlorotUniform(seed=2),
                    kernel_regularizer=shenjing.regularizers.L2(0.1), input_shape=(4,),
                    name="d")
    config = dense.get_config()
    assert config == {
        "units": 3, "activation": "relu", "use_bias": True,
        "kernel_initializer": {"class_name": "GlorotUniform", "config": {"seed": 2}},
        "bias_initializer": "zeros",
        "kernel_regularizer": {"class_name": "L2", "config": {"l2": 0.1}},
        "bias_regularizer": None, "kernel_constraint": None, "bias_constraint": None,
        "input_shape": [4], "name": "d", "trainable": True, "dtype": "float32",
    }
    json.dumps(config)


def test_config_of_a_custom_layer_round_trips():
    block = _Block(hidden=7, name="block", trainable=False)
    config = block.get_config()
    assert config == {"hidden": 7, "name": "block", "trainable": False, "dtype": "float32"}
    clone = _Block.from_config(json.loads(json.dumps(config)))
    assert clone.hidden == 7 and not clone.trainable and clone.get_config() == config


def test_overridden_config_gets_only_what_the_base_knows():
    """Keras 3's guide pattern: the subclass lists its own arguments, the base the rest."""

    class Linear(L.Layer):
        def __init__(self, units=32, **kwargs):
            super().__init__(**kwargs)
            self.units = units

        def get_config(self):
            return dict(units=self.units, **super().get_config())

    class ScaledDense(L.Dense):
        def __init__(self, units, scale=1.0, **kwargs):
            super().__init__(units, **kwargs)
            self.scale = scale

        def get_config(self):
            return dict(scale=self.scale, **super().get_config())

    class Net(shenjing.Model):
        def __init__(self, hidden=3, **kwargs):
            super().__init__(**kwargs)
            self.hidden = hidden
            self.dense = L.Dense(hidden)

        def call(self, x):
            return self.dense(x)

        def get_config(self):
            return dict(hidden=self.hidden, **super().get_config())

    config = Linear(4, name="lin").get_config()
    assert config == {"units": 4, "name": "lin", "trainable": True, "dtype": "float32"}
    assert Linear.from_config(config).units == 4
    config = ScaledDense(3, scale=2.0, activation="relu", name="sd").get_config()
    assert config == {**L.Dense(3, activation="relu", name="sd").get_config(), "scale": 2.0}
    clone = ScaledDense.from_config(json.loads(json.dumps(config)))
    assert (clone.units, clone.scale, clone.activation) == (3, 2.0, shenjing.F.relu)
    config = Net(5, name="net").get_config()
    assert config == {"hidden": 5, "name": "net", "trainable": True, "dtype": "float32"}
    assert Net.from_config(config).hidden == 5


def test_config_of_a_custom_activation_cannot_be_saved():
    with pytest.raises(ValueError, match="cannot be serialized"):
        L.Activation(lambda t: t * 2).get_config()


def test_set_weights_checks_the_count_and_shapes():
    layer = L.Dense(3)
    layer(np.ones((1, 4)))
    with pytest.raises(ValueError, match="2 weights, got 1"):
        layer.set_weights([np.zeros((4, 3))])
    with pytest.raises(ValueError, match="shape"):
        layer.set_weights([np.zeros((3, 4)), np.zeros(3)])


# -- shape errors --------------------------------------------------------------------------------
@pytest.mark.parametrize("make, build_shape, bad_shape, expected", [
    (lambda: L.Dense(3, name="d4"), (2, 4), (2, 5), "size 4"),
    (lambda: L.Dense(3, name="d4"), None, (3,), "at least 2 axes"),
    (lambda: L.Dense(3, name="d4"), (2, 4), (4,), "at least 2 axes"),
    (lambda: L.Conv2D(2, 3, name="c3"), (1, 5, 5, 3), (1, 5, 5, 1), "size 3"),
    (lambda: L.Conv2D(2, 3, name="c3"), None, (5, 5, 3), "4 axes"),
    (lambda: L.MaxPooling2D(name="p"), (1, 4, 4, 1), (4, 4, 1), "4 axes"),
    (lambda: L.BatchNormalization(name="bn"), (4, 3), (4, 2), "size 3"),
    (lambda: L.LayerNormalization(name="ln"), (2, 4), (2, 5), "size 4"),
    (lambda: L.Perceptron(name="pc"), (2, 3), (2, 2), "size 3"),
])
def test_shape_error_names_layer_expected_and_actual_shape(make, build_shape, bad_shape,
                                                           expected):
    layer = make()
    if build_shape is not None:
        layer(np.ones(build_shape))
    with pytest.raises(ValueError) as info:
        layer(np.ones(bad_shape))
    message = str(info.value)
    assert f"'{layer.name}'" in message and type(layer).__name__ in message
    assert expected in message
    assert str(bad_shape) in message


# -- training mode -------------------------------------------------------------------------------
class _Wrapper(L.Layer):
    """Calls its child without passing ``training``: the child inherits the caller's mode."""

    def __init__(self, inner, **kwargs):
        super().__init__(**kwargs)
        self.inner = inner

    def call(self, x):
        return self.inner(x)


def _moving_stats(bn):
    return bn.moving_mean.numpy().copy(), bn.moving_variance.numpy().copy()


def test_fit_trains_a_batch_norm_inside_a_custom_layer():
    x = np.random.default_rng(0).standard_normal((8, 3)).astype(np.float32) * 2 + 1
    bn = L.BatchNormalization(momentum=0.9)
    model = shenjing.Sequential([L.Input((3,)), _Wrapper(bn)])
    model.compile(optimizer="sgd", loss="mse")
    model.fit(x, np.zeros_like(x), batch_size=8, epochs=1, shuffle=False, verbose=0)
    mean, var = _moving_stats(bn)  # one step of moving = moving * m + batch * (1 - m)
    np.testing.assert_allclose(mean, 0.1 * x.mean(0), rtol=1e-5)
    np.testing.assert_allclose(var, 0.9 + 0.1 * x.var(0), rtol=1e-5)
    model(x)
    model.predict(x, verbose=0)
    model(x, training=False)
    for got, want in zip(_moving_stats(bn), (mean, var)):
        np.testing.assert_array_equal(got, want)


def test_a_dropout_inside_a_custom_layer_drops_in_fit_not_in_predict():
    x = np.ones((16, 10), np.float32)
    dropout = L.Dropout(0.5, seed=0)
    seen = []
    dropout.register_forward_hook(lambda layer, inputs, outputs: seen.append(outputs.numpy()))
    model = shenjing.Sequential([L.Input((10,)), _Wrapper(dropout), L.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    model.fit(x, np.zeros((16, 1)), batch_size=16, epochs=1, verbose=0)
    assert set(np.unique(seen[-1])) == {0.0, 2.0}
    model.predict(x, verbose=0)
    np.testing.assert_array_equal(seen[-1], x)


def test_an_explicit_training_value_wins_over_the_enclosing_one():
    class Frozen(L.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.bn = L.BatchNormalization()
            self.part = _Wrapper(self.bn)

        def call(self, x):
            return self.part(x, training=False)

    frozen = Frozen()
    x = np.arange(12, dtype=np.float32).reshape(4, 3)
    frozen(x, training=True)
    np.testing.assert_array_equal(frozen.bn.moving_mean.numpy(), np.zeros(3))
    outer = _Wrapper(_Wrapper(frozen.bn))
    outer(x, training=True)
    np.testing.assert_allclose(frozen.bn.moving_mean.numpy(), 0.01 * x.mean(0), rtol=1e-5)


def test_the_training_mode_is_restored_after_an_exception():
    class Failing(L.Layer):
        def call(self, x):
            raise RuntimeError("boom")

    bn = L.BatchNormalization()
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    with pytest.raises(RuntimeError, match="boom"):
        Failing()(x, training=True)
    _Wrapper(bn)(x)
    np.testing.assert_array_equal(bn.moving_mean.numpy(), np.zeros(3))


# -- forward hooks -------------------------------------------------------------------------------
def test_forward_hooks_see_each_output_and_the_remover_removes():
    stack = [L.Dense(4, activation="relu"), L.BatchNormalization(), L.Dense(2)]
    seen = []
    removers = [layer.register_forward_hook(
        lambda layer, inputs, outputs: seen.append((layer.name, inputs, outputs)))
        for layer in stack]
    x = Tensor(np.ones((3, 5), np.float32))
    outputs = []
    for layer in stack:
        x = layer(x)
        outputs.append(x)
    assert [name for name, _, _ in seen] == [layer.name for layer in stack]
    assert all(out is expected for (_, _, out), expected in zip(seen, outputs))
    assert seen[1][1] is outputs[0]  # the hook sees the inputs too
    removers[1]()
    seen.clear()
    for layer in stack:
        x = layer(outputs[0] if layer is stack[1] else np.ones((3, 5 if layer is stack[0] else 4)))
    assert [name for name, _, _ in seen] == [stack[0].name, stack[2].name]


# -- Keras defaults ------------------------------------------------------------------------------
@pytest.mark.parametrize("make, x_shape, fan_in, fan_out", [
    (lambda: L.Dense(300), (1, 200), 200, 300),
    (lambda: L.Conv2D(32, 3), (1, 5, 5, 16), 9 * 16, 9 * 32),
])
def test_kernels_default_to_glorot_uniform_and_biases_to_zeros(make, x_shape, fan_in, fan_out):
    layer = make()
    layer(np.zeros(x_shape, np.float32))
    limit = math.sqrt(6 / (fan_in + fan_out))
    kernel = layer.kernel.numpy()
    assert np.abs(kernel).max() <= limit
    assert np.abs(kernel).max() > 0.95 * limit
    assert abs(kernel.mean()) < 0.05 * limit
    np.testing.assert_allclose(kernel.std(), limit / math.sqrt(3), rtol=0.05)
    np.testing.assert_array_equal(layer.bias.numpy(), 0.0)


def test_batch_norm_defaults_are_keras_defaults():
    bn = L.BatchNormalization()
    assert (bn.momentum, bn.epsilon) == (0.99, 1e-3)
    x = np.random.default_rng(0).standard_normal((16, 3)).astype(np.float32) * 2 + 1
    bn(x, training=True)
    np.testing.assert_allclose(bn.moving_mean.numpy(), 0.01 * x.mean(0), rtol=1e-5)
    np.testing.assert_allclose(bn.moving_variance.numpy(), 0.99 + 0.01 * x.var(0), rtol=1e-5)
    np.testing.assert_array_equal(bn.gamma.numpy(), 1.0)
    np.testing.assert_array_equal(bn.beta.numpy(), 0.0)


def test_layer_norm_default_epsilon_is_keras_epsilon():
    ln = L.LayerNormalization()
    assert ln.epsilon == 1e-3
    x = np.array([[0.0, 0.02, 0.04, 0.06]], np.float32)  # variance 5e-4: epsilon matters
    expected = (x - x.mean()) / np.sqrt(x.var() + 1e-3)
    np.testing.assert_allclose(ln(x).numpy(), expected, rtol=1e-5)


def test_embedding_defaults_to_uniform_within_five_hundredths():
    emb = L.Embedding(1000, 64)
    emb(np.zeros((1, 1), np.int64))
    table = emb.embeddings.numpy()
    assert np.abs(table).max() <= 0.05 and np.abs(table).max() > 0.049
    np.testing.assert_allclose(table.std(), 0.1 / math.sqrt(12), rtol=0.02)


# -- activations by name -------------------------------------------------------------------------
_SELU_ALPHA, _SELU_SCALE = 1.6732632423543772, 1.0507009873554805


def _softmax(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


_REFERENCE = {
    "relu": lambda x: np.maximum(x, 0),
    "sigmoid": lambda x: 1 / (1 + np.exp(-x)),
    "tanh": np.tanh,
    "softmax": _softmax,
    "log_softmax": lambda x: np.log(_softmax(x)),
    "elu": lambda x: np.where(x > 0, x, np.expm1(x)),
    "selu": lambda x: _SELU_SCALE * np.where(x > 0, x, _SELU_ALPHA * np.expm1(x)),
    "gelu": lambda x: x * 0.5 * (1 + np.vectorize(math.erf)(x / math.sqrt(2))),
    "softplus": lambda x: np.log1p(np.exp(x)),
    "silu": lambda x: x / (1 + np.exp(-x)),
    "leaky_relu": lambda x: np.where(x > 0, x, 0.2 * x),  # Keras's slope 0.2
    "linear": lambda x: x,
}


@pytest.mark.parametrize("name", sorted(_REFERENCE))
def test_activation_by_name_computes_the_named_function(name):
    x = np.random.default_rng(0).standard_normal((3, 5)).astype(np.float32) * 2
    expected = _REFERENCE[name](x.astype(np.float64))
    np.testing.assert_allclose(L.Activation(name)(x).numpy(), expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(L.Activation(name.upper())(x).numpy(), expected, rtol=1e-5,
                               atol=1e-6)
    assert L.Dense(2, activation=name).activation is activations.get(name)


def test_activation_none_is_linear():
    assert L.Dense(2).activation is activations.linear


@pytest.mark.parametrize("make", [lambda: L.Activation("relux"),
                                  lambda: L.Dense(2, activation="nope"),
                                  lambda: L.Conv2D(2, 3, activation="nope")])
def test_unknown_activation_name_raises(make):
    with pytest.raises(ValueError, match="unknown activation"):
        make()


# -- symbolic inputs -----------------------------------------------------------------------------
@pytest.mark.parametrize("input_shape, make, expected", [
    ((8,), lambda: L.Dense(4), (None, 4)),
    ((None, 5), lambda: L.Dense(3), (None, None, 3)),
    ((None,), lambda: L.Embedding(10, 4), (None, None, 4)),
    ((12, 12, 3), lambda: L.Conv2D(8, 3, strides=2, padding="same"), (None, 6, 6, 8)),
    ((None, None, 3), lambda: L.Conv2D(8, 3), (None, None, None, 8)),
    ((6, 6, 2), lambda: L.MaxPooling2D(), (None, 3, 3, 2)),
    ((None, None, 2), lambda: L.MaxPooling2D(), (None, None, None, 2)),
    ((None, None, 2), lambda: L.Conv2D(4, 2, strides=2), (None, None, None, 4)),
    ((4, 5), lambda: L.Flatten(), (None, 20)),
    ((None, 5), lambda: L.LayerNormalization(), (None, None, 5)),
])
def test_symbolic_input_infers_the_output_shape(input_shape, make, expected):
    x = shenjing.Input(input_shape)
    assert x.shape == (None, *input_shape)
    layer = make()
    y = layer(x)
    assert isinstance(y, L.SymbolicTensor)
    assert y.shape == expected
    assert y.layer is layer and y.inputs is x and layer.built


def test_symbolic_dense_builds_for_the_input_features():
    dense = L.Dense(4)
    y = L.Dense(2)(dense(shenjing.Input((8,))))
    assert dense.kernel.shape == (8, 4) and y.shape == (None, 2)


def test_symbolic_call_leaves_batch_norm_statistics_alone():
    bn = L.BatchNormalization()
    bn(shenjing.Input((3,)))
    np.testing.assert_array_equal(bn.moving_mean.numpy(), 0.0)
    np.testing.assert_array_equal(bn.moving_variance.numpy(), 1.0)


def test_symbolic_merge_infers_the_output_shape():
    a, b = shenjing.Input((None, 3)), shenjing.Input((None, 5))
    assert L.Concatenate()([a, b]).shape == (None, None, 8)
    assert L.Add()([a, a]).shape == (None, None, 3)


@pytest.mark.parametrize("make, shape, x", [
    (lambda: L.Dense(3), (None, 5), np.ones((2, 5), np.float32)),
    (lambda: L.LSTM(4), (None, 3, 5), np.ones((2, 3, 5), np.float32)),
    (lambda: L.BatchNormalization(), (None, 5), np.ones((2, 5), np.float32)),
    (lambda: L.Embedding(10, 4), (None, 3), np.array([[1, 2, 3]])),
    (lambda: L.Conv2D(2, 3), (None, 6, 6, 1), np.ones((1, 6, 6, 1), np.float32)),
], ids=["Dense", "LSTM", "BatchNormalization", "Embedding", "Conv2D"])
def test_explicit_build_marks_built_and_keeps_assigned_weights(make, shape, x):
    # Keras: layer.build(shape); layer.set_weights(w); layer(x) uses w (no second build).
    layer = make()
    layer.build(shape)
    assert layer.built
    rng = np.random.default_rng(0)
    # positive, so that a batch norm's moving variance is a variance
    values = [rng.uniform(0.1, 1.0, w.shape).astype(np.float32) for w in layer.get_weights()]
    layer.set_weights(values)
    layer(x)
    for got, want in zip(layer.get_weights(), values):
        np.testing.assert_array_equal(got, want)


def test_explicit_build_then_call_computes_with_assigned_weights():
    layer = L.Dense(3)
    layer.build((None, 5))
    w = np.arange(15, dtype=np.float32).reshape(5, 3) / 10
    b = np.array([1.0, -1.0, 0.5], np.float32)
    layer.set_weights([w, b])
    x = np.linspace(-1, 1, 10, dtype=np.float32).reshape(2, 5)
    np.testing.assert_allclose(layer(x).numpy(), x @ w + b, rtol=1e-6)


def test_freezing_does_not_reorder_weights_or_break_weight_files(tmp_path):
    # the audit's case: save_weights, freeze a layer of a fresh copy, load_weights
    def make():
        return shenjing.Sequential([shenjing.Input((3,)), L.Dense(3), L.BatchNormalization(),
                                    L.Dense(3), L.Dense(2)])

    x = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)
    model = make()
    model.layers[1].set_weights([np.full(3, 0.5, np.float32), np.ones(3, np.float32) * 0.1,
                                 np.full(3, 0.2, np.float32), np.full(3, 2.0, np.float32)])
    before = [id(p) for p in model.weights]
    model.layers[0].trainable = False
    assert [id(p) for p in model.weights] == before
    model.layers[0].trainable = True
    model.save_weights(tmp_path / "w.safetensors")
    copy = make()
    copy.layers[0].trainable = False
    copy.load_weights(tmp_path / "w.safetensors")
    np.testing.assert_array_equal(copy.predict(x, verbose=0), model.predict(x, verbose=0))
    for got, want in zip(copy.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(got, want)


# -- add_weight as Keras 3 has it, and the Keras Variable updates --------------------------------
class _KerasLinear(L.Layer):
    """The Linear layer of Keras 3's subclassing guide, verbatim but for its import."""

    def __init__(self, units=32):
        super().__init__()
        self.units = units

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1], self.units), initializer="random_normal",
                                 trainable=True)
        self.b = self.add_weight(shape=(self.units,), initializer="zeros", trainable=True)

    def call(self, inputs):
        return inputs @ self.w + self.b


def test_add_weight_takes_keras_3_arguments_and_names_itself():
    layer = _KerasLinear(4)
    x = np.random.default_rng(0).standard_normal((3, 2)).astype(np.float32)
    y = layer(x)
    assert layer.weights == [layer.w, layer.b] and [p.name for p in layer.weights] == [
        "variable", "variable_1"]
    np.testing.assert_allclose(y.numpy(), x @ layer.w.numpy(), rtol=1e-6)
    assert layer.w.std() < 0.2 and np.all(layer.b.numpy() == 0)  # random_normal: stddev 0.05
    # positional order is Keras 3's: shape, initializer, dtype, trainable
    p = layer.add_weight((2,), "ones", "float64", False, name="extra")
    assert (p.shape, p.dtype, p.trainable, p.numpy().tolist()) == ((2,), np.float64, False,
                                                                   [1.0, 1.0])
    default = layer.add_weight()  # shape () and glorot_uniform, as Keras
    assert default.shape == () and default.name == "variable_2"
    assert layer.add_weight(dtype="int32").numpy() == 0  # integers start at zeros
    clipped = layer.add_weight((2,), constraint=lambda w: w.clip(-0.1, 0.1))
    assert clipped.constraint(np.array([5.0, -5.0])).tolist() == [0.1, -0.1]
    # Keras 2's order (name first) says what to write, not that (2,) is no initializer
    with pytest.raises(TypeError, match="shape first.*name='kernel'"):
        layer.add_weight("kernel", (2,))


def test_assign_add_and_assign_sub_update_in_place():
    # ComputeSum of Keras's guide: a non-trainable running total
    total = L.Layer().add_weight(shape=(2,), initializer="zeros", trainable=False)
    assert total.assign_add(np.ones((2,), np.float32)) is total
    total.assign_add(Tensor(np.array([1.0, 3.0], np.float32)))
    total.assign_sub(0.5)
    np.testing.assert_array_equal(total.numpy(), [1.5, 3.5])
    np.testing.assert_array_equal(total.value.numpy(), [1.5, 3.5])
    with pytest.raises(ValueError, match=r"shape \(3,\) to parameter 'variable' of shape \(2,\)"):
        total.assign_add(np.ones(3))


def test_a_repeated_weight_name_keeps_both_weights():
    layer = L.Layer()
    first, second = (layer.add_weight((2,), "ones", name="scale") for _ in range(2))
    assert layer.weights == [first, second] and first.name == second.name == "scale"


# -- add_loss ------------------------------------------------------------------------------------
class _ActivityPenalty(L.Layer):
    """Keras's guide: rate * mean(inputs) added as a loss, the inputs passed through."""

    def __init__(self, rate=1e-2, **kwargs):
        super().__init__(**kwargs)
        self.rate = rate

    def call(self, inputs):
        self.add_loss(self.rate * inputs.mean())
        return inputs


class _Outer(L.Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.penalty = _ActivityPenalty(0.5)
        self.dense = L.Dense(2, kernel_regularizer="l2")

    def call(self, x):
        return self.penalty(self.dense(self.penalty(x)))


def test_add_loss_holds_the_last_forward_pass_of_the_outermost_call():
    layer = _Outer()
    assert layer.losses == []
    x = np.arange(6, dtype=np.float32).reshape(3, 2)
    y = layer(x)
    added, l2 = layer.losses[:2], layer.losses[2:]
    np.testing.assert_allclose([float(a) for a in added], [0.5 * x.mean(), 0.5 * y.numpy().mean()],
                               rtol=1e-6)  # the penalty layer called twice: two losses
    np.testing.assert_allclose(float(l2[0]), 0.01 * np.sum(layer.dense.kernel.numpy() ** 2),
                               rtol=1e-6)
    layer(x)
    assert len(layer.losses) == 3  # started afresh, not accumulated over calls
    inner = _ActivityPenalty()
    inner(L.Input((2,)))
    assert inner.losses == []  # a symbolic call's trial runs add nothing
    (layer.losses[0] + layer.losses[1]).backward()  # differentiable, through the Dense
    assert layer.dense.kernel.grad is not None


def test_add_loss_of_a_symbolic_tensor_says_where_losses_belong():
    """Keras 2's functional VAE (model.add_loss(kl) on symbolic tensors) is refused, as in
    Keras 3, with the remedy, instead of a float() TypeError about SymbolicTensor."""
    import shenjing as sj

    inputs = L.Input((3,))
    z = L.Dense(2)(inputs)
    model = sj.Model(inputs, z)
    with pytest.raises(ValueError, match=r"symbolic tensor.*in a layer's call\(\)"):
        model.add_loss(z)
    # keras.ops on it records an op node (tests/models/test_symbolic_ops.py); only asking
    # for its values is refused
    assert isinstance(sj.ops.mean(sj.ops.square(z)), L.SymbolicTensor)
    with pytest.raises(TypeError, match="symbolic tensor.*no values until the model runs"):
        sj.ops.convert_to_tensor(z)


@pytest.mark.parametrize("make, input_shape, expected", [
    (lambda: L.Conv2D(4, 3, strides=2), (None, 9, 9, 3), (None, 4, 4, 4)),
    (lambda: L.Conv2D(4, 3, padding="same"), (2, 9, 7, 3), (2, 9, 7, 4)),
    (lambda: L.Dense(5), (None, 7, 3), (None, 7, 5)),
    (lambda: L.Embedding(10, 4), (None, 6), (None, 6, 4)),
    (lambda: L.MaxPooling2D(), (None, 8, 6, 2), (None, 4, 3, 2)),
    (lambda: L.Flatten(), (None, 2, 3, 4), (None, 24)),
    (lambda: L.LSTM(5, return_sequences=True, return_state=True), (None, None, 3),
     [(None, None, 5), (None, 5), (None, 5)]),
    (lambda: L.Concatenate(), [(None, 3), (None, 4)], (None, 7)),
])
def test_compute_output_shape_of_built_in_layers(make, input_shape, expected):
    """Keras 3's public method, by a trial run on zeros (unknown sizes stay None) that leaves
    no trace in the functional API's records."""
    layer = make()
    assert layer.compute_output_shape(input_shape) == expected
    assert layer._first_node is None


@pytest.mark.parametrize("trainable", [True, False])
def test_attributes_set_before_super_init_are_kept_and_tracked(trainable):
    """A subclass may set lists, dicts and layers before calling ``super().__init__()`` (Keras
    takes it): an empty list once raised AttributeError ('_layers'); layers set then are
    tracked, and frozen by ``trainable=False``."""
    class Block(L.Layer):
        def __init__(self, **kwargs):
            self.history, self.table, self.sizes = [], {}, (3, 4)
            self.inner = [L.Dense(3)]
            super().__init__(**kwargs)

        def call(self, x):
            self.history.append(x.shape)
            return self.inner[0](x)

    block = Block(trainable=trainable)
    assert block(np.ones((2, 4), np.float32)).shape == (2, 3)
    assert block.history == [(2, 4)] and block.table == {} and block.sizes == (3, 4)
    assert len(block.weights) == 2 and len(block.trainable_weights) == (2 if trainable else 0)


def test_layers_in_lists_dicts_and_nested_containers_are_tracked_as_keras():
    """`self.blocks = []` then appends, a dict of heads, a list of lists: their layers' weights
    are the model's (trained, saved, counted), as Keras 3's tracked containers; a container of
    other things (a vocabulary) is not walked."""
    class M(shenjing.keras.Model):
        def __init__(self):
            super().__init__()
            self.blocks = []
            for _ in range(2):
                self.blocks.append(L.Dense(3))
            self.heads = {"a": L.Dense(3)}
            self.nested = [[L.Dense(3)]]
            self.words = ["a", "b"]
            self.out = L.Dense(1)

        def call(self, x):
            for block in self.blocks:
                x = block(x)
            return self.out(self.heads["a"](self.nested[0][0](x)))

    x = np.random.default_rng(0).random((6, 4)).astype(np.float32)
    m = M()
    m(x)
    assert len(m.weights) == 10 and len(m.layers) == 5
    m.compile("sgd", "mse")
    before = [w.numpy().copy() for w in m.weights]
    m.fit(x, np.ones((6, 1), np.float32), verbose=0)
    assert all(not np.array_equal(b, w.numpy()) for b, w in zip(before, m.weights))
    assert "words" not in m._layers  # a container of other things is not tracked
    m.blocks = None  # replaced: no longer tracked
    assert len(m.layers) == 3
