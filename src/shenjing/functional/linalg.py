"""Matrix products: ``matmul`` (NumPy's semantics, batched and 1-D) and the fused ``linear``."""

from __future__ import annotations

import math

import numpy as np

from .. import parallel
from ..autograd import Function, Tensor
from ..backend import get_xp
from . import elementwise as E
from . import reduction as R
from . import shape as S
from ._util import activation_bias_grads, add_bias_activate, as_tensor, check_fused_activation


class _MatMul(Function):
    """y = a @ b;  ga = g @ b^T, gb = a^T @ g. A 1-D operand is treated as a row (a) or a column
    (b) vector and the added axis is removed again, as in ``numpy.matmul``; leading batch axes
    broadcast and the engine sums their gradients."""

    def forward(self, a, b):
        self.save_for_backward(a if self.needs_input_grad[1] else None,
                               b if self.needs_input_grad[0] else None, a.ndim, b.ndim)
        return parallel.gemm(a, b)

    def backward(self, g):
        a, b, a_ndim, b_ndim = self.saved
        need = self.needs_input_grad  # may be narrower than in the forward (grad()'s inputs)
        a, b = (a if need[1] else None), (b if need[0] else None)
        # Column axis first: for a dot product (both 1-D) g is 0-d and becomes (1, 1).
        if b_ndim == 1:
            g = g[..., None]
        if a_ndim == 1:
            g = g[..., None, :]
        ga = gb = None
        if b is not None:
            b2 = b[:, None] if b_ndim == 1 else b
            ga = parallel.gemm(g, b2.swapaxes(-1, -2))
            if a_ndim == 1:
                ga = ga[..., 0, :]
        if a is not None and b_ndim == 2 and a_ndim > 2:  # one product over the stack's rows
            m = math.prod(a.shape[:-1])  # (not -1: an axis may be empty)
            gb = parallel.gemm(a.reshape(m, a.shape[-1]).T, g.reshape(m, g.shape[-1]))
        elif a is not None:
            a2 = a[None, :] if a_ndim == 1 else a
            gb = parallel.gemm(a2.swapaxes(-1, -2), g)
            if b_ndim == 1:
                gb = gb[..., 0]
        return ga, gb

    def differentiable_backward(self, g):
        (a, b), need = self.inputs, self.needs_input_grad
        if b.ndim == 1:  # as backward: vectors become a row (a) or a column (b) of a product
            g = S.expand_dims(g, -1)
        if a.ndim == 1:
            g = S.expand_dims(g, -2)
        ga = gb = None
        if need[0]:
            ga = matmul_t(g, S.reshape(b, (-1, 1)) if b.ndim == 1 else b, tb=True)
            ga = ga[..., 0, :] if a.ndim == 1 else ga
        if need[1]:
            gb = matmul_t(S.reshape(a, (1, -1)) if a.ndim == 1 else a, g, ta=True)
            gb = gb[..., 0] if b.ndim == 1 else gb
        return ga, gb


class _TransposedMatMul(Function):
    """y = op(a) @ op(b), op swapping the last two axes where ``ta`` / ``tb`` ask (operands of
    2 or more axes, batch axes broadcast): the products of the recorded backwards, without a
    transpose op beside each. Its gradients are such products again:
    ga = g op(b)^T (op(b) g^T if ta), gb = op(a)^T g (g^T op(a) if tb)."""

    def forward(self, a, b, ta=False, tb=False):
        self.save_for_backward(a, b, ta, tb)
        return _array_product(a, b, ta, tb)

    def backward(self, g):
        a, b, ta, tb = self.saved
        return self._grads(a, b, g, ta, tb, _array_product)

    def differentiable_backward(self, g):
        (a, b), (ta, tb) = self.inputs, self.saved[2:]
        return self._grads(a, b, g, ta, tb, matmul_t)

    def _grads(self, a, b, g, ta, tb, product):
        need = self.needs_input_grad
        ga = (product(b, g, tb, True) if ta else product(g, b, False, not tb)) if need[0] else None
        gb = (product(g, a, True, ta) if tb else product(a, g, not ta, False)) if need[1] else None
        return ga, gb


def _array_product(a, b, ta=False, tb=False):
    return parallel.gemm(a.swapaxes(-1, -2) if ta else a, b.swapaxes(-1, -2) if tb else b)


def matmul_t(a: Tensor, b: Tensor, ta: bool = False, tb: bool = False) -> Tensor:
    """op(a) @ op(b) recorded as one op (see :class:`_TransposedMatMul`): what the recorded
    backwards of matmul, linear and the convolutions multiply with."""
    return _TransposedMatMul.apply(a, b, ta=ta, tb=tb)


