"""``keras.ops``'s NumPy-like ops beyond the core (``shenjing.ops`` re-exports them): math,
scans and sorting, indexing, shapes, linear algebra and creation.

Most are composites of differentiable F ops: sorting, top-k, take, roll, repeat, padding by
reflection and diagonals gather with integer indices (indexing's gradient scatters back), tile
and meshgrid broadcast. Running sums and products, einsum and the inverse trigonometric
functions are Functions of their own (``functional/extra.py``). Piecewise-constant ops (floor,
round, sign) are recorded with gradient 0 (torch's); tests and logical ops return Tensors without
gradient.
"""

from __future__ import annotations

import builtins
import math
import string
from collections.abc import Sequence
from typing import Any

import numpy as np

from . import functional as F
from ._ops_common import (
    _constant,
    _constant_binary,
    _float,
    _reduction,
    _t,
    _tensors,
    _unary,
    convert_to_numpy,
)
from .autograd import Tensor, as_tensor
from .backend import DEFAULT_FLOAT, get_xp
from .functional import extra
from .functional._util import axis_index, axis_tuple, normalize_axes
from .functional.shape import index_put

_ALL = (slice(None),)


def _indices(x: Any) -> Any:
    """Integer indices as an array (of a Tensor, list or array; a CuPy array stays one)."""
    return x.data if isinstance(x, Tensor) else get_xp(x).asarray(x)


def _axis_order(axis: Any, ndim: int) -> list[int]:
    """``axis`` (an int or a sequence, negatives allowed) as non-negative axes, in order."""
    return [axis_index(a, ndim) for a in axis_tuple(axis)]


# -- element-wise math -------------------------------------------------------------------------
def _math(fn: Any, name: str) -> Any:
    return _unary(lambda x: fn(_float(x)), name)


sin, cos = _math(F.sin, "sin"), _math(F.cos, "cos")
tan, arcsin, arccos, arctan, sinh, cosh, arcsinh, arccosh, arctanh, log1p, expm1 = (
    _math(getattr(extra, name), name) for name in (
        "tan", "arcsin", "arccos", "arctan", "sinh", "cosh", "arcsinh", "arccosh", "arctanh",
        "log1p", "expm1"))
log2, log10 = _math(F.log2, "log2"), _math(F.log10, "log10")
reciprocal = _math(lambda x: 1 / x, "reciprocal")
floor, ceil = _math(F.floor, "floor"), _math(F.ceil, "ceil")
sign = _unary(F.sign, "sign")
isnan, isinf, isfinite, logical_not = (
    _unary(_constant(name), name) for name in ("isnan", "isinf", "isfinite", "logical_not"))
logical_and, logical_or, logical_xor = (
    _constant_binary(name) for name in ("logical_and", "logical_or", "logical_xor"))
absolute = _unary(F.abs, "absolute")


def true_divide(x1: Any, x2: Any) -> Tensor:
    """Keras's alias of ``divide``."""
    return F.div(*_tensors(x1, x2))


def round(x: Any, decimals: int = 0) -> Tensor:  # noqa: A001 - Keras's name
    """Round half to even (NumPy's rule), to ``decimals`` places; gradient 0."""
    return F.round(_t(x), decimals)


def floor_divide(x1: Any, x2: Any) -> Tensor:
    """floor(x1 / x2), broadcast (Python's ``//``; integers stay integers); no gradient."""
    return F.floor_divide(*_tensors(x1, x2))


def mod(x1: Any, x2: Any) -> Tensor:
    """x1 - floor(x1 / x2) x2 (the sign of x2, as NumPy); floats get the gradient (1, -floor)."""
    return F.remainder(*_tensors(x1, x2))


