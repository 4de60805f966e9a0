"""PyTorch's Tensor methods that shenjing's own API spells otherwise, for ported code
(``x.mm(w)``, ``wei.masked_fill(tril == 0, float('-inf'))``, ``x.topk(2)``, ``p.clamp_(0, 1)``).

They are put on ``Tensor`` at the first call of any of them (``Tensor`` starts with a stand-in
for each name in ``shenjing._TORCH_METHODS``), so ``import shenjing`` loads none of this. Each is
built from the
differentiable ops of :mod:`shenjing.functional` and :mod:`shenjing.ops` with torch's arguments
(``dim``, ``keepdim``); ``FUNCTIONS`` lists those that torch also has as ``torch.name(x, ...)``.
"""

from __future__ import annotations

import builtins
import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from . import functional as F
from . import ops
from ._scatter_reduce import scatter_reduce
from ._torch_more import _method_of
from .autograd import Function, Tensor, array_of, is_grad_enabled
from .backend import asnumpy, get_xp, on_device_of
from .functional import shape as S
from .functional._util import axis_index, descending_order
from .functional.tensor_methods import ValuesIndices


def _matrices(name: str, rank: int) -> Callable[[Tensor, Tensor], Tensor]:
    def product(self: Tensor, other: Tensor) -> Tensor:
        if self.ndim != rank or other.ndim != rank:
            raise RuntimeError(f"{name}() takes two {rank}-D tensors, got {self.ndim}-D and "
                               f"{other.ndim}-D (matmul broadcasts)")
        return F.matmul(self, other)

    product.__name__ = name
    product.__doc__ = f"torch's ``{name}``: the matrix product of two {rank}-D tensors."
    return product


def masked_fill(self: Tensor, mask: Any, value: Any) -> Tensor:
    """``value`` where ``mask`` is true, x elsewhere (the gradient flows there): attention's
    ``wei.masked_fill(tril == 0, float('-inf'))``. The result keeps x's dtype, as torch's."""
    out = F.where(mask, value, self)
    return out if out.dtype == self.dtype else F.cast(out, self.dtype)


def _sorted_indices(self: Tensor, dim: int, descending: bool) -> Any:
    """The stable sorting order along ``dim``; NaN counts as the largest value, as torch's."""
    if not descending:
        return self.xp.argsort(self.data, axis=dim, kind="stable")
    return descending_order(self.data, dim)


@S.on_0d_as_1d
def sort(self: Tensor, dim: int = -1, descending: bool = False, stable: bool = False
         ) -> ValuesIndices:
    """``(values, indices)`` sorted along ``dim``; the gradient goes back to each value's place."""
    idx = _sorted_indices(self, dim, descending)
    return ValuesIndices(S.take_along_axis(self, idx, dim), Tensor._wrap(idx))


@S.on_0d_as_1d
def argsort(self: Tensor, dim: int = -1, descending: bool = False, stable: bool = False
            ) -> Tensor:
    """The indices that sort along ``dim`` (int64)."""
    return Tensor._wrap(_sorted_indices(self, dim, descending))


@S.on_0d_as_1d
def topk(self: Tensor, k: int, dim: int = -1, largest: bool = True, sorted: bool = True  # noqa: A002
         ) -> ValuesIndices:
    """The ``k`` largest (or smallest) values along ``dim`` and their indices, largest first."""
    dim = axis_index(dim, self.ndim)
    if not 0 <= k <= self.shape[dim]:
        raise RuntimeError(f"topk: k={k} is out of range for dimension {dim} of size "
                           f"{self.shape[dim]}")
    n = self.shape[dim]  # (short rows sort quicker than they partition)
    idx = _top_indices(self.data, k, dim, largest) if 0 < 4 * k <= n and n >= 64 else None
    if idx is None:  # k near n, NaN, or another device: the whole stable sort
        idx = S.getitem(Tensor._wrap(_sorted_indices(self, dim, largest)),
                        (slice(None),) * dim + (slice(0, k),)).data
    return ValuesIndices(S.take_along_axis(self, idx, dim), Tensor._wrap(idx))


