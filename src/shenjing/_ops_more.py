"""More of ``keras.ops.numpy`` (each also at the top of ``keras.ops``): the names a Keras 3
port meets after the common ones, with NumPy's meaning (Keras's is NumPy's) and Keras's
arguments; integers made floatx by the math ops, as Keras.

Differentiable where the op is: the element-wise math, the NaN-skipping reductions (a NaN gets
no gradient), quantiles (through sort, to the picked or interpolated elements), splits and
stacks; tests, counts and index results (digitize, argpartition, bincount, gcd...) are Tensors
without gradient.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from . import functional as F
from ._ops_common import _constant_binary, _float, _t, _tensors, _unary
from ._ops_numpy import _keep, _to_last, moveaxis, sort, split
from .autograd import Tensor
from .backend import DEFAULT_FLOAT
from .functional._util import axis_index


def _torch(name: str) -> Any:
    """A torch-style op of ``_torch_more`` (imported when first used: it imports keras.ops)."""
    from . import _torch_more

    return getattr(_torch_more, name)


def _nan(x: Tensor) -> Any:
    return x.xp.isnan(x.data)


def _array(name: str, fn: Any) -> Any:
    """An op on arrays with no gradient (a test, a count, an index)."""
    def op(*args: Any, **kwargs: Any) -> Tensor:
        arrays = [_t(a).data if not isinstance(a, (int, float, str, tuple, type(None)))
                  else a for a in args]
        return Tensor._wrap(np.asarray(fn(*arrays, **kwargs)))

    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"NumPy's ``{name}`` (no gradient)."
    return op


# -- element-wise math -------------------------------------------------------------------------
def arctan2(x1: Any, x2: Any) -> Tensor:
    x1, x2 = _tensors(_float(x1), x2)
    return _torch("atan2")(x1, x2)


def cbrt(x: Any) -> Tensor:
    x = _float(x)
    return F.sign(x) * F.abs(x) ** (1.0 / 3.0)


def deg2rad(x: Any) -> Tensor:
    return _float(x) * (math.pi / 180.0)


def rad2deg(x: Any) -> Tensor:
    return _float(x) * (180.0 / math.pi)


def exp2(x: Any) -> Tensor:
    return 2.0 ** _float(x)


fabs = _unary(lambda x: F.abs(_float(x)), "fabs")
trunc = _unary(F.trunc, "trunc")


def divide_no_nan(x1: Any, x2: Any) -> Tensor:
    """x1 / x2, and 0 where x2 is 0 (with no gradient there)."""
    x1, x2 = _tensors(_float(x1), x2)
    zero = x2.data == 0
    return F.where(zero, 0.0, x1 / F.where(zero, 1.0, x2))


def _nan_skipping(pick: Any) -> Any:
    def op(x1: Any, x2: Any) -> Tensor:
        x1, x2 = _tensors(_float(x1), x2)
        return F.where(_nan(x1), x2, F.where(_nan(x2), x1, pick(x1, x2)))

    return op


fmax, fmin = _nan_skipping(F.maximum), _nan_skipping(F.minimum)
fmax.__name__, fmin.__name__ = "fmax", "fmin"


def fmod(x1: Any, x2: Any) -> Tensor:
    return F.fmod(*_tensors(_t(x1), x2))


def hypot(x1: Any, x2: Any) -> Tensor:
    x1, x2 = _tensors(_float(x1), x2)
    return _torch("hypot")(x1, x2)


def logaddexp(x1: Any, x2: Any) -> Tensor:
    x1, x2 = _tensors(_float(x1), x2)
    return _torch("logaddexp")(x1, x2)


def logaddexp2(x1: Any, x2: Any) -> Tensor:
    x1, x2 = _tensors(_float(x1), x2)
    return _torch("logaddexp")(x1 * math.log(2.0), x2 * math.log(2.0)) / math.log(2.0)


def ldexp(x1: Any, x2: Any) -> Tensor:
    x1 = _float(x1)
    return x1 * 2.0 ** _t(x2).data.astype(x1.dtype)


def sinc(x: Any) -> Tensor:
    """sin(pi x) / (pi x), 1 at 0."""
    x = _float(x)
    zero = x.data == 0
    px = F.where(zero, 1.0, x) * math.pi
    return F.where(zero, 1.0, F.sin(px) / px)


def heaviside(x1: Any, x2: Any) -> Tensor:
    """0 for x1 < 0, 1 for x1 > 0, x2 where x1 is 0 (its gradient there)."""
    x1, x2 = _tensors(_float(x1), x2)
    step = F.where(x1.data < 0, 0.0, F.where(x1.data > 0, 1.0, x2))
    nan = _nan(x1)
    return F.where(nan, np.nan, step) if nan.any() else step


def kron(x1: Any, x2: Any) -> Tensor:
    x1, x2 = _tensors(_t(x1), x2)
    return _torch("kron")(x1, x2)


signbit, isneginf, isposinf = (_unary(lambda x, n=n: Tensor._wrap(getattr(np, n)(x.data)), n)
                               for n in ("signbit", "isneginf", "isposinf"))
gcd, lcm = _constant_binary("gcd"), _constant_binary("lcm")


def isclose(x1: Any, x2: Any, rtol: float = 1e-05, atol: float = 1e-08,
            equal_nan: bool = False) -> Tensor:
    return F.isclose(*_tensors(_t(x1), x2), rtol, atol, equal_nan)


def isin(x1: Any, x2: Any, assume_unique: bool = False, invert: bool = False) -> Tensor:
    return _torch("isin")(x1, x2, assume_unique=assume_unique, invert=invert)


# -- reductions that skip NaN ------------------------------------------------------------------
def _filled(x: Any, value: float) -> tuple[Tensor, Any]:
    """x with its NaNs replaced by ``value``, and where they were; integers and booleans
    (which hold no NaN) as they are, keeping their dtype (Keras's)."""
    x = _t(x)
    if x.dtype.kind not in "fc":
        return x, np.zeros(x.shape, bool)
    return F.where(_nan(x), value, x), _nan(x)


def nansum(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    return _torch("nansum")(_t(x), axis, keepdims)


def nanprod(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    from ._ops_numpy import prod

    return prod(_filled(x, 1.0)[0], axis=axis, keepdims=keepdims)


def nanmean(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    return _torch("nanmean")(_float(x), axis, keepdims)


def _nan_extreme(pick: Any, fill: float) -> Any:
    def op(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
        filled, nan = _filled(x, fill)
        out = pick(filled, axis=axis, keepdims=keepdims)
        every = np.all(nan, axis=axis, keepdims=keepdims) if nan.ndim else nan
        return F.where(every, np.nan, out) if np.any(every) else out  # all NaN: NaN (NumPy)

    return op


nanmax, nanmin = _nan_extreme(F.max, -np.inf), _nan_extreme(F.min, np.inf)
nanmax.__name__, nanmin.__name__ = "nanmax", "nanmin"


def nanvar(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """The (biased) variance of the values that are not NaN."""
    x = _float(x)
    nan = _nan(x)  # (zeroed before squaring: a NaN's 0 * NaN would reach every gradient)
    centred = F.where(nan, 0.0, x - _torch("nanmean")(x, axis, True))
    count = (~nan).sum(axis=axis, keepdims=keepdims)
    var = F.sum(centred * centred, axis=axis, keepdims=keepdims) / np.maximum(count, 1).astype(
        x.dtype)
    return F.where(count == 0, np.nan, var) if np.any(count == 0) else var


def nanstd(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    return F.sqrt(nanvar(x, axis, keepdims))


def _nan_arg(name: str, fill: float) -> Any:
    def op(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
        filled, nan = _filled(x, fill)
        out = np.asarray(getattr(np, name)(filled.data, axis=axis, keepdims=keepdims))
        every = np.all(nan, axis=axis, keepdims=keepdims)
        return Tensor._wrap(np.where(every, -1, out))  # (a lane of NaN only: -1, as JAX's)

    op.__name__ = f"nan{name}"
    return op


nanargmax, nanargmin = _nan_arg("argmax", -np.inf), _nan_arg("argmin", np.inf)


def nancumsum(x: Any, axis: int | None = None, dtype: Any = None) -> Tensor:
    from ._ops_numpy import cumsum

    return cumsum(_filled(x, 0.0)[0], axis=axis, dtype=dtype)


def nancumprod(x: Any, axis: int | None = None, dtype: Any = None) -> Tensor:
    from ._ops_numpy import cumprod

    return cumprod(_filled(x, 1.0)[0], axis=axis, dtype=dtype)


def ptp(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """The range max - min."""
    x = _t(x)
    return F.max(x, axis=axis, keepdims=keepdims) - F.min(x, axis=axis, keepdims=keepdims)


# -- quantiles ---------------------------------------------------------------------------------
_METHODS = ("linear", "lower", "higher", "midpoint", "nearest")


def _qs(q: Any) -> np.ndarray:
    """The quantile levels as float64 (a number, a list, an array or a Tensor)."""
    return np.asarray(_t(q).data if isinstance(q, Tensor) else q, dtype=np.float64)


def quantile(x: Any, q: Any, axis: Any = None, method: str = "linear",
             keepdims: bool = False) -> Tensor:
    """The ``q`` quantiles (in [0, 1]; a list gives a leading axis) of the values over
    ``axis``, by NumPy's ``method``; the gradient goes to the elements picked (interpolated
    between two for 'linear' and 'midpoint'). NaN where a lane holds NaN."""
    x = _float(x)
    lanes_nan = _nan(x).any(axis=axis, keepdims=keepdims) if axis is not None or keepdims \
        else _nan(x).any()
    out = nanquantile(x, q, axis, method, keepdims)
    return F.where(lanes_nan, np.nan, out) if np.any(lanes_nan) else out


def percentile(x: Any, q: Any, axis: Any = None, method: str = "linear",
               keepdims: bool = False) -> Tensor:
    """:func:`quantile` of ``q`` / 100."""
    return quantile(x, _qs(q) / 100, axis, method, keepdims)


def nanquantile(x: Any, q: Any, axis: Any = None, method: str = "linear",
                keepdims: bool = False) -> Tensor:
    """:func:`quantile` of the values that are not NaN (NaN where a lane has none): NaN sorts
    last, so each lane's positions count its own values."""
    from ._ops_numpy import take_along_axis

    if method not in _METHODS:
        raise ValueError(f"quantile: method must be one of {_METHODS}, got {method!r}")
    x = _float(x)
    qs = _qs(q)
    if ((qs < 0) | (qs > 1)).any():
        raise ValueError(f"quantile: q must lie in [0, 1], got {qs}")
    flat, axes = _to_last(x, axis)
    ordered = sort(flat, -1)
    count = (~_nan(flat)).sum(axis=-1, keepdims=True)
    outs = []
    for p in qs.reshape(-1):
        position = p * np.maximum(count - 1, 0)
        lo, hi = np.floor(position).astype(np.int64), np.ceil(position).astype(np.int64)
        if method == "nearest":
            lo = hi = np.round(position).astype(np.int64)  # (NumPy's: halves to even)
        low, high = take_along_axis(ordered, lo, -1), take_along_axis(ordered, hi, -1)
        if method in ("lower", "nearest"):  # (one element: no 0 * inf beside an infinity)
            value = low
        elif method == "higher":
            value = high
        else:
            weight = 0.5 if method == "midpoint" else (position - lo).astype(x.dtype)
            value = F.where(lo == hi, low, low * (1 - weight) + high * weight)
        value = F.where(count == 0, np.nan, value)
        outs.append(_keep(F.squeeze(value, -1), x, axes, keepdims))
    return outs[0] if qs.ndim == 0 else F.reshape(F.stack(outs, 0), (*qs.shape, *outs[0].shape))


def nanpercentile(x: Any, q: Any, axis: Any = None, method: str = "linear",
                  keepdims: bool = False) -> Tensor:
    return nanquantile(x, _qs(q) / 100, axis, method, keepdims)


def nanmedian(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    return nanquantile(x, 0.5, axis, "linear", keepdims)


# -- shapes: splits, stacks, copies ------------------------------------------------------------
def array_split(x: Any, indices_or_sections: Any, axis: int = 0) -> list[Tensor]:
    """Like split, but ``n`` sections need not divide the axis (the first ones are longer)."""
    x = _t(x)
    return list(_torch("tensor_split")(x, indices_or_sections, axis_index(axis, x.ndim)))


def hsplit(x: Any, indices_or_sections: Any) -> list[Tensor]:
    x = _t(x)
    return split(x, indices_or_sections, 1 if x.ndim > 1 else 0)


def vsplit(x: Any, indices_or_sections: Any) -> list[Tensor]:
    return split(x, indices_or_sections, 0)


def dsplit(x: Any, indices_or_sections: Any) -> list[Tensor]:
    return split(x, indices_or_sections, 2)


def _at_least_3d(x: Tensor) -> Tensor:
    shape = {0: (1, 1, 1), 1: (1, x.size, 1), 2: (*x.shape, 1)}.get(x.ndim, x.shape)
    return F.reshape(x, shape)


def dstack(xs: Sequence[Any]) -> Tensor:
    return F.concatenate([_at_least_3d(_t(x)) for x in xs], axis=2)


def unstack(x: Any, num: int | None = None, axis: int = 0) -> list[Tensor]:
    from ._torch_methods import unbind

    x = _t(x)
    if num is not None and num != x.shape[axis]:
        raise ValueError(f"unstack: num={num} but axis {axis} has {x.shape[axis]} entries")
    return list(unbind(x, axis))


def append(x1: Any, x2: Any, axis: int | None = None) -> Tensor:
    x1, x2 = _tensors(_t(x1), x2)
    if axis is None:
        return F.concatenate([F.reshape(x1, (-1,)), F.reshape(x2, (-1,))], axis=0)
    return F.concatenate([x1, x2], axis=axis)


def copy(x: Any) -> Tensor:
    return _t(x) * 1 if _t(x).dtype.kind in "fc" else Tensor._wrap(_t(x).data.copy())


def fliplr(x: Any) -> Tensor:
    return F.flip(_t(x), 1)


def flipud(x: Any) -> Tensor:
    return F.flip(_t(x), 0)


def rot90(array: Any, k: int = 1, axes: tuple[int, int] = (0, 1)) -> Tensor:
    return _torch("rot90")(_t(array), k, axes)


def diff(a: Any, n: int = 1, axis: int = -1) -> Tensor:
    return _torch("diff")(_t(a), n, axis)


def diagflat(x: Any, k: int = 0) -> Tensor:
    from ._ops_numpy import diag

    return diag(F.reshape(_t(x), (-1,)), k)


def empty(shape: Any, dtype: Any = None) -> Tensor:
    from .ops import zeros

    return zeros(shape, dtype)


def empty_like(x: Any, dtype: Any = None) -> Tensor:
    from .ops import zeros_like

    return zeros_like(x, dtype)


def array(x: Any, dtype: Any = None) -> Tensor:
    return _t(x) if dtype is None else F.cast(_t(x), dtype)


# -- products ----------------------------------------------------------------------------------
def vdot(x1: Any, x2: Any) -> Tensor:
    x1, x2 = _tensors(_t(x1), x2)
    return F.sum(F.reshape(x1, (-1,)) * F.reshape(x2, (-1,)))


def inner(x1: Any, x2: Any) -> Tensor:
    """The sum product over the last axes of both."""
    from ._ops_numpy import tensordot

    x1, x2 = _tensors(_t(x1), x2)
    if x1.ndim == 0 or x2.ndim == 0:
        return x1 * x2
    return tensordot(x1, x2, axes=([-1], [-1]))


def cross(x1: Any, x2: Any, axisa: int = -1, axisb: int = -1, axisc: int = -1,
          axis: int | None = None) -> Tensor:
    """The cross product of 3-vectors along ``axisa`` / ``axisb`` (``axis`` sets all three),
    the result's along ``axisc``."""
    x1, x2 = _tensors(_float(x1), x2)
    if axis is not None:
        axisa = axisb = axisc = axis
    a, b = moveaxis(x1, axisa, -1), moveaxis(x2, axisb, -1)
    if a.shape[-1] == 2 and b.shape[-1] == 2:  # NumPy's: the z component alone
        return a[..., 0] * b[..., 1] - a[..., 1] * b[..., 0]
    a, b = (F.pad(t, [(0, 0)] * (t.ndim - 1) + [(0, 1)]) if t.shape[-1] == 2 else t
            for t in (a, b))  # a 2-vector beside a 3-vector: z = 0
    return moveaxis(_torch("cross")(a, b, -1), -1, axisc)


def vander(x: Any, N: int | None = None, increasing: bool = False) -> Tensor:  # noqa: N803
    x = _float(x)
    if x.ndim != 1:
        raise ValueError(f"vander: x must be 1-D, got shape {x.shape}")
    n = x.shape[0] if N is None else int(N)
    if n == 0:
        return Tensor._wrap(x.xp.zeros((x.shape[0], 0), x.dtype))
    powers = range(n) if increasing else range(n - 1, -1, -1)
    return F.stack([x ** float(p) for p in powers], axis=1)


def corrcoef(x: Any) -> Tensor:
    """Pearson's correlation of the rows (variables) of x over its columns."""
    x = _float(x)
    one = x.ndim == 1
    x = F.reshape(x, (1, -1)) if one else x
    centred = x - F.mean(x, axis=1, keepdims=True)
    cov = centred @ centred.mT
    std = F.sqrt(F.sum(centred * centred, axis=1))
    corr = cov / (F.expand_dims(std, 1) * F.expand_dims(std, 0))
    return F.reshape(corr, ()) if one else corr  # (one variable: a number, as NumPy's)


def trapezoid(y: Any, x: Any = None, dx: float = 1.0, axis: int = -1) -> Tensor:
    """The trapezoid rule's integral of y along ``axis`` (spacing ``dx``, or the points x)."""
    y = moveaxis(_float(y), axis, -1)
    widths: Any = dx
    if x is not None:
        x = _tensors(_float(x), y)[0]
        x = moveaxis(x, axis, -1) if x.ndim > 1 else x
        widths = x[..., 1:] - x[..., :-1]
    return F.sum((y[..., 1:] + y[..., :-1]) * widths, axis=-1) * 0.5


# -- creation ----------------------------------------------------------------------------------
def logspace(start: Any, stop: Any, num: int = 50, endpoint: bool = True, base: float = 10,
             dtype: Any = None, axis: int = 0) -> Tensor:
    from ._ops_numpy import linspace

    return F.cast(base ** _float(linspace(start, stop, num, endpoint, axis=axis)),
                  dtype or DEFAULT_FLOAT)


def geomspace(start: Any, stop: Any, num: int = 50, endpoint: bool = True, dtype: Any = None,
              axis: int = 0) -> Tensor:
    return Tensor._wrap(np.geomspace(_t(start).data, _t(stop).data, num, endpoint,
                                     axis=axis).astype(dtype or DEFAULT_FLOAT))


# -- indices, counts and selection (no gradient) -----------------------------------------------
digitize = _array("digitize", np.digitize)
argpartition = _array("argpartition", lambda x, kth, axis=-1: np.argpartition(x, kth, axis))


def unravel_index(indices: Any, shape: Any) -> tuple[Tensor, ...]:
    return tuple(Tensor._wrap(np.asarray(i)) for i in np.unravel_index(_t(indices).data,
                                                                         tuple(shape)))


def searchsorted(sorted_sequence: Any, values: Any, side: str = "left") -> Tensor:
    seq = _t(sorted_sequence)
    if seq.ndim != 1:
        raise ValueError(f"searchsorted: sorted_sequence must be 1-D, got shape {seq.shape}")
    return _torch("searchsorted")(seq, _t(values), side=side)


def bincount(x: Any, weights: Any = None, minlength: int = 0, sparse: bool = False) -> Tensor:
    """Counts of each value of x (1-D, or each row of a 2-D x), weighted by ``weights``."""
    ids = _t(x).data
    w = None if weights is None else _t(weights).data
    length = int(max(minlength, (ids.max() + 1) if ids.size else 0))
    rows = ids.reshape(-1, ids.shape[-1]) if ids.ndim > 1 else ids.reshape(1, -1)
    flat = (rows + length * np.arange(len(rows))[:, None]).ravel()  # row r's ids moved r * L on
    out = np.bincount(flat, None if w is None else w.ravel(), len(rows) * length).reshape(
        *ids.shape[:-1], length)
    dtype = np.int32 if w is None or w.dtype.kind in "biu" else w.dtype  # (Keras's dtypes)
    return Tensor._wrap(out.astype(dtype))


def select(condlist: Sequence[Any], choicelist: Sequence[Any], default: Any = 0) -> Tensor:
    """The choice of the first true condition, element by element (``default`` where none
    is); differentiable in the choices."""
    out = _t(default) if not isinstance(default, (int, float)) else default
    for cond, choice in reversed(list(zip(condlist, choicelist))):
        choice = _t(choice)
        out = F.where(_t(cond).data.astype(bool), choice, out)
    return out if isinstance(out, Tensor) else _t(out)


def multi_hot(inputs: Any, num_classes: int | None = None, axis: int = -1, dtype: Any = None,
              sparse: bool = False, **kwargs: Any) -> Tensor:
    """1 at each class that a sample's last axis holds, along a new axis of ``num_classes``."""
    ids = _t(inputs).data.astype(np.int64)
    n = int(num_classes if num_classes is not None else kwargs.get("num_tokens"))
    out = np.zeros((*ids.shape[:-1], n + 1), dtype=dtype or DEFAULT_FLOAT)
    np.put_along_axis(out, np.where((ids >= 0) & (ids < n), ids, n), 1, axis=-1)
    return Tensor._wrap(np.moveaxis(out[..., :n], -1, axis))  # (ids outside [0, n): none)


def is_tensor(x: Any) -> bool:
    return isinstance(x, Tensor)


def dtype(x: Any) -> str:
    """The name of x's dtype ('float32'), as Keras's ``ops.dtype``."""
    return str(_t(x).dtype)


__all__ = [
    "append", "arctan2", "argpartition", "array", "array_split", "bincount", "cbrt", "copy",
    "corrcoef", "cross", "deg2rad", "diagflat", "diff", "digitize", "divide_no_nan", "dsplit",
    "dstack", "dtype", "empty", "empty_like", "exp2", "fabs", "fliplr", "flipud", "fmax",
    "fmin", "fmod", "gcd", "geomspace", "heaviside", "hsplit", "hypot", "inner", "is_tensor",
    "isclose", "isin", "isneginf", "isposinf", "kron", "lcm", "ldexp", "logaddexp",
    "logaddexp2", "logspace", "multi_hot", "nanargmax", "nanargmin", "nancumprod",
    "nancumsum", "nanmax", "nanmean", "nanmedian", "nanmin", "nanpercentile", "nanprod",
    "nanquantile", "nanstd", "nansum", "nanvar",
    "percentile", "ptp", "quantile", "rad2deg", "rot90", "searchsorted", "select", "signbit",
    "sinc", "trapezoid", "trunc", "unravel_index", "unstack", "vander", "vdot", "vsplit",
]
