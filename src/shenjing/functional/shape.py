"""Shape ops: reshape, transpose/permute, squeeze, expand_dims, broadcast_to, concatenate (cat),
stack, split, pad, flip, and indexing (slices, integer arrays, boolean masks)."""

from __future__ import annotations

import functools
import math
import operator
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..autograd import Function, Tensor, array_of
from ..backend import get_xp
from . import elementwise as E
from ._util import as_tensor, axis_index, axis_tuple, normalize_axes, torch_alias


class _Reshape(Function):
    """y = x viewed with another shape;  the gradient is reshaped back."""

    def forward(self, x, shape=()):
        self.save_for_backward(x.shape)
        return x.reshape(shape)

    def backward(self, g):
        return g.reshape(self.saved[0])

    differentiable_backward = backward  # Tensors reshape the same way


class _Transpose(Function):
    """y = x with its axes permuted;  the gradient is permuted back by the inverse order."""

    def forward(self, x, axes=None):
        self.save_for_backward(axes)
        return x.transpose(axes)

    def backward(self, g):
        (axes,) = self.saved
        if axes is None:
            return g.transpose()
        inverse = [0] * len(axes)
        for i, a in enumerate(axes):
            inverse[a] = i
        return g.transpose(inverse)

    differentiable_backward = backward  # Tensors transpose the same way


class _BroadcastTo(Function):
    """y = x broadcast to a shape;  the engine sums the gradient back to x's shape."""

    def forward(self, x, shape=()):
        return get_xp(x).broadcast_to(x, shape)

    def backward(self, g):
        return g

    differentiable_backward = backward


class _Concatenate(Function):
    """y = the inputs joined along an axis;  the gradient is cut back into the same pieces."""

    def forward(self, *xs, axis=0):
        y = get_xp(*xs).concatenate(xs, axis=axis)  # first: it refuses shapes that differ
        self.save_for_backward(axis, [x.shape[axis] for x in xs])
        return y

    def backward(self, g):
        axis, sizes = self.saved
        out, start = [], 0
        index = [slice(None)] * g.ndim
        for size, need in zip(sizes, self.needs_input_grad):
            index[axis] = slice(start, start + size)
            out.append(g[tuple(index)] if need else None)
            start += size
        return tuple(out)

    differentiable_backward = backward  # slicing: the same on Tensors


class _Pad(Function):
    """y = x with a constant border;  the gradient is the interior of g."""

    def forward(self, x, pad_width=(), value=0.0):
        self.save_for_backward(pad_width, x.shape)
        return get_xp(x).pad(x, pad_width, mode="constant", constant_values=value)

    def backward(self, g):
        pad_width, shape = self.saved
        return g[tuple(slice(lo, lo + n) for (lo, _), n in zip(pad_width, shape))]

    differentiable_backward = backward  # slicing: the same on Tensors


class _Flip(Function):
    """y = x reversed along axes;  the gradient is reversed back."""

    def forward(self, x, axes=()):
        self.save_for_backward(axes)
        return get_xp(x).flip(x, axis=axes).copy()  # torch's flip copies (NumPy's is a view)

    def backward(self, g):
        return get_xp(g).flip(g, axis=self.saved[0])

    def differentiable_backward(self, g):
        return flip(g, self.saved[0])


class _GetItem(Function):
    """y = x[index];  the gradient is scattered back into zeros (:func:`_scatter_add`)."""

    def forward(self, x, index=None):
        self.save_for_backward(x.shape, index)
        return x[index]

    def backward(self, g):
        shape, index = self.saved
        return _scatter_add(g, index, shape)

    def differentiable_backward(self, g):
        shape, index = self.saved
        return scatter_into(g, index, shape)


class _ScatterAdd(Function):
    """y = zeros(shape) with g added at index: indexing's backward as an op of its own, so that
    it can be differentiated again (create_graph); gg = gy[index]. Also the embedding's."""

    def forward(self, g, index=None, shape=()):
        self.save_for_backward(index)
        return _scatter_add(g, index, shape)

    def backward(self, gy):
        return gy[self.saved[0]]

    def differentiable_backward(self, gy):
        return getitem(gy, self.saved[0])


