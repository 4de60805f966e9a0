"""The generic ``RNN(cell)`` layer, ``StackedRNNCells``, custom cells (the Keras RNN guide's),
``stateful=True``, ``unroll`` and ``GRU(reset_after=False)``."""

from __future__ import annotations

import numpy as np
import pytest

import shenjing as sj
from oracle import require_torch
from shenjing import layers as L
from shenjing import ops

FUSED = {"SimpleRNN": (L.SimpleRNN, L.SimpleRNNCell), "LSTM": (L.LSTM, L.LSTMCell),
         "GRU": (L.GRU, L.GRUCell)}


def _x(rng, n=4, t=6, d=3):
    return rng.standard_normal((n, t, d)).astype(np.float32)


def _mask(n=4, t=6):
    mask = np.ones((n, t), bool)
    mask[0, 4:] = mask[1, :2] = False  # right and left padding
    mask[2, 3] = False  # a hole in the middle
    return mask


def _run(layer, x, mask=None):
    """Outputs (as arrays) and the kernels' gradients of the sum of all outputs."""
    outs = layer(sj.tensor(x), mask=mask)
    sum(o.sum() for o in outs).backward()
    grads = [w.grad.numpy() for w in layer.trainable_weights]
    for w in layer.trainable_weights:
        w.grad = None
    return [o.numpy() for o in outs], grads


@pytest.mark.parametrize("zeros", [False, True], ids=["repeat", "zeros"])
@pytest.mark.parametrize("go_backwards", [False, True])
@pytest.mark.parametrize("name", FUSED)
def test_rnn_of_a_cell_equals_the_fused_layer(name, go_backwards, zeros, rng):
    """RNN(cell) runs the cell's autograd step in a Python loop; with the same weights it
    gives the fused kernel's values and gradients, masked steps repeating the last real
    output (Keras's default) or zeros (zero_output_for_mask=True) alike."""
    layer_cls, cell_cls = FUSED[name]
    x, mask = _x(rng), _mask()
    fused = layer_cls(5, return_sequences=True, return_state=True, go_backwards=go_backwards,
                      zero_output_for_mask=zeros)
    generic = L.RNN(cell_cls(5), return_sequences=True, return_state=True,
                    go_backwards=go_backwards, zero_output_for_mask=zeros)
    fused(x)
    generic(x)
    assert [w.shape for w in generic.weights] == [w.shape for w in fused.weights]
    generic.set_weights(fused.get_weights())
    (want, want_grads), (got, got_grads) = _run(fused, x, mask), _run(generic, x, mask)
    assert len(got) == len(want) == (3 if name == "LSTM" else 2)
    for g, w in zip(got + got_grads, want + want_grads):
        np.testing.assert_allclose(g, w, rtol=1e-4, atol=1e-5)


