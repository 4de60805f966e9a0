"""SimpleRNN / LSTM / GRU layers, their cells, masks and Bidirectional."""

from __future__ import annotations

import numpy as np
import pytest

import shenjing as sj
from shenjing import layers as L

LAYERS = {"SimpleRNN": (L.SimpleRNN, L.SimpleRNNCell, 1),
          "LSTM": (L.LSTM, L.LSTMCell, 4), "GRU": (L.GRU, L.GRUCell, 3)}


def _x(rng, n=4, t=6, d=3):
    return rng.standard_normal((n, t, d)).astype(np.float32)


@pytest.mark.parametrize("name", LAYERS)
def test_keras_shapes_and_defaults(name, rng):
    cls, _, gates = LAYERS[name]
    layer = cls(5)
    y = layer(_x(rng))
    assert y.shape == (4, 5)
    cell = layer.cell
    assert cell.kernel.shape == (3, gates * 5)
    assert cell.recurrent_kernel.shape == (5, gates * 5)
    assert cell.bias.shape == ((2, 15) if name == "GRU" else (gates * 5,))
    u = cell.recurrent_kernel.numpy()
    np.testing.assert_allclose(u @ u.T, np.eye(5), atol=1e-5)  # orthogonal rows
    if name == "LSTM":  # unit_forget_bias
        np.testing.assert_array_equal(cell.bias.numpy(), np.r_[np.zeros(5), np.ones(5),
                                                               np.zeros(10)])


@pytest.mark.parametrize("name", LAYERS)
def test_sequences_states_and_initial_state(name, rng):
    cls, _, _ = LAYERS[name]
    x = _x(rng)
    layer = cls(5, return_sequences=True, return_state=True)
    seq, *states = layer(x)
    assert seq.shape == (4, 6, 5) and len(states) == (2 if name == "LSTM" else 1)
    np.testing.assert_allclose(seq.numpy()[:, -1], states[0].numpy())
    # the state after the first 3 steps, fed back in, continues the same run
    first = layer(x[:, :3])
    rest = layer(x[:, 3:], initial_state=first[1:])
    np.testing.assert_allclose(rest[0].numpy(), seq.numpy()[:, 3:], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", LAYERS)
def test_layer_equals_its_cell_in_a_python_loop(name, rng):
    """The fused kernel and the cell's autograd step agree in values and gradients."""
    cls, _, _ = LAYERS[name]
    x = _x(rng)
    layer = cls(5, return_sequences=True, go_backwards=True)
    fused = layer(sj.tensor(x))
    (fused * fused).sum().backward()
    fused_grads = [w.grad.numpy() for w in layer.trainable_weights]
    for w in layer.trainable_weights:
        w.grad = None
    states = [sj.tensor(np.zeros((4, s), np.float32)) for s in layer.cell.state_size]
    outs = []
    for t in range(5, -1, -1):
        h, states = layer.cell(sj.tensor(x[:, t]), states)
        outs.append(h)
    looped = sj.F.stack(outs, axis=1)
    (looped * looped).sum().backward()
    np.testing.assert_allclose(fused.numpy(), looped.numpy(), rtol=1e-5, atol=1e-6)
    for a, w in zip(fused_grads, layer.trainable_weights):
        np.testing.assert_allclose(a, w.grad.numpy(), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name", LAYERS)
def test_embedding_mask_gives_each_sequence_its_own_end(name, rng):
    cls, _, _ = LAYERS[name]
    ids = np.array([[3, 4, 5, 0, 0], [6, 7, 8, 9, 2], [0, 0, 1, 2, 3]])
    embed = L.Embedding(10, 4, mask_zero=True)
    rnn = cls(5)
    model = sj.Sequential([embed, rnn])
    out = model(ids).numpy()
    for i, row in enumerate(ids):
        alone = rnn(embed(row[row != 0][None])).numpy()[0]
        np.testing.assert_allclose(out[i], alone, rtol=1e-5, atol=1e-6)


def test_masking_layer_feeds_the_mask(rng):
    x = _x(rng, n=2, t=4)
    x[0, 2:] = 0.0
    model = sj.Sequential([L.Masking(0.0), L.LSTM(3)])
    out = model(x).numpy()
    np.testing.assert_allclose(out[0], model.layers[1](x[:1, :2]).numpy()[0], rtol=1e-5)


def test_dropout_only_in_training(rng):
    x = _x(rng)
    layer = L.GRU(5, dropout=0.5, recurrent_dropout=0.5, seed=1)
    a, b = layer(x).numpy(), layer(x).numpy()
    np.testing.assert_array_equal(a, b)
    c, d = layer(x, training=True).numpy(), layer(x, training=True).numpy()
    assert not np.allclose(c, a) and not np.allclose(c, d)


def test_only_fused_activations_are_accepted():
    with pytest.raises(ValueError, match="activation must be one of"):
        L.LSTM(4, activation="softmax")
    with pytest.raises(ValueError, match="reset_after=True"):
        L.GRU(4, reset_after=False)


@pytest.mark.parametrize("merge_mode", ["concat", "sum", "mul", "ave", None])
def test_bidirectional_reverses_within_true_lengths(merge_mode, rng):
    ids = np.array([[3, 4, 5, 0, 0], [6, 7, 8, 9, 2]])
    embed = L.Embedding(10, 4, mask_zero=True)
    bi = L.Bidirectional(L.LSTM(3, return_sequences=True), merge_mode=merge_mode)
    out = bi(embed(ids))
    outs = out if isinstance(out, list) else [out]
    fwd, bwd = bi.forward_layer, bi.backward_layer
    for i, row in enumerate(ids):
        real = row[row != 0][None]
        e = embed(real)
        f = fwd(e).numpy()[0]
        b = bwd(e.numpy()[:, ::-1].copy()).numpy()[0][::-1]  # read backwards, back in order
        expected = {"concat": [np.concatenate([f, b], -1)], "sum": [f + b], "mul": [f * b],
                    "ave": [(f + b) / 2], None: [f, b]}[merge_mode]
        for got, want in zip(outs, expected):
            np.testing.assert_allclose(got.numpy()[i, :len(real[0])], want, rtol=1e-5,
                                       atol=1e-6)


def test_bidirectional_states_and_saving(tmp_path, rng):
    bi = L.Bidirectional(L.GRU(3, return_state=True))
    out, h_f, h_b = bi(_x(rng))
    assert out.shape == (4, 6) and h_f.shape == h_b.shape == (4, 3)
    model = sj.Sequential([L.Input((6, 3)), L.Bidirectional(L.LSTM(4)), L.Dense(2)])
    model.save(tmp_path / "m.shenjing")
    again = sj.models.load_model(tmp_path / "m.shenjing")
    x = _x(rng)
    np.testing.assert_allclose(again.predict(x, verbose=0), model.predict(x, verbose=0))