def _scatter_add(g: Any, index: Any, shape: tuple[int, ...]) -> Any:
    """zeros(shape) with ``g`` added at ``index``. Repeated integer indices accumulate
    (``add.at``); slices and boolean masks never repeat, so they assign."""
    xp = get_xp(g)
    if not _repeats_possible(index):
        out = xp.zeros(shape, dtype=g.dtype)
        out[index] = g
        return out
    size = math.prod(shape)
    if xp is np and g.dtype.kind == "f" and _BINCOUNT_MIN <= size <= _BINCOUNT_MAX \
            and 2 * g.size >= size:
        # NumPy's add.at goes element by element, unbuffered (x[ids]'s backward was 5x torch's,
        # index_add 67x): the flat position each entry of g lands on, then one bincount over
        # the target (so only where g is not much smaller than it)
        if isinstance(index, tuple) and len(index) == len(shape) and all(
                isinstance(i, np.ndarray) and i.dtype.kind in "iu" for i in index):
            # one integer array per axis (scatter_add's grid): the positions computed, after
            # NumPy's bounds check (negative ones count from the end, as add.at takes them)
            for i, n in zip(index, shape):
                if i.size and (int(i.min()) < -n or int(i.max()) >= n):
                    bad = int(i.max()) if int(i.max()) >= n else int(i.min())
                    raise IndexError(f"index {bad} is out of bounds for an axis of size {n}")
            where = np.ravel_multi_index(np.broadcast_arrays(*index), shape, mode="wrap")
        else:  # any index NumPy takes: read off the positions it picks
            where = np.arange(size).reshape(shape)[index]
        sums = np.bincount(where.reshape(-1), np.broadcast_to(g, where.shape).reshape(-1),
                           minlength=size)
        return sums.astype(g.dtype, copy=False).reshape(shape)
    out = xp.zeros(shape, dtype=g.dtype)
    xp.add.at(out, index, g)
    return out


_BINCOUNT_MIN, _BINCOUNT_MAX = 1 << 12, 1 << 22  # targets the bincount path takes: small
# ones are quicker by add.at, big ones would need an int64 per entry


class _IndexPut(Function):
    """y = x with y[index] = v;  gx = g with zeros at index (those values were overwritten),
    gv = g[index] (``Function.apply`` sums it back to v's shape where v was broadcast)."""

    def forward(self, x, v, index=None):
        self.save_for_backward(index)
        y = x.copy()
        y[index] = v
        return y

    def backward(self, g):
        (index,) = self.saved
        gx = None
        if self.needs_input_grad[0]:
            gx = g.copy()
            gx[index] = 0
        return gx, g[index] if self.needs_input_grad[1] else None

    def differentiable_backward(self, g):
        (index,), need = self.saved, self.needs_input_grad
        return (index_put(g, index, 0) if need[0] else None), (
            getitem(g, index) if need[1] else None)


def _repeats_possible(index: Any) -> bool:
    items = index if isinstance(index, tuple) else (index,)
    return any(
        hasattr(i, "dtype") and i.dtype.kind in "iu" or isinstance(i, list) for i in items
    )


def _view_of(out: Tensor, x: Tensor) -> Tensor:
    """``out``, sharing x's in-place counter when it is a view of x's memory (as PyTorch's
    views do): a change made in place through either then invalidates the graphs that read the
    other, instead of silently giving them wrong gradients. NumPy and CuPy point a view's
    ``base`` at the array that owns the memory (never at a view), so two identity tests tell
    it, on every reshape and index, at a fraction of ``may_share_memory``'s cost."""
    base = out.data.base
    if base is not None and isinstance(x, Tensor) and (base is x.data or base is x.data.base):
        out._version = x._version
        out._view_version = x._version[0]  # what an op that reads it later must find (engine)
    return out


def reshape(x: Tensor, shape: Sequence[int] | int) -> Tensor:
    """x with a new shape (one entry may be -1)."""
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    if shape == x.shape:
        return x if isinstance(x, Tensor) else Tensor(x)
    return _view_of(_Reshape.apply(x, shape=shape), x)


def transpose(x: Tensor, axes: Sequence[int] | None = None) -> Tensor:
    """Permute the axes (reverse them when ``axes`` is None), as ``numpy.transpose``."""
    axes = None if axes is None else tuple(axis_index(a, x.ndim) for a in axes)
    return _view_of(_Transpose.apply(x, axes=axes), x)


