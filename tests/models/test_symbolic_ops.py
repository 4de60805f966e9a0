"""Ops on symbolic tensors in the functional API (Keras 3): ``x + inputs``, ``-x``, ``x[:, 0]``,
``ops.mean(x, axis=1)`` record op nodes (``OpLayer``) that the model runs on real Tensors,
differentiably, and that save and load by name."""

from __future__ import annotations

import numpy as np
import pytest

import shenjing as keras
from shenjing import Tensor, layers, ops


def _transformer_encoder(inputs, head_size, num_heads, ff_dim, dropout=0.0):
    """keras.io/examples/timeseries/timeseries_classification_transformer's block, verbatim."""
    x = layers.MultiHeadAttention(key_dim=head_size, num_heads=num_heads, dropout=dropout)(
        inputs, inputs)
    x = layers.Dropout(dropout)(x)
    res = x + inputs
    x = layers.LayerNormalization(epsilon=1e-6)(res)
    x = layers.Conv1D(filters=ff_dim, kernel_size=1, activation="relu")(x)
    x = layers.Dropout(dropout)(x)
    x = layers.Conv1D(filters=inputs.shape[-1], kernel_size=1)(x)
    x = layers.LayerNormalization(epsilon=1e-6)(x)
    return x + res


def test_transformer_encoder_block_trains_and_survives_save_load(rng, tmp_path):
    """The example's model (smaller; its GlobalAveragePooling1D in the default channels_last)
    learns a sine-or-noise task, and a saved and loaded copy predicts the same values."""
    t = np.linspace(0, 6, 16)
    y = rng.integers(0, 2, 64)
    x = (rng.normal(size=(64, 16)) * 0.3 + y[:, None] * np.sin(t))[..., None].astype("float32")

    inputs = keras.Input(shape=x.shape[1:])
    h = inputs
    for _ in range(2):
        h = _transformer_encoder(h, head_size=8, num_heads=2, ff_dim=4, dropout=0.1)
    h = layers.GlobalAveragePooling1D()(h)
    h = layers.Dense(16, activation="relu")(h)
    outputs = layers.Dense(2, activation="softmax")(h)
    model = keras.Model(inputs, outputs)
    model.compile(loss="sparse_categorical_crossentropy",
                  optimizer=keras.optimizers.Adam(learning_rate=1e-2),
                  metrics=["sparse_categorical_accuracy"])
    history = model.fit(x, y, batch_size=16, epochs=8, verbose=0)
    losses = history.history["loss"]
    assert losses[-1] < 0.7 * losses[0]

    model.save(tmp_path / "transformer.keras")
    loaded = keras.models.load_model(tmp_path / "transformer.keras")
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    assert [type(op).__name__ for op in loaded.graph.operations].count("OpLayer") == 4


_EXPRESSIONS = {
    "add": lambda x, y: x + y,
    "radd": lambda x, y: 1.5 + x,
    "sub_rsub": lambda x, y: (x - y) + (1 - x),
    "mul_rmul": lambda x, y: x * y * 2 + np.float32(3) * x,
    "div_rdiv": lambda x, y: x / 2 + 1 / (abs(y) + 1),
    "pow_rpow": lambda x, y: x ** 2 + 2 ** y,
    "neg_abs": lambda x, y: -x + abs(y),
    "matmul": lambda x, y: x @ ops.transpose(y, (0, 2, 1)),
    "compare": lambda x, y: ops.stack([ops.cast(c, "float32") for c in (
        x < y, x <= y, x > 0, x >= y, x != y)], axis=-1),
    "getitem": lambda x, y: x[:, 0, 1:3] + y[..., 1, 2:] + x[:, None, 1, ::2][:, 0],
    "mean": lambda x, y: ops.mean(x, axis=1),
    "concatenate": lambda x, y: ops.concatenate([x, y, x], axis=-1),
    "exp_log": lambda x, y: ops.exp(x) + ops.log(ops.square(y) + 1),
    "reductions": lambda x, y: ops.max(x, axis=-1, keepdims=True) - ops.sum(y, axis=(1, 2)
                                                                             )[:, None, None],
    "shapes": lambda x, y: ops.reshape(ops.expand_dims(x, 1), (-1, 12)),
    "where_clip": lambda x, y: ops.where(x > 0, ops.clip(x, 0.0, 0.5), y),
    "softmax": lambda x, y: ops.softmax(x, axis=1) * ops.maximum(x, y),
}


@pytest.mark.parametrize("f", list(_EXPRESSIONS.values()), ids=list(_EXPRESSIONS))
def test_ops_on_symbolic_tensors_equal_the_eager_computation(f, rng):
    a, b = (rng.normal(size=(5, 3, 4)).astype("float32") for _ in range(2))
    xi, yi = keras.Input((3, 4)), keras.Input((3, 4))
    out = f(xi, yi)
    model = keras.Model([xi, yi], out)
    expected = f(Tensor(a), Tensor(b)).numpy()
    got = model([a, b]).numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-6)
    assert out.shape == (None, *expected.shape[1:]) and out.dtype == expected.dtype
    clone = keras.Model.from_config(model.get_config())  # the ops by name, through JSON
    np.testing.assert_allclose(clone([a, b]).numpy(), expected, rtol=1e-6)