class _Linear(Function):
    """y = x @ W + b with W shaped (in, out) (Keras's kernel layout), fused so the layer costs
    one GEMM forward and two backward, with no intermediate tensors.

    gx = g @ W^T,  gW = x^T @ g,  gb = sum of g over the batch. Inputs with more than two axes
    (..., in) are folded into one batch axis for the GEMMs. A fused ReLU is applied in place on
    y, and its backward masks g with y > 0 (``relu(linear(...))`` folds one in afterwards:
    ``_util.fold_relu``).
    """

    saves_outputs = True
    folds_relu = True  # (its saved values end with (y, activation): _util.fold_relu)

    def forward(self, x, w, b=None, activation=None):
        # (not -1: a size may be 0; a batch of rows, the common case, needs no reshape)
        x2 = x if x.ndim == 2 else x.reshape(math.prod(x.shape[:-1]), x.shape[-1])
        # GEMM-bound: BLAS's own threads serve it best until other ops split themselves.
        y = parallel.matmul(x2, w, lambda out: add_bias_activate(out, b, activation))
        if x.ndim != 2:
            y = y.reshape(*x.shape[:-1], w.shape[1])
        self.save_for_backward(x2 if self.needs_input_grad[1] else None,
                               w if self.needs_input_grad[0] else None, x.shape,
                               y if activation else None, activation)
        return y

    def backward(self, g):
        x2, w, x_shape, y, activation = self.saved
        need = self.needs_input_grad  # may be narrower than in the forward (grad()'s inputs)
        x2, w = (x2 if need[1] else None), (w if need[0] else None)
        xp = get_xp(g)
        g2 = g if g.ndim == 2 else g.reshape(math.prod(g.shape[:-1]), g.shape[-1])
        m, n = g2.shape
        y = y.reshape(m, n) if y is not None and y.ndim != 2 else y
        need_b = len(need) == 3 and need[2]
        gx = xp.empty((m, x_shape[-1]), dtype=g.dtype) if w is not None else None

        def rows(start, stop):  # one thread's rows: gx rows, partial sums of gW and gb
            gs, gb = activation_bias_grads(g2[start:stop],
                                           y[start:stop] if y is not None else None,
                                           activation, need_b)
            products = ([(gs, w.T, gx[start:stop])] if gx is not None else []) + (
                [(x2[start:stop].T, gs, None)] if x2 is not None else [])
            outs = parallel.gemms(*products)  # (gx's rows are written in place)
            return outs[-1] if x2 is not None else None, gb

        if xp is np and parallel.splitting():  # slices of the batch: partial sums added
            partials = parallel.over_batch(rows, m, 2 * parallel.gemm_work(m, x_shape[-1], n))
            gw, gb = (parallel.summed([p[i] for p in partials]) for i in range(2))
        else:
            gw, gb = rows(0, m)
        gx = gx.reshape(x_shape) if gx is not None and len(x_shape) != 2 else gx
        return (gx, gw) if len(need) == 2 else (gx, gw, gb)

    def differentiable_backward(self, g):
        x, w = self.inputs[:2]
        need, y, activation = self.needs_input_grad, self.saved[3], self.saved[4]
        rows = math.prod(g.shape[:-1])  # (not -1: a size may be 0)
        g2 = S.reshape(g, (rows, g.shape[-1]))
        if activation:  # the fused ReLU: a constant mask
            g2 = g2 * (y.reshape(g2.shape) > 0)
        gx = S.reshape(matmul_t(g2, w, tb=True), x.shape) if need[0] else None
        gw = matmul_t(S.reshape(x, (rows, x.shape[-1])), g2, ta=True) if need[1] else None
        return (gx, gw) if len(need) == 2 else (gx, gw, R.sum(g2, 0) if need[2] else None)


def matmul(a: Tensor, b: Tensor) -> Tensor:
    """Matrix product with NumPy's rules (1-D vectors, broadcast batch axes)."""
    if not isinstance(a, Tensor) or not isinstance(b, Tensor):  # arrays: constants, in the
        a = as_tensor(a, like=b if isinstance(b, Tensor) else None)  # other's dtype when it
        b = as_tensor(b, like=a)  # is a Tensor (a float64 array stays float64 beside one)
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError("matmul() does not take scalars; use * instead")
    if a.shape[-1] != b.shape[-2 if b.ndim > 1 else 0]:
        raise ValueError(f"matmul: shapes {a.shape} and {b.shape} do not align "
                         f"({a.shape[-1]} != {b.shape[-2 if b.ndim > 1 else 0]})")
    da, db = a.data.dtype, b.data.dtype
    if da is not db and da.kind != db.kind and "f" in (da.kind, db.kind):
        # torch's promotion: an integer operand takes the float's dtype
        a, b = (E.floating_like(a, b), b) if db.kind == "f" else (a, E.floating_like(b, a))
    return _MatMul.apply(a, b)


def linear(x: Tensor, w: Tensor, b: Tensor | None = None, activation: str | None = None) -> Tensor:
    """Fully connected layer ``x @ w + b``; ``w`` is (in_features, out_features).

    ``activation='relu'`` fuses the ReLU into the op (one array and one pass fewer each way).

    >>> y = F.linear(x, kernel, bias)   # x (batch, in) -> y (batch, out)
    """
    x_shape, w_shape = x.shape, w.shape  # (each checked once: this runs every layer call)
    if len(w_shape) != 2 or x_shape[-1] != w_shape[0]:
        raise ValueError(f"linear: input of shape {x_shape} does not match kernel of shape "
                         f"{w_shape} (expected last input axis {w_shape[0] if w_shape else '?'})")
    if b is not None and b.shape != (w_shape[1],):
        raise ValueError(f"linear: bias of shape {b.shape}, expected ({w_shape[1]},)")
    if activation is not None:
        check_fused_activation(activation, "linear")
    x = E.floating_like(x, w)
    inputs = (x, w) if b is None else (x, w, b)
    if activation is None:  # (no keyword: ~0.8 us less a call)
        return _Linear.apply(*inputs)
    return _Linear.apply(*inputs, activation=activation)