def test_masked_steps_repeat_the_previous_output_and_keep_the_state(rng):
    """Keras's default (zero_output_for_mask=False): a masked step outputs the previous
    step's output (zeros before the first real step) and carries the states over."""
    x, mask = _x(rng), _mask()
    rnn = L.RNN(L.GRUCell(3), return_sequences=True, return_state=True)
    seq, h = (t.numpy() for t in rnn(x, mask=mask))
    cell = rnn.cell
    for i in range(4):
        state, prev = np.zeros((1, 3), np.float32), np.zeros(3, np.float32)
        for t in range(6):
            if mask[i, t]:
                out, (state,) = cell(x[i:i + 1, t], [state])
                state, prev = state.numpy(), out.numpy()[0]
            np.testing.assert_allclose(seq[i, t], prev, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(h[i], state[0], rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(seq[1, :2], 0.0)  # left padding: nothing before it
    np.testing.assert_array_equal(seq[0, 4:], seq[0, [3, 3]])  # right padding: repeats


def test_rnn_lstm_cell_matches_torch(rng):
    torch = require_torch()
    x = _x(rng)
    rnn = L.RNN(L.LSTMCell(5), return_sequences=True)
    out = rnn(sj.tensor(x))
    out.sum().backward()
    cell = rnn.cell
    ref = torch.nn.LSTM(3, 5, batch_first=True)
    with torch.no_grad():  # Keras i, f, c, o = torch i, f, g, o; (in, out) kernels transposed
        ref.weight_ih_l0.copy_(torch.from_numpy(cell.kernel.numpy().T))
        ref.weight_hh_l0.copy_(torch.from_numpy(cell.recurrent_kernel.numpy().T))
        ref.bias_ih_l0.copy_(torch.from_numpy(cell.bias.numpy()))
        ref.bias_hh_l0.zero_()
    want, _ = ref(torch.from_numpy(x))
    want.sum().backward()
    np.testing.assert_allclose(out.numpy(), want.detach().numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(cell.kernel.grad.numpy(), ref.weight_ih_l0.grad.numpy().T,
                               rtol=1e-4, atol=1e-5)


# -- GRU(reset_after=False) -------------------------------------------------------------------
def _gru_v1_numpy(x, w, u, b, h):
    """The original GRU by hand: the reset gate applied before the recurrent product."""
    def sigmoid(v):
        return 1 / (1 + np.exp(-v))

    n = u.shape[0]
    seq = []
    for t in range(x.shape[1]):
        a = x[:, t] @ w + b
        z = sigmoid(a[:, :n] + h @ u[:, :n])
        r = sigmoid(a[:, n:2 * n] + h @ u[:, n:2 * n])
        hh = np.tanh(a[:, 2 * n:] + (r * h) @ u[:, 2 * n:])
        h = z * h + (1 - z) * hh
        seq.append(h)
    return np.stack(seq, 1)


def test_gru_reset_after_false_matches_a_hand_written_step(rng):
    x = _x(rng).astype(np.float64)
    layer = L.GRU(4, reset_after=False, return_sequences=True,
                  bias_initializer="random_normal")
    got = layer(x.astype(np.float32)).numpy()
    cell = layer.cell
    assert cell.bias.shape == (12,) and cell.kernel.shape == (3, 12)
    w, u, b = (p.numpy().astype(np.float64) for p in (cell.kernel, cell.recurrent_kernel,
                                                      cell.bias))
    want = _gru_v1_numpy(x, w, u, b, np.zeros((4, 4)))
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    # and it differs from reset_after=True with the same kernels
    other = L.GRU(4, return_sequences=True, use_bias=False)
    other(x.astype(np.float32))
    other.set_weights([cell.kernel.numpy(), cell.recurrent_kernel.numpy()])
    assert not np.allclose(other(x.astype(np.float32)).numpy(), got, atol=1e-4)


def test_gru_reset_after_false_gradients_match_torch(rng):
    """The step's gradients, through autograd, against the same step written in torch."""
    torch = require_torch()
    x = _x(rng)
    layer = L.GRU(4, reset_after=False, return_sequences=True, bias_initializer="ones")
    out = layer(sj.tensor(x))
    (out * out).sum().backward()
    cell = layer.cell
    w, u, b = (torch.tensor(p.numpy(), requires_grad=True)
               for p in (cell.kernel, cell.recurrent_kernel, cell.bias))
    h, n, seq = torch.zeros(4, 4), 4, []
    for t in range(6):
        a = torch.from_numpy(x[:, t]) @ w + b
        z = torch.sigmoid(a[:, :n] + h @ u[:, :n])
        r = torch.sigmoid(a[:, n:2 * n] + h @ u[:, n:2 * n])
        h = z * h + (1 - z) * torch.tanh(a[:, 2 * n:] + (r * h) @ u[:, 2 * n:])
        seq.append(h)
    ref = torch.stack(seq, 1)
    (ref * ref).sum().backward()
    np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), rtol=1e-4, atol=1e-5)
    for p, q in zip((cell.kernel, cell.recurrent_kernel, cell.bias), (w, u, b)):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-4, atol=1e-5)


