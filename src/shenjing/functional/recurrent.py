"""Whole-sequence recurrent kernels: SimpleRNN, LSTM and GRU, with hand-written BPTT.

Each is one Function over the whole sequence, so a 5,000-step sequence is one graph node (no
recursion, nothing recorded per step). Keras's layouts: inputs (batch, time, features), kernel
(features, gates * units), recurrent kernel (units, gates * units), gate order i, f, c, o (LSTM)
and z, r, h (GRU, ``reset_after=True``: bias (2, 3 * units), the recurrent bias inside the reset
product, as cuDNN and torch).

Forward: the input projection of all time steps is ONE GEMM (time-major, so each step's slice is
contiguous); each step adds one GEMM h @ U and the gate arithmetic, written into preallocated
per-step buffers. Backward walks the steps in reverse, producing the pre-activation gradients dZ
of every step; then the weight gradients are again one GEMM each over all steps
(dW = X^T dZ, dU = H_prev^T dZ, dX = dZ W^T).

Masks (batch, time) of booleans mark real steps: at a padded step the state is carried over
unchanged and the sequence output is zero, so the final state is the one at each sequence's
true end, wherever the padding is (left or right). ``reverse=True`` runs the sequence from its
end (Keras's ``go_backwards``); the outputs stay in processing order, as Keras returns them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import native, parallel
from ..autograd import Function, Tensor, array_of
from ..backend import get_xp
from ..native import address
from . import activation as A
from . import elementwise as E
from . import shape as S
from ._util import add_bias_activate, sum_rows

ACTIVATIONS = ("tanh", "sigmoid", "relu", "linear")
_ACTIVATION_OPS = {"tanh": A.tanh, "sigmoid": A.sigmoid, "relu": A.relu,
                   "linear": lambda z: z}  # the recorded forms, for the replay of create_graph


def _native_cells(arrays: tuple, activation: str, recurrent_activation: str) -> Any:
    """The C kernels (:mod:`shenjing.native`) where they apply: float32 NumPy arrays (copied to
    C order where needed) and Keras's default activations (tanh, sigmoid); else None."""
    if (activation, recurrent_activation) != ("tanh", "sigmoid"):
        return None
    return native.kernels_for(*arrays, contiguous=False)


def _act(z: Any, name: str) -> Any:
    """``name`` applied to ``z`` in place (sigmoid as 0.5 (1 + tanh(z / 2)): no overflow)."""
    xp = get_xp(z)
    if name == "tanh":
        xp.tanh(z, out=z)
    elif name == "sigmoid":
        z *= 0.5
        xp.tanh(z, out=z)
        z += 1
        z *= 0.5
    elif name == "relu":
        xp.maximum(z, 0, out=z)
    return z


def _act_grad(y: Any, name: str) -> Any:
    """The activation's derivative, from its output ``y``."""
    if name == "tanh":
        return 1 - y * y
    if name == "sigmoid":
        return y * (1 - y)
    if name == "relu":
        return (y > 0).astype(y.dtype)
    return get_xp(y).ones_like(y)


