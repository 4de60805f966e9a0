"""Bidirectional over the generic RNN(cell), and the cells' dropout/recurrent_dropout/seed:
Keras's masks (one input mask and one recurrent mask per sequence, drawn at the first step, in
training only), checked against a hand loop of the same cell without dropout."""

from __future__ import annotations

import json

import numpy as np
import pytest

import shenjing
from shenjing import Tensor
from shenjing import layers as L


def _x(rng, shape=(3, 5, 4)):
    return rng.standard_normal(shape).astype(np.float32)


@pytest.mark.parametrize("merge_mode", ["concat", "sum", None])
def test_bidirectional_rnn_cell_equals_bidirectional_lstm(rng, merge_mode):
    x = _x(rng)
    fused = L.Bidirectional(L.LSTM(3, return_sequences=True), merge_mode=merge_mode)
    generic = L.Bidirectional(L.RNN(L.LSTMCell(3), return_sequences=True),
                              merge_mode=merge_mode)
    fused(x)
    generic(x)
    generic.set_weights(fused.get_weights())
    xs, xg = Tensor(x, requires_grad=True), Tensor(x, requires_grad=True)
    ys, yg = fused(xs), generic(xg)
    ys, yg = (ys if isinstance(ys, list) else [ys]), (yg if isinstance(yg, list) else [yg])
    for a, b in zip(ys, yg):
        np.testing.assert_allclose(b.numpy(), a.numpy(), rtol=1e-5, atol=1e-6)
    sum(((a * a).sum() for a in ys), Tensor(0.0)).backward()
    sum(((b * b).sum() for b in yg), Tensor(0.0)).backward()
    np.testing.assert_allclose(xg.grad.numpy(), xs.grad.numpy(), rtol=1e-4, atol=1e-5)
    for p, q in zip(fused.trainable_weights, generic.trainable_weights):
        np.testing.assert_allclose(q.grad.numpy(), p.grad.numpy(), rtol=1e-4, atol=1e-5)


def test_bidirectional_rnn_cell_config_states_and_mask(rng):
    layer = L.Bidirectional(L.RNN(L.GRUCell(2), return_state=True))
    x = _x(rng)
    out, fh, bh = layer(x)
    assert out.shape == (3, 4) and fh.shape == bh.shape == (3, 2)
    assert layer.backward_layer.go_backwards and layer.backward_layer.cell is not \
        layer.forward_layer.cell
    clone = L.Bidirectional.from_config(json.loads(json.dumps(layer.get_config())))
    clone(x)
    clone.set_weights(layer.get_weights())
    np.testing.assert_allclose(clone(x)[0].numpy(), out.numpy(), rtol=1e-6)
    # padded steps at the end change nothing: the backward half starts at the last real step
    mask = np.ones((3, 5), bool)
    mask[0, 3:] = False
    padded = x.copy()
    padded[0, 3:] = 9.0
    masked = layer(padded, mask=mask)[0].numpy()
    np.testing.assert_allclose(masked[0], layer(x[:1, :3])[0].numpy()[0], rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="recurrent layer"):
        L.Bidirectional(L.Dense(3))


def _gru_step(cell, x, h, m_rec):
    """Keras 3's GRUCell step (reset_after=True) in NumPy, recurrent dropout mask ``m_rec``:
    the dropped h_{t-1} goes through the recurrent kernel, the whole h_{t-1} into the mix."""
    k, u, b = (w.numpy() for w in (cell.kernel, cell.recurrent_kernel, cell.bias))
    a, q = x @ k + b[0], (h * m_rec) @ u + b[1]
    sig = lambda v: 1 / (1 + np.exp(-v))  # noqa: E731
    n = cell.units
    z, r = sig(a[:, :n] + q[:, :n]), sig(a[:, n:2 * n] + q[:, n:2 * n])
    return z * h + (1 - z) * np.tanh(a[:, 2 * n:] + r * q[:, 2 * n:])


