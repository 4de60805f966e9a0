"""The differentiable primitives that ``shenjing.ops`` needs beyond the core of F: element-wise
functions with no composite form (arctan, arcsin, log1p, erf ...), the running sum and product
along an axis, and einsum. Loaded on first use of ``shenjing.ops``, not by ``import shenjing``.

Each element-wise op writes its derivative once, as a formula of x and a module ``m`` that is
the array module (NumPy or CuPy) in a plain backward and ``shenjing.functional`` in a recorded
one (``create_graph=True``): the operators and ``m.exp``/``m.sqrt``/``m.cos`` mean the same in
both.
"""

from __future__ import annotations

import string
from typing import Any

import numpy as np

from ..autograd import Function, Tensor
from ..backend import get_xp
from . import elementwise as E
from . import reduction as R
from ._util import one_axis
from .activation import _Erf
from .dtypes import floating
from .shape import broadcast_to, expand_dims, flip, on_0d_as_1d, reshape, transpose


def _elementwise(name: str, dydx: Any) -> Any:
    """The wrapper of a Function y = ``xp.<name>``(x) with dy/dx = ``dydx(x, m)``."""

    class Op(Function):
        def forward(self, x):
            self.save_for_backward(x)
            xp = get_xp(x)
            return getattr(xp, name)(x).astype(x.dtype)

        def backward(self, g):
            x = self.saved[0]
            return g * dydx(x, get_xp(x))

        def derivative(self, x):
            return dydx(x, E)

    Op.__name__ = Op.__qualname__ = f"_{name.capitalize()}"
    Op.__doc__ = f"y = {name}(x), differentiable (see the module docstring)."

    def op(x: Tensor) -> Tensor:
        return Op.apply(x)

    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"Element-wise ``{name}``."
    return op


def _cosh(x: Any, m: Any) -> Any:
    return (m.exp(x) + m.exp(-x)) * 0.5


def _sinh(x: Any, m: Any) -> Any:
    return (m.exp(x) - m.exp(-x)) * 0.5


tan = _elementwise("tan", lambda x, m: 1 / (m.cos(x) * m.cos(x)))
arcsin = _elementwise("arcsin", lambda x, m: (1 - x * x) ** -0.5)
arccos = _elementwise("arccos", lambda x, m: -((1 - x * x) ** -0.5))
arctan = _elementwise("arctan", lambda x, m: 1 / (1 + x * x))
sinh = _elementwise("sinh", _cosh)
cosh = _elementwise("cosh", _sinh)
arcsinh = _elementwise("arcsinh", lambda x, m: (x * x + 1) ** -0.5)
arccosh = _elementwise("arccosh", lambda x, m: (x * x - 1) ** -0.5)
arctanh = _elementwise("arctanh", lambda x, m: 1 / (1 - x * x))
log1p = _elementwise("log1p", lambda x, m: 1 / (1 + x))
expm1 = _elementwise("expm1", lambda x, m: m.exp(x))


def erf(x: Tensor) -> Tensor:
    """Element-wise ``erf`` (GELU's op, differentiable to any order)."""
    return _Erf.apply(x)


def _running_sum(x: Any, axis: int, xp: Any) -> Any:
    """cumsum in x's dtype; float16 added up in float32, as torch (float16 stalls at 2048).
    On the host, along an axis that is not the last (or a short last one of many rows), one
    vectorized add per step along it, the same sums in the same order: NumPy's cumsum runs
    its steps one element at a time there (axis 0 of (64, 128, 32): 2.8 -> 0.1 ms)."""
    if x.dtype == np.float16:
        return _running_sum(x.astype(np.float32), axis, xp).astype(x.dtype)
    n = x.shape[axis] if x.ndim else 1
    if xp is not np or x.ndim < 2 or not 1 < n <= 1024 or x.size // n < 64 or (
            axis % x.ndim == x.ndim - 1 and x.size // n < 8 * n):  # (a step's call is ~1 us)
        return xp.cumsum(x, axis=axis, dtype=x.dtype)
    out = np.empty(x.shape, dtype=x.dtype)
    steps, sums = np.moveaxis(x, axis, 0), np.moveaxis(out, axis, 0)
    sums[0] = steps[0]
    for i in range(1, n):
        np.add(sums[i - 1], steps[i], out=sums[i])
    return out