def nan_to_num(x: Any, nan: float = 0.0, posinf: float | None = None,
               neginf: float | None = None) -> Tensor:
    """NaN and infinities replaced (the dtype's extremes by default); the gradient flows
    through the finite values."""
    x = _t(x)
    if x.dtype.kind != "f":
        return x
    fixed = Tensor._wrap(x.xp.nan_to_num(x.data, nan=nan, posinf=posinf, neginf=neginf))
    return F.where(Tensor._wrap(x.xp.isfinite(x.data)), x, fixed)


# -- reductions and scans ----------------------------------------------------------------------
def _logical(name: str) -> Any:
    fn = _constant(name)

    def op(x: Tensor, axis: Any = None, keepdims: bool = False) -> Tensor:
        return fn(x, axis=tuple(axis) if isinstance(axis, list) else axis, keepdims=keepdims)

    return op


# (a list of axes made a tuple: NumPy's any and all take no list)
any, all = (_reduction(_logical(name), name) for name in ("any", "all"))  # noqa: A001
amax, amin = _reduction(F.max, "amax"), _reduction(F.min, "amin")


def count_nonzero(x: Any, axis: Any = None) -> Tensor:
    return _constant("count_nonzero")(_t(x), axis=axis)


def _scan(x: Any, axis: Any, dtype: Any) -> tuple[Tensor, int]:
    x = _t(x)
    x = F.elementwise.accumulating(x) if dtype is None else F.cast(x, dtype)
    return (F.reshape(x, (-1,)), 0) if axis is None else (x, axis)


def cumsum(x: Any, axis: int | None = None, dtype: Any = None) -> Tensor:
    """Running sum along ``axis`` (None: of the flattened tensor)."""
    return extra.cumsum(*_scan(x, axis, dtype))


def cumprod(x: Any, axis: int | None = None, dtype: Any = None) -> Tensor:
    """Running product along ``axis``; its gradient is exact also where x has zeros."""
    return extra.cumprod(*_scan(x, axis, dtype))


def _to_last(x: Tensor, axis: Any) -> tuple[Tensor, tuple[int, ...]]:
    """x with the ``axis`` axes (None: all) moved last and merged into one, and those axes."""
    axes = normalize_axes(axis, x.ndim)
    kept = [i for i in range(x.ndim) if i not in axes]
    moved = F.transpose(x, kept + list(axes)) if x.ndim else x
    merged = math.prod(x.shape[i] for i in axes)  # (not -1: another axis may be empty)
    return F.reshape(moved, [x.shape[i] for i in kept] + [merged]), axes


def _keep(out: Tensor, x: Tensor, axes: tuple[int, ...], keepdims: bool) -> Tensor:
    return F.reshape(out, [1 if i in axes else n for i, n in enumerate(x.shape)]) \
        if keepdims else out


def prod(x: Any, axis: Any = None, keepdims: bool = False, dtype: Any = None) -> Tensor:
    """Product over ``axis``: the last step of a running product (exact gradients with zeros)."""
    x = _scan(x, 0, dtype)[0]
    flat, axes = _to_last(x, axis)
    if flat.shape[-1] == 0:  # the empty product, 1, recorded (as torch's): backward reaches x
        return _keep(F.sum(flat, axis=-1) * 0 + 1, x, axes, keepdims)
    return _keep(extra.cumprod(flat, -1)[..., -1], x, axes, keepdims)


def average(x: Any, axis: int | None = None, weights: Any = None) -> Tensor:
    """Weighted mean over ``axis``; 1-D ``weights`` weigh the positions along ``axis``."""
    x = _float(x)
    if weights is None:
        return F.mean(x, axis=axis)
    w = _tensors(x, weights)[1]
    if axis is not None and w.ndim == 1 and x.ndim > 1:
        axis = axis_index(axis, x.ndim)
        w = F.reshape(w, [-1 if i == axis else 1 for i in range(x.ndim)])
    return F.sum(x * w, axis=axis) / F.sum(w, axis=axis)


