"""The rest of ``keras.ops`` that a real-valued framework can mean (each at the top of
``keras.ops``): bitwise ops and shifts, the window functions, ``erfc`` / ``erfinv``,
``allclose``, ``nonzero``, ``unique``, ``get_item``, ``saturate_cast``, ``segment_min`` /
``segment_prod``, ``histogram``, ``correlate``, ``nextafter``, ``cdist``, the complex ops on
real data (``real``, ``imag``, ``conj``, ``angle``, ``isreal``), einops' ``rearrange``,
``custom_gradient`` and ``vectorize``. Complex numbers, FFTs and ``eig`` are not provided.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from . import functional as F
from ._ops_common import _constant_binary, _float, _t, _tensors, _unary
from .autograd import Function, Tensor
from .backend import DEFAULT_FLOAT, get_xp

bitwise_and, bitwise_or, bitwise_xor = (_constant_binary(n) for n in (
    "bitwise_and", "bitwise_or", "bitwise_xor"))
bitwise_left_shift, bitwise_right_shift = (_constant_binary(n) for n in (
    "left_shift", "right_shift"))
left_shift, right_shift = bitwise_left_shift, bitwise_right_shift
bitwise_invert = bitwise_not = _unary(lambda x: Tensor._wrap(x.xp.invert(x.data)),
                                      "bitwise_invert")


def _window(name: str) -> Any:
    def window(x: int) -> Tensor:
        return Tensor._wrap(getattr(np, name)(int(x)).astype(DEFAULT_FLOAT))

    window.__name__ = window.__qualname__ = name
    window.__doc__ = f"NumPy's ``{name}`` window of ``x`` points, in floatx."
    return window


bartlett, blackman, hamming, hanning = (_window(n) for n in (
    "bartlett", "blackman", "hamming", "hanning"))


def kaiser(x: int, beta: float) -> Tensor:
    return Tensor._wrap(np.kaiser(int(x), float(beta)).astype(DEFAULT_FLOAT))


def erfc(x: Any) -> Tensor:
    """1 - erf(x)."""
    from .functional.extra import erf

    return 1.0 - erf(_float(x))


class _Erfinv(Function):
    """y = erfinv(x) by a rational first guess refined with Newton's steps on erf(y) = x;
    dy/dx = sqrt(pi) / 2 exp(y^2)."""

    saves_outputs = True

    def forward(self, x):
        from .functional.activation import _erf

        xp = get_xp(x)
        wide = x.astype(np.float64)
        a = 0.147  # Winitzki's approximation, then Newton: erf' = 2 / sqrt(pi) exp(-y^2)
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            ln = xp.log1p(-wide * wide)
            first = 2 / (math.pi * a) + ln / 2
            y = xp.sign(wide) * xp.sqrt(xp.sqrt(first * first - ln / a) - first)
            for _ in range(3):
                y = y - (_erf(y) - wide) / (2 / math.sqrt(math.pi) * xp.exp(-y * y))
        y = xp.where(wide == 1, xp.inf, xp.where(wide == -1, -xp.inf, y)).astype(x.dtype)
        self.save_for_backward(y)
        return y

    def backward(self, g):
        y = self.saved[0]
        return g * (math.sqrt(math.pi) / 2) * get_xp(y).exp(y * y)

    def differentiable_backward(self, g):
        y = erfinv(self.inputs[0])
        return g * (math.sqrt(math.pi) / 2) * F.exp(y * y)


def erfinv(x: Any) -> Tensor:
    """The inverse of erf on (-1, 1) (+-inf at +-1, NaN beyond)."""
    return _Erfinv.apply(_float(x))


def allclose(x1: Any, x2: Any, rtol: float = 1e-05, atol: float = 1e-08,
             equal_nan: bool = False) -> Tensor:
    return Tensor._wrap(np.asarray(F.allclose(*_tensors(_t(x1), x2), rtol, atol, equal_nan)))


def nonzero(x: Any) -> tuple[Tensor, ...]:
    """The indices of the nonzero entries, one int32 array per axis (as Keras's)."""
    return tuple(Tensor._wrap(i.astype(np.int32)) for i in _t(x).xp.nonzero(_t(x).data))


def unique(x: Any, sorted: bool = True, return_index: bool = False,  # noqa: A002 - Keras's
           return_inverse: bool = False, return_counts: bool = False, axis: int | None = None,
           size: int | None = None, fill_value: Any = None) -> Any:
    """NumPy's unique values (flattened unless ``axis``), padded or cut to ``size`` with
    ``fill_value`` (by default the smallest value), and the indices, inverse and counts asked
    for."""
    data = _t(x).data
    found = np.unique(data, return_index=True, return_inverse=True, return_counts=True,
                      axis=axis)
    values, index, inverse, counts = found
    if size is not None:
        pad = size - values.shape[0 if axis is None else axis]
        fill = values.min() if fill_value is None and values.size else (fill_value or 0)
        if pad > 0:
            width = [(0, 0)] * values.ndim
            width[0 if axis is None else axis] = (0, pad)
            values = np.pad(values, width, constant_values=fill)
            index, counts = (np.pad(a, (0, pad)) for a in (index, counts))
        else:
            values = np.take(values, range(size), axis=0 if axis is None else axis)
            index, counts = index[:size], counts[:size]
    out = [Tensor._wrap(values)]
    for want, part in ((return_index, index), (return_inverse, inverse),
                       (return_counts, counts)):
        if want:
            out.append(Tensor._wrap(np.asarray(part)))
    return out[0] if len(out) == 1 else tuple(out)


def get_item(x: Any, key: Any) -> Tensor:
    """``x[key]`` (differentiable)."""
    return _t(x)[key]


def saturate_cast(x: Any, dtype: Any) -> Tensor:
    """A cast that first clips to ``dtype``'s range (255 for 300 in uint8, not 44)."""
    x, dtype = _t(x), np.dtype(dtype)
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        x = F.clip(x, float(info.min), float(info.max))
    elif dtype.kind == "f" and x.dtype.kind == "f":
        info = np.finfo(dtype)
        x = F.clip(x, float(info.min), float(info.max))
    return F.cast(x, dtype)


def segment_min(data: Any, segment_ids: Any, num_segments: int | None = None,
                sorted: bool = False) -> Tensor:  # noqa: A002 - Keras's
    """The smallest row per segment id (+inf where a segment has none)."""
    from ._ops_nn import segment_reduce

    return segment_reduce(data, segment_ids, num_segments, "amin", np.inf)


def segment_prod(data: Any, segment_ids: Any, num_segments: int | None = None,
                 sorted: bool = False) -> Tensor:  # noqa: A002 - Keras's
    """The product of the rows per segment id (1 where a segment has none)."""
    from ._ops_nn import segment_reduce

    return segment_reduce(data, segment_ids, num_segments, "prod", 1.0)


def histogram(x: Any, bins: int = 10, range: Any = None) -> tuple[Tensor, Tensor]:  # noqa: A002
    """(counts, bin edges) of the values of x (NumPy's; counts in floatx, as Keras's)."""
    counts, edges = np.histogram(_t(x).data, bins=int(bins), range=range)
    return (Tensor._wrap(counts.astype(DEFAULT_FLOAT)),
            Tensor._wrap(edges.astype(DEFAULT_FLOAT)))


def correlate(x1: Any, x2: Any, mode: str = "valid") -> Tensor:
    """NumPy's 1-D cross-correlation ('valid', 'same' or 'full'), differentiable: a sum of
    shifted products."""
    a, v = _tensors(_float(x1), x2)
    if mode not in ("valid", "same", "full"):
        raise ValueError(f"correlate: mode must be 'valid', 'same' or 'full', got {mode!r}")
    n, m = a.shape[0], v.shape[0]
    if m > n:  # NumPy swaps them (and reverses the result)
        return F.flip(correlate(v, a, mode), 0)
    left = {"valid": 0, "same": m // 2, "full": m - 1}[mode]
    right = {"valid": 0, "same": m - 1 - m // 2, "full": m - 1}[mode]
    padded = F.pad(a, [(left, right)])
    length = padded.shape[0] - m + 1
    return sum(padded[k:k + length] * v[k] for k in range(m))


def nextafter(x1: Any, x2: Any) -> Tensor:
    a, b = _tensors(_float(x1), x2)
    return Tensor._wrap(a.xp.nextafter(a.data, b.data))


def cdist(x: Any, y: Any) -> Tensor:
    """Euclidean distances between the rows of x and of y (batched)."""
    from ._torch_functions import cdist as pairwise

    return pairwise(_float(x), _float(y))


def real(x: Any) -> Tensor:
    return _t(x)


def imag(x: Any) -> Tensor:
    return _t(x) * 0


def conj(x: Any) -> Tensor:
    return _t(x)


conjugate = conj


def angle(x: Any) -> Tensor:
    """0 for x >= 0, pi for x < 0 (of real data; no gradient)."""
    x = _float(x)
    return Tensor._wrap(np.where(x.data < 0, np.pi, 0.0).astype(x.dtype))


def isreal(x: Any) -> Tensor:
    return Tensor._wrap(np.ones(_t(x).shape, bool))


def _einops_side(side: str, pattern: str) -> list[list[str]]:
    """One side of an einops pattern as groups of axis names: 'b (h w) c' -> [[b], [h, w],
    [c]]."""
    groups: list[list[str]] = []
    current: list[str] | None = None
    for token in side.replace("(", " ( ").replace(")", " ) ").split():
        if token == "(":
            if current is not None:
                raise ValueError(f"rearrange: nested parentheses in {pattern!r}")
            current = []
        elif token == ")":
            if current is None:
                raise ValueError(f"rearrange: unbalanced parentheses in {pattern!r}")
            groups.append(current)
            current = None
        elif not token.isidentifier():
            raise ValueError(f"rearrange: {token!r} in {pattern!r} is not an axis name (as "
                             "Keras's: names and (groups) only, no ... or 1)")
        elif current is not None:
            current.append(token)
        else:
            groups.append([token])
    if current is not None:
        raise ValueError(f"rearrange: unbalanced parentheses in {pattern!r}")
    return groups


def rearrange(tensor: Any, pattern: str, **axes_lengths: int) -> Tensor:
    """einops' ``rearrange`` (as Keras's): 'b (h w) c -> b h w c' splits, merges and reorders
    axes by name, ``axes_lengths`` giving the sizes a split cannot infer; a reshape, a
    transpose and a reshape (differentiable)."""
    x = _t(tensor)
    if pattern.count("->") != 1:
        raise ValueError(f"rearrange: the pattern needs one '->', got {pattern!r}")
    left, right = (_einops_side(side, pattern) for side in pattern.split("->"))
    names = [n for g in left for n in g]
    if sorted(names) != sorted(n for g in right for n in g) or len(set(names)) != len(names):
        raise ValueError(f"rearrange: both sides of {pattern!r} must name the same axes, once")
    if len(left) != x.ndim:
        raise ValueError(f"rearrange: {pattern!r} has {len(left)} input axes, the tensor "
                         f"{x.ndim} (shape {x.shape})")
    sizes = {n: int(v) for n, v in axes_lengths.items()}
    for group, size in zip(left, x.shape):
        unknown = [n for n in group if n not in sizes]
        known = math.prod(sizes[n] for n in group if n in sizes)
        if len(unknown) > 1:
            raise ValueError(f"rearrange: give the lengths of all but one of {group} "
                             f"(axes_lengths)")
        if unknown:
            if known == 0 or size % known:
                raise ValueError(f"rearrange: {size} cannot split into {group} with "
                                 f"{axes_lengths}")
            sizes[unknown[0]] = size // known
        elif known != size:
            raise ValueError(f"rearrange: {group} is {known} long, the axis {size}")
    flat = F.reshape(x, tuple(sizes[n] for n in names))
    order = [names.index(n) for g in right for n in g]
    moved = F.transpose(flat, tuple(order))
    return F.reshape(moved, tuple(math.prod(sizes[n] for n in g) for g in right))


def custom_gradient(f: Callable[..., Any]) -> Callable[..., Tensor]:
    """Keras's decorator: ``f(*args)`` returns ``(output, grad_fn)`` and the function it makes
    returns the output with ``grad_fn(upstream)``'s results (one per argument, None for no
    gradient) as the gradients of the arguments; inside f nothing is recorded."""
    class _Custom(Function):
        def forward(self, *arrays):
            output, grad_fn = f(*(Tensor._wrap(a) for a in arrays))
            self.save_for_backward(grad_fn)
            return _t(output).data

        def backward(self, g):
            grads = self.saved[0](Tensor._wrap(g))
            grads = grads if isinstance(grads, (tuple, list)) else (grads,)
            return tuple(None if v is None else _t(v).data for v in grads)

        def differentiable_backward(self, g):
            grads = self.saved[0](g)
            return tuple(grads) if isinstance(grads, (tuple, list)) else (grads,)

    def wrapped(*args: Any) -> Tensor:
        return _Custom.apply(*(_t(a) for a in args))

    wrapped.__name__ = getattr(f, "__name__", "custom_gradient")
    wrapped.__doc__ = f.__doc__
    return wrapped


def vectorize(pyfunc: Callable[..., Any], *, excluded: Any = None,
              signature: str | None = None) -> Callable[..., Any]:
    """``pyfunc`` of scalars made to run over arrays element by element (NumPy's
    ``vectorize``; no gradient), the result in floatx for floats."""
    vec = np.vectorize(pyfunc, excluded=excluded, signature=signature)

    def run(*args: Any, **kwargs: Any) -> Tensor:
        out = np.asarray(vec(*(_t(a).data for a in args), **kwargs))
        return Tensor._wrap(out.astype(DEFAULT_FLOAT) if out.dtype.kind == "f" else out)

    return run


__all__ = [
    "allclose", "angle", "bartlett", "bitwise_and", "bitwise_invert", "bitwise_left_shift",
    "bitwise_not", "bitwise_or", "bitwise_right_shift", "bitwise_xor", "blackman", "cdist",
    "conj", "conjugate", "correlate", "custom_gradient", "erfc", "erfinv", "get_item",
    "hamming", "hanning", "histogram", "imag", "isreal", "kaiser", "left_shift", "nextafter",
    "nonzero", "real", "rearrange", "right_shift", "saturate_cast", "segment_min",
    "segment_prod", "unique",
    "vectorize",
]