def _top_indices(data: Any, k: int, dim: int, largest: bool) -> Any:
    """The indices of the k largest (smallest) along ``dim``, in the whole stable sort's order
    (ties by position), without sorting the rest: a partition finds the k-th value, all that
    beat it and the first of those equal to it are kept, and only those k are sorted (topk's
    full argsort was 16x torch's). None for NaN data or a GPU array (the caller sorts)."""
    if not isinstance(data, np.ndarray) or data.dtype.kind != "f" or np.isnan(data).any():
        return None
    x = np.moveaxis(data, dim, -1)
    key = -x if largest else x  # ascending in key: the wanted ones first
    kth = np.partition(key, k - 1, axis=-1)[..., k - 1:k]
    beats, ties = key < kth, key == kth
    room = k - beats.sum(axis=-1, keepdims=True)
    keep = beats | (ties & (np.cumsum(ties, axis=-1) <= room))
    picked = np.nonzero(keep)[-1].reshape(*x.shape[:-1], k)  # ascending positions per row
    order = np.argsort(np.take_along_axis(key, picked, -1), axis=-1, kind="stable")
    return np.moveaxis(np.take_along_axis(picked, order, -1), -1, dim)


def _scan(name: str) -> Callable[..., Tensor]:
    def scan(self: Tensor, dim: int, *, dtype: Any = None) -> Tensor:
        return getattr(ops, name)(self, axis=dim, dtype=dtype)

    scan.__name__ = name
    scan.__doc__ = f"torch's ``{name}`` along ``dim``, differentiable."
    return scan


def prod(self: Tensor, dim: int | None = None, keepdim: bool = False, *, dtype: Any = None
         ) -> Tensor:
    """The product over ``dim`` (None: all elements); exact gradients also at zeros."""
    return ops.prod(self, axis=dim, keepdims=keepdim, dtype=dtype)


def repeat(self: Tensor, *sizes: Any) -> Tensor:
    """torch's ``repeat``: the tensor tiled ``sizes`` times along each axis (NumPy's tile)."""
    return ops.tile(self, _sizes(sizes))


def repeat_interleave(self: Tensor, repeats: Any, dim: int | None = None) -> Tensor:
    """Each element repeated ``repeats`` times along ``dim`` (None: flattened; NumPy's repeat)."""
    repeats = array_of(repeats)
    if (asnumpy(repeats) < 0).any():
        raise ValueError(f"repeat_interleave: repeats must not be negative, got {repeats!r}")
    return ops.repeat(self, repeats, axis=dim)


def _sizes(sizes: Sequence[Any]) -> tuple[int, ...]:
    """torch's size arguments: ``f(2, 3)`` or ``f((2, 3))``."""
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        sizes = sizes[0]
    return tuple(int(n) for n in sizes)


