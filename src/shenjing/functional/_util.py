"""Helpers shared by the op modules: turning operands into Tensors, normalizing axes."""

from __future__ import annotations

import math
import operator
from typing import Any

import numpy as np

from .. import native
from ..autograd import Tensor, anomaly, is_grad_enabled, temporary
from ..backend import asnumpy, get_xp
from ..native import address


def host(x: Any) -> np.ndarray:
    """``x`` (a Tensor, a NumPy or CuPy array, a list) as a NumPy array on the host, outside any
    graph: labels, lengths and values that host-side code reads."""
    return asnumpy(x.data if isinstance(x, Tensor) else x)


def as_tensor(value: Any, like: Tensor | None = None) -> Tensor:
    """``value`` as a Tensor; plain numbers and arrays next to a floating tensor take its dtype
    (so ``x * 2.0`` stays float32 and never promotes to float64) and its device (a CuPy
    array's partner lands on the GPU)."""
    if isinstance(value, Tensor):
        return value
    if like is None:
        return Tensor(value)
    if value.__class__ in (float, int) and like.data.dtype.kind == "f" and isinstance(
            like.data, np.ndarray):  # `x * 0.5`, every few ops: no Tensor() conversion
        return Tensor._wrap(np.array(value, dtype=like.data.dtype))
    xp = get_xp(like.data)
    if xp is not np:
        if isinstance(value, (bool, int, float)):  # filled on the GPU: no host-to-device copy
            dtype = like.dtype if like.dtype.kind == "f" else Tensor(value).dtype
            return Tensor._wrap(xp.full((), value, dtype=dtype))
        value = xp.asarray(value)
    return Tensor(value, dtype=like.dtype) if like.dtype.kind == "f" else Tensor(value)


def dtype_kept(value: Any) -> Tensor:
    """``value`` as a Tensor keeping an array's dtype (float64 too), as torch's functions take
    arrays (``as_tensor`` makes floats float32, Keras's floatx)."""
    return value if isinstance(value, Tensor) else Tensor(value,
                                                          dtype=getattr(value, "dtype", None))


def large_negative(dtype: Any) -> float:
    """What a masked score gets before a softmax (Keras's ``_large_negative_number``): -1e9,
    or -3e4 in float16, where -1e9 is -inf and a row masked whole would be NaN."""
    return -3e4 if np.dtype(dtype) == np.float16 else -1e9


def mask_scores(scores: Any, keep: Any) -> Any:
    """``scores`` (a Tensor) with :func:`large_negative` added where the boolean ``keep``
    (broadcastable) is False: what a softmax over them then all but ignores (Keras's masked
    ``Softmax``, attention's masks)."""
    return scores + np.where(keep, 0.0, large_negative(scores.dtype)).astype(scores.dtype)


def max_shift(x: Any, axis: Any) -> Any:
    """x's maximum over ``axis`` with the axes kept: what softmax and logsumexp subtract so
    that exp cannot overflow. An empty tensor has none (NumPy raises): 0, of the same shape."""
    return x.max(axis=axis, keepdims=True) if x.size else x.sum(axis=axis, keepdims=True)


def descending_order(data: Any, axis: int) -> Any:
    """The indices that sort ``data`` from largest to smallest along ``axis``: NaN first (the
    largest, as torch's and JAX's), ties in their order. The stable ascending order of the
    reversed data, reversed (sorting -data put NaN last)."""
    xp = get_xp(data)
    up = xp.argsort(xp.flip(data, axis), axis=axis, kind="stable")
    return data.shape[axis] - 1 - xp.flip(up, axis)


def axis_tuple(axis: Any) -> tuple[int, ...]:
    """``axis`` as a tuple of ints: one integer (Python's, NumPy's, a 0-d integer tensor: any
    with ``__index__``) or a sequence of them."""
    try:
        return (operator.index(axis),)
    except TypeError:
        pass
    try:
        return tuple(operator.index(a) for a in axis)
    except TypeError:
        raise TypeError(f"axis/dim must be an int or a sequence of ints, got {axis!r}") from None