def _reverse_cumsum(g: Any, axis: int, xp: Any) -> Any:
    """sum over k >= i of g[k], along ``axis``: the transpose of cumsum."""
    return xp.flip(_running_sum(xp.flip(g, axis), axis, xp), axis)


class _Cumsum(Function):
    """y[i] = sum_{k <= i} x[k] along an axis;  gx[i] = sum_{k >= i} g[k] (a reversed cumsum)."""

    def forward(self, x, axis=0):
        self.save_for_backward(axis)
        return _running_sum(x, axis, get_xp(x))

    def backward(self, g):
        return _reverse_cumsum(g, self.saved[0], get_xp(g))

    def differentiable_backward(self, g):
        axis = self.saved[0]
        return flip(cumsum(flip(g, axis), axis), axis)


class _Cumprod(Function):
    """y[i] = prod_{k <= i} x[k] along an axis;  gx[i] = sum_{k >= i} g[k] y[k] / x[i].

    Where x holds zeros that division is 0 / 0, so each lane is split at its first zero z:
    before z the formula holds (y is 0 from z on, so those terms vanish as they should); at z,
    gx[z] = y[z-1] sum_{k >= z} g[k] prod_{z < i <= k} x[i]; after z every term holds the
    factor x[z] = 0. torch takes the same route."""

    saves_outputs = True

    def forward(self, x, axis=0):
        y = get_xp(x).cumprod(x, axis=axis, dtype=x.dtype)
        self.save_for_backward(x, y, axis)
        return y

    def backward(self, g):
        x, y, axis = self.saved
        xp = get_xp(g)
        # a zero gradient adds nothing, also where y overflowed to inf (0 * inf is NaN): prod,
        # the last of a running product, sends zeros to the others and was NaN beside an inf
        gy = xp.where(g == 0, 0, g * y)
        zero = x == 0
        if not zero.any():
            return _reverse_cumsum(gy, axis, xp) / x
        seen = xp.cumsum(zero, axis=axis)  # zeros up to and including each position
        before, first = seen == 0, zero & (seen == 1)
        gx = xp.where(before, _reverse_cumsum(gy, axis, xp) / xp.where(before, x, 1), 0)
        after = (seen - zero) > 0  # strictly after the first zero
        tail = xp.cumprod(xp.where(after, x, 1), axis=axis)
        head = xp.where(before, x, 1).prod(axis=axis, keepdims=True)  # y[z-1]
        at_first = head * xp.where(seen > 0, g * tail, 0).sum(axis=axis, keepdims=True)
        return xp.where(first, at_first, gx).astype(x.dtype, copy=False)

    def differentiable_backward(self, g):
        x, axis = self.inputs[0], self.saved[2]
        if not x.xp.all(x.data):
            raise NotImplementedError("create_graph=True through cumprod of an input holding "
                                      "zeros: only the zero-free case has a recorded backward")
        return flip(cumsum(flip(g * cumprod(x, axis), axis), axis), axis) / x


@on_0d_as_1d
def cumsum(x: Tensor, axis: int) -> Tensor:
    """Running sum along ``axis`` (of a 0-d x: x, as torch's)."""
    return _Cumsum.apply(x, axis=one_axis(axis, x.ndim))


@on_0d_as_1d
def cumprod(x: Tensor, axis: int) -> Tensor:
    """Running product along ``axis`` (exact gradients also where x has zeros)."""
    return _Cumprod.apply(x, axis=one_axis(axis, x.ndim))