def chunk(self: Tensor, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
    """torch's ``chunk``: at most ``chunks`` pieces of ceil(n / chunks) along ``dim``."""
    if not isinstance(chunks, (int, np.integer)) or chunks < 1:
        raise ValueError(f"chunk: chunks must be a positive integer, got {chunks!r}")
    return S.split_sizes(self, builtins.max(math.ceil(self.shape[dim] / chunks), 1), dim)


def unbind(self: Tensor, dim: int = 0) -> tuple[Tensor, ...]:
    """The slices along ``dim``, that axis removed."""
    dim = axis_index(dim, self.ndim)
    head = (slice(None),) * dim
    return tuple(S.getitem(self, (*head, i)) for i in range(self.shape[dim]))


def index_select(self: Tensor, dim: int, index: Any) -> Tensor:
    """The entries ``index`` (1-D) along ``dim``; repeated indices accumulate gradient."""
    index = self.xp.asarray(array_of(index))
    size = self.shape[axis_index(dim, self.ndim)] if self.ndim else 1
    S.check_torch_index("index_select", index, size, dim)
    return ops.take(self, index, axis=dim)


def masked_select(self: Tensor, mask: Any) -> Tensor:
    """The elements where ``mask`` (broadcast to x's shape) is true, as a 1-D tensor."""
    mask = self.xp.broadcast_to(on_device_of(array_of(mask), self.data), self.shape)
    return S.getitem(self, mask)


def nonzero(self: Tensor, *, as_tuple: bool = False) -> Any:
    """The indices of the non-zero elements: (n, ndim) int64, or one tensor per axis (a 0-d
    tensor: (1, 0) or (0, 0), and one index array, as torch's)."""
    if self.ndim == 0:
        count = int(bool(self.data))
        return (Tensor._wrap(self.xp.zeros(count, np.int64)),) if as_tuple else Tensor._wrap(
            self.xp.zeros((count, 0), np.int64))
    found = self.xp.nonzero(self.data)
    if as_tuple:
        return tuple(Tensor._wrap(i) for i in found)
    return Tensor._wrap(self.xp.stack(found, axis=1) if found else
                        self.xp.zeros((0, 0), np.int64))


def type_as(self: Tensor, other: Tensor) -> Tensor:
    """x cast to ``other``'s dtype (differentiably to a floating one)."""
    return F.cast(self, other.dtype)


def _new(fill: Any) -> Callable[..., Tensor]:
    def new(self: Tensor, *size: Any, dtype: Any = None, device: Any = None,
            requires_grad: bool = False) -> Tensor:
        out = Tensor._wrap(self.xp.full(_sizes(size), fill, dtype=dtype or self.dtype))
        return out.requires_grad_() if requires_grad else out

    return new


def new_full(self: Tensor, size: Any, fill_value: Any, *, dtype: Any = None,
             requires_grad: bool = False) -> Tensor:
    """A tensor of ``size`` filled with ``fill_value``, in x's dtype and device."""
    return _new(fill_value)(self, size, dtype=dtype, requires_grad=requires_grad)


def new_tensor(self: Tensor, data: Any, *, dtype: Any = None, requires_grad: bool = False
               ) -> Tensor:
    """A copy of ``data`` as a tensor in x's dtype (unless ``dtype``) and device."""
    out = Tensor(self.xp.asarray(array_of(data)), dtype=dtype or self.dtype)
    return out.requires_grad_() if requires_grad else out


def _scattered(self: Tensor, dim: int, index: Any, source: Tensor) -> Tensor:
    """zeros like x with ``source`` added at ``index`` along ``dim`` (torch's scatter_add:
    ``out[i][index[i][j]] += source[i][j]`` for dim 1), differentiable to ``source``."""
    index = self.xp.asarray(array_of(index))
    take = tuple(slice(0, n) for n in index.shape)
    grid = S.index_grid(self.xp, index, axis_index(dim, self.ndim), index.shape)
    return S.scatter_into(S.getitem(source, take), grid, self.shape)


def index_add(self: Tensor, dim: int, index: Any, source: Any, *, alpha: Any = 1) -> Tensor:
    """x plus ``alpha * source`` added at the entries ``index`` (1-D) along ``dim``; repeated
    indices accumulate (Backprop Ninja's vectorised embedding gradient)."""
    source = _like(source, self)
    index = self.xp.asarray(array_of(index))
    axis = axis_index(dim, source.ndim)
    if index.ndim != 1 or len(index) != source.shape[axis] or index.dtype.kind not in "iu":
        raise ValueError(f"index_add: index must be 1-D integers, one per slice of source "
                         f"along dim {dim} ({source.shape[axis]}), got {index.dtype} of shape "
                         f"{index.shape}")
    key = (slice(None),) * axis + (index,)  # the slices' places: no index grid to build
    return self + S.scatter_into(source * alpha if alpha != 1 else source, key, self.shape)


def scatter_add(self: Tensor, dim: int, index: Any, src: Any) -> Tensor:
    """x plus ``src`` added at ``index`` along ``dim`` (torch's ``scatter_add``)."""
    return self + _scattered(self, dim, index, _like(src, self))


class _Scatter(Function):
    """y = x with ``src`` written at the fancy index ``grid``; of repeated targets the last
    write wins, as in torch's CPU loop (a scatter-add summed them). gx = g with the written
    entries 0; gsrc = g at each entry's target, overwritten writes included, as torch's
    ``grad.gather(dim, index)``."""

    def forward(self, x, src, grid=()):
        xp = get_xp(x)
        flat = xp.ravel_multi_index(xp.broadcast_arrays(*grid), x.shape).ravel()
        _, from_end = xp.unique(flat[::-1], return_index=True)
        last = flat.size - 1 - from_end  # each target's last write
        y = x.copy()
        y.reshape(-1)[flat[last]] = src.reshape(-1)[last]
        self.save_for_backward(grid)
        return y

    def backward(self, g):
        grid = self.saved[0]
        gx = g.copy()
        gx[grid] = 0
        return gx, g[grid]

    def differentiable_backward(self, g):
        grid = self.saved[0]
        hit = get_xp(g.data).zeros(g.shape, bool)
        hit[grid] = True
        return F.where(hit, 0.0, g), S.getitem(g, grid)


def scatter(self: Tensor, dim: int, index: Any, src: Any = None, *, value: Any = None,
            reduce: str | None = None) -> Tensor:
    """x with ``src`` (or the number ``value``) written at ``index`` along ``dim``
    (``out[i][index[i][j]] = src[i][j]`` for dim 1; the last of repeated indices wins); the
    overwritten entries get no gradient. ``reduce='add'`` or ``'multiply'`` combines instead
    of writing (repeated indices all count), with no gradient, as torch's."""
    index, axis = S.scatter_index("scatter", self, index, dim)
    src = _like(value if src is None else src, self)
    src = (F.broadcast_to(src, index.shape) if src.ndim == 0 else
           S.getitem(src, tuple(slice(0, n) for n in index.shape)))
    grid = S.index_grid(self.xp, index, axis, index.shape)
    if reduce is not None:
        return _scatter_reduced(self, src, grid, reduce)
    return _Scatter.apply(self, src, grid=grid)


def _scatter_reduced(x: Tensor, src: Tensor, grid: Any, reduce: str) -> Tensor:
    """torch's ``scatter(..., reduce=)``: ``src`` added to or multiplied into x's entries at
    ``grid``; torch has no derivative for it, so one that would be needed is refused now
    rather than a gradient silently lost."""
    combine = {"add": x.xp.add, "multiply": x.xp.multiply}.get(reduce)
    if combine is None:
        raise ValueError(f"scatter: reduce must be 'add' or 'multiply', got {reduce!r}")
    if is_grad_enabled() and (x.requires_grad or src.requires_grad):
        raise RuntimeError("scatter(reduce=...) has no gradient (torch's neither): use "
                           "scatter_add for a differentiable sum, or detach the inputs")
    out = x.data.copy()
    combine.at(out, grid, src.data.astype(out.dtype, copy=False))
    return Tensor._wrap(out)


def _like(value: Any, like: Tensor) -> Tensor:
    """``value`` as a Tensor (a number or array in ``like``'s dtype and device)."""
    return value if isinstance(value, Tensor) else Tensor._wrap(
        like.xp.asarray(value, dtype=like.dtype))


def lerp(self: Tensor, end: Any, weight: Any) -> Tensor:
    """torch's ``lerp``: ``x + weight * (end - x)``; Adam's moving average written by hand is
    ``exp_avg.lerp_(grad, 1 - beta1)``."""
    return self + weight * (_like(end, self) - self)


def addcmul(self: Tensor, tensor1: Any, tensor2: Any, *, value: Any = 1) -> Tensor:
    """torch's ``addcmul``: ``x + value * tensor1 * tensor2`` (Adam's
    ``exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)``)."""
    product = _like(tensor1, self) * tensor2
    return self + (product if value == 1 else value * product)


def addcdiv(self: Tensor, tensor1: Any, tensor2: Any, *, value: Any = 1) -> Tensor:
    """torch's ``addcdiv``: ``x + value * tensor1 / tensor2`` (Adam's step
    ``p.addcdiv_(exp_avg, denom, value=-step_size)``)."""
    ratio = _like(tensor1, self) / tensor2
    return self + (ratio if value == 1 else value * ratio)


def _triangle(op: Callable[..., Tensor]) -> Callable[..., Tensor]:
    def triangle(self: Tensor, diagonal: int = 0) -> Tensor:
        return op(self, diagonal)

    triangle.__name__ = op.__name__
    triangle.__doc__ = f"torch's ``{op.__name__}``: {op.__doc__}"
    return triangle


def _draw_(name: str, draw: Callable[..., Any]) -> Callable[..., Tensor]:
    """torch's in-place initializers (``w.uniform_(-k, k)``, ``w.normal_(0, 0.02)``): x filled
    with draws from the seeded stream (or ``generator``), under ``copy_``'s autograd rule."""

    def method(self: Tensor, a: float = 0.0, b: float = 1.0, *, generator: Any = None
               ) -> Tensor:
        from .backend import default_generator

        return self.copy_(draw(generator or default_generator(), a, b, self.shape))

    method.__name__ = name
    method.__doc__ = (f"In place: x filled with {name[:-1]} samples, (low, high) or (mean, std) "
                      f"from the seeded stream (torch's ``{name}``); returns x.")
    return method


def _in_place(fn: Callable[..., Tensor], name: str) -> Callable[..., Tensor]:
    """torch's ``name_``: ``fn``'s result written into x; in a graph recorded as the
    in-place operators are (``fn`` of a copy of the old value, whose place in the graph it
    keeps: fn's backward may read it), refused on a leaf that requires grad, as torch."""

    def method(self: Tensor, *args: Any, **kwargs: Any) -> Tensor:
        def write(a: Any, _: Any) -> None:
            a[...] = fn(Tensor._wrap(a), *args, **kwargs).data

        # a tensor argument that requires grad (index_add_'s source, lerp_'s end) puts the
        # change in the graph as x's own requires_grad does
        graded = next((a for a in (*args, *kwargs.values())
                       if isinstance(a, Tensor) and a.requires_grad), None)
        return self._inplace(graded, write, lambda old, _: fn(old, *args, **kwargs),
                             keep_old=True)

    method.__name__ = name
    method.__doc__ = f"In place ``{name[:-1]}`` (torch's ``{name}``); returns x."
    return method


def _clamp(self: Tensor, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002
    return self.clamp(min, max)


METHODS: dict[str, Callable[..., Any]] = {
    "mm": _matrices("mm", 2), "bmm": _matrices("bmm", 3),
    "masked_fill": masked_fill, "tril": _triangle(ops.tril), "triu": _triangle(ops.triu),
    "lerp": lerp, "addcmul": addcmul, "addcdiv": addcdiv,
    "uniform_": _draw_("uniform_", lambda gen, a, b, shape: gen.uniform(a, b, shape)),
    "normal_": _draw_("normal_", lambda gen, a, b, shape: gen.normal(a, b, shape)),
    "outer": _method_of(ops.outer), "dot": _matrices("dot", 1), "diag": _triangle(ops.diag),
    "gather": lambda self, dim, index: S.gather(self, dim, index),
    "sort": sort, "argsort": argsort, "topk": topk,
    "cumsum": _scan("cumsum"), "cumprod": _scan("cumprod"), "prod": prod,
    "repeat": repeat, "repeat_interleave": repeat_interleave,
    "chunk": chunk, "unbind": unbind, "index_select": index_select,
    "masked_select": masked_select, "nonzero": nonzero, "type_as": type_as,
    "new_zeros": _new(0), "new_ones": _new(1), "new_empty": _new(0), "new_full": new_full,
    "new_tensor": new_tensor, "index_add": index_add, "scatter_add": scatter_add,
    "scatter": scatter, "contiguous": lambda self, *a, **k: self,
    **{name: _method_of(getattr(ops, name)) for name in (
        "isnan", "isinf", "isfinite", "log1p", "expm1", "square", "logical_not", "reciprocal",
        "sinh", "cosh", "tan", "arctan", "rsqrt")},
    # F's, not Keras's ops (which make integers float): torch keeps an integer's dtype
    **{name: _method_of(getattr(F, name)) for name in ("sign", "floor", "ceil", "round")},
}
for _name, _fn in [("masked_fill", masked_fill), ("clamp", _clamp), ("index_add", index_add),
                   ("scatter_add", scatter_add), ("scatter", scatter),
                   ("scatter_reduce", scatter_reduce),
                   ("tril", _triangle(ops.tril)), ("triu", _triangle(ops.triu)),
                   ("lerp", lerp), ("addcmul", addcmul), ("addcdiv", addcdiv),
                   *[(n, getattr(ops, n)) for n in ("exp", "log", "sqrt", "abs", "square")],
                   *[(n, getattr(F, n)) for n in ("sign", "floor", "ceil")],
                   ("neg", F.neg), ("relu", F.relu), ("sigmoid", F.sigmoid),
                   ("tanh", F.tanh), ("pow", F.pow), ("rsqrt", ops.rsqrt)]:
    METHODS[f"{_name}_"] = _in_place(_fn, f"{_name}_")

#: torch's module functions that are these methods applied to their first argument
FUNCTIONS = ("bmm", "masked_fill", "tril", "triu", "gather", "sort", "argsort", "topk",
             "cumsum", "cumprod", "prod", "repeat_interleave", "chunk", "unbind",
             "index_select", "masked_select", "nonzero", "sign", "floor", "ceil", "isnan",
             "isinf", "isfinite", "log1p", "expm1", "square", "logical_not", "reciprocal",
             "rsqrt", "round", "index_add", "scatter_add", "scatter", "lerp", "addcmul",
             "addcdiv", "outer", "dot", "diag")

# the audit's additions (unique, bincount, tensor_split, x.mT, ...), kept in their own module
from ._torch_more import FUNCTIONS as _MORE_FUNCTIONS  # noqa: E402
from ._torch_more import METHODS as _MORE_METHODS  # noqa: E402

METHODS.update(_MORE_METHODS)
FUNCTIONS += _MORE_FUNCTIONS