class AxisError(ValueError, IndexError):
    """An axis out of range: a ValueError, as NumPy's AxisError, and an IndexError, as
    torch's "Dimension out of range", so that either habit catches it."""

    def __init__(self, axis: Any, ndim: int) -> None:
        super().__init__(f"axis {axis} is out of range for a tensor of {ndim} dimensions")


def axis_index(axis: Any, ndim: int) -> int:
    """One ``axis`` (an integer; negative counts from the end) as its index in range(ndim):
    never wrapped around silently (axis 2 of a 2-D tensor is an error, not axis 0)."""
    a = operator.index(axis)
    if not -ndim <= a < ndim:
        raise AxisError(a, ndim)
    return a % ndim


def normalize_axes(axis: Any, ndim: int) -> tuple[int, ...]:
    """``axis`` (None, an int or a sequence; negative allowed) as a sorted tuple of axes."""
    if axis is None:
        return tuple(range(ndim))
    axes = axis_tuple(axis)
    out = []
    for a in axes:
        if not -max(ndim, 1) <= a < max(ndim, 1):
            raise AxisError(a, ndim)
        if ndim:  # a 0-d tensor takes axis 0 or -1, as torch's dim, and has nothing to reduce
            out.append(a % ndim)
    if len(out) > 1 and len(set(out)) != len(out):
        raise ValueError(f"axis {axis} names an axis twice")
    return tuple(sorted(out))


def one_axis(axis: Any, ndim: int) -> int:
    """``axis`` (one integer, negative allowed) as a non-negative axis, checked to be in range."""
    return normalize_axes(operator.index(axis), ndim)[0]


def torch_alias(value: Any, alias: Any, names: tuple[str, str], default: Any = None) -> Any:
    """The value of a NumPy-named argument (``axis``, ``keepdims``) or of its PyTorch name
    (``dim``, ``keepdim``), which the ops take as an alias whose default None means "not
    passed". Giving both is a TypeError; an explicit value equal to the NumPy argument's default
    (``keepdims=False``, ``axis=None``) cannot be told from no value, so it yields to the alias.
    Callers test ``alias is not None`` first, so an op called without it pays nothing."""
    if alias is None:
        return value
    if value != default:
        raise TypeError(f"got both {names[0]}={value!r} and {names[1]}={alias!r} ({names[1]} is "
                        f"PyTorch's name for {names[0]}); pass only one")
    return alias


def torch_dims(axis: Any, keepdims: Any, dim: Any, keepdim: Any) -> tuple[Any, Any]:
    """``(axis, keepdims)`` of a reduction called with PyTorch's ``dim=`` or ``keepdim=``."""
    return (torch_alias(axis, dim, ("axis", "dim")),
            torch_alias(keepdims, keepdim, ("keepdims", "keepdim"), False))


def expand_reduced(g: Any, axes: tuple[int, ...], keepdims: bool) -> Any:
    """Give a reduction's gradient back its reduced axes (as size 1) so it broadcasts."""
    if keepdims or not axes:
        return g
    shape = list(g.shape)
    for a in axes:
        shape.insert(a, 1)
    return g.reshape(shape)


def sum_rows(a: Any) -> Any:
    """``a.sum(axis=0)`` of a 2-D array as vector-matrix products: BLAS's GEMV is about 4x
    faster than NumPy's axis-0 reduction of a C-contiguous (rows, channels) array (measured on
    (57600, 32) float32: 0.29 ms vs 1.2 ms). On a GPU the reduction is one kernel; the product
    would be three (the ones are made and filled first). Accurate: see :func:`_by_blocks`."""
    xp = get_xp(a)
    if xp is not np:
        return a.sum(axis=0)
    if len(a) <= _BLOCK:  # a batch's bias gradient: one GEMV (the blocks cost a call each)
        return xp.ones(len(a), dtype=a.dtype) @ a
    ones = xp.ones(_BLOCK, dtype=a.dtype)
    return _by_blocks(lambda k: ones[:len(a[k:k + _BLOCK])] @ a[k:k + _BLOCK], a)