class _LogCumSumExp(Function):
    """y[i] = log sum_{k <= i} exp(x[k]) along an axis: NumPy's ``logaddexp.accumulate``, which
    neither overflows nor loses a small head beside a big tail (as log(cumsum(exp(x - max)))
    does: -1000 beside 0 gave -inf). dy[i]/dx[k] = exp(x[k] - y[i]) for k <= i, so
    gx[k] = sum_{i >= k} g[i] exp(x[k] - y[i]), summed in log space from the end with the
    positive and negative g apart: exp(x + rl(log g+ - y)) - exp(x + rl(log g- - y)), rl the
    reversed scan (no overflow, and exactly 0 where g is 0)."""

    saves_outputs = True

    def forward(self, x, axis=0):
        xp = get_xp(x)
        with np.errstate(invalid="ignore"):  # a NaN goes on as NaN (as torch), unwarned
            y = xp.logaddexp.accumulate(x, axis=axis).astype(x.dtype, copy=False)
        self.save_for_backward(x, y, axis)
        return y

    def backward(self, g):
        x, y, axis = self.saved
        xp = get_xp(g)
        with np.errstate(divide="ignore", invalid="ignore"):  # log 0 = -inf: no term
            parts = [xp.log(xp.where(sign * g > 0, sign * g, 0)) - y for sign in (1, -1)]
            pos, neg = (xp.exp(x + xp.flip(xp.logaddexp.accumulate(xp.flip(p, axis), axis=axis),
                                           axis)) for p in parts)
            gx = pos - neg  # NaN only from inf - inf beside an infinite x, or a NaN input:
            lanes_nan = xp.isnan(x).any(axis=axis, keepdims=True)  # a NaN stays (as torch)
        return xp.where(xp.isnan(gx) & ~lanes_nan, 0, gx).astype(x.dtype, copy=False)

    def differentiable_backward(self, g):
        """The same sum as an (n, n) table per lane: exp(x[k] - y[i]) where k <= i, else 0
        (a select before the exp, so no inf or NaN reaches a gradient)."""
        x, axis = self.inputs[0], self.saved[2]
        order = [a for a in range(x.ndim) if a != axis] + [axis]  # the scanned axis last
        x_last, g_last = transpose(x, order), transpose(g, order)
        n, xp = x.shape[axis], get_xp(x.data)
        y = logcumsumexp(x_last, -1)
        below = xp.tril(xp.ones((n, n), dtype=bool))  # [i, k]: k <= i
        gap = E.where(below, expand_dims(x_last, -2) - expand_dims(y, -1), -np.inf)
        gx = R.sum(expand_dims(g_last, -1) * E.exp(gap), axis=-2)
        return transpose(gx, list(np.argsort(order)))


@on_0d_as_1d
def logcumsumexp(x: Tensor, axis: int) -> Tensor:
    """log(cumsum(exp(x))) along ``axis``, computed without overflow (torch.logcumsumexp;
    integers in the default float)."""
    return _LogCumSumExp.apply(floating(x), axis=one_axis(axis, x.ndim))


class _Einsum(Function):
    """y = einsum(spec, *xs);  the gradient of operand i is the einsum of g with the other
    operands onto operand i's subscripts. A label only operand i has (summed over alone) is
    absent from that product: its gradient is broadcast along it. Repeated labels within one
    operand (a trace, a diagonal) get theirs on the diagonal."""

    def forward(self, *xs, inputs=(), output=""):
        self.save_for_backward(xs, inputs, output)
        spec = f"{','.join(inputs)}->{output}"
        return get_xp(*xs).einsum(spec, *xs, optimize=len(xs) > 1)  # BLAS for products

    def backward(self, g):
        xs, inputs, output = self.saved
        xp = get_xp(g)
        return _einsum_grads(g, xs, inputs, output, self.needs_input_grad,
                             lambda spec, *ops: xp.einsum(spec, *ops, optimize=True),
                             xp.broadcast_to)

    def differentiable_backward(self, g):
        _, inputs, output = self.saved
        return _einsum_grads(g, self.inputs, inputs, output, self.needs_input_grad,
                             lambda spec, *ops: einsum(spec, *ops), broadcast_to)


def _einsum_grads(g: Any, xs: Any, inputs: tuple[str, ...], output: str, need: Any,
                  contract: Any, broadcast: Any) -> tuple[Any, ...]:
    grads = []
    for i, (x, labels) in enumerate(zip(xs, inputs)):
        if not need[i]:
            grads.append(None)
            continue
        others = [output] + [s for j, s in enumerate(inputs) if j != i]
        operands = [o for j, o in enumerate(xs) if j != i]
        unique = "".join(dict.fromkeys(labels))  # 'ii' (a diagonal) -> 'i'
        sizes = {c: n for c, n in zip(labels, x.shape)}
        gi = _grad_onto(g, others, operands, unique, tuple(sizes[c] for c in unique),
                        contract, broadcast)
        if unique != labels:  # back onto the diagonal: times an identity per repeat
            gi = _onto_diagonal(gi, unique, labels, sizes, inputs + (output,), x, contract)
        grads.append(gi)
    return tuple(grads)