def permute(x: Tensor, *axes: int) -> Tensor:
    """PyTorch's spelling of :func:`transpose` with an explicit order."""
    if len(axes) == 1 and not isinstance(axes[0], int):
        axes = tuple(axes[0])
    return transpose(x, axes)


def squeeze(x: Tensor, axis: Any = None, *, dim: Any = None) -> Tensor:
    """Drop axes of size 1 (all of them, or those in ``axis``, which must have size 1: NumPy's
    rule). With ``dim=``, PyTorch's name, PyTorch's rule: a longer axis is left alone (the
    method ``x.squeeze(0)`` is torch's call)."""
    torch_rule = dim is not None
    if torch_rule:
        axis = torch_alias(axis, dim, ("axis", "dim"))
    axes = [i for i, n in enumerate(x.shape) if n == 1] if axis is None else normalize_axes(
        axis, x.ndim
    )
    if x.ndim == 0:  # axis 0 or -1 of a 0-d tensor: nothing to drop (as NumPy and PyTorch)
        return reshape(x, ())
    if torch_rule:
        axes = [a for a in axes if x.shape[a] == 1]
    for a in axes:
        if x.shape[a] != 1:
            raise ValueError(f"cannot squeeze axis {a} of size {x.shape[a]} (shape {x.shape})")
    return reshape(x, tuple(n for i, n in enumerate(x.shape) if i not in axes))


def expand_dims(x: Tensor, axis: int | Sequence[int]) -> Tensor:
    """Insert axes of size 1 at ``axis`` (positions in the result)."""
    axis = axis_tuple(axis)
    axes = normalize_axes(axis, x.ndim + len(axis))
    shape = list(x.shape)
    for a in axes:
        shape.insert(a, 1)
    return reshape(x, shape)


def broadcast_to(x: Tensor, shape: Sequence[int]) -> Tensor:
    """x broadcast to ``shape`` (a read-only view)."""
    if tuple(shape) == x.shape:
        return x
    return _view_of(_BroadcastTo.apply(x, shape=tuple(shape)), x)


def concatenate(tensors: Sequence[Tensor], axis: int = 0, *, dim: int | None = None) -> Tensor:
    """Join tensors along an existing axis (``dim`` is PyTorch's name; ``F.cat`` is this op).

    >>> F.cat([a, b], dim=1)   # torch.cat([a, b], dim=1)
    """
    if dim is not None:
        axis = torch_alias(axis, dim, ("axis", "dim"), 0)
    if not tensors:
        raise ValueError("concatenate() needs at least one tensor")
    like = next((t for t in tensors if isinstance(t, Tensor)), None)
    tensors = [as_tensor(t, like=like) for t in tensors]  # arrays too, as constants
    if axis is None:  # NumPy's: the tensors flattened, end to end
        tensors, axis = [reshape(t, (-1,)) for t in tensors], 0
    if tensors[0].ndim == 0:
        raise ValueError("concatenate() joins along an existing axis: 0-d tensors have none "
                         "(stack() them)")
    axis = axis_index(axis, tensors[0].ndim)
    kinds = {t.data.dtype.kind for t in tensors}
    if "f" in kinds and len(kinds) > 1:  # torch's promotion: integers join as the float dtype
        dtype = np.result_type(*[t.data.dtype for t in tensors if t.data.dtype.kind == "f"])
        tensors = [E.cast(t, dtype) for t in tensors]
    try:
        return _Concatenate.apply(*tensors, axis=axis)
    except ValueError as error:  # NumPy's says "dimensions": name the shapes (only on failure)
        raise ValueError(f"concatenate: the tensors must have the same sizes on every axis but "
                         f"the joined one ({axis}), got shapes {[t.shape for t in tensors]}"
                         ) from error


cat = concatenate  # PyTorch's name


def stack(tensors: Sequence[Tensor], axis: int = 0, *, dim: int | None = None) -> Tensor:
    """Join tensors of one shape along a new axis (``dim`` is PyTorch's name for ``axis``)."""
    if dim is not None:
        axis = torch_alias(axis, dim, ("axis", "dim"), 0)
    if not tensors:
        raise ValueError("stack() needs at least one tensor")
    axis = axis_index(axis, tensors[0].ndim + 1)
    return concatenate([expand_dims(t, axis) for t in tensors], axis=axis)