def test_gradients_reach_the_weights_before_the_ops(rng):
    a = rng.normal(size=(4, 3, 2)).astype("float32")
    inputs = keras.Input((3, 2))
    dense = layers.Dense(5)
    h = dense(inputs)
    out = ops.mean(h * h, axis=1) + h[:, 0] - ops.exp(-h)[:, -1]
    model = keras.Model(inputs, out)
    model(a).sum().backward()

    ref = layers.Dense(5)
    ref.build((None, 3, 2))
    ref.set_weights(dense.get_weights())
    g = ref(a)
    (ops.mean(g * g, axis=1) + g[:, 0] - ops.exp(-g)[:, -1]).sum().backward()
    np.testing.assert_allclose(dense.kernel.grad, ref.kernel.grad, rtol=1e-5)
    np.testing.assert_allclose(dense.bias.grad, ref.bias.grad, rtol=1e-5)


def test_summary_shows_the_op_nodes_and_layers_leaves_them_out():
    """As Keras 3: the summary lists operations with their shapes, model.layers does not."""
    inputs = keras.Input((5, 4), name="series")
    x = layers.Dense(4, name="proj")(inputs)
    out = ops.mean(x + inputs, axis=1)[:, 0]
    model = keras.Model(inputs, out)
    lines = []
    model.summary(print_fn=lines.append)
    rows = [line.split() for line in lines if "(None" in line]
    assert [r[1] for r in rows] == ["(InputLayer)", "(Dense)", "(OpLayer)", "(OpLayer)",
                                    "(OpLayer)"]
    assert [" ".join(r[2:-1]) for r in rows] == ["(None, 5, 4)", "(None, 5, 4)", "(None, 5, 4)",
                                                 "(None, 4)", "(None,)"]
    assert [layer.name for layer in model.layers] == ["series", "proj"]


def test_config_names_the_op_and_its_arguments():
    inputs = keras.Input((5, 4))
    out = ops.mean(inputs, axis=1)[..., 1:3]
    config = keras.Model(inputs, out).get_config()
    assert [(c["class_name"], c["config"]["op"], c["config"]["args"], c["config"]["kwargs"])
            for c in config["layers"]] == [
        ("OpLayer", "mean", [{"__tensor__": 0}], {"axis": 1}),
        ("OpLayer", "getitem", [{"__tensor__": 0},
                                {"tuple": [{"ellipsis": True}, {"slice": [1, 3, None]}]}], {}),
    ]


def test_an_argument_without_a_name_runs_but_is_refused_at_save(rng, tmp_path):
    inputs = keras.Input((3,))
    model = keras.Model(inputs, inputs + np.arange(3, dtype="float32"))
    a = rng.normal(size=(2, 3)).astype("float32")
    np.testing.assert_allclose(model.predict(a, verbose=0), a + np.arange(3))
    with pytest.raises(ValueError, match=r"cannot save the op 'add'.*array.*\(ndarray\).*Input"):
        model.save(tmp_path / "m.keras")
    assert not (tmp_path / "m.keras").exists()


def test_a_saved_op_must_be_one_of_shenjing_ops():
    with pytest.raises(ValueError, match="unknown op 'system'"):
        layers.OpLayer.from_config({"op": "system", "args": ["rm -rf /"]})


def test_symbolic_tensors_refuse_iteration_truth_and_values_with_the_remedy():
    x = keras.Input((3,))
    with pytest.raises(TypeError, match="cannot be iterated"):
        list(x)
    with pytest.raises(TypeError, match="no truth value"):
        bool(x > 0)
    with pytest.raises(TypeError, match="no values until the model runs"):
        ops.convert_to_tensor(x)
    with pytest.raises(TypeError, match=r"write the symbolic tensor first.*ops\.add\(t, x\)"):
        Tensor(np.ones(3, "float32")) + x  # Tensor's operator cannot defer; ops.add(t, x) can
    assert isinstance(ops.add(Tensor(np.ones(3, "float32")), x), layers.SymbolicTensor)
    assert ops.shape(x) == (None, 3)
    assert x in [x] and {x: 1}[x] == 1  # == is still identity, as Keras's


def test_keras_activations_apply_to_symbolic_tensors_and_save(tmp_path):
    """Keras 3's activations are ops: keras.activations.gelu(x) between layers is a node of the
    model (it raised 'a symbolic tensor has no values'), computed and saved as one."""
    inputs = keras.keras.Input((4,))
    hidden = keras.keras.activations.gelu(layers.Dense(3)(inputs))
    model = keras.keras.Model(inputs, keras.keras.activations.relu(hidden, max_value=0.5))
    x = np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32)
    dense = model.layers[1]
    expected = np.minimum(np.maximum(keras.F.gelu(dense(x)).numpy(), 0), 0.5)
    np.testing.assert_allclose(model(x).numpy(), expected, rtol=1e-6)
    model.save(tmp_path / "m.shenjing")
    again = keras.keras.models.load_model(tmp_path / "m.shenjing")
    np.testing.assert_allclose(again(x).numpy(), expected, rtol=1e-6)