class _Recurrence(Function):
    """The loop shared by the three cells: inputs (x, W, U, [b], h0, [c0]) as Tensors; options
    ``mask`` (batch, time) bools or None, ``reverse``, ``rec_mask`` (batch, units) recurrent
    dropout multipliers or None, ``activation``, ``recurrent_activation``.

    Outputs: (sequence (batch, time, units), final h, [final c]).

    A subclass gives ``gates`` (how many units-wide blocks the kernels hold), ``n_states``, and
    ``step`` / ``step_back`` for one time step over preallocated per-step buffers.
    """

    gates = 1
    n_states = 1
    native = None  # the name of this cell's whole-sequence C kernels ('lstm', 'gru'), if any

    def forward(self, x, w, u, *rest, has_bias=True, mask=None, reverse=False, rec_mask=None,
                activation="tanh", recurrent_activation="sigmoid"):
        xp = get_xp(x)
        b = rest[0] if has_bias else None
        states0 = rest[1:] if has_bias else rest
        n, t_len, d = x.shape
        units = u.shape[0]
        cells = _native_cells((x, w, u, *rest), activation, recurrent_activation) if (
            self.native) else None
        order = slice(None, None, -1) if reverse else slice(None)
        xt = xp.ascontiguousarray(x.transpose(1, 0, 2)[order])  # time-major, processing order
        in_bias = self.input_bias(b)
        xw = parallel.matmul(xt.reshape(-1, d), w, None if in_bias is None else (
            lambda out: add_bias_activate(out, in_bias, None))).reshape(t_len, n, -1)
        mt = None
        if mask is not None:
            mt = xp.ascontiguousarray(mask.T[order])[:, :, None]  # (time, batch, 1)
        hs = xp.empty((t_len + 1, n, units), dtype=x.dtype)  # hs[0] = h0, hs[t + 1] = h_t
        hs[0] = states0[0]
        cache = self.new_cache(t_len, n, units, x.dtype, states0)
        if cells is not None:  # the C loop reads a whole (batch, units) mask
            if rec_mask is not None:
                rec_mask = np.ascontiguousarray(np.broadcast_to(rec_mask, (n, units)), np.float32)
            self.run_native(getattr(cells, f"sj_{self.native}_forward_seq"), t_len, n, units,
                            (np.ascontiguousarray(u), xw, *self.native_bias(b, units), mt,
                             rec_mask), (hs, *cache.values()))
        else:
            for t in range(t_len):
                h_prev = hs[t] if rec_mask is None else hs[t] * rec_mask
                self.step(t, xw[t], h_prev, u, b, hs, cache, activation, recurrent_activation)
                if mt is not None:  # padded step: carry the state over
                    self.carry(t, mt[t], hs, cache)
        seq = hs[1:] if mt is None else xp.where(mt, hs[1:], 0)
        self.save_for_backward(xt, w, u, hs, mt, cache, rec_mask, reverse, activation,
                               recurrent_activation, has_bias, len(states0), cells)
        out = xp.ascontiguousarray(seq.transpose(1, 0, 2))
        return (out, hs[-1].copy(), *self.final_states(cache))

    def backward(self, g_seq, g_h, *g_states):
        (xt, w, u, hs, mt, cache, rec_mask, reverse, activation, recurrent_activation,
         has_bias, n_init, cells) = self.saved
        xp = get_xp(xt)
        t_len, n, _ = xt.shape
        units = u.shape[0]
        order = slice(None, None, -1) if reverse else slice(None)
        gs = None
        if g_seq is not None:  # time-major, in processing order
            gs = xp.ascontiguousarray(g_seq.transpose(1, 0, 2), dtype=xt.dtype)
            if mt is not None:
                gs = gs * mt
        # owned, C-ordered and of the sequence's dtype: updated in place, read by the C kernels
        dh = (xp.array(g_h, dtype=xt.dtype, order="C") if g_h is not None
              else xp.zeros((n, units), dtype=xt.dtype))
        dstates = self.final_state_grads(xp, g_states, n, units, xt.dtype)
        dzx, dzh = self.new_grad_buffers(xp, t_len, n, units, xt.dtype)
        if cells is not None:  # U^T C-ordered: dz @ U^T runs ~15% faster than on U's view
            self.run_native(getattr(cells, f"sj_{self.native}_backward_seq"), t_len, n, units,
                            (np.ascontiguousarray(u.T), gs, mt, rec_mask),
                            (*self.native_saved(hs, cache), dzx,
                             *([] if dzh is dzx else [dzh]), dh, *dstates))
        else:
            for t in range(t_len - 1, -1, -1):
                if gs is not None:
                    dh += gs[t]
                m = mt[t] if mt is not None else None
                dh_new = dh if m is None else dh * m
                dh_direct = self.step_back(t, dh_new, dstates, m, hs, cache, dzx, dzh, u,
                                           activation, recurrent_activation)
                back = dzh[t] @ u.T
                if rec_mask is not None:
                    back *= rec_mask
                if dh_direct is not None:
                    back += dh_direct
                if m is not None:  # a padded step passed the gradient straight through
                    back += dh * ~m
                dh = back
        dzx2 = dzx.reshape(t_len * n, -1)
        dzh2 = dzh.reshape(t_len * n, -1)
        h_prev = hs[:-1].reshape(t_len * n, units)
        if rec_mask is not None:
            h_prev = (hs[:-1] * rec_mask).reshape(t_len * n, units)
        needs = self.needs_input_grad
        gx = None
        if needs[0]:
            gxt = parallel.matmul(dzx2, w.T).reshape(t_len, n, -1)[order]
            gx = xp.ascontiguousarray(gxt.transpose(1, 0, 2))
        gw = parallel.matmul_tn(xt.reshape(t_len * n, -1), dzx2) if needs[1] else None
        gu = parallel.matmul_tn(h_prev, dzh2) if needs[2] else None
        gb = self.bias_grad(dzx2, dzh2) if has_bias and needs[3] else None
        grads = [gx, gw, gu, gb][:4 if has_bias else 3]
        init_grads = [dh, *dstates][:n_init]
        return (*grads, *init_grads)

    def differentiable_backward(self, *grads):
        """create_graph=True: the sequence is replayed step by step with recorded ops (each
        cell's ``step_ops``) and that replay differentiated, with its graph kept: slower than
        the hand-written BPTT, whose gradients are plain arrays, but differentiable again."""
        from ..autograd import grad

        outs = self._replay()
        used = [(o, g) for o, g in zip(outs, grads) if g is not None]
        wanted = [t for t, need in zip(self.inputs, self.needs_input_grad) if need]
        found = iter(grad([o for o, _ in used], wanted, [g for _, g in used],
                          retain_graph=True, create_graph=True, allow_unused=True))
        return tuple(next(found) if need else None for need in self.needs_input_grad)

    def _replay(self):
        """The forward again on the op's input Tensors, one recorded step at a time, with the
        same masks, direction and recurrent dropout: (sequence, final h, [final c])."""
        (_, _, _, _, mt, _, rec_mask, reverse, activation, recurrent_activation, has_bias,
         _, _) = self.saved
        x, w, u, *rest = self.inputs
        b = rest[0] if has_bias else None
        states = list(rest[1:] if has_bias else rest)
        act, rec_act = _ACTIVATION_OPS[activation], _ACTIVATION_OPS[recurrent_activation]
        t_len = x.shape[1]
        seq = []
        for k in range(t_len):  # processing order
            h_rec = states[0] if rec_mask is None else states[0] * Tensor._wrap(rec_mask)
            x_t = x[:, t_len - 1 - k if reverse else k]
            new = self.step_ops(x_t @ w, h_rec, states, u, b, act, rec_act)
            if mt is not None:  # a padded step carries the states and outputs zeros
                new = [E.where(mt[k], s_new, s_old) for s_new, s_old in zip(new, states)]
            seq.append(new[0] if mt is None else E.where(mt[k], new[0], 0.0))
            states = new
        return (S.stack(seq, axis=1), *states)

    def run_native(self, kernel, t_len, n, units, inputs, outputs):
        """One C call per thread, each on its share of the batch for the whole sequence (the C
        loop holds no GIL: the shares really run at once). The kernels take (time, batch, row
        start, rows, units), the input arrays, a scratch area, the output arrays."""
        pointers = [address(a) for a in inputs], [address(a) for a in outputs]

        def rows(start, stop):
            scratch = np.empty(3 * (stop - start) * units, np.float32)
            kernel(t_len, n, start, stop - start, units, *pointers[0], address(scratch),
                   *pointers[1])

        parallel.over_batch(rows, n, t_len * parallel.gemm_work(n, units, self.gates * units))

    def native_bias(self, b, units):
        """The bias arrays the C forward reads besides x W + b (the GRU's recurrent bias)."""
        return ()

    def native_saved(self, hs, cache):
        """The forward's buffers that the C backward reads."""
        return tuple(cache.values())

    # Subclass hooks (defaults: SimpleRNN-like, one state, input bias = b).
    def input_bias(self, b):
        return b

    def bias_grad(self, dzx2, dzh2):
        return sum_rows(dzx2)

    def new_cache(self, t_len, n, units, dtype, states0):
        return None

    def final_states(self, cache):
        return ()

    def final_state_grads(self, xp, g_states, n, units, dtype):
        return []

    def new_grad_buffers(self, xp, t_len, n, units, dtype):
        dz = xp.empty((t_len, n, self.gates * units), dtype=dtype)
        return dz, dz

    def carry(self, t, m, hs, cache):
        hs[t + 1] = get_xp(hs).where(m, hs[t + 1], hs[t])


