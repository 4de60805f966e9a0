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
    states = layer.cell.get_initial_state(batch_size=4)
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


def test_bad_activations_are_rejected(rng):
    with pytest.raises(ValueError, match="unknown activation 'tanhh'"):
        L.LSTM(4, activation="tanhh")
    with pytest.raises(TypeError, match="activation must be a name or a callable"):
        L.GRU(4, recurrent_activation=3)
    with pytest.raises(ValueError, match="recurrent_dropout needs activations"):
        L.LSTM(4, activation="softmax", recurrent_dropout=0.5)(_x(rng), training=True)


def _same_weights_outputs(reference, other, x, mask=None):
    """Both layers' outputs on ``x`` once ``other`` has ``reference``'s weights, and the
    gradients of their sums with respect to the kernels."""
    reference(x)
    other(x)
    other.set_weights(reference.get_weights())
    results = []
    for layer in (reference, other):
        outputs = layer(x, mask=mask)
        sum(o.sum() for o in outputs).backward()
        results.append([o.numpy() for o in outputs] + [layer.cell.kernel.grad,
                                                       layer.cell.recurrent_kernel.grad])
    return results


@pytest.mark.parametrize("name", LAYERS)
def test_library_activation_functions_act_as_their_names(name, rng):
    cls = LAYERS[name][0]
    gated = {} if name == "SimpleRNN" else {"recurrent_activation": sj.activations.sigmoid}
    by_name = cls(5, activation="relu", return_sequences=True, return_state=True)
    by_function = cls(5, activation=sj.activations.relu, return_sequences=True,
                      return_state=True, **gated)
    expected, got = _same_weights_outputs(by_name, by_function, _x(rng))
    for e, g in zip(expected, got):
        np.testing.assert_array_equal(g, e)  # the same fused kernel
    assert by_function.cell.activation == "relu"
    config = by_function.get_config()
    assert config["activation"] == "relu"
    assert config.get("recurrent_activation", "sigmoid") == "sigmoid"
    assert type(by_function).from_config(config).cell.activation == "relu"


@pytest.mark.parametrize("go_backwards", [False, True])
@pytest.mark.parametrize("name", LAYERS)
def test_user_activation_runs_step_by_step_as_the_kernel(name, go_backwards, rng):
    cls = LAYERS[name][0]
    gated = {} if name == "SimpleRNN" else {
        "recurrent_activation": lambda t: 1 / (1 + (-t).exp())}
    fused = cls(5, return_sequences=True, return_state=True, go_backwards=go_backwards)
    custom = cls(5, activation=lambda t: sj.F.tanh(t), return_sequences=True, return_state=True,
                 go_backwards=go_backwards, **gated)
    mask = np.ones((4, 6), bool)
    mask[0, 4:] = mask[1, :2] = False  # right and left padding
    expected, got = _same_weights_outputs(fused, custom, _x(rng), mask)
    for e, g in zip(expected, got):
        np.testing.assert_allclose(g, e, rtol=1e-5, atol=1e-6)
    # outputs in processing order: a masked step repeats the last real step's output, zeros
    # before the first (Keras); sample 0 is padded at its end, sample 1 at its start
    before, after = (0, 1) if go_backwards else (1, 0)
    np.testing.assert_array_equal(got[0][before, :2], 0.0)
    np.testing.assert_array_equal(got[0][after, 4:], got[0][after, 3:4].repeat(2, 0))
    with pytest.raises(ValueError, match="cannot be serialized"):
        custom.get_config()


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
        b = bwd(e).numpy()[0][::-1]  # bwd reads backwards (go_backwards); back in time order
        expected = {"concat": [np.concatenate([f, b], -1)], "sum": [f + b], "mul": [f * b],
                    "ave": [(f + b) / 2], None: [f, b]}[merge_mode]
        for got, want in zip(outs, expected):
            np.testing.assert_allclose(got.numpy()[i, :len(real[0])], want, rtol=1e-5,
                                       atol=1e-6)


def _bidirectional_by_hand(fwd, bwd, x, lengths):
    """Bidirectional's outputs [f, b, *f_states, *b_states] computed per sequence: ``fwd`` on the
    real steps, and ``bwd``'s weights run forwards (a go_backwards=False twin) on the real steps
    reversed, its outputs put back in time order. At the padded steps (at the end) both halves
    output zeros: Keras's Bidirectional sets zero_output_for_mask on them (checked against
    Keras 3.15; a plain LSTM repeats its last real output instead)."""
    twin = type(bwd)(bwd.units, return_sequences=True, return_state=True)
    twin(x[:1, :1])
    twin.set_weights(bwd.get_weights())
    n, t_len = x.shape[:2]
    f_seq, b_seq = np.zeros((2, n, t_len, fwd.units), np.float32)
    f_states, b_states = [], []
    for i, k in enumerate(lengths):
        f_out, *f_st = fwd(x[i:i + 1, :k])
        b_out, *b_st = twin(x[i:i + 1, :k][:, ::-1].copy())
        f_seq[i, :k], b_seq[i, :k] = f_out.numpy()[0], b_out.numpy()[0][::-1]
        f_states.append([s.numpy()[0] for s in f_st])
        b_states.append([s.numpy()[0] for s in b_st])
    return [f_seq, b_seq, *np.stack(f_states, 1), *np.stack(b_states, 1)]