@pytest.mark.parametrize("cell_class", [L.SimpleRNNCell, L.LSTMCell, L.GRUCell])
def test_cell_dropout_is_one_mask_per_sequence(rng, cell_class):
    rate, rec_rate, n, t, f, units = 0.4, 0.3, 3, 5, 4, 6
    x = _x(rng, (n, t, f))
    layer = L.RNN(cell_class(units, dropout=rate, recurrent_dropout=rec_rate, seed=7),
                  return_sequences=True)
    eval_out = layer(x).numpy()  # inference: no dropout
    plain = L.RNN(cell_class(units), return_sequences=True)
    plain(x)
    plain.set_weights(layer.get_weights())
    np.testing.assert_allclose(eval_out, plain(x).numpy(), rtol=1e-6)

    out = layer(x, training=True).numpy()
    # the masks Keras draws: the inputs' (batch, features) at the first step, then h's
    draws = np.random.default_rng(7)
    m_in = (draws.random((n, f)) >= rate).astype(np.float32) / np.float32(1 - rate)
    m_rec = (draws.random((n, units)) >= rec_rate).astype(np.float32) / np.float32(1 - rec_rate)
    cell = plain.cell
    states = [Tensor(np.zeros((n, units), np.float32)) for _ in range(cell.n_states)]
    expected = []
    with shenjing.no_grad():
        for step in range(t):
            if cell_class is L.GRUCell:  # dropped h in the recurrent product, whole h mixed
                expected.append(_gru_step(cell, x[:, step] * m_in, expected[-1] if expected
                                          else np.zeros((n, units), np.float32), m_rec))
                continue
            # SimpleRNN and LSTM read h only in the recurrent product: the same cell, without
            # dropout, on the dropped values
            h, states = cell(Tensor(x[:, step] * m_in), [states[0] * Tensor(m_rec), *states[1:]])
            expected.append(h.numpy())
    np.testing.assert_allclose(out, np.stack(expected, 1), rtol=1e-5, atol=1e-6)
    assert layer.cell._dropout_mask is None  # reset after the sequence: new masks next call
    assert not np.allclose(layer(x, training=True).numpy(), out)


@pytest.mark.parametrize("layer_class, cell_class", [(L.SimpleRNN, L.SimpleRNNCell),
                                                     (L.LSTM, L.LSTMCell), (L.GRU, L.GRUCell)])
def test_fused_layer_with_recurrent_dropout_is_rnn_of_its_cell(rng, layer_class, cell_class):
    """Training with dropout and recurrent dropout, the fused layer and RNN(cell) draw the same
    masks from the same seed and compute the same sequence (GRU's layer and cell once mixed
    different h_{t-1} into the new state)."""
    x = _x(rng, (3, 5, 4))
    layer = layer_class(3, dropout=0.2, recurrent_dropout=0.5, seed=7, return_sequences=True)
    generic = L.RNN(cell_class(3, dropout=0.2, recurrent_dropout=0.5, seed=7),
                    return_sequences=True)
    layer.build(x.shape)
    generic.build(x.shape)
    generic.set_weights(layer.get_weights())
    np.testing.assert_allclose(layer(x, training=True).numpy(),
                               generic(x, training=True).numpy(), rtol=1e-5, atol=1e-6)


def test_cell_dropout_masks_stay_until_reset_and_are_in_config(rng):
    cell = L.LSTMCell(3, dropout=0.5, recurrent_dropout=0.5, seed=1)
    x = Tensor(_x(rng, (2, 4)))
    states = cell.get_initial_state(2)
    first = cell.get_dropout_mask(x)
    assert cell.get_dropout_mask(x) is first  # the same mask at every step of a sequence
    cell(x, states, training=True)
    assert cell.get_dropout_mask(x) is first
    cell.reset_dropout_mask()
    assert cell.get_dropout_mask(x) is not first
    config = cell.get_config()
    assert (config["dropout"], config["recurrent_dropout"], config["seed"]) == (0.5, 0.5, 1)
    assert L.LSTM(3, dropout=0.25, seed=3).get_config()["dropout"] == 0.25
    with pytest.raises(ValueError, match="dropout must be in"):
        L.GRUCell(3, dropout=1.0)


def test_layer_dropout_is_not_applied_twice_step_by_step(rng):
    # GRU(reset_after=False) runs its cell step by step; the layer drops the inputs once
    x = _x(rng)
    layer = L.GRU(3, reset_after=False, dropout=0.5, seed=2)
    layer(x)
    cell = layer.cell
    out = layer(x, training=True).numpy()
    keep = np.random.default_rng(2)  # the inference call drew nothing
    mask = (keep.random((3, 1, 4)) >= 0.5).astype(np.float32) / np.float32(0.5)
    states = [Tensor(np.zeros((3, 3), np.float32))]
    with shenjing.no_grad():
        for step in range(5):
            h, states = cell(Tensor((x * mask)[:, step]), states, training=False)
    np.testing.assert_allclose(out, h.numpy(), rtol=1e-5, atol=1e-6)