def test_gru_reset_after_false_masks_and_config(rng):
    x, mask = _x(rng), _mask()
    layer = L.GRU(3, reset_after=False, return_state=True)
    out, h = layer(x, mask=mask)
    generic = L.RNN(L.GRUCell(3, reset_after=False), return_state=True)
    generic(x)
    generic.set_weights(layer.get_weights())
    np.testing.assert_allclose(generic(x, mask=mask)[1].numpy(), h.numpy(), rtol=1e-5)
    config = layer.get_config()
    assert config["reset_after"] is False
    assert L.GRU.from_config(config).cell.reset_after is False
    with pytest.raises(ValueError, match="reset_after=True"):
        L.GRU(3, reset_after=False, recurrent_dropout=0.5)(x, training=True)


# -- custom cells (the Keras guide's) ---------------------------------------------------------
class MinimalRNNCell(L.Layer):
    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.state_size = units

    def build(self, input_shape):
        self.kernel = self.add_weight(shape=(input_shape[-1], self.units),
                                      initializer="uniform", name="kernel")
        self.recurrent_kernel = self.add_weight(shape=(self.units, self.units),
                                                initializer="uniform", name="recurrent_kernel")

    def call(self, inputs, states):
        prev_output = states[0]
        output = ops.matmul(inputs, self.kernel) + ops.matmul(prev_output,
                                                               self.recurrent_kernel)
        return output, [output]

    def get_config(self):
        return {"units": self.units, **super().get_config()}


class NestedCell(L.Layer):
    """Two inputs, two states, one of them a matrix per sample, two outputs."""

    def __init__(self, unit_1, unit_2, unit_3, **kwargs):
        self.unit_1, self.unit_2, self.unit_3 = unit_1, unit_2, unit_3
        self.state_size = [unit_1, (unit_2, unit_3)]
        self.output_size = [unit_1, (unit_2, unit_3)]
        super().__init__(**kwargs)

    def build(self, input_shapes):
        i1, (_, i2, i3) = input_shapes[0][1], input_shapes[1]
        self.kernel_1 = self.add_weight(shape=(i1, self.unit_1), initializer="uniform",
                                        name="kernel_1")
        self.kernel_2_3 = self.add_weight(shape=(i2, i3, self.unit_2, self.unit_3),
                                          initializer="uniform", name="kernel_2_3")

    def call(self, inputs, states):
        input_1, input_2 = inputs
        s1, s2 = states
        output_1 = ops.matmul(input_1, self.kernel_1)
        output_2_3 = ops.einsum("bij,ijkl->bkl", input_2, self.kernel_2_3)
        return (output_1, output_2_3), (s1 + output_1, s2 + output_2_3)

    def get_config(self):
        return {"unit_1": self.unit_1, "unit_2": self.unit_2, "unit_3": self.unit_3,
                **super().get_config()}