def _padded(rng, lengths, t_len=5, d=4):
    """Right-padded sequences with the mask of their true lengths, as a Masking layer gives."""
    x = rng.standard_normal((len(lengths), t_len, d)).astype(np.float32)
    mask = np.arange(t_len) < np.array(lengths)[:, None]
    return x * mask[..., None], mask


def test_bidirectional_with_a_keras_backward_layer_matches_a_hand_computation(rng):
    lengths = [3, 5, 1]
    x, mask = _padded(rng, lengths)
    fwd = L.LSTM(3, return_sequences=True, return_state=True)
    bwd = L.LSTM(3, return_sequences=True, return_state=True, go_backwards=True)
    bi = L.Bidirectional(fwd, merge_mode=None, backward_layer=bwd)
    got = bi(x, mask=mask)
    assert len(got) == 6  # f, b, h_f, c_f, h_b, c_b
    for g, want in zip(got, _bidirectional_by_hand(fwd, bwd, x, lengths)):
        np.testing.assert_allclose(g.numpy(), want, atol=1e-6)


def test_bidirectional_default_backward_copy_equals_a_keras_backward_layer(rng):
    lengths = [2, 5, 4]
    x, mask = _padded(rng, lengths)
    keras_style = L.Bidirectional(L.GRU(3, return_sequences=True),
                                  backward_layer=L.GRU(3, return_sequences=True,
                                                       go_backwards=True))
    default = L.Bidirectional(L.GRU(3, return_sequences=True))
    want = keras_style(x, mask=mask).numpy()
    default(x, mask=mask)
    default.set_weights(keras_style.get_weights())
    assert default.backward_layer.go_backwards and not default.forward_layer.go_backwards
    np.testing.assert_allclose(default(x, mask=mask).numpy(), want, atol=1e-6)


@pytest.mark.parametrize("backward, match", [
    (lambda: L.LSTM(3), "go_backwards different"),
    (lambda: L.LSTM(3, go_backwards=True, return_sequences=True), "same return_sequences"),
    (lambda: L.LSTM(3, go_backwards=True, return_state=True), "same return_state"),
])
def test_bidirectional_rejects_a_mismatched_backward_layer(backward, match):
    with pytest.raises(ValueError, match=match):
        L.Bidirectional(L.LSTM(3), backward_layer=backward())


def test_bidirectional_states_and_saving(tmp_path, rng):
    bi = L.Bidirectional(L.GRU(3, return_state=True))
    out, h_f, h_b = bi(_x(rng))
    assert out.shape == (4, 6) and h_f.shape == h_b.shape == (4, 3)
    model = sj.Sequential([L.Input((6, 3)), L.Bidirectional(L.LSTM(4)), L.Dense(2)])
    model.save(tmp_path / "m.shenjing")
    again = sj.models.load_model(tmp_path / "m.shenjing")
    x = _x(rng)
    np.testing.assert_allclose(again.predict(x, verbose=0), model.predict(x, verbose=0))


@pytest.mark.parametrize("cls", [L.SimpleRNN, L.LSTM, L.GRU])
def test_a_float64_layer_has_float64_cell_weights(cls):
    """dtype reaches the cell, as Keras passes it: a float64 layer's weights (and outputs)
    are float64, so set_weights and loading keep double precision."""
    layer = cls(2, dtype="float64")
    y = layer(np.zeros((1, 3, 2), np.float32))
    assert layer.cell.dtype == np.float64 and y.dtype == np.float64
    assert all(w.data.dtype == np.float64 for w in layer.weights)
    exact = [np.full(w.shape, 0.1) for w in layer.weights]
    layer.set_weights(exact)
    assert all(np.array_equal(a, b) for a, b in zip(layer.get_weights(), exact))
    frozen = cls(2, trainable=False)
    frozen(np.zeros((1, 3, 2), np.float32))
    assert not frozen.cell.trainable and frozen.trainable_weights == []


@pytest.mark.parametrize("merge_mode", ["concat", "sum", None])
def test_masks_out_of_recurrent_layers_are_keras_3s(merge_mode, rng):
    """As Keras 3 (checked against 3.15): the input's mask goes on the sequence output also
    with return_state (it was dropped, so pooling averaged the padding) and unchanged with
    go_backwards (it was reversed); a Bidirectional's halves output zeros at masked steps."""
    x, mask = _padded(rng, [3, 5, 1])
    seq, h, c = L.LSTM(3, return_sequences=True, return_state=True)(x, mask=mask)
    np.testing.assert_array_equal(seq._keras_mask, mask)
    assert getattr(h, "_keras_mask", None) is None and getattr(c, "_keras_mask", None) is None
    pooled = L.GlobalAveragePooling1D()(seq)
    real = mask[..., None]
    np.testing.assert_allclose(pooled.numpy(), (seq.numpy() * real).sum(1) / real.sum(1),
                               rtol=1e-6)
    back = L.GRU(3, return_sequences=True, go_backwards=True)(x, mask=mask)
    np.testing.assert_array_equal(back._keras_mask, mask)
    generic = L.RNN(L.SimpleRNNCell(2), return_sequences=True, go_backwards=True,
                    return_state=True)(x, mask=mask)
    np.testing.assert_array_equal(generic[0]._keras_mask, mask)
    out = L.Bidirectional(L.SimpleRNN(2, return_sequences=True), merge_mode=merge_mode)(
        x, mask=mask)
    for half in out if merge_mode is None else [out]:
        np.testing.assert_array_equal(half._keras_mask, mask)
        assert (half.numpy()[~mask] == 0).all() and (half.numpy()[mask] != 0).all()
