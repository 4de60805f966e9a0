"""The fused recurrent kernels: finite differences, PyTorch's RNN/LSTM/GRU, masks, long runs."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

import shenjing
from oracle import require_torch
from shenjing import F

N, T, D, H = 3, 5, 4, 6
GATES = {"simple_rnn": 1, "lstm": 4, "gru": 3}


def _weights(cell, rng, dtype=np.float64):
    g = GATES[cell]
    w = rng.standard_normal((D, g * H)) * 0.5
    u = rng.standard_normal((H, g * H)) * 0.5
    b = rng.standard_normal((2, 3 * H) if cell == "gru" else (g * H,)) * 0.3
    states = [rng.standard_normal((N, H)) for _ in range(2 if cell == "lstm" else 1)]
    return [a.astype(dtype) for a in (rng.standard_normal((N, T, D)), w, u, b, *states)]


def _mask(left=False):
    mask = np.ones((N, T), bool)
    if left:
        mask[0, :2] = False
        mask[2, :1] = False
    else:
        mask[0, 3:] = False
        mask[2, 4:] = False
    return mask


def _loss(cell, **options):
    def f(x, w, u, b, *states):
        out = F.recurrence(cell, x, w, u, b, list(states), **options)
        total = (out[0] * out[0]).sum() + 0.7 * out[1].sum()
        return total + out[2].sum() * 0.3 if len(out) == 3 else total
    return f


OPTIONS = {
    "plain": {},
    "right-padded": {"mask": _mask()},
    "left-padded": {"mask": _mask(left=True)},
    "reversed, masked": {"reverse": True, "mask": _mask()},
    "recurrent dropout": {"recurrent_mask": (np.arange(N * H).reshape(N, H) % 3 > 0) * 1.5},
    "relu": {"activation": "relu"},
    "linear": {"activation": "linear"},
}


@pytest.mark.parametrize("cell", GATES)
@pytest.mark.parametrize("option", OPTIONS)
def test_recurrence_gradcheck(cell, option, rng):
    inputs = [shenjing.tensor(a, requires_grad=True) for a in _weights(cell, rng)]
    assert shenjing.gradcheck(_loss(cell, **OPTIONS[option]), *inputs)


def _to_torch(cell, w, u, b, torch):
    """Keras-layout weights as the (weight_ih, weight_hh, bias_ih, bias_hh) of torch's layer:
    torch keeps (gates * units, in) matrices, LSTM gates in the same order (i, f, g, o), GRU
    gates as (r, z, n) where Keras has (z, r, h), and two biases that it adds."""
    def gru_order(a):  # Keras (z, r, h) blocks along the last axis -> torch (r, z, n)
        z, r, h = np.split(a, 3, axis=-1)
        return np.concatenate([r, z, h], axis=-1)

    if cell == "gru":
        w, u, b_ih, b_hh = gru_order(w), gru_order(u), gru_order(b[0]), gru_order(b[1])
    else:
        b_ih, b_hh = b, np.zeros_like(b)
    return [torch.tensor(np.ascontiguousarray(a), requires_grad=True)
            for a in (w.T, u.T, b_ih, b_hh)]


def _torch_layer(cell, torch, weights):
    cls = {"simple_rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[cell]
    layer = cls(D, H, batch_first=True)
    with torch.no_grad():
        for name, value in zip(("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"),
                               weights):
            getattr(layer, name).copy_(value)
    return layer


@pytest.mark.parametrize("cell", GATES)
@pytest.mark.parametrize("masked", [False, True], ids=["full", "packed"])
def test_recurrence_matches_torch(cell, masked, rng):
    torch = require_torch()
    x, w, u, b, *states = _weights(cell, rng, np.float32)
    mask = _mask() if masked else None
    ours = [shenjing.tensor(a, requires_grad=True) for a in (x, w, u, b, *states)]
    out = F.recurrence(cell, *ours[:4], ours[4:], mask=mask)
    g_seq = rng.standard_normal(out[0].shape).astype(np.float32)
    ((out[0] * shenjing.tensor(g_seq)).sum() + out[1].sum()).backward()

    layer = _torch_layer(cell, torch, _to_torch(cell, w, u, b, torch))
    tx = torch.tensor(x, requires_grad=True)
    t_states = [torch.tensor(s[None], requires_grad=True) for s in states]
    t_init = tuple(t_states) if cell == "lstm" else t_states[0]
    lengths = mask.sum(1) if masked else np.full(N, T)
    packed = torch.nn.utils.rnn.pack_padded_sequence(tx, torch.tensor(lengths), batch_first=True,
                                                     enforce_sorted=False)
    t_out, t_final = layer(packed, t_init)
    t_seq, _ = torch.nn.utils.rnn.pad_packed_sequence(t_out, batch_first=True, total_length=T)
    t_h = t_final[0] if cell == "lstm" else t_final
    ((t_seq * torch.tensor(g_seq)).sum() + t_h.sum()).backward()

    np.testing.assert_allclose(out[0].numpy(), t_seq.detach().numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(out[1].numpy(), t_h[0].detach().numpy(), rtol=1e-4, atol=1e-5)
    if cell == "lstm":
        np.testing.assert_allclose(out[2].numpy(), t_final[1][0].detach().numpy(), rtol=1e-4,
                                   atol=1e-5)
    np.testing.assert_allclose(ours[0].grad.numpy(), tx.grad.numpy(), rtol=1e-4, atol=1e-5)
    for ours_s, theirs in zip(ours[4:], t_states):
        np.testing.assert_allclose(ours_s.grad.numpy(), theirs.grad[0].numpy(), rtol=1e-4,
                                   atol=1e-5)
    t_w = [getattr(layer, n).grad.numpy() for n in ("weight_ih_l0", "weight_hh_l0")]
    expected_w = [g.T for g in t_w]
    if cell == "gru":  # torch (r, z, n) back to Keras (z, r, h)
        expected_w = [np.concatenate([g[:, H:2 * H], g[:, :H], g[:, 2 * H:]], axis=1)
                      for g in expected_w]
    np.testing.assert_allclose(ours[1].grad.numpy(), expected_w[0], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(ours[2].grad.numpy(), expected_w[1], rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("cell", GATES)
def test_padding_does_not_change_the_final_state(cell, rng):
    """Each sequence's final state is the one at its true end, left or right padded."""
    x, w, u, b, *states = _weights(cell, rng)
    lengths = [5, 3, 1]
    right = np.zeros((N, T, D))
    left = np.zeros((N, T, D))
    for i, n in enumerate(lengths):
        right[i, :n] = x[i, :n]
        left[i, T - n:] = x[i, :n]
    finals = []
    for data, mask in ((right, np.arange(T) < np.array(lengths)[:, None]),
                       (left, np.arange(T) >= T - np.array(lengths)[:, None])):
        out = F.recurrence(cell, shenjing.tensor(data), *map(shenjing.tensor, (w, u, b)),
                           [shenjing.tensor(s) for s in states], mask=mask)
        finals.append(out[1].numpy())
    for i, n in enumerate(lengths):
        alone = F.recurrence(cell, shenjing.tensor(x[i:i + 1, :n]),
                             *map(shenjing.tensor, (w, u, b)),
                             [shenjing.tensor(s[i:i + 1]) for s in states])
        np.testing.assert_allclose(finals[0][i], alone[1].numpy()[0], rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(finals[1][i], alone[1].numpy()[0], rtol=1e-5, atol=1e-6)


def test_reverse_reads_the_sequence_from_its_end(rng):
    x, w, u, b, h0 = _weights("simple_rnn", rng)
    weights = [shenjing.tensor(a) for a in (w, u, b)]
    back = F.recurrence("simple_rnn", shenjing.tensor(x), *weights, [shenjing.tensor(h0)],
                        reverse=True)
    flipped = F.recurrence("simple_rnn", shenjing.tensor(x[:, ::-1].copy()), *weights,
                           [shenjing.tensor(h0)])
    np.testing.assert_allclose(back[0].numpy(), flipped[0].numpy())


@pytest.mark.parametrize("cell", GATES)
def test_long_sequence_trains_with_memory_linear_in_length(cell):
    """5,000 steps and more: no recursion, and memory proportional to the length."""
    rng = np.random.default_rng(0)
    peaks = {}
    for t_len in (100, 2500, 10000):  # the first run only warms up (a thread pool, caches)
        x = shenjing.tensor(rng.standard_normal((2, t_len, 3)).astype(np.float32))
        g = GATES[cell]
        w = shenjing.tensor(rng.standard_normal((3, g * 8)).astype(np.float32) * 0.3,
                            requires_grad=True)
        u = shenjing.tensor(rng.standard_normal((8, g * 8)).astype(np.float32) * 0.3,
                            requires_grad=True)
        states = [shenjing.tensor(np.zeros((2, 8), np.float32))] * (2 if cell == "lstm" else 1)
        tracemalloc.start()
        out = F.recurrence(cell, x, w, u, None, states)
        out[0].mean().backward()
        peaks[t_len] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert np.isfinite(w.grad.numpy()).all() and np.abs(u.grad.numpy()).sum() > 0
        del out
    assert 2.5 < peaks[10000] / peaks[2500] < 6  # 4x the length: linear (16x if quadratic)


@pytest.mark.parametrize("bad, message", [
    ({"activation": "softmax"}, "activation in"),
    ({"mask": np.ones((N, T + 1), bool)}, "mask of shape"),
])
def test_recurrence_rejects_bad_options(bad, message, rng):
    x, w, u, b, h0 = _weights("simple_rnn", rng)
    with pytest.raises(ValueError, match=message):
        F.recurrence("simple_rnn", *map(shenjing.tensor, (x, w, u, b)), [shenjing.tensor(h0)],
                     **bad)


def test_recurrence_names_mismatched_weights(rng):
    x, w, u, b, h0 = _weights("lstm", rng)[:5]
    with pytest.raises(ValueError, match=r"lstm: kernel \(4, 24\).*expected \(4, 24\) and "):
        F.recurrence("lstm", *map(shenjing.tensor, (x, w, u[:, :12], b)),
                     [shenjing.tensor(h0)] * 2)
