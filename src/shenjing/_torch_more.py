"""More of PyTorch's Tensor methods and module functions, found missing by an audit of ported
programs (``torch.unique``, ``bincount``, ``tensor_split``, ``x.mT``, ``torch.meshgrid(...,
indexing="ij")``, ``torch.kron``...). Loaded with :mod:`shenjing._torch_methods`, which adds
``METHODS`` to its own; ``FUNCTIONS`` are the methods torch also has as ``torch.name(x, ...)``,
and the functions defined here without a method form are re-exported by
:mod:`shenjing._torch_functions`.

Each is composed of differentiable ops (:mod:`shenjing.functional`, :mod:`shenjing.ops`), so
gradients follow; counting and index functions (``unique``, ``bincount``, ``argwhere``,
``isin``, ``triu_indices``) give int64 or bool tensors without a gradient, as torch's.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable
from typing import Any

import numpy as np

from . import backend, ops
from . import functional as F
from ._scatter_reduce import scatter_reduce
from .autograd import Function, Tensor, array_of
from .backend import get_xp
from .functional import elementwise as E
from .functional import shape as S
from .functional._util import axis_index
from .functional.device import array_on
from .functional.tensor_methods import ValuesIndices


def _t(x: Any, like: Tensor | None = None) -> Tensor:
    if isinstance(x, Tensor):
        return x
    return Tensor(x) if like is None else Tensor._wrap(like.xp.asarray(x, dtype=like.dtype))


def _along(x: Tensor, dim: int, index: Any) -> Tensor:
    """x[..., index, ...] with ``index`` (an int or a slice) on axis ``dim``."""
    return S.getitem(x, (slice(None),) * axis_index(dim, x.ndim) + (index,))


# -- counting and sets (no gradient) -----------------------------------------------------------
def unique(self: Tensor, sorted: bool = True, return_inverse: bool = False,  # noqa: A002
           return_counts: bool = False, dim: int | None = None) -> Any:
    """The distinct values (sorted; ``sorted=False`` sorts too, which torch allows), or the
    distinct slices along ``dim``; with ``return_inverse`` each element's (slice's) index in
    them, with ``return_counts`` how often each occurs (both int64)."""
    values, inverse, counts = self.xp.unique(self.data, return_inverse=True,
                                             return_counts=True, axis=dim)
    inverse = inverse.reshape(self.shape if dim is None else (-1,)).astype(np.int64)
    out = [Tensor._wrap(values)]
    if return_inverse:
        out.append(Tensor._wrap(inverse))
    if return_counts:
        out.append(Tensor._wrap(counts.astype(np.int64)))
    return out[0] if len(out) == 1 else tuple(out)


def bincount(self: Tensor, weights: Any = None, minlength: int = 0) -> Tensor:
    """How often each value 0..max occurs in a 1-D tensor of non-negative integers (int64), or
    the sum of ``weights`` at each value, in the weights' floating dtype (float32 for integer
    weights, where torch gives float64)."""
    if self.ndim != 1 or self.dtype.kind not in "iub":
        raise RuntimeError(f"bincount takes a 1-D integer tensor, got a {self.ndim}-D "
                           f"{self.dtype} one")
    if weights is None:
        return Tensor._wrap(self.xp.bincount(self.data, minlength=minlength).astype(np.int64))
    w = self.xp.asarray(array_of(weights))
    dtype = w.dtype if w.dtype.kind == "f" else np.float32
    return Tensor._wrap(self.xp.bincount(self.data, w, minlength=minlength).astype(dtype))


def count_nonzero(self: Tensor, dim: Any = None) -> Tensor:
    """The number of non-zero elements over ``dim`` (an int, a tuple, or None: all), int64."""
    dim = tuple(dim) if isinstance(dim, list) else dim
    return Tensor._wrap(self.xp.asarray(self.xp.count_nonzero(self.data, axis=dim), np.int64))


def argwhere(self: Tensor) -> Tensor:
    """The indices of the non-zero elements, one row each: (n, ndim) int64."""
    return Tensor._wrap(self.xp.argwhere(self.data).astype(np.int64))


def isin(elements: Any, test_elements: Any, *, assume_unique: bool = False,
         invert: bool = False) -> Tensor:
    """True where an element of ``elements`` is in ``test_elements`` (either may be a number)."""
    a = array_of(elements)
    xp = get_xp(a, array_of(test_elements))
    return Tensor._wrap(xp.isin(xp.asarray(a), xp.asarray(array_of(test_elements)),
                                assume_unique=assume_unique, invert=invert))


def _triangle_indices(upper: bool) -> Callable[..., Tensor]:
    def indices(row: int, col: int, offset: int = 0, *, dtype: Any = np.int64,
                device: Any = None) -> Tensor:
        rows, cols = (np.triu_indices if upper else np.tril_indices)(row, offset, col)
        both = np.stack([rows, cols]).astype(dtype)
        return Tensor._wrap(both if device is None else array_on(both, device))

    name = "triu_indices" if upper else "tril_indices"
    indices.__name__ = indices.__qualname__ = name
    indices.__doc__ = (f"torch's ``{name}``: the (2, N) int64 row and column indices of the "
                       f"{'upper' if upper else 'lower'} triangle of a row x col matrix, "
                       "from diagonal ``offset``, row by row.")
    return indices


triu_indices, tril_indices = _triangle_indices(True), _triangle_indices(False)


# -- splitting, picking, differences (differentiable) ------------------------------------------
def tensor_split(self: Tensor, indices_or_sections: Any, dim: int = 0) -> tuple[Tensor, ...]:
    """torch's ``tensor_split``: ``n`` pieces along ``dim`` (the first ``len % n`` one longer,
    NumPy's ``array_split``) for an int, or the pieces between the cut indices of a list."""
    cuts = array_of(indices_or_sections)
    length = self.shape[dim]
    if np.ndim(cuts) == 0:
        n = int(cuts)
        if n < 1:
            raise RuntimeError(f"tensor_split: number of sections must be > 0, got {n}")
        sizes = [length // n + (i < length % n) for i in range(n)]
        bounds = np.concatenate([[0], np.cumsum(sizes)]).tolist()
    else:
        bounds = [0, *(int(c) for c in np.asarray(cuts).reshape(-1)), length]
    return tuple(_along(self, dim, slice(a, b)) for a, b in zip(bounds[:-1], bounds[1:]))


def take_along_dim(self: Tensor, indices: Any, dim: int | None = None) -> Tensor:
    """x's values at ``indices`` along ``dim`` (torch's ``take_along_dim``: ``argsort``'s or
    ``argmax(keepdim=True)``'s indices); with no ``dim``, of both flattened."""
    idx = self.xp.asarray(array_of(indices))
    if dim is None:
        return S.take_along_axis(F.reshape(self, (-1,)), idx.reshape(-1), 0)
    return S.take_along_axis(self, idx, dim)


def diff(self: Tensor, n: int = 1, dim: int = -1, prepend: Any = None, append: Any = None
         ) -> Tensor:
    """The ``n``-th forward difference ``x[i + 1] - x[i]`` along ``dim``, after ``prepend`` and
    ``append`` are joined on; of booleans, ``!=`` (torch's)."""
    parts = [_t(p, self) for p in (prepend, self, append) if p is not None]
    x = F.cat(parts, dim) if len(parts) > 1 else self
    for _ in range(n):
        head, tail = _along(x, dim, slice(1, None)), _along(x, dim, slice(None, -1))
        x = Tensor._wrap(head.data != tail.data) if x.dtype.kind == "b" else head - tail
    return x


def cross(self: Tensor, other: Any, dim: int | None = None) -> Tensor:
    """The cross product of 3-vectors along ``dim`` (None: the first axis of length 3, as
    torch.cross without ``dim``), the two broadcast together."""
    a, b = self, _t(other, self)
    shape = np.broadcast_shapes(a.shape, b.shape)
    a, b = F.broadcast_to(a, shape), F.broadcast_to(b, shape)
    if dim is None:
        dim = next((i for i, n in enumerate(shape) if n == 3), None)
        if dim is None:
            raise RuntimeError(f"cross: no dimension of size 3 in shape {shape}")
    if shape[dim] != 3:
        raise RuntimeError(f"cross: dimension {dim} has size {shape[dim]}, not 3")
    a0, a1, a2 = (_along(a, dim, i) for i in range(3))
    b0, b1, b2 = (_along(b, dim, i) for i in range(3))
    return F.stack([a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0], dim)


def kron(self: Tensor, other: Any) -> Tensor:
    """The Kronecker product: block (i, j) is ``x[i, j] * other`` (any rank, the lower one
    padded with leading 1s), one broadcast product."""
    a, b = self, _t(other, self)
    d = builtins.max(a.ndim, b.ndim)
    sa, sb = (1,) * (d - a.ndim) + a.shape, (1,) * (d - b.ndim) + b.shape
    spread = (F.reshape(a, [v for n in sa for v in (n, 1)])
              * F.reshape(b, [v for n in sb for v in (1, n)]))
    return F.reshape(spread, [m * n for m, n in zip(sa, sb)])


def narrow(self: Tensor, dim: int, start: int, length: int) -> Tensor:
    """``length`` entries from ``start`` along ``dim`` (torch's ``narrow``; a ``start`` below
    zero counts from the end); a window that leaves the axis is an error, as torch's."""
    size, start, length = self.shape[axis_index(dim, self.ndim)], int(start), int(length)
    if start < 0:
        start += size
    if not (0 <= start <= size and 0 <= length <= size - start):
        raise ValueError(f"narrow: start {start} and length {length} leave dim {dim} of size "
                         f"{size}")
    return _along(self, dim, slice(start, start + length))


def median(self: Tensor, dim: int | None = None, keepdim: bool = False) -> Any:
    """torch's ``median``: the lower of the two middle values for an even count (NumPy's and
    ``shenjing.ops.median`` average them), NaN for a lane that holds one; along ``dim``,
    ``(values, indices)``. The gradient goes to the element chosen."""
    from ._torch_methods import sort

    if dim is None:
        if self.size == 0:
            raise RuntimeError("median() of an empty tensor has no value")
        return median(F.reshape(self, (-1,)), 0).values
    x = self if self.ndim else F.reshape(self, (1,))
    dim = axis_index(dim, x.ndim)
    values, indices = sort(x, dim)  # NaN last: a lane's first NaN is at n - (its NaN count)
    xp = get_xp(x.data)
    nans = xp.isnan(x.data).sum(axis=dim, keepdims=True)
    n = x.shape[dim]
    k = xp.where(nans > 0, n - nans, (n - 1) // 2)
    picked = ValuesIndices(S.take_along_axis(values, k, dim),
                           Tensor._wrap(xp.take_along_axis(indices.data, k, axis=dim)))
    if keepdim:
        return picked
    return ValuesIndices(*(F.squeeze(t, dim) for t in picked))


def unflatten(self: Tensor, dim: int, sizes: Any) -> Tensor:
    """torch's ``unflatten``: axis ``dim`` split into ``sizes`` (one may be -1)."""
    dim = axis_index(dim, self.ndim)
    return F.reshape(self, (*self.shape[:dim], *sizes, *self.shape[dim + 1:]))


def nansum(self: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    """The sum with NaN counted as 0 (their gradient is 0); integers (no NaN) summed as they
    are, in torch's dtype (int64), not as floats."""
    x = F.where(ops.isnan(self), 0.0, self) if self.dtype.kind in "fc" else self
    return F.sum(x, axis=dim, keepdims=keepdim)


def nanmean(self: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    """The mean of the values that are not NaN (NaN where all are)."""
    nan = ops.isnan(self)
    count = F.sum(F.cast(ops.logical_not(nan), self.dtype), axis=dim, keepdims=keepdim)
    return F.sum(F.where(nan, 0.0, self), axis=dim, keepdims=keepdim) / count


def select(self: Tensor, dim: int, index: int) -> Tensor:
    """The slice at ``index`` along ``dim``, that axis removed (``x.select(1, 0)`` is
    ``x[:, 0]``)."""
    return _along(self, dim, int(index))


# -- reductions --------------------------------------------------------------------------------
def _moment_mean(name: str) -> Callable[..., tuple[Tensor, Tensor]]:
    def moment_mean(input: Any, dim: Any = None, unbiased: Any = None,  # noqa: A002
                    keepdim: bool = False, *, correction: Any = None) -> tuple[Tensor, Tensor]:
        x = _t(input)
        if isinstance(unbiased, bool) or unbiased is None:
            args = {"unbiased": unbiased} if unbiased is not None else {}
        else:  # torch.var_mean(x, 0, ...) where the second positional is dims as a list
            raise TypeError(f"{name}: unbiased must be a bool, got {unbiased!r}")
        if correction is not None:
            args = {"correction": correction, **args}
        dims = tuple(dim) if isinstance(dim, (list, tuple)) else dim
        moment = getattr(F, name[:3])(x, dim=dims, keepdim=keepdim, **args)
        return moment, F.mean(x, dim=dims, keepdim=keepdim)

    moment_mean.__name__ = moment_mean.__qualname__ = name
    moment_mean.__doc__ = (f"torch's ``{name}``: the {name[:3]} (``correction`` 1 unless given) "
                           "and the mean over ``dim`` (None: all), as a pair; differentiable.")
    return moment_mean


var_mean, std_mean = _moment_mean("var_mean"), _moment_mean("std_mean")


# -- module-level constructors -----------------------------------------------------------------
def meshgrid(*tensors: Any, indexing: str = "ij") -> tuple[Tensor, ...]:
    """Coordinate grids of 1-D tensors (or one list of them): ``indexing="ij"`` (torch's
    default, which torch warns about when not given) or ``"xy"``; differentiable."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    return tuple(ops.meshgrid(*tensors, indexing=indexing))


def broadcast_tensors(*tensors: Any) -> tuple[Tensor, ...]:
    """The tensors broadcast to their common shape (differentiable)."""
    xs = [_t(x) for x in tensors]
    shape = np.broadcast_shapes(*(x.shape for x in xs))
    return tuple(F.broadcast_to(x, shape) for x in xs)


# -- small element-wise ones -------------------------------------------------------------------
def frac(self: Tensor) -> Tensor:
    """The fractional part ``x - trunc(x)``, with x's sign (gradient 1)."""
    return self - F.trunc(self)


def logit(self: Tensor, eps: float | None = None) -> Tensor:
    """log(p / (1 - p)), p clamped to [eps, 1 - eps] when ``eps`` is given."""
    p = self if eps is None else self.clamp(eps, 1 - eps)
    return F.log(p) - ops.log1p(-p)


class _Hypot(Function):
    """y = sqrt(a**2 + b**2) without overflow or underflow of the squares (NumPy's hypot
    scales: 1e20 and 1e-30 are float32's too);  dy/da = a / y, dy/db = b / y."""

    saves_outputs = True

    def forward(self, a, b):
        y = get_xp(a).hypot(a, b)
        self.save_for_backward(a, b, y)
        return y

    def backward(self, g):
        a, b, y = self.saved
        return g * a / y, g * b / y

    def differentiable_backward(self, g):
        a, b = self.inputs
        y = hypot(a, b)
        return g * a / y, g * b / y


def hypot(self: Tensor, other: Any) -> Tensor:
    """sqrt(x**2 + other**2), element-wise, as torch.hypot."""
    return E._binary(_Hypot, self, other)


class _Atan2(Function):
    """y = atan2(a, b), the angle of the point (b, a) in (-pi, pi];  dy/da = b / (a**2 + b**2),
    dy/db = -a / (a**2 + b**2) (0 at the origin, as torch's)."""

    def forward(self, a, b):
        self.save_for_backward(a, b)
        return get_xp(a).arctan2(a, b)

    def backward(self, g):
        a, b = self.saved
        r2 = a * a + b * b
        r2 = get_xp(r2).where(r2 == 0, 1, r2)
        return g * b / r2, -g * a / r2

    def differentiable_backward(self, g):
        a, b = self.inputs
        r2 = a * a + b * b
        r2 = F.where((r2 == 0).data, 1.0, r2)
        return g * b / r2, -g * a / r2


def atan2(self: Tensor, other: Any) -> Tensor:
    """The angle of (other, x) in (-pi, pi], element-wise: torch.atan2(y, x); integers and
    booleans as float32, as torch's."""
    return E._binary(_Atan2, E.floating(self), E.floating(_t(other, self)))


def mv(self: Tensor, vec: Any) -> Tensor:
    """A matrix times a vector (torch.mv: 2-D and 1-D only)."""
    vec = _t(vec, self)
    if self.ndim != 2 or vec.ndim != 1:
        raise RuntimeError(f"mv() takes a matrix and a vector, got {self.ndim}-D and "
                           f"{vec.ndim}-D tensors")
    return F.matmul(self, vec)


def addmm(self: Tensor, mat1: Any, mat2: Any, *, beta: Any = 1, alpha: Any = 1) -> Tensor:
    """``beta * x + alpha * (mat1 @ mat2)`` (torch.addmm; x broadcast to the product)."""
    product = F.matmul(_t(mat1, self), _t(mat2, self))
    product = product if alpha == 1 else alpha * product
    if beta == 0:  # x is ignored, NaN and inf in it included (torch's rule)
        return F.broadcast_to(product, np.broadcast_shapes(product.shape, self.shape))
    return product + (self if beta == 1 else beta * self)


def rot90(self: Tensor, k: int = 1, dims: Any = (0, 1)) -> Tensor:
    """x turned k quarter turns from axis ``dims[0]`` towards ``dims[1]`` (torch.rot90)."""
    first, second = (axis_index(d, self.ndim) for d in dims)
    if first == second:
        raise ValueError(f"rot90: dims must be two different axes, got {tuple(dims)}")
    k %= 4
    if k == 2:
        return F.flip(self, (first, second))
    order = list(range(self.ndim))
    order[first], order[second] = order[second], order[first]
    if k == 1:
        return F.transpose(F.flip(self, second), order)
    return F.flip(F.transpose(self, order), second) if k == 3 else self.clone()


def kthvalue(self: Tensor, k: int, dim: int = -1, keepdim: bool = False) -> Any:
    """The k-th smallest value along ``dim`` and its index, (values, indices) (torch.kthvalue;
    k from 1; differentiable in the values)."""
    axis = axis_index(dim, self.ndim)
    if not 1 <= k <= self.shape[axis]:
        raise IndexError(f"kthvalue: k={k} is out of range for a dimension of size "
                         f"{self.shape[axis]}")
    values, indices = self.sort(dim=axis)
    values, indices = _along(values, axis, k - 1), _along(indices, axis, k - 1)
    if keepdim:
        values, indices = F.expand_dims(values, axis), F.expand_dims(indices, axis)
    return ValuesIndices(values, indices)


def _running_extreme(accumulate: str) -> Callable[..., Any]:
    """cummax / cummin: the running extreme along ``dim`` and where it was found, the last of
    equal ones; a NaN, once met, is the value from there on, and each later NaN its index
    (torch's rules). Differentiable in the values (the gradient goes to those indices)."""

    def running(self: Tensor, dim: int) -> Any:
        if self.ndim == 0:
            values, indices = running(F.reshape(self, (1,)), dim)
            return ValuesIndices(F.reshape(values, ()), F.reshape(indices, ()))
        axis = axis_index(dim, self.ndim)
        xp, x = self.xp, self.data
        extreme = getattr(xp, accumulate).accumulate(x, axis=axis)
        hit = (x == extreme) | (x != x)  # (x != x: a NaN)
        shape = [1] * x.ndim
        shape[axis] = -1
        positions = xp.arange(x.shape[axis]).reshape(shape)
        indices = xp.maximum.accumulate(xp.where(hit, positions, -1), axis=axis)
        indices = Tensor._wrap(indices.astype(np.int64, copy=False))
        return ValuesIndices(S.take_along_axis(self, indices.data, axis), indices)

    running.__name__ = "cummax" if accumulate == "maximum" else "cummin"
    return running


cummax, cummin = _running_extreme("maximum"), _running_extreme("minimum")


def logcumsumexp(self: Tensor, dim: int) -> Tensor:
    """log(cumsum(exp(x))) along ``dim``, without overflow (torch.logcumsumexp)."""
    from .functional.extra import logcumsumexp as scan

    return scan(self, dim)


def searchsorted(sorted_sequence: Any, input: Any, *, out_int32: bool = False,  # noqa: A002
                 right: bool = False, side: str | None = None, sorter: Any = None) -> Tensor:
    """Where each of ``input`` would go in ``sorted_sequence`` to keep it sorted: the first
    such place, or the last with ``right=True`` / ``side='right'`` (torch.searchsorted). A
    sorted sequence of more than one axis is a stack of rows, searched row by row with the
    rows of ``input``; ``sorter`` orders an unsorted sequence (argsort's indices)."""
    if side is not None and side not in ("left", "right"):
        raise ValueError(f"searchsorted: side must be 'left' or 'right', got {side!r}")
    if side is not None and right and side == "left":
        raise ValueError("searchsorted: right=True and side='left' disagree")
    side = side or ("right" if right else "left")
    seq, values = array_of(sorted_sequence), array_of(input)
    xp = get_xp(seq, values)
    seq, values = xp.asarray(seq), xp.asarray(values)
    if sorter is not None:
        seq = xp.take_along_axis(seq, xp.asarray(array_of(sorter)), axis=-1)
    if seq.ndim <= 1:
        out = xp.searchsorted(seq, values, side=side)
    else:
        if seq.shape[:-1] != values.shape[:-1]:
            raise RuntimeError(f"searchsorted: the leading axes of sorted_sequence "
                               f"{seq.shape} and input {values.shape} must match")
        rows = seq.reshape(-1, seq.shape[-1])
        out = (xp.stack([xp.searchsorted(r, v, side=side) for r, v in
                         zip(rows, values.reshape(len(rows), -1))]).reshape(values.shape)
               if len(rows) else xp.zeros(values.shape, np.int64))
    return Tensor._wrap(xp.asarray(out, dtype=np.int32 if out_int32 else np.int64))


def bucketize(input: Any, boundaries: Any, *, out_int32: bool = False,  # noqa: A002
              right: bool = False) -> Tensor:
    """The bucket of each value between the sorted 1-D ``boundaries``: i with
    boundaries[i-1] < x <= boundaries[i], or boundaries[i-1] <= x < boundaries[i] with
    ``right=True`` (torch.bucketize)."""
    edges = array_of(boundaries)
    edges = edges if hasattr(edges, "ndim") else np.asarray(edges)  # (a list)
    if edges.ndim != 1:
        raise ValueError(f"bucketize: boundaries must be 1-D, got shape {np.shape(edges)}")
    return searchsorted(edges, input, out_int32=out_int32, right=right)


def bernoulli(self: Tensor, p: Any = None, *, generator: Any = None) -> Tensor:
    """1 with probability x (or ``p``), else 0, element-wise, in x's dtype (torch.bernoulli;
    drawn from ``generator``, else shenjing's seeded streams)."""
    probability = self.data if p is None else array_of(p)
    stream = generator if generator is not None else backend.default_generator()
    draws = self.xp.asarray(stream.random(self.shape))
    return Tensor._wrap((draws < probability).astype(self.dtype))


def logaddexp(self: Tensor, other: Any) -> Tensor:
    """log(exp(x) + exp(other)) = max + log1p(exp(-|x - other|)): no overflow, and the
    gradient is sigmoid(x - other) exactly (through a logsumexp of the pair it was exp(x - y)
    with y rounded: 0.47 each for two equal inputs of 3e6, NaN for an infinite one). Equal
    inputs take their difference as 0, not inf - inf = NaN: two infinities give that infinity,
    as torch, and share the gradient evenly (torch's is NaN there)."""
    other = _t(other, self)
    tie = (self == other).data
    gap = F.where(tie, 0.0, self) - F.where(tie, 0.0, other)
    return F.maximum(self, other) + ops.log1p(F.exp(-F.abs(gap)))


def _matrix_transpose(self: Tensor) -> Tensor:
    if self.ndim < 2:
        raise RuntimeError(f"tensor.mT is only supported on matrices or batches of matrices, "
                           f"got a {self.ndim}-D tensor")
    return ops.swapaxes(self, -2, -1)


def _adjoint(self: Tensor) -> Tensor:
    if self.ndim not in (0, 2):
        raise RuntimeError(f"tensor.H is only supported on matrices (2-D tensors), got "
                           f"{self.ndim}-D")
    return self if self.ndim == 0 else ops.swapaxes(self, 0, 1)


def _method_of(fn: Callable[..., Any]) -> Callable[..., Any]:
    def method(self: Tensor, *args: Any, **kwargs: Any) -> Any:
        return fn(self, *args, **kwargs)

    method.__name__, method.__doc__ = fn.__name__, fn.__doc__
    return method


def _roll(self: Tensor, shifts: Any, dims: Any = None) -> Tensor:
    return ops.roll(self, shifts, dims)


METHODS: dict[str, Any] = {
    "unique": unique, "bincount": bincount, "count_nonzero": count_nonzero,
    "argwhere": argwhere, "tensor_split": tensor_split, "take_along_dim": take_along_dim,
    "diff": diff, "cross": cross, "kron": kron, "narrow": narrow, "select": select,
    "trunc": _method_of(F.trunc), "frac": frac, "fmod": _method_of(F.fmod), "logit": logit,
    "hypot": hypot, "logaddexp": logaddexp, "roll": _roll, "median": median,
    "atan2": atan2, "arctan2": atan2, "mv": mv, "addmm": addmm, "rot90": rot90,
    "kthvalue": kthvalue, "bernoulli": bernoulli, "cummax": cummax, "cummin": cummin,
    "logcumsumexp": logcumsumexp, "scatter_reduce": scatter_reduce,
    "asinh": _method_of(ops.arcsinh), "acosh": _method_of(ops.arccosh),
    "atanh": _method_of(ops.arctanh), "arcsinh": _method_of(ops.arcsinh),
    "arccosh": _method_of(ops.arccosh), "arctanh": _method_of(ops.arctanh),
    "unflatten": unflatten, "nansum": nansum, "nanmean": nanmean,
    "nan_to_num": _method_of(ops.nan_to_num), "sgn": _method_of(F.sign),
    "negative": _method_of(F.neg), "exp2": lambda self: 2.0 ** self,
    "arcsin": _method_of(ops.arcsin), "arccos": _method_of(ops.arccos),
    "asin": _method_of(ops.arcsin), "acos": _method_of(ops.arccos),
    "atan": _method_of(ops.arctan), "erf": _method_of(ops.erf),
    "logical_and": _method_of(ops.logical_and), "logical_or": _method_of(ops.logical_or),
    "logical_xor": _method_of(ops.logical_xor),
    "movedim": _method_of(ops.moveaxis), "moveaxis": _method_of(ops.moveaxis),
    "swapaxes": _method_of(ops.swapaxes), "swapdims": _method_of(ops.swapaxes),
    "fliplr": lambda self: F.flip(self, 1), "flipud": lambda self: F.flip(self, 0),
    "diagonal": lambda self, offset=0, dim1=0, dim2=1: ops.diagonal(self, offset, dim1, dim2),
    "trace": lambda self: ops.trace(self), "tile": lambda self, *dims: ops.tile(
        self, dims[0] if len(dims) == 1 and isinstance(dims[0], (tuple, list)) else dims),
    "ravel": lambda self: F.reshape(self, (-1,)),
    "is_floating_point": lambda self: self.dtype.kind == "f",
    "mT": property(_matrix_transpose, doc="The last two axes swapped (torch's ``x.mT``)."),
    "mH": property(_matrix_transpose, doc="``x.mT`` (the conjugate transpose of real data)."),
    "H": property(_adjoint, doc="The transpose of a matrix (conjugate of real data: itself)."),
}

#: torch's functions that are these methods applied to their first argument
#: (and some of Tensor's own methods: ``torch.neg``, ``torch.clamp_min``...)
FUNCTIONS = (*(name for name in METHODS if name not in ("mT", "mH", "H")), "clamp_min",
             "clamp_max", "neg", "sinh", "cosh", "tan", "arctan")