def split(x: Tensor, indices_or_sections: int | Sequence[int], axis: int = 0) -> list[Tensor]:
    """Cut x along ``axis``: into N equal parts, or at the given indices (``numpy.split``)."""
    axis = axis_index(axis, x.ndim)
    n = x.shape[axis]
    try:
        sections = operator.index(indices_or_sections)  # a number of parts (NumPy's too)
    except TypeError:
        bounds = [0, *(operator.index(i) for i in indices_or_sections), n]
    else:
        if sections < 1:
            raise ValueError(f"split: the number of equal parts must be 1 or more, got {sections}")
        if n % sections:
            raise ValueError(f"axis {axis} of size {n} does not split into {sections} equal parts")
        bounds = [k * n // sections for k in range(sections + 1)]
    head = (slice(None),) * axis
    return [getitem(x, (*head, slice(lo, hi))) for lo, hi in zip(bounds[:-1], bounds[1:])]


def pad(x: Tensor, pad_width: Any, constant_values: float = 0.0) -> Tensor:
    """Pad with a constant; ``pad_width`` as in ``numpy.pad`` ((before, after) per axis)."""
    try:  # host numbers, wherever x lives (no round trip through a GPU)
        widths = np.broadcast_to(np.asarray(pad_width, dtype=int), (x.ndim, 2))
    except ValueError:
        raise ValueError(f"pad: pad_width {pad_width!r} must give (before, after) for each of "
                         f"x's {x.ndim} axes (or one pair, or one number, for all)") from None
    widths = tuple((int(lo), int(hi)) for lo, hi in widths.tolist())
    return _Pad.apply(x, pad_width=widths, value=constant_values)


def flip(x: Tensor, axis: Any = None) -> Tensor:
    """Reverse the order of elements along ``axis`` (None: all axes)."""
    return _view_of(_Flip.apply(x, axes=normalize_axes(axis, x.ndim)), x)


def getitem(x: Tensor, index: Any) -> Tensor:
    """x[index] with slices, integers, integer arrays or boolean masks (differentiable)."""
    return _view_of(_GetItem.apply(x, index=_raw_index(index)), x)


def index_put(x: Tensor, index: Any, value: Any) -> Tensor:
    """A copy of x with ``x[index] = value``, differentiable to both: the recorded form of item
    assignment on a tensor in the graph (``Y[i, j] = (X[i:i+h, j:j+w] * K).sum()``). ``value``
    takes x's dtype and broadcasts to ``x[index]``'s shape."""
    if isinstance(value, Tensor):
        value = value.to(x)  # differentiable: the gradient goes back to value's dtype and device
    else:
        value = Tensor._wrap(get_xp(x.data).asarray(value, dtype=x.dtype))
    return _IndexPut.apply(x, value, index=_raw_index(index))


def scatter_into(g: Tensor, index: Any, shape: tuple[int, ...]) -> Tensor:
    """zeros(shape) with ``g`` added at ``index`` (repeats accumulate), recorded: the backward
    of indexing and of the embedding lookup under create_graph=True."""
    return _ScatterAdd.apply(g, index=index, shape=shape)


def _raw_index(index: Any) -> Any:
    if isinstance(index, tuple):
        return tuple(_raw_index(i) for i in index)
    if isinstance(index, Tensor):
        return index.data
    if isinstance(index, list):
        array = get_xp().asarray(index)
        return array if array.size else array.astype(np.intp)  # [] picks nothing (not floats)
    return index


def split_sizes(x: Tensor, split_size_or_sections: Any, dim: int = 0) -> tuple[Tensor, ...]:
    """PyTorch's ``split``: pieces of ``split_size`` along ``dim`` (the last may be shorter),
    or of the given sizes; the method ``x.split(2)`` is this one (``split`` is NumPy's: a
    number of equal parts, or cut indices, as ``x.split(2, axis=0)``)."""
    n = x.shape[axis_index(dim, x.ndim)]
    if isinstance(split_size_or_sections, (int, np.integer)):
        size = int(split_size_or_sections)
        if size < 0 or size == 0 and n:
            raise ValueError(f"split: split_size {size} must be positive (0 only for an empty "
                             f"dim; dim {dim} has size {n})")
        sizes = [min(size, n - start) for start in range(0, n, size)] if n else [0]
    else:
        sizes = [int(s) for s in split_size_or_sections]
        if sum(sizes) != n:
            raise ValueError(f"split: sizes {sizes} do not add up to axis {dim}'s size {n}")
    cuts = [int(c) for c in np.cumsum(sizes)[:-1]]
    return tuple(split(x, cuts, axis=dim)) if cuts else (x,)


def take_along_axis(x: Tensor, indices: Any, axis: int) -> Tensor:
    """x's values at ``indices`` along ``axis`` (NumPy's ``take_along_axis``: the indices
    broadcast against x's other axes); the gradient goes back to those positions only."""
    return _along(x, indices, axis, x.shape)


def gather(x: Tensor, dim: int, index: Any) -> Tensor:
    """PyTorch's ``gather``: ``out[i][j] = x[i][index[i][j]]`` for ``dim=1`` (likewise on any
    axis); ``index`` has x's rank and may be shorter than x on the other axes.

    >>> F.gather(log_probs, 1, labels[:, None])   # each row's value at its label
    """
    index = get_xp(x.data).asarray(array_of(index))
    if index.ndim != x.ndim or index.dtype.kind not in "iu":
        raise ValueError(f"gather: index must be an integer tensor of x's rank {x.ndim}, got "
                         f"{index.dtype} of shape {index.shape}")
    check_torch_index("gather", index, x.shape[axis_index(dim, x.ndim)] if x.ndim else 1, dim)
    return _along(x, index, dim, index.shape)


def check_torch_index(name: str, index: Any, size: int, dim: int) -> None:
    """torch's index ops take indices in [0, size) only: a negative one is an error there, not
    a count from the end as in NumPy (whose spellings, take and take_along_axis, allow it)."""
    if index.size and not (0 <= int(index.min()) and int(index.max()) < size):
        raise IndexError(f"{name}: indices must lie in [0, {size}) for dim {dim} of size "
                         f"{size}, got {int(index.min())} .. {int(index.max())}")


def scatter_index(name: str, x: Tensor, index: Any, dim: int) -> tuple[Any, int]:
    """(index as an array, the axis of ``dim``) for torch's scatters: an integer index of x's
    rank whose entries along ``dim`` lie in [0, that axis's size)."""
    index = get_xp(x.data).asarray(array_of(index))
    if index.ndim != x.ndim or index.dtype.kind not in "iu":
        raise ValueError(f"{name}: index must be an integer tensor of x's rank {x.ndim}, got "
                         f"{index.dtype} of shape {index.shape}")
    axis = axis_index(dim, x.ndim)
    check_torch_index(name, index, x.shape[axis], dim)
    return index, axis


def index_grid(xp: Any, indices: Any, axis: int, sizes: tuple[int, ...]) -> tuple[Any, ...]:
    """The fancy index that picks ``indices`` along ``axis`` and every position of the other
    axes (of ``sizes``): aranges broadcast against each other, ``indices`` at ``axis``."""
    grid: list[Any] = [xp.arange(n).reshape([n if d == k else 1 for d in range(len(sizes))])
                       for k, n in enumerate(sizes)]
    grid[axis_index(axis, len(sizes))] = xp.asarray(array_of(indices))
    return tuple(grid)


def _along(x: Tensor, indices: Any, axis: int, sizes: tuple[int, ...]) -> Tensor:
    if x.ndim == 0:  # torch's 0-d tensor: its dim 0 (or -1) is one element long
        normalize_axes(axis, 0)
        return getitem(reshape(x, (1,)), get_xp(x.data).asarray(array_of(indices)))
    return getitem(x, index_grid(get_xp(x.data), indices, axis_index(axis, x.ndim), sizes))


def on_0d_as_1d(op: Any) -> Any:
    """``op(x, ...)`` along one axis, made to take a 0-d x as torch does (its dim 0 or -1 is
    one element long): run on x as shape (1,), each output back to shape ()."""

    @functools.wraps(op)
    def lifted(x: Tensor, *args: Any, **kwargs: Any) -> Any:
        if x.ndim:
            return op(x, *args, **kwargs)
        out = op(reshape(x, (1,)), *args, **kwargs)
        if not isinstance(out, tuple):
            return reshape(out, ())
        scalars = [reshape(o, ()) for o in out]
        return type(out)(*scalars) if hasattr(out, "_fields") else tuple(scalars)

    return lifted