def _grad_onto(g: Any, others: list[str], operands: list[Any], labels: str,
               shape: tuple[int, ...], contract: Any, broadcast: Any) -> Any:
    """The einsum of g with the other operands onto ``labels`` (distinct), of ``shape``. A
    label only this operand has (summed over alone) is absent from that product: its
    gradient is broadcast along it."""
    known = set("".join(others))
    kept = "".join(c for c in labels if c in known)
    gi = contract(f"{','.join(others)}->{kept}", g, *operands)
    if kept != labels:  # put back the axes summed in x alone, as size 1, and broadcast
        sizes = [gi.shape[kept.index(c)] if c in known else 1 for c in labels]
        full = [n if c in known else shape[k] for k, (c, n) in enumerate(zip(labels, sizes))]
        gi = broadcast(reshape(gi, sizes) if isinstance(gi, Tensor) else gi.reshape(sizes),
                       tuple(full))
    if gi.shape != shape:  # a label of size 1 on one side, broadcast against the other
        stretched = tuple(k for k, n in enumerate(shape) if n == 1 and gi.shape[k] != 1)
        if stretched:  # size 1 here: the gradient sums over the others' length
            gi = gi.sum(axis=stretched, keepdims=True)
        gi = broadcast(gi, shape)  # size 1 there: the same along this axis
    return gi


def _onto_diagonal(gi: Any, unique: str, labels: str, sizes: dict[str, int],
                   used: tuple[str, ...], x: Any, contract: Any) -> Any:
    """``gi`` over ``unique`` placed on the diagonal of an operand with repeated ``labels``
    ('ii', 'iij'): each repeat of a label takes a fresh one, tied to the first by an identity
    matrix, so the gradient is zero off the diagonal (einsum('ii->', x)'s is the identity)."""
    free = iter(c for c in string.ascii_letters if c not in "".join(used))
    spelled, eyes, seen = "", [], set()
    for c in labels:
        if c in seen:
            fresh = next(free)
            spelled += fresh
            eyes.append(c + fresh)
        else:
            seen.add(c)
            spelled += c
    xp = get_xp(x.data if isinstance(x, Tensor) else x)
    identities = [xp.eye(sizes[pair[0]], dtype=gi.dtype) for pair in eyes]
    if isinstance(gi, Tensor):
        identities = [Tensor._wrap(e) for e in identities]
    return contract(f"{','.join([unique, *eyes])}->{spelled}", gi, *identities)


def _explicit(subscripts: str, shapes: list[tuple[int, ...]]) -> tuple[tuple[str, ...], str]:
    """``subscripts`` with each ``...`` spelled out in unused letters (right-aligned, as
    broadcasting) and the output made explicit (NumPy's implicit rule: the labels seen once, in
    alphabetical order, after the broadcast axes)."""
    spec = subscripts.replace(" ", "")
    lhs, arrow, out = spec.partition("->")
    inputs = lhs.split(",")
    if len(inputs) != len(shapes):
        raise ValueError(f"einsum: {subscripts!r} names {len(inputs)} operands, got "
                         f"{len(shapes)}")
    free = [c for c in string.ascii_letters if c not in spec]
    n_ellipsis = max((len(s) - len(lab.replace("...", ""))
                      for lab, s in zip(inputs, shapes) if "..." in lab), default=0)
    if len(free) < n_ellipsis:
        raise ValueError(f"einsum: too many axes under '...' in {subscripts!r}")
    batch = "".join(free[:n_ellipsis])
    spelled = []
    for lab, s in zip(inputs, shapes):
        if "..." in lab:
            k = len(s) - len(lab.replace("...", ""))
            lab = lab.replace("...", batch[n_ellipsis - k:])
        if len(lab) != len(s):
            raise ValueError(f"einsum: subscripts {lab!r} for an operand of shape {s}")
        spelled.append(lab)
    if arrow:
        out = out.replace("...", batch)
    else:
        counts = "".join(spelled)
        out = batch + "".join(sorted(c for c in set(counts) if counts.count(c) == 1
                                     and c not in batch))
    return tuple(spelled), out


def einsum(subscripts: str, *operands: Tensor) -> Tensor:
    """Einstein summation over Tensors (NumPy's subscripts, ``...`` and the implicit output
    included), differentiable to every operand."""
    inputs, output = _explicit(subscripts, [x.shape for x in operands])
    floats = [x.dtype for x in operands if x.dtype.kind == "f"]
    if floats and len(floats) < len(operands):  # integers join as the float (NumPy: float64)
        wide = np.result_type(*floats)
        operands = tuple(x if x.dtype.kind == "f" else E.cast(x, wide) for x in operands)
    return _Einsum.apply(*operands, inputs=inputs, output=output)