def sum_products(a: Any, b: Any) -> Any:
    """``(a * b).sum(axis=0)`` of two 2-D arrays, with no product temporary, accurate (see
    :func:`_by_blocks`). (CuPy's reductions are trees: one call.)"""
    xp = get_xp(a)
    if xp is not np:
        return xp.einsum("ij,ij->j", a, b)
    return _by_blocks(lambda k: xp.einsum("ij,ij->j", a[k:k + _BLOCK], b[k:k + _BLOCK]), a)


_BLOCK = 4096  # rows per partial sum


def _by_blocks(partial: Any, a: Any) -> Any:
    """The sum over ``a``'s rows of ``partial(k)`` for row blocks from ``k``, of ``_BLOCK``
    rows: one call for up to that many rows, else the partials added up in float64. A float32
    sum of 500K rows, made one row after another (NumPy's einsum; GEMV is little better),
    lost 1e-4 of a batch-norm variance over a (128, 64, 64, C) batch and 7e-6 of its mean;
    partials of 4,096 rows added in float64 keep ~1e-7, as torch's, for ~20% more time."""
    if len(a) <= _BLOCK:
        return partial(0)
    total = np.zeros(a.shape[1], dtype=np.float64)
    for k in range(0, len(a), _BLOCK):
        total += partial(k)
    return total.astype(a.dtype)


def class_ids(labels: Any, num_classes: int | None = None,
              name: str = "labels") -> tuple[Any, int]:
    """Integer class ids from labels shaped (N,) or (N, 1) (Keras's CIFAR-10 layout), checked to
    be whole numbers in [0, num_classes) (inferred as max + 1 when None); returns (ids, classes).
    ``name`` starts the error messages."""
    xp = get_xp(labels)
    ids = xp.asarray(labels)
    if ids.ndim == 2 and ids.shape[1] == 1:
        ids = ids[:, 0]
    if ids.dtype.kind not in "iu":
        if not xp.all(ids == xp.round(ids)):
            raise ValueError(f"{name}: labels must be integers (integer class ids), got "
                             "fractional values")
        ids = ids.astype(xp.int64)
    if num_classes is None:
        n = int(ids.max()) + 1 if ids.size else 0
        bad = ids.size and bool(ids.min() < 0)
    else:
        n = num_classes
        if ids.dtype.kind == "i" and n <= 1 << (8 * ids.dtype.itemsize - 1):
            # one reduction (and one GPU sync): a negative id read as unsigned is over n
            bad = ids.size and bool(ids.view(f"u{ids.dtype.itemsize}").max() >= n)
        else:  # (int8 ids against 200 classes: -103 reads as 153)
            bad = ids.size and bool((ids.min() < 0) | (ids.max() >= n))
    if bad:
        raise ValueError(f"{name}: labels must lie in [0, {n}), got values from {ids.min()} to "
                         f"{ids.max()}")
    return ids, n


FUSED_ACTIVATIONS = (None, "relu")


def check_fused_activation(activation: Any, op: str) -> None:
    """A fused op takes ``activation`` None or 'relu' (the others stay separate ops)."""
    if activation not in FUSED_ACTIVATIONS:
        raise ValueError(f"{op}: fused activation must be None or 'relu', got {activation!r}; "
                         "apply other activations as their own op")


def fold_relu(t: Any) -> bool:
    """Fold a ReLU into the op that made ``t``, which the caller knows nothing else holds (see
    :mod:`shenjing.autograd.temporary`): where that op fuses a ReLU (``folds_relu``: linear,
    conv2d, whose saved values end with its output, kept only with an activation, and the
    activation) and was called without one, the ReLU runs in place on its output and the op's
    backward masks as if it had been called with ``activation='relu'``: ``relu(linear(...))``
    costs what ``linear(..., activation='relu')`` does (one pass and one op fewer each way).
    False, and nothing done, otherwise (the ReLU is then an op of its own); ``t``'s grad_fn
    stays the op's (in anomaly mode, whose traces name each op, nothing is folded; nor under
    no_grad, where the ReLU's output must carry no graph, nor where anything shares ``t``'s
    memory: :func:`temporary.sole_owner`)."""
    fn = getattr(t, "_creator", None)  # (an array, as F.relu takes too: nothing to fold)
    if (not getattr(fn, "folds_relu", False) or fn.inputs is None or fn.saved[-1] is not None
            or fn.hooks or t._hooks or anomaly.enabled or not is_grad_enabled()
            or not t.data.size or not temporary.sole_owner(t)):
        return False
    add_bias_activate(t.data.reshape(-1, t.shape[-1]), None, "relu")
    fn.saved = (*fn.saved[:-2], t.data, "relu")
    return True