class _SimpleRNN(_Recurrence):
    """h_t = act(x_t W + h_{t-1} U + b);  dz_t = dh_t * act'(h_t)."""

    def step(self, t, xw_t, h_prev, u, b, hs, cache, activation, recurrent_activation):
        h = hs[t + 1]
        get_xp(h).matmul(h_prev, u, out=h)
        h += xw_t
        _act(h, activation)

    def step_back(self, t, dh_new, dstates, m, hs, cache, dzx, dzh, u, activation,
                  recurrent_activation):
        get_xp(dh_new).multiply(dh_new, _act_grad(hs[t + 1], activation), out=dzx[t])
        return None

    def step_ops(self, xw, h_rec, states, u, b, act, rec_act):
        z = xw + h_rec @ u
        return [act(z if b is None else z + b)]


class _LSTM(_Recurrence):
    """Gates z = x_t W + h_{t-1} U + b split as Keras's i, f, c, o (here i, f, g, o):
    i, f, o = sigma(.), g = act(.), c_t = f c_{t-1} + i g, h_t = o act(c_t).
    Kept per step: the gate activations, c_t and act(c_t)."""

    gates, n_states = 4, 2
    native = "lstm"

    def new_cache(self, t_len, n, units, dtype, states0):
        xp = get_xp(states0[0])
        cs = xp.empty((t_len + 1, n, units), dtype=dtype)
        cs[0] = states0[1]
        return {"z": xp.empty((t_len, n, 4 * units), dtype=dtype), "c": cs,
                "tc": xp.empty((t_len, n, units), dtype=dtype)}

    def final_states(self, cache):
        return (cache["c"][-1].copy(),)

    def final_state_grads(self, xp, g_states, n, units, dtype):
        g_c = g_states[0] if g_states else None  # owned and C-ordered: updated in place
        return [xp.array(g_c, dtype=dtype, order="C") if g_c is not None
                else xp.zeros((n, units), dtype=dtype)]

    def step(self, t, xw_t, h_prev, u, b, hs, cache, activation, recurrent_activation):
        xp = get_xp(xw_t)
        z, c, tc = cache["z"][t], cache["c"], cache["tc"][t]
        k = u.shape[0]
        xp.matmul(h_prev, u, out=z)
        z += xw_t
        _act(z[:, :2 * k], recurrent_activation)
        _act(z[:, 2 * k:3 * k], activation)
        _act(z[:, 3 * k:], recurrent_activation)
        i, f, g, o = z[:, :k], z[:, k:2 * k], z[:, 2 * k:3 * k], z[:, 3 * k:]
        xp.multiply(f, c[t], out=c[t + 1])
        c[t + 1] += i * g
        tc[...] = c[t + 1]
        _act(tc, activation)
        xp.multiply(o, tc, out=hs[t + 1])

    def carry(self, t, m, hs, cache):
        xp = get_xp(hs)
        hs[t + 1] = xp.where(m, hs[t + 1], hs[t])
        cache["c"][t + 1] = xp.where(m, cache["c"][t + 1], cache["c"][t])

    def step_back(self, t, dh_new, dstates, m, hs, cache, dzx, dzh, u, activation,
                  recurrent_activation):
        xp = get_xp(dh_new)
        z, c, tc = cache["z"][t], cache["c"], cache["tc"][t]
        k = u.shape[0]
        i, f, g, o = z[:, :k], z[:, k:2 * k], z[:, 2 * k:3 * k], z[:, 3 * k:]
        dc_in = dstates[0]
        dc = dh_new * o
        dc *= _act_grad(tc, activation)
        dc += dc_in if m is None else dc_in * m
        dz = dzx[t]
        xp.multiply(dc, g, out=dz[:, :k])
        xp.multiply(dc, c[t], out=dz[:, k:2 * k])
        dz[:, :2 * k] *= _act_grad(z[:, :2 * k], recurrent_activation)
        xp.multiply(dc, i, out=dz[:, 2 * k:3 * k])
        dz[:, 2 * k:3 * k] *= _act_grad(g, activation)
        xp.multiply(dh_new, tc, out=dz[:, 3 * k:])
        dz[:, 3 * k:] *= _act_grad(o, recurrent_activation)
        dc *= f
        if m is not None:
            dc += dc_in * ~m
        dstates[0] = dc
        return None

    def step_ops(self, xw, h_rec, states, u, b, act, rec_act):
        k = u.shape[0]
        z = xw + h_rec @ u
        z = z if b is None else z + b
        c = rec_act(z[:, k:2 * k]) * states[1] + rec_act(z[:, :k]) * act(z[:, 2 * k:3 * k])
        return [rec_act(z[:, 3 * k:]) * act(c), c]


