"""Reductions over any axes, with ``keepdims``: sum, mean, max, min, var, std, logsumexp, norm
(PyTorch's ``dim=``/``keepdim=`` accepted as aliases)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import backend
from ..autograd import Function, Tensor
from ..backend import get_xp
from . import elementwise as E
from . import shape as S
from ._util import expand_reduced, max_shift, normalize_axes, torch_alias, torch_dims


def _wide(dtype: Any) -> Any:
    """The dtype a sum of ``dtype`` accumulates in on the way to a mean, a variance or a norm:
    float32 for float16 (whose 65,504 a sum of 70,000 ones passes, though their mean is 1), as
    NumPy's own mean and PyTorch do; else None (the array's own)."""
    return np.float32 if dtype == np.float16 else None


class _Sum(Function):
    """y = sum of x over axes;  dy/dx = 1, broadcast back over the summed axes."""

    def forward(self, x, axes=(), keepdims=False):
        self.save_for_backward(x.shape, axes, keepdims)
        wide = _wide(x.dtype)  # float16 adds up in float32, as torch (it stalled at 2048)
        if wide is None:
            return x.sum(axis=axes, keepdims=keepdims)
        return x.sum(axis=axes, keepdims=keepdims, dtype=wide).astype(x.dtype)

    def backward(self, g):
        shape, axes, keepdims = self.saved
        return get_xp(g).broadcast_to(expand_reduced(g, axes, keepdims), shape)

    def differentiable_backward(self, g):
        shape, axes, keepdims = self.saved
        return S.broadcast_to(expand_reduced(g, axes, keepdims), shape)


class _Mean(Function):
    """y = mean of x over axes;  dy/dx = 1/n."""

    def forward(self, x, axes=(), keepdims=False):
        n = 1
        for a in axes:
            n *= x.shape[a]
        self.save_for_backward(x.shape, axes, keepdims, n)
        # integers average to the default float (NumPy would give float64); an empty slice's
        # mean is NaN, quietly, as in PyTorch
        dtype = x.dtype if x.dtype.kind == "f" else backend.DEFAULT_FLOAT
        if n == 0:
            return get_xp(x).full(x.sum(axis=axes, keepdims=keepdims).shape, np.nan, dtype)
        return x.mean(axis=axes, keepdims=keepdims, dtype=_wide(dtype) or dtype).astype(
            dtype, copy=False)

    def backward(self, g):
        shape, axes, keepdims, n = self.saved
        g = expand_reduced(g, axes, keepdims) * g.dtype.type(1.0 / n if n else 0.0)  # empty
        return get_xp(g).broadcast_to(g, shape)

    def differentiable_backward(self, g):
        shape, axes, keepdims, n = self.saved
        return S.broadcast_to(expand_reduced(g, axes, keepdims) * (1.0 / n if n else 0.0), shape)


class _Max(Function):
    """y = max of x over axes;  the gradient goes to the maximal entries, split evenly on ties
    (as torch.amax)."""

    saves_outputs = True

    def forward(self, x, axes=(), keepdims=False, take_min=False):
        y = x.min(axis=axes, keepdims=True) if take_min else x.max(axis=axes, keepdims=True)
        self.save_for_backward(x, y, axes, keepdims)
        return y if keepdims else y.squeeze(axis=axes)

    def backward(self, g):
        x, y, axes, keepdims = self.saved
        hit = x == y
        count = hit.sum(axis=axes, keepdims=True)
        xp = get_xp(x)
        if xp is not np or not count.all():  # (on a GPU always: no sync to find out)
            # a NaN max equals nothing: the slice's NaNs get it, as torch.max()
            hit |= xp.isnan(x) & xp.isnan(y)
            count = hit.sum(axis=axes, keepdims=True)
        hit = hit.astype(g.dtype)
        hit /= count
        return hit * expand_reduced(g, axes, keepdims)

    differentiable_backward = backward  # g times a constant mask: also on Tensors


class _Var(Function):
    """y = sum((x - mean)**2) / (n - ddof);  dy/dx = 2 (x - mean) / (n - ddof)."""

    def forward(self, x, axes=(), keepdims=False, ddof=0, root=False):
        n = 1
        for a in axes:
            n *= x.shape[a]
        if n - ddof <= 0:
            raise ValueError(f"var/std over {n} elements with ddof={ddof} is undefined")
        diff = x - x.mean(axis=axes, keepdims=True)
        self.save_for_backward(diff, axes, keepdims, n - ddof)
        # squares wide: float16's of 300 pass 65,504, float32's of 2e19 overflow and of 1e-23
        # vanish (on the host float32 goes to float64, as torch's CPU accumulates in double)
        wide_type = np.float64 if x.dtype == np.float32 and get_xp(x) is np else _wide(x.dtype)
        wide = diff.astype(wide_type or x.dtype, copy=False)
        squares = (wide * wide).sum(axis=axes, keepdims=keepdims) / (n - ddof)
        if root:  # std: the root taken wide too (a variance of 1e6 is inf in float16)
            squares = get_xp(x).sqrt(squares)
        return squares.astype(x.dtype, copy=False)

    def backward(self, g):
        diff, axes, keepdims, dof = self.saved[:4]
        return expand_reduced(g, axes, keepdims) * diff * g.dtype.type(2.0 / dof)

    def differentiable_backward(self, g):
        x, (axes, keepdims, dof) = self.inputs[0], self.saved[1:4]
        return expand_reduced(g, axes, keepdims) * _centered(x, axes) * (2.0 / dof)


class _Std(_Var):
    """y = sqrt(var);  dy/dx = dvar/dx / (2 y), and 0 where y = 0 (a constant slice), as torch
    has it, rather than 0 / 0: one constant feature must not make every gradient NaN."""

    saves_outputs = True

    def forward(self, x, axes=(), keepdims=False, ddof=0):
        y = super().forward(x, axes, keepdims, ddof, root=True)
        self.saved += (y,)
        return y

    def backward(self, g):
        xp, y = get_xp(g), self.saved[4]
        positive = y > 0
        return super().backward(xp.where(positive, g / (2 * xp.where(positive, y, 1)), 0))

    def differentiable_backward(self, g):
        x, (axes, keepdims, dof) = self.inputs[0], self.saved[1:4]
        diff = _centered(x, axes)
        y = E.sqrt(sum(diff * diff, axes, keepdims=True) / dof)
        positive = y.data > 0
        scale = expand_reduced(g, axes, keepdims) / (E.where(positive, y, 1) * dof)
        return E.where(positive, scale * diff, 0)


class _LogSumExp(Function):
    """y = log(sum(exp(x)));  dy/dx = exp(x - y) (the softmax). Shifted by the max, so logits
    of 1e4 do not overflow."""

    saves_outputs = True

    def forward(self, x, axes=(), keepdims=False):
        xp = get_xp(x)
        m = max_shift(x, axes)
        m = xp.where(xp.isfinite(m), m, 0)
        with np.errstate(divide="ignore"):  # a slice of only -inf gives log(0) = -inf, as torch
            y = xp.log(xp.exp(x - m).sum(axis=axes, keepdims=True)) + m
        self.save_for_backward(x, y, axes, keepdims)
        return y if keepdims else y.squeeze(axis=axes)

    def backward(self, g):
        x, y, axes, keepdims = self.saved
        xp = get_xp(x)
        # a slice of only -inf (y = -inf) gets 0, as JAX's, not exp(-inf + inf) = NaN (torch's)
        y = xp.where(xp.isneginf(y), 0, y)
        return expand_reduced(g, axes, keepdims) * xp.exp(x - y)

    def differentiable_backward(self, g):
        x, (axes, keepdims) = self.inputs[0], self.saved[2:4]
        y = logsumexp(x, axes, keepdims=True)
        y = E.where(get_xp(y.data).isneginf(y.data), 0.0, y)  # all -inf: 0, as backward's
        return expand_reduced(g, axes, keepdims) * E.exp(x - y)


class _Norm(Function):
    """y = (sum |x|**p)**(1/p) over axes (p = inf: max |x|);  dy/dx = sign(x) |x|**(p-1) /
    y**(p-1) (p = 2: x / y; p = 1: sign x; p = inf: sign x at the maxima, split evenly on ties),
    and 0 where y = 0 or x = 0, as torch (the zero vector's subgradient), rather than 0 / 0."""

    saves_outputs = True

    def forward(self, x, axes=(), keepdims=False, p=2.0):
        xp = get_xp(x)
        w = x.astype(_wide(x.dtype) or x.dtype, copy=False)
        a = xp.abs(w)
        if p == np.inf:
            y = a.max(axis=axes, keepdims=True)
        elif p == 2:
            y = xp.sqrt((w * w).sum(axis=axes, keepdims=True))
        elif p == 1:
            y = a.sum(axis=axes, keepdims=True)
        else:
            y = (a ** p).sum(axis=axes, keepdims=True) ** (1 / p)
        y = y.astype(x.dtype, copy=False)
        self.save_for_backward(x, y, axes, keepdims, p)
        return y if keepdims else y.squeeze(axis=axes)

    def backward(self, g):
        x, y, axes, keepdims, p = self.saved
        xp = get_xp(g)
        g = expand_reduced(g, axes, keepdims)
        positive = y > 0
        safe_y = xp.where(positive, y, 1)
        if p == np.inf:
            hit = (xp.abs(x) == y).astype(g.dtype)
            local = xp.sign(x) * hit / hit.sum(axis=axes, keepdims=True)
        elif p == 2:
            local = x / safe_y
        elif p == 1:
            local = xp.sign(x)
        else:  # x = 0 gets 0: for p < 1, |x|**(p-1) would be inf there and sign(x) * inf NaN
            a = xp.abs(x)
            local = xp.sign(x) * (xp.where(a > 0, a, 1) / safe_y) ** (p - 1)
        return xp.where(positive, g * local, 0).astype(x.dtype, copy=False)

    def differentiable_backward(self, g):
        x, (axes, keepdims, p) = self.inputs[0], self.saved[2:5]
        g = expand_reduced(g, axes, keepdims)
        if p == 1:
            return g * get_xp(x.data).sign(x.data)
        if p != 2:
            raise NotImplementedError(f"create_graph=True through norm with p={p}: only p=1 "
                                      "and p=2 have a differentiable backward")
        y = norm(x, 2, axes, keepdim=True)
        positive = y.data > 0
        return E.where(positive, g * x / E.where(positive, y, 1), 0)


def _centered(x: Tensor, axes: tuple[int, ...]) -> Tensor:
    """x - mean(x) over ``axes``, recorded (var's and std's differentiable backward)."""
    return x - mean(x, axes, keepdims=True)


def _reduce(cls: type[Function], x: Tensor, axis: Any, keepdims: bool, dim: Any, keepdim: Any,
            **kw: Any) -> Tensor:
    if dim is not None or keepdim is not None:  # PyTorch's names, resolved only when used
        axis, keepdims = torch_dims(axis, keepdims, dim, keepdim)
    return cls.apply(x, axes=normalize_axes(axis, x.ndim), keepdims=keepdims, **kw)


def sum(x: Tensor, axis: Any = None, keepdims: bool = False, *,  # noqa: A001
        dim: Any = None, keepdim: bool | None = None) -> Tensor:
    """Sum over ``axis`` (None: all axes); ``dim``/``keepdim`` are PyTorch's names for
    ``axis``/``keepdims``.

    >>> F.sum(shenjing.tensor([[1.0, 2.0], [3.0, 4.0]]), dim=1)
    Tensor([3. 7.])

    Booleans and integers are summed in int64, as torch's (:func:`E.accumulating`).
    """
    return _reduce(_Sum, E.accumulating(x), axis, keepdims, dim, keepdim)


def mean(x: Tensor, axis: Any = None, keepdims: bool = False, *,
         dim: Any = None, keepdim: bool | None = None) -> Tensor:
    """Arithmetic mean over ``axis`` (None: all axes)."""
    return _reduce(_Mean, E.floating(x), axis, keepdims, dim, keepdim)


def max(x: Tensor, axis: Any = None, keepdims: bool = False, *,  # noqa: A001
        dim: Any = None, keepdim: bool | None = None) -> Tensor:
    """Maximum over ``axis``; ties share the gradient evenly. NumPy's meaning, also with
    ``dim=``: only the values (``torch.amax``), where ``torch.max(x, dim)`` returns
    ``(values, indices)``; take the indices from ``x.argmax(dim=...)``."""
    return _reduce(_Max, x, axis, keepdims, dim, keepdim)


def min(x: Tensor, axis: Any = None, keepdims: bool = False, *,  # noqa: A001
        dim: Any = None, keepdim: bool | None = None) -> Tensor:
    """Minimum over ``axis``; ties share the gradient evenly. Only the values, as :func:`max`
    (``torch.amin``); the indices come from ``x.argmin(dim=...)``."""
    return _reduce(_Max, x, axis, keepdims, dim, keepdim, take_min=True)


def var(x: Tensor, axis: Any = None, keepdims: bool = False, ddof: int | None = None, *,
        dim: Any = None, keepdim: bool | None = None, correction: float | None = None,
        unbiased: bool | None = None) -> Tensor:
    """Variance over ``axis``: sum((x - mean)**2) / (n - ddof). Called NumPy's way (``axis=``,
    ``keepdims=``, positional arguments or none) it is NumPy's and Keras's population variance,
    ``ddof=0``; called with torch's ``dim=`` or ``keepdim=`` it is torch's, unbiased
    (``correction=1``), so ported code such as makemore's ``h.std(0, keepdim=True)`` gets
    torch's value. ``ddof``, torch's ``correction=`` (the same number) or ``unbiased=``
    (True: 1, False: 0) say so explicitly; give one of the three. The Tensor methods are
    torch's when called as torch calls them (see ``tensor_methods._moment``): ``x.var()``,
    ``x.var(0)`` and ``x.var(0, True)`` (dim, unbiased) are unbiased.

    >>> F.var(shenjing.tensor([1.0, 2.0, 3.0, 4.0]), dim=0)   # torch.var's default correction
    Tensor(1.6666666)
    """
    ddof = _ddof(ddof, correction, unbiased, dim is not None or keepdim is not None)
    return _reduce(_Var, E.floating(x), axis, keepdims, dim, keepdim, ddof=ddof)


def std(x: Tensor, axis: Any = None, keepdims: bool = False, ddof: int | None = None, *,
        dim: Any = None, keepdim: bool | None = None, correction: float | None = None,
        unbiased: bool | None = None) -> Tensor:
    """Standard deviation, sqrt of :func:`var` with the same arguments (``ddof=0`` called
    NumPy's way, torch's correction 1 with ``dim=``/``keepdim=``); its gradient is 0 on a
    constant slice (torch's convention) instead of NaN."""
    ddof = _ddof(ddof, correction, unbiased, dim is not None or keepdim is not None)
    return _reduce(_Std, E.floating(x), axis, keepdims, dim, keepdim, ddof=ddof)


def _ddof(ddof: Any, correction: Any, unbiased: Any, torch_call: bool) -> Any:
    """``ddof`` from itself, PyTorch's ``correction=`` or ``unbiased=`` (only one of the three),
    or else the default of the convention the call follows: torch's 1 (``dim=``/``keepdim=``
    given), NumPy's 0."""
    if unbiased is None:
        if correction is None:
            return (1 if torch_call else 0) if ddof is None else ddof
        return torch_alias(ddof, correction, ("ddof", "correction"))
    if correction is not None or ddof is not None:
        other = f"correction={correction!r}" if correction is not None else f"ddof={ddof!r}"
        raise TypeError(f"got both {other} and unbiased={unbiased!r}; pass only one "
                        "(unbiased=True is ddof=1)")
    return int(bool(unbiased))


def logsumexp(x: Tensor, axis: Any = None, keepdims: bool = False, *,
              dim: Any = None, keepdim: bool | None = None) -> Tensor:
    """log(sum(exp(x))) over ``axis``, computed without overflow."""
    return _reduce(_LogSumExp, E.floating(x), axis, keepdims, dim, keepdim)


def norm(x: Tensor, p: Any = 2, dim: Any = None, keepdim: bool = False) -> Tensor:
    """The vector p-norm over ``dim`` (None: all elements), PyTorch's ``torch.norm`` /
    ``linalg.vector_norm``: p a positive number, ``inf`` (max |x|) or 'fro' (2). The gradient
    at the zero vector is 0 (torch's choice of subgradient).

    >>> F.norm(shenjing.tensor([3.0, 4.0]))
    Tensor(5.)
    """
    if p == "fro":
        p = 2
    if not isinstance(p, (int, float, np.integer, np.floating)) or isinstance(p, bool) \
            or not p > 0:
        raise ValueError(f"norm: p must be a positive number, inf or 'fro', got {p!r}")
    return _reduce(_Norm, x, dim, keepdim, None, None, p=float(p))
