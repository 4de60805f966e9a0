"""ConvLSTM1D / 2D / 3D (Keras's): every step against an independent NumPy convolutional LSTM
(a naive convolution by loops), the gradients by finite differences, the recurrent layer's
options (states, go_backwards, masks, stateful, dropout), config and saving, and the errors.
(Checked once against Keras 3.15 on JAX with copied weights: 3e-8 to 1.2e-7 on all three ranks,
strides, dilation, 'same' and 'valid'; Keras is not a test dependency.)"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import shenjing as keras
from shenjing import layers


def _conv(x, kernel, strides, padding, dilation):
    """Naive channels-last convolution of (batch, *spatial, in) by (*window, in, out),
    TensorFlow's 'same' (the odd pixel after)."""
    rank = kernel.ndim - 2
    spatial = x.shape[1:-1]
    span = [(k - 1) * d + 1 for k, d in zip(kernel.shape[:rank], dilation)]
    if padding == "same":
        out = [-(-n // s) for n, s in zip(spatial, strides)]
        pads = [max((o - 1) * s + w - n, 0) for o, s, w, n in zip(out, strides, span, spatial)]
        x = np.pad(x, [(0, 0), *((p // 2, p - p // 2) for p in pads), (0, 0)])
    else:
        out = [(n - w) // s + 1 for n, w, s in zip(spatial, span, strides)]
    y = np.zeros((x.shape[0], *out, kernel.shape[-1]))
    for pos in itertools.product(*(range(o) for o in out)):
        for tap in itertools.product(*(range(k) for k in kernel.shape[:rank])):
            at = tuple(p * s + t * d for p, s, t, d in zip(pos, strides, tap, dilation))
            y[(slice(None), *pos)] += x[(slice(None), *at)] @ kernel[tap]
    return y


def _reference(layer, x):
    """(outputs per step, h, c) of a ConvLSTM with ``layer``'s weights, in float64."""
    cell = layer.cell
    kernel, recurrent = cell.kernel.numpy(), cell.recurrent_kernel.numpy()
    bias = cell.bias.numpy() if cell.bias is not None else 0.0
    sigmoid = lambda v: 1 / (1 + np.exp(-v))  # noqa: E731
    act = np.tanh if cell.activation == "tanh" else (lambda v: np.maximum(v, 0))
    h = np.zeros((x.shape[0], *cell.state_size[0]))
    c = np.zeros_like(h)
    ones = (1,) * cell.rank
    steps = range(x.shape[1])[::-1] if layer.go_backwards else range(x.shape[1])
    outputs = []
    for t in steps:
        z = (_conv(x[:, t], kernel, cell.strides, cell.padding, cell.dilation_rate) + bias
             + _conv(h, recurrent, ones, "same", ones))
        i, f, g, o = np.split(z, 4, axis=-1)
        c = sigmoid(f) * c + sigmoid(i) * act(g)
        h = sigmoid(o) * act(c)
        outputs.append(h)
    return np.stack(outputs, 1), h, c


CASES = [
    ("ConvLSTM2D", dict(filters=3, kernel_size=3, padding="same"), (2, 4, 6, 5, 2)),
    ("ConvLSTM2D", dict(filters=2, kernel_size=(3, 2), strides=2, activation="relu",
                        go_backwards=True), (2, 3, 7, 6, 3)),
    ("ConvLSTM2D", dict(filters=2, kernel_size=3, dilation_rate=2, use_bias=False),
     (1, 3, 7, 7, 1)),
    ("ConvLSTM1D", dict(filters=3, kernel_size=3, padding="same"), (2, 4, 9, 2)),
    ("ConvLSTM3D", dict(filters=2, kernel_size=2), (1, 3, 4, 5, 4, 2)),
]


@pytest.mark.parametrize(("cls", "kwargs", "shape"), CASES, ids=[c[0] for c in CASES])
def test_every_step_matches_a_numpy_conv_lstm(cls, kwargs, shape, rng):
    layer = getattr(layers, cls)(**kwargs, return_sequences=True, return_state=True)
    x = rng.standard_normal(shape).astype(np.float32)
    sequence, h, c = layer(x)
    expected = _reference(layer, x.astype(np.float64))
    for got, want in zip((sequence, h, c), expected, strict=True):
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-5, atol=1e-5)
    assert layer.cell.bias is None or np.all(
        layer.cell.bias.numpy()[kwargs["filters"]:2 * kwargs["filters"]] == 1.0)


def test_gradients_by_finite_differences(rng):
    layer = layers.ConvLSTM2D(2, 2, padding="same", dtype="float64")
    x0 = rng.standard_normal((1, 3, 3, 3, 1))
    layer(x0)
    weights = [w.numpy().copy() for w in layer.weights]
    target = rng.standard_normal((1, 3, 3, 2))

    cell = layer.cell
    names = ("kernel", "recurrent_kernel", "bias")

    def loss(x, *ws):  # the cell computes with the checked tensors in place of its weights
        kept = [getattr(cell, n) for n in names]
        for n, w in zip(names, ws):
            object.__setattr__(cell, n, w)
        try:
            return (layer(x) * keras.tensor(target, dtype=np.float64)).sum()
        finally:
            for n, w in zip(names, kept):
                object.__setattr__(cell, n, w)

    assert [w.name.split("/")[-1] for w in layer.weights] == list(names)
    assert keras.gradcheck(loss, x0, *weights)


def test_recurrent_options(rng):
    """Masked steps carry the states over; stateful carries them across calls (and
    reset_states zeroes them); an initial state is used; dropout acts in training only."""
    x = rng.standard_normal((2, 4, 5, 5, 1)).astype(np.float32)
    layer = layers.ConvLSTM2D(2, 3, padding="same", return_sequences=True)
    full = layer(x).numpy()
    mask = np.array([[True, True, False, False], [True, True, True, True]])
    masked = layer(x, mask=mask).numpy()
    np.testing.assert_allclose(masked[0, 2], masked[0, 1])  # the last step's output repeated
    np.testing.assert_allclose(masked[1], full[1], rtol=1e-6)
    stateful = layers.ConvLSTM2D(2, 3, padding="same", stateful=True)
    stateful(x[:, :2])
    stateful.set_weights(layer.get_weights())
    stateful.reset_states()
    stateful(x[:, :2])
    np.testing.assert_allclose(stateful(x[:, 2:]).numpy(), full[:, -1], rtol=1e-5, atol=1e-6)
    last = layers.ConvLSTM2D(2, 3, padding="same", return_state=True)
    last(x)
    last.set_weights(layer.get_weights())
    _, h, c = last(x[:, :2])
    resumed = last(x[:, 2:], initial_state=[h, c])[0]
    np.testing.assert_allclose(resumed.numpy(), full[:, -1], rtol=1e-5, atol=1e-6)
    dropped = layers.ConvLSTM2D(2, 3, padding="same", dropout=0.5, recurrent_dropout=0.3,
                                seed=1)
    dropped(x)
    dropped.set_weights(layer.get_weights())
    np.testing.assert_allclose(dropped(x).numpy(), full[:, -1], rtol=1e-5, atol=1e-6)
    assert not np.allclose(dropped(x, training=True).numpy(), full[:, -1], atol=1e-3)


def test_a_model_learns_saves_and_loads(rng, tmp_path):
    """Next-frame direction of a moving dot: the loss falls; config and saved weights give the
    same predictions after loading."""
    keras.utils.set_random_seed(0)
    frames = np.zeros((32, 4, 6, 6, 1), np.float32)
    labels = rng.integers(0, 2, 32)
    for i, right in enumerate(labels):
        row = rng.integers(0, 6)
        for t in range(4):
            frames[i, t, row, t + 1 if right else 4 - t, 0] = 1.0
    model = keras.Sequential([keras.Input((4, 6, 6, 1)),
                              layers.ConvLSTM2D(4, 3, padding="same"),
                              layers.GlobalAveragePooling2D(), layers.Dense(2)])
    model.compile(keras.optimizers.Adam(0.01),
                  keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    history = model.fit(frames, labels, epochs=30, batch_size=8, verbose=0)
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]
    model.save(tmp_path / "conv_lstm.keras")
    loaded = keras.models.load_model(tmp_path / "conv_lstm.keras")
    np.testing.assert_allclose(loaded.predict(frames, verbose=0),
                               model.predict(frames, verbose=0), rtol=1e-5, atol=1e-6)
    config = model.layers[0].get_config()
    assert config["kernel_size"] == [3, 3] and "cell" not in config
    assert type(layers.ConvLSTM2D.from_config(config)) is layers.ConvLSTM2D


def test_errors_are_named():
    with pytest.raises(ValueError, match="cannot be combined"):
        layers.ConvLSTM2D(2, 3, strides=2, dilation_rate=2)
    with pytest.raises(ValueError, match="channels_last"):
        layers.ConvLSTM2D(2, 3, data_format="channels_first")
    with pytest.raises(ValueError, match="filters must be a positive integer"):
        layers.ConvLSTM1D(0, 3)
    with pytest.raises(ValueError, match="dropout must be in"):
        layers.ConvLSTM3D(2, 3, dropout=1.0)
    with pytest.raises(ValueError, match="does not fit"):
        layers.ConvLSTM2D(2, 5)(np.zeros((1, 2, 3, 3, 1), np.float32))
    with pytest.raises(ValueError):
        layers.ConvLSTM2D(2, 3)(np.zeros((1, 2, 3, 1), np.float32))
    built = layers.ConvLSTM2D(2, 3, padding="same")
    built(np.zeros((1, 2, 6, 6, 1), np.float32))
    with pytest.raises(ValueError, match=r"'conv_lstm2d.*' \(ConvLSTM2D\) expected input with "
                                         "size 6 on axis 2"):
        built(np.zeros((1, 2, 8, 8, 1), np.float32))
    half = layers.ConvLSTM2D(2, 3, dtype="float16")  # states in the layer's dtype
    assert half(np.zeros((1, 2, 5, 5, 1), np.float16)).dtype == np.float16


def test_models_with_dropout_save_and_load_their_random_streams(rng, tmp_path):
    """A cell draws its dropout stream at its first mask; a model saved after training holds
    that stream, and loading it into a fresh model (which has drawn none yet) makes and
    restores it, so the next masks are the same (ConvLSTM's cell and RNN(LSTMCell))."""
    cases = [((3, 5, 5, 1), lambda: layers.ConvLSTM2D(2, 3, dropout=0.3, recurrent_dropout=0.2)),
             ((3, 4), lambda: layers.RNN(layers.LSTMCell(3, dropout=0.3)))]
    for shape, make in cases:
        x = rng.standard_normal((4, *shape)).astype(np.float32)
        model = keras.Sequential([keras.Input(shape), make(), layers.Flatten(), layers.Dense(1)])
        model.compile("adam", "mse")
        model.fit(x, np.zeros((4, 1), np.float32), epochs=1, verbose=0)
        path = tmp_path / "dropout.keras"
        model.save(path)
        loaded = keras.models.load_model(path)
        np.testing.assert_allclose(loaded(x, training=True).numpy(),
                                   model(x, training=True).numpy(), rtol=1e-6)


def test_bidirectional_conv_lstm(rng):
    """Bidirectional takes the wrapped layer's rank: the forward half is the layer's output,
    the backward half the reversed layer's, back in time order."""
    x = rng.standard_normal((2, 3, 5, 5, 1)).astype(np.float32)
    both = layers.Bidirectional(layers.ConvLSTM2D(2, 3, padding="same", return_sequences=True))
    y = both(x).numpy()
    assert y.shape == (2, 3, 5, 5, 4)
    np.testing.assert_allclose(y[..., :2], both.forward_layer(x).numpy(), rtol=1e-6)
    np.testing.assert_allclose(y[..., 2:], both.backward_layer(x).numpy()[:, ::-1], rtol=1e-6)