class _GRU(_Recurrence):
    """Keras's GRU with reset_after=True (torch's and cuDNN's form), gates z, r, h:
    a = x_t W + b_in, q = h_{t-1} U + b_rec, z = sigma(a_z + q_z), r = sigma(a_r + q_r),
    hh = act(a_h + r * q_h), h_t = z h_{t-1} + (1 - z) hh.
    Kept per step: z, r, q_h and hh. The input and recurrent pre-activation gradients differ
    only in the candidate block (da_h vs r * da_h), so both are stored."""

    gates = 3
    native = "gru"

    def native_bias(self, b, units):
        return (np.zeros(3 * units, np.float32) if b is None else np.ascontiguousarray(b[1]),)

    def native_saved(self, hs, cache):
        return (hs, *cache.values())

    def input_bias(self, b):
        return None if b is None else b[0]

    def bias_grad(self, dzx2, dzh2):
        return get_xp(dzx2).stack([sum_rows(dzx2), sum_rows(dzh2)])

    def new_cache(self, t_len, n, units, dtype, states0):
        xp = get_xp(states0[0])
        # per step: q = h U + b_rec, its z and r blocks then overwritten by the gates z and r
        return {"q": xp.empty((t_len, n, 3 * units), dtype=dtype),
                "hh": xp.empty((t_len, n, units), dtype=dtype)}

    def new_grad_buffers(self, xp, t_len, n, units, dtype):
        return (xp.empty((t_len, n, 3 * units), dtype=dtype),
                xp.empty((t_len, n, 3 * units), dtype=dtype))

    def step(self, t, xw_t, h_prev, u, b, hs, cache, activation, recurrent_activation):
        xp = get_xp(xw_t)
        k = u.shape[0]
        q, hh = cache["q"][t], cache["hh"][t]
        xp.matmul(h_prev, u, out=q)
        if b is not None:
            q += b[1]
        zr, qh = q[:, :2 * k], q[:, 2 * k:]
        zr += xw_t[:, :2 * k]
        _act(zr, recurrent_activation)
        xp.multiply(zr[:, k:], qh, out=hh)
        hh += xw_t[:, 2 * k:]
        _act(hh, activation)
        zg = zr[:, :k]
        h = hs[t + 1]
        xp.subtract(hs[t], hh, out=h)  # h = hh + z (h_prev - hh)
        h *= zg
        h += hh

    def step_back(self, t, dh_new, dstates, m, hs, cache, dzx, dzh, u, activation,
                  recurrent_activation):
        k = u.shape[0]
        q, hh = cache["q"][t], cache["hh"][t]
        zr, qh = q[:, :2 * k], q[:, 2 * k:]
        xp = get_xp(dh_new)
        zg, r = zr[:, :k], zr[:, k:]
        dx, dq = dzx[t], dzh[t]
        da_h = dx[:, 2 * k:]
        xp.multiply(dh_new, 1 - zg, out=da_h)
        da_h *= _act_grad(hh, activation)
        xp.subtract(hs[t], hh, out=dx[:, :k])
        dx[:, :k] *= dh_new
        xp.multiply(da_h, qh, out=dx[:, k:2 * k])
        dx[:, :2 * k] *= _act_grad(zr, recurrent_activation)  # both sigmoid gates at once
        dq[:, :2 * k] = dx[:, :2 * k]
        xp.multiply(da_h, r, out=dq[:, 2 * k:])
        return dh_new * zg

    def step_ops(self, xw, h_rec, states, u, b, act, rec_act):
        k = u.shape[0]
        q = h_rec @ u
        if b is not None:
            xw, q = xw + b[0], q + b[1]
        zr = rec_act(xw[:, :2 * k] + q[:, :2 * k])
        hh = act(xw[:, 2 * k:] + zr[:, k:] * q[:, 2 * k:])
        return [hh + zr[:, :k] * (states[0] - hh)]