def median(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """The middle value (the mean of the two middle ones for an even count) over ``axis``;
    the gradient goes to those elements."""
    x = _float(x)
    flat, axes = _to_last(x, axis)
    n = flat.shape[-1]
    middle = F.mean(sort(flat, -1)[..., (n - 1) // 2: n // 2 + 1], axis=-1)
    nan = flat.xp.isnan(flat.data).any(axis=-1)
    if nan.any():  # NaN, as NumPy's and Keras's (sorted last, it was passed over)
        middle = F.where(nan, float("nan"), middle)
    return _keep(middle, x, axes, keepdims)


# -- sorting and indexing ----------------------------------------------------------------------
def _argsort(data: Any, axis: int) -> Any:
    """Stable argsort (ties keep their order, as JAX's and TF's)."""
    if isinstance(data, np.ndarray):
        return np.argsort(data, axis=axis, kind="stable")
    return data.argsort(axis=axis)  # CuPy's sort is stable


def argsort(x: Any, axis: int | None = -1) -> Tensor:
    x = _t(x)
    data = x.data.reshape(-1) if axis is None else x.data
    return Tensor._wrap(_argsort(data, -1 if axis is None else axis))


def sort(x: Any, axis: int | None = -1) -> Tensor:
    """Sorted along ``axis``; the gradient goes back to each value's position."""
    x = _t(x)
    if axis is None:
        x, axis = F.reshape(x, (-1,)), 0
    return take_along_axis(x, _argsort(x.data, axis), axis)


def take(x: Any, indices: Any, axis: int | None = None) -> Tensor:
    """The elements at ``indices`` along ``axis`` (None: of the flattened tensor)."""
    x = _t(x)
    if axis is None:
        x, axis = F.reshape(x, (-1,)), 0
    return F.getitem(x, _ALL * axis_index(axis, x.ndim) + (_indices(indices),))


def take_along_axis(x: Any, indices: Any, axis: int | None = None) -> Tensor:
    """x[..., indices[i], ...] along ``axis``, indices broadcast against x's other axes."""
    x, idx = _t(x), _indices(indices)
    if axis is None:
        x, axis = F.reshape(x, (-1,)), 0
    return F.take_along_axis(x, idx, axis)


def roll(x: Any, shift: Any, axis: Any = None) -> Tensor:
    """Elements shifted along ``axis`` (None: the flattened tensor), wrapping around."""
    x = _t(x)
    if axis is None:
        return F.reshape(roll(F.reshape(x, (-1,)), shift, 0), x.shape)
    for s, a in zip(*(v.reshape(-1) for v in np.broadcast_arrays(shift, axis))):
        n = x.shape[int(a)]
        x = take(x, (np.arange(n) - int(s)) % builtins.max(n, 1), int(a))
    return x


def flip(x: Any, axis: Any = None) -> Tensor:
    return F.flip(_t(x), axis)


# -- shapes ------------------------------------------------------------------------------------
def tile(x: Any, repeats: Any) -> Tensor:
    """x repeated ``repeats`` times along each axis (NumPy's tile), by one broadcast."""
    x = _t(x)
    reps = (int(repeats),) if np.ndim(repeats) == 0 else tuple(int(r) for r in repeats)
    d = builtins.max(len(reps), x.ndim)
    reps, shape = (1,) * (d - len(reps)) + reps, (1,) * (d - x.ndim) + x.shape
    spread = F.reshape(x, [v for n in shape for v in (1, n)])
    spread = F.broadcast_to(spread, [v for pair in zip(reps, shape) for v in pair])
    return F.reshape(spread, [r * n for r, n in zip(reps, shape)])


def repeat(x: Any, repeats: Any, axis: int | None = None) -> Tensor:
    """Each element repeated along ``axis`` (None: of the flattened tensor), ``repeats`` times
    or as many times as its entry of ``repeats``."""
    x = _t(x)
    if axis is None:
        x, axis = F.reshape(x, (-1,)), 0
    axis = axis_index(axis, x.ndim)
    r = convert_to_numpy(repeats)
    if r.ndim == 0:
        shape = list(x.shape)
        wide = F.broadcast_to(F.expand_dims(x, axis + 1), [*shape[:axis + 1], int(r),
                                                           *shape[axis + 1:]])
        shape[axis] *= int(r)
        return F.reshape(wide, shape)
    return take(x, np.repeat(np.arange(x.shape[axis]), r), axis)


def split(x: Any, indices_or_sections: Any, axis: int = 0) -> list[Tensor]:
    return F.split(_t(x), indices_or_sections, axis=axis)


def pad(x: Any, pad_width: Any, mode: str = "constant", constant_values: Any = None) -> Tensor:
    """``x`` padded by ``pad_width`` ((before, after) per axis, as NumPy): with a constant, or
    by 'reflect', 'symmetric', 'edge' or 'wrap' (gathers whose gradient adds back)."""
    x = _t(x)
    if mode == "constant":
        return F.pad(x, pad_width, 0 if constant_values is None else constant_values)
    if constant_values is not None:
        raise ValueError(f"pad: constant_values is for mode='constant', got mode={mode!r}")
    if mode not in ("reflect", "symmetric", "edge", "wrap"):
        raise ValueError(f"pad: mode must be 'constant', 'reflect', 'symmetric', 'edge' or "
                         f"'wrap', got {mode!r}")
    widths = np.broadcast_to(np.asarray(pad_width, dtype=int), (x.ndim, 2))
    for a, (lo, hi) in enumerate(widths.tolist()):
        if lo or hi:
            x = take(x, np.pad(np.arange(x.shape[a]), (lo, hi), mode=mode), a)
    return x


def moveaxis(x: Any, source: Any, destination: Any) -> Tensor:
    x = _t(x)
    src, dst = _axis_order(source, x.ndim), _axis_order(destination, x.ndim)
    order = [a for a in range(x.ndim) if a not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return F.transpose(x, order)


def swapaxes(x: Any, axis1: int, axis2: int) -> Tensor:
    x = _t(x)
    order = list(range(x.ndim))
    a, b = axis_index(axis1, x.ndim), axis_index(axis2, x.ndim)
    order[a], order[b] = b, a
    return F.transpose(x, order)


def ravel(x: Any) -> Tensor:
    return F.reshape(_t(x), (-1,))


def broadcast_to(x: Any, shape: Sequence[int]) -> Tensor:
    return F.broadcast_to(_t(x), tuple(shape))


def hstack(xs: Sequence[Any]) -> Tensor:
    xs = [F.reshape(x, (1,)) if x.ndim == 0 else x for x in map(_t, xs)]  # numbers: 1-D
    return F.concatenate(xs, axis=0 if xs[0].ndim == 1 else 1)


def vstack(xs: Sequence[Any]) -> Tensor:
    return F.concatenate([F.reshape(x, (1, -1)) if x.ndim < 2 else x
                          for x in map(_t, xs)], axis=0)


# -- linear algebra ----------------------------------------------------------------------------
def _triangle(name: str, keep: Any) -> Any:
    def op(x: Any, k: int = 0) -> Tensor:
        x = _t(x)
        mask = keep(np.tri(*x.shape[-2:], k=k - (name == "triu"), dtype=bool))
        return F.where(Tensor._wrap(x.xp.asarray(mask)), x, 0)

    op.__name__ = op.__qualname__ = name
    op.__doc__ = (f"x with the elements {'below' if name == 'triu' else 'above'} the k-th "
                  "diagonal of its last two axes zeroed.")
    return op


triu, tril = _triangle("triu", np.logical_not), _triangle("tril", lambda m: m)


def diagonal(x: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Tensor:
    """The ``offset`` diagonal of the (axis1, axis2) planes, as the last axis."""
    x = moveaxis(x, (axis1, axis2), (-2, -1))
    r0, c0 = builtins.max(-offset, 0), builtins.max(offset, 0)
    i = np.arange(builtins.max(0, builtins.min(x.shape[-2] - r0, x.shape[-1] - c0)))
    return F.getitem(x, (Ellipsis, i + r0, i + c0))


def diag(x: Any, k: int = 0) -> Tensor:
    """A 1-D x as the k-th diagonal of a square matrix; a 2-D x's k-th diagonal."""
    x = _t(x)
    if x.ndim == 2:
        return diagonal(x, k)
    if x.ndim != 1:
        raise ValueError(f"diag: expected a 1-D or 2-D tensor, got shape {x.shape}")
    n, i = x.shape[0] + builtins.abs(k), np.arange(x.shape[0])
    zeros = Tensor._wrap(x.xp.zeros((n, n), dtype=x.dtype))  # on x's device
    return index_put(zeros, (i + builtins.max(-k, 0), i + builtins.max(k, 0)), x)


def trace(x: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Tensor:
    return F.sum(diagonal(x, offset, axis1, axis2), axis=-1)


def norm(x: Any, ord: Any = None, axis: Any = None,  # noqa: A002 - Keras's name
         keepdims: bool = False) -> Tensor:
    """NumPy's vector norm (``axis`` an int, or None for a 1-D x) or matrix norm (two axes,
    or None for a 2-D x): ord None (2 / Frobenius), a number, inf, -inf, 'fro', or for
    matrices 1, -1, 2, -2 (singular values), 'nuc', inf, -inf.
    With ``axis`` and ``ord`` both None, the 2-norm of all elements."""
    x = _float(x)
    if axis is None:
        if ord is None:
            return _keep(F.norm(x, 2), x, tuple(range(x.ndim)), keepdims)
        if x.ndim > 2:
            raise ValueError(f"norm: ord={ord!r} without axis needs a 1-D or 2-D x, got shape "
                             f"{x.shape}")
        axis = tuple(range(x.ndim))
    axes = _axis_order(axis, x.ndim)
    if len(axes) == 2:
        return _matrix_norm(x, ord, *axes, keepdims)
    a = axes[0]
    if ord is None or ord == 2:
        return F.norm(x, 2, a, keepdim=keepdims)
    if isinstance(ord, str):
        raise ValueError(f"norm: ord={ord!r} is a matrix norm; give two axes")
    if np.isinf(ord):
        return (F.max if ord > 0 else F.min)(F.abs(x), axis=a, keepdims=keepdims)
    if ord == 0:
        return F.sum(F.cast(F.not_equal(x, 0.0), x.dtype), axis=a, keepdims=keepdims)
    if ord > 0:
        return F.norm(x, ord, a, keepdim=keepdims)
    return F.sum(F.abs(x) ** ord, axis=a, keepdims=keepdims) ** (1 / ord)


def _matrix_norm(x: Tensor, ord: Any, row: int, col: int, keepdims: bool) -> Tensor:  # noqa: A002
    if ord not in (None, "fro", "nuc", 1, -1, 2, -2, np.inf, -np.inf):
        raise ValueError(f"norm: ord={ord!r} is no matrix norm; ord can be None, 'fro', 'nuc', "
                         "1, -1, 2, -2, inf or -inf")
    from . import linalg

    return linalg.matrix_norm(x, "fro" if ord is None else ord, (row, col), keepdims)


def einsum(subscripts: str, *operands: Any) -> Tensor:
    """Einstein summation (NumPy's subscripts, with ``...``), differentiable to each operand."""
    return extra.einsum(subscripts, *[_t(x) for x in operands])


def tensordot(x1: Any, x2: Any, axes: Any = 2) -> Tensor:
    """Sum of products over ``axes`` of x1 and x2 (the last ``axes`` of x1 with the first of
    x2, or two lists of axes), as one einsum."""
    a, b = _tensors(x1, x2)
    if isinstance(axes, int):
        axes = (range(a.ndim - axes, a.ndim), range(axes))
    sa, sb = _axis_order(axes[0], a.ndim), _axis_order(axes[1], b.ndim)
    la = list(string.ascii_letters[:a.ndim])
    lb = list(string.ascii_letters[a.ndim:a.ndim + b.ndim])
    for i, j in zip(sa, sb):
        lb[j] = la[i]
    out = [c for i, c in enumerate(la) if i not in sa] + [c for j, c in enumerate(lb)
                                                          if j not in sb]
    return extra.einsum(f"{''.join(la)},{''.join(lb)}->{''.join(out)}", a, b)


def dot(x1: Any, x2: Any) -> Tensor:
    """NumPy's dot: a product with a scalar; else the sum over x1's last axis and x2's
    second-to-last (its only one when 1-D)."""
    a, b = _tensors(x1, x2)
    if a.ndim == 0 or b.ndim == 0:
        return a * b
    return tensordot(a, b, ([a.ndim - 1], [builtins.max(b.ndim - 2, 0)]))


def outer(x1: Any, x2: Any) -> Tensor:
    a, b = _tensors(x1, x2)
    return F.reshape(a, (-1, 1)) * F.reshape(b, (1, -1))


# -- creation ----------------------------------------------------------------------------------
def linspace(start: Any, stop: Any, num: int = 50, endpoint: bool = True, retstep: bool = False,
             dtype: Any = None, axis: int = 0) -> Any:
    """``num`` evenly spaced values from start to stop (floatx unless ``dtype``)."""
    values, step = np.linspace(convert_to_numpy(start), convert_to_numpy(stop), num,
                               endpoint=endpoint, retstep=True, axis=axis)
    dtype = np.dtype(dtype or DEFAULT_FLOAT)
    if dtype.kind in "iu":  # floored, as NumPy 2's and Keras's (astype truncates: -1.67 -> -1)
        values = np.floor(values)
    out = as_tensor(values.astype(dtype))
    return (out, step) if retstep else out


def meshgrid(*x: Any, indexing: str = "xy") -> list[Tensor]:
    """Coordinate grids of 1-D tensors (broadcasts, differentiable); 'xy' swaps the first two
    axes of the result (Cartesian), 'ij' does not (matrix indexing)."""
    if indexing not in ("xy", "ij"):
        raise ValueError(f"meshgrid: indexing must be 'xy' or 'ij', got {indexing!r}")
    xs = [F.reshape(_t(v), (-1,)) for v in x]
    position = list(range(len(xs)))
    if indexing == "xy" and len(xs) > 1:
        position[0], position[1] = 1, 0
    shape = [0] * len(xs)
    for v, p in zip(xs, position):
        shape[p] = v.shape[0]
    return [F.broadcast_to(F.reshape(v, [-1 if i == p else 1 for i in range(len(xs))]), shape)
            for v, p in zip(xs, position)]


def full_like(x: Any, fill_value: Any, dtype: Any = None) -> Tensor:
    x = _t(x)
    return Tensor._wrap(x.xp.full(x.shape, fill_value, dtype=dtype or x.dtype))


def identity(n: int, dtype: Any = None) -> Tensor:
    return as_tensor(np.eye(n, dtype=dtype or DEFAULT_FLOAT))


def tri(N: int, M: int | None = None, k: int = 0, dtype: Any = None) -> Tensor:  # noqa: N803
    return as_tensor(np.tri(N, M, k, dtype=dtype or DEFAULT_FLOAT))


def size(x: Any) -> Tensor:
    """The number of elements, as a 0-d integer Tensor."""
    return Tensor(np.asarray(_t(x).size))


def ndim(x: Any) -> int:
    """The number of axes."""
    return len(np.shape(x)) if not hasattr(x, "ndim") else x.ndim


__all__ = [n for n, v in list(globals().items()) if callable(v) and not n.startswith("_")
           and getattr(v, "__module__", None) in (__name__, "shenjing._ops_common")
           and n not in ("convert_to_numpy",)]