def test_a_custom_cell_runs_and_trains(rng):
    x = _x(rng)
    rnn = L.RNN(MinimalRNNCell(4), return_sequences=True)
    seq = rnn(x).numpy()
    w, u = rnn.cell.kernel.numpy(), rnn.cell.recurrent_kernel.numpy()
    h = np.zeros((4, 4), np.float32)
    for t in range(6):
        h = x[:, t] @ w + h @ u
        np.testing.assert_allclose(seq[:, t], h, rtol=1e-5, atol=1e-6)
    model = sj.Sequential([L.Input((6, 3)), L.RNN(MinimalRNNCell(4)), L.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    before = [w.copy() for w in model.get_weights()]
    model.fit(x, np.ones((4, 1), np.float32), epochs=1, verbose=0)
    assert all(not np.array_equal(a, b) for a, b in zip(before, model.get_weights()))


def test_nested_inputs_states_and_outputs_as_the_guide(rng, tmp_path):
    cell = NestedCell(2, 3, 4)
    rnn = L.RNN(cell)
    input_1, input_2 = L.Input((None, 5)), L.Input((None, 6, 7))
    outputs = rnn((input_1, input_2))
    model = sj.Model([input_1, input_2], outputs)
    a = rng.standard_normal((3, 4, 5)).astype(np.float32)
    b = rng.standard_normal((3, 4, 6, 7)).astype(np.float32)
    out_1, out_23 = (o.numpy() for o in model([a, b]))
    # the states sum the step outputs; the last step's output is the last input's projection
    np.testing.assert_allclose(out_1, a[:, -1] @ cell.kernel_1.numpy(), rtol=1e-5, atol=1e-6)
    want = np.einsum("bij,ijkl->bkl", b[:, -1], cell.kernel_2_3.numpy())
    np.testing.assert_allclose(out_23, want, rtol=1e-4, atol=1e-5)
    states = L.RNN(cell, return_state=True)((a, b))[1:]
    assert [s.shape for s in states] == [(3, 2), (3, 3, 4)]
    np.testing.assert_allclose(states[0].numpy(), a.sum(1) @ cell.kernel_1.numpy(), rtol=1e-4,
                               atol=1e-5)
    model.compile(optimizer="adam", loss="mse")
    model.fit([a, b], [np.zeros((3, 2)), np.zeros((3, 3, 4))], epochs=1, verbose=0)
    model.save(tmp_path / "nested.shenjing")
    again = sj.models.load_model(tmp_path / "nested.shenjing",
                                 custom_objects={"NestedCell": NestedCell})
    for g, w in zip(again([a, b]), model([a, b])):
        np.testing.assert_allclose(g.numpy(), w.numpy(), rtol=1e-6)


def test_a_cell_without_state_size_is_refused():
    with pytest.raises(ValueError, match="state_size"):
        L.RNN(L.Dense(3))


# -- StackedRNNCells --------------------------------------------------------------------------
def test_stacked_cells_equal_stacked_layers(rng):
    x, mask = _x(rng), _mask()
    stacked = L.RNN([L.LSTMCell(4), L.GRUCell(3)], return_state=True)
    assert isinstance(stacked.cell, L.StackedRNNCells)
    first = L.LSTM(4, return_sequences=True)
    second = L.GRU(3, return_state=True)
    out, h2 = second(first(x))
    stacked(x)
    stacked.set_weights(first.get_weights() + second.get_weights())
    got = stacked(x)
    assert len(got) == 4  # output, then the flattened states: h1, c1, h2
    np.testing.assert_allclose(got[0].numpy(), out.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got[3].numpy(), h2.numpy(), rtol=1e-5, atol=1e-6)
    # masked: the same values as the layers (whose masked outputs feed the next as zeros,
    # which the second layer then skips)
    want = second(first(x, mask=mask), mask=mask)[0].numpy()
    np.testing.assert_allclose(stacked(x, mask=mask)[0].numpy(), want, rtol=1e-5, atol=1e-6)
    assert stacked.cell.state_size == [[4, 4], 3]


# -- stateful, unroll -------------------------------------------------------------------------
@pytest.mark.parametrize("make", [lambda **k: L.LSTM(5, **k), lambda **k: L.GRU(5, **k),
                                  lambda **k: L.SimpleRNN(5, **k),
                                  lambda **k: L.RNN(L.LSTMCell(5), **k)],
                         ids=["LSTM", "GRU", "SimpleRNN", "RNN"])
def test_stateful_continues_from_the_last_batch(make, rng):
    x = _x(rng)
    whole = make(return_sequences=True)
    want = whole(x).numpy()
    layer = make(return_sequences=True, stateful=True)
    layer(x[:, :1])
    layer.set_weights(whole.get_weights())
    layer.reset_states()
    parts = [layer(x[:, :2]).numpy(), layer(x[:, 2:5]).numpy(), layer(x[:, 5:]).numpy()]
    np.testing.assert_allclose(np.concatenate(parts, 1), want, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(layer.states[0].numpy(), want[:, -1], rtol=1e-5, atol=1e-6)
    assert not layer.states[0].requires_grad
    layer.reset_states()
    np.testing.assert_array_equal(layer.states[0].numpy(), 0.0)
    np.testing.assert_allclose(layer(x[:, :2]).numpy(), want[:, :2], rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="fixed batch size.*batches of 4, got a batch of 3"):
        layer(x[:3])


def test_stateful_state_reuse_as_the_guide(rng):
    """``lstm.states`` is a valid ``initial_state`` for another layer (the guide's reuse)."""
    p1, p2, p3 = (rng.standard_normal((2, 4, 3)).astype(np.float32) for _ in range(3))
    lstm = L.LSTM(6, stateful=True)
    lstm(p1)
    lstm(p2)
    existing = lstm.states
    fresh = L.LSTM(6)
    fresh(p3[:, :1])
    fresh.set_weights(lstm.get_weights())
    np.testing.assert_allclose(fresh(p3, initial_state=existing).numpy(), lstm(p3).numpy(),
                               rtol=1e-5, atol=1e-6)
    lstm.reset_states([np.ones((2, 6)), np.zeros((2, 6))])
    np.testing.assert_array_equal(lstm.states[0].numpy(), 1.0)
    with pytest.raises(AttributeError, match="stateful=True"):
        fresh.reset_states()


def test_stateful_in_a_model_fixed_batch(rng, tmp_path):
    """Building a functional model (its trial runs on zeros) leaves the states alone; fit
    and predict carry them; a saved model loads stateful."""
    x = rng.standard_normal((8, 5, 3)).astype(np.float32)
    inputs = L.Input(batch_shape=(4, 5, 3))
    lstm = L.LSTM(3, stateful=True)
    model = sj.Model(inputs, L.Dense(1)(lstm(inputs)))
    assert lstm.states is None
    first = model.predict(x[:4], batch_size=4, verbose=0)
    again = model.predict(x[:4], batch_size=4, verbose=0)  # continues: other values
    assert not np.allclose(first, again)
    lstm.reset_states()
    np.testing.assert_allclose(model.predict(x[:4], batch_size=4, verbose=0), first, rtol=1e-6)
    model.save(tmp_path / "stateful.shenjing")
    loaded = sj.models.load_model(tmp_path / "stateful.shenjing")
    assert loaded.layers[1].stateful
    np.testing.assert_allclose(loaded.predict(x[:4], batch_size=4, verbose=0), first,
                               rtol=1e-6)
    with pytest.raises(ValueError, match="fixed batch size"):
        model.predict(x[:3], batch_size=3, verbose=0)


@pytest.mark.parametrize("make", [lambda **k: L.GRU(4, **k),
                                  lambda **k: L.RNN(L.SimpleRNNCell(4), **k)])
def test_unroll_gives_the_same_result(make, rng):
    x = _x(rng)
    rolled, unrolled = make(return_sequences=True), make(return_sequences=True, unroll=True)
    rolled(x)
    unrolled(x)
    unrolled.set_weights(rolled.get_weights())
    np.testing.assert_array_equal(unrolled(x).numpy(), rolled(x).numpy())
    assert unrolled.get_config()["unroll"] is True


# -- configs and saving -----------------------------------------------------------------------
def test_new_layers_config_round_trip_and_save(rng, tmp_path):
    x = _x(rng)
    made = [L.RNN(L.GRUCell(3, reset_after=False), return_sequences=True, go_backwards=True),
            L.RNN([L.SimpleRNNCell(2), L.LSTMCell(3)], return_sequences=True),
            L.StackedRNNCells([L.LSTMCell(2), L.GRUCell(2)]),
            L.SimpleRNNCell(3, activation="relu"), L.GRUCell(2, reset_after=False)]
    for layer in made:
        config = layer.get_config()
        clone = type(layer).from_config(config)
        assert clone.get_config() == config
    assert made[1].get_config()["cell"]["class_name"] == "StackedRNNCells"
    base = {"name", "trainable", "dtype"}
    assert set(made[0].get_config()) == base | {  # Keras 3's keys
        "cell", "return_sequences", "return_state", "go_backwards", "stateful", "unroll",
        "zero_output_for_mask"}
    assert set(made[2].get_config()) == base | {"cells"}
    model = sj.Sequential([L.Input((6, 3)), made[0], made[1],
                           L.GRU(2, reset_after=False, return_sequences=True),
                           L.RNN(MinimalRNNCell(2))])
    model.save(tmp_path / "rnn.shenjing")
    loaded = sj.models.load_model(tmp_path / "rnn.shenjing",
                                  custom_objects={"MinimalRNNCell": MinimalRNNCell})
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-6)