_KERNELS = {"simple_rnn": _SimpleRNN, "lstm": _LSTM, "gru": _GRU}


def recurrence(cell: str, x: Tensor, kernel: Tensor, recurrent_kernel: Tensor,
               bias: Tensor | None, initial_states: list[Tensor], mask: Any = None,
               reverse: bool = False, recurrent_mask: Any = None, activation: str = "tanh",
               recurrent_activation: str = "sigmoid") -> tuple[Tensor, ...]:
    """Run a whole sequence through ``cell`` ('simple_rnn', 'lstm' or 'gru').

    Args:
        x: (batch, time, features).
        kernel: (features, gates * units); recurrent_kernel: (units, gates * units); bias:
            (gates * units,), for 'gru' (2, 3 * units) (input and recurrent biases), or None.
        initial_states: [h0] or, for 'lstm', [h0, c0], each (batch, units).
        mask: (batch, time) booleans, True at real steps, or None.
        reverse: process from the last step to the first (outputs in processing order).
        recurrent_mask: (batch, units) multipliers of h_{t-1} before the recurrent GEMM at every
            step (recurrent dropout), or None.
        activation, recurrent_activation: one of tanh, sigmoid, relu, linear.

    Returns:
        (outputs (batch, time, units), final h, [final c]): zero outputs at masked steps, the
        final states taken at each sequence's last real step.
    """
    cls = _KERNELS[cell]
    for name, act in (("activation", activation), ("recurrent_activation", recurrent_activation)):
        if act not in ACTIVATIONS:
            raise ValueError(f"{cell}: fused kernels support {name} in {ACTIVATIONS}, got "
                             f"{act!r}")
    if x.ndim != 3:
        raise ValueError(f"{cell}: expected inputs (batch, time, features), got shape {x.shape}")
    units = recurrent_kernel.shape[0]
    width = cls.gates * units
    if kernel.shape != (x.shape[-1], width) or recurrent_kernel.shape != (units, width):
        raise ValueError(f"{cell}: kernel {kernel.shape} and recurrent kernel "
                         f"{recurrent_kernel.shape} do not fit inputs with {x.shape[-1]} "
                         f"features and {units} units (expected ({x.shape[-1]}, {width}) and "
                         f"({units}, {width}))")
    if len(initial_states) != cls.n_states or any(
            s.shape != (x.shape[0], units) for s in initial_states):
        raise ValueError(f"{cell}: expected {cls.n_states} initial state(s) of shape "
                         f"({x.shape[0]}, {units}), got "
                         f"{[tuple(s.shape) for s in initial_states]}")
    if mask is not None:
        mask = get_xp(x.data).asarray(mask, dtype=bool)
        if mask.shape != x.shape[:2]:
            raise ValueError(f"{cell}: mask of shape {mask.shape} does not match inputs "
                             f"{x.shape} (expected {x.shape[:2]})")
    x = E.floating_like(x, kernel)
    if recurrent_mask is not None:  # where x lives (a host mask for GPU inputs), x's dtype
        recurrent_mask = get_xp(x.data).asarray(array_of(recurrent_mask), dtype=x.dtype)
    inputs = [x, kernel, recurrent_kernel] + ([bias] if bias is not None else [])
    return cls.apply(*inputs, *initial_states, has_bias=bias is not None, mask=mask,
                     reverse=reverse, rec_mask=recurrent_mask, activation=activation,
                     recurrent_activation=recurrent_activation)