def add_bias_activate(out: Any, b: Any, activation: str | None) -> None:
    """``out += b`` (b may be None), then the fused activation, in place on a 2-D GEMM output
    (no second array): one C pass where the kernels apply (native/bias_relu.c), else NumPy's
    two."""
    kernels = native.kernels_for(out, *(() if b is None else (b,)))
    if kernels is not None:
        kernels.sj_bias_relu(out.shape[0], out.shape[1], address(out), address(b),
                             activation == "relu")
        return
    if b is not None:
        out += b
    if activation == "relu":
        get_xp(out).maximum(out, 0, out=out)


def activation_bias_grads(g: Any, y: Any, activation: str | None, need_b: bool
                          ) -> tuple[Any, Any]:
    """From the 2-D gradient ``g`` after a fused activation (output ``y``): the gradient before
    it (relu' is y > 0, read from the output itself, so nothing else is kept), and the bias
    gradient (its column sums) when ``need_b``, else None. One C pass where the kernels apply,
    else NumPy's mask, product and GEMV."""
    relu = activation == "relu"
    kernels = native.kernels_for(g, *((y,) if relu else ()))
    if kernels is not None and (relu or need_b):
        xp = get_xp(g)
        gs = xp.empty_like(g) if relu else g
        gb = xp.empty(g.shape[1], dtype=g.dtype) if need_b else None
        if kernels.sj_relu_bias_grad(g.shape[0], g.shape[1], address(g),
                                     address(y) if relu else None,
                                     address(gs) if relu else None,
                                     address(gb)) == 0:
            return gs, gb
    gs = g * (y > 0) if relu else g
    return gs, sum_rows(gs) if need_b else None


_SAME_WIDTH_INT = {2: np.dtype(np.int16), 4: np.dtype(np.int32), 8: np.dtype(np.int64)}
# Below this many elements where's branches stay predictable enough (4,096 random picks: where
# 4.5 us, the blend 7.8; 16,384: 57 against 14).
_SELECT_MIN = 1 << 13


def select(mask: Any, a: Any, b: Any) -> Any:
    """``where(mask, a, b)`` for masks that follow the data (the sign of a layer's inputs),
    bit for bit. NumPy's ``where`` picks each element with a branch, which mispredicts half the
    time on such masks: 490 us for 131,072 float32 elements against 57 for a sorted mask. Here
    the floats' bits are blended through integer masks instead (five passes, ~125 us); other
    dtypes, small results and CuPy arrays take ``where``."""
    xp = get_xp(mask)
    dtype = np.result_type(a, b)  # (Python numbers are weak: float32 stays float32)
    ints = _SAME_WIDTH_INT.get(dtype.itemsize) if dtype.kind == "f" else None
    shape = np.broadcast_shapes(np.shape(mask), np.shape(a), np.shape(b))
    if xp is not np or ints is None or math.prod(shape) < _SELECT_MIN:
        return xp.where(mask, a, b)
    pick = np.negative(np.asarray(mask, dtype=bool).astype(ints))  # all ones where mask
    a_bits = np.asarray(a, dtype).view(ints)
    b_bits = np.asarray(b, dtype).view(ints)
    out = np.empty(shape, dtype)  # an array of its own (not a view of the integers)
    bits = out.view(ints)
    np.bitwise_xor(a_bits, b_bits, out=bits)
    np.bitwise_and(bits, pick, out=bits)
    np.bitwise_xor(bits, b_bits, out=bits)
    return out
