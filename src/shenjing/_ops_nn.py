"""``keras.ops``'s neural-network, math and core ops beyond the core of ``shenjing.ops`` (which
re-exports them): activations, the ops-level cross-entropies (``(target, output,
from_logits=False)``, unreduced), moments and normalization, convolution and pooling
(channels_last), top-k, segment sums, and stop_gradient / cond / slice.

All compose differentiable F ops; the convolutions and poolings run F's 2-D kernels (a 1-D
input gets a height of 1).
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from typing import Any

import numpy as np

from . import functional as F
from ._ops_common import _float, _t, _tensors, _unary
from .autograd import Tensor
from .config import epsilon
from .functional import extra
from .functional._util import axis_index, descending_order
from .functional.activation import hardtanh
from .functional.shape import index_put, scatter_into

EPSILON = epsilon()  # Keras's backend.epsilon()


# -- activations -------------------------------------------------------------------------------
def _activation(fn: Any, name: str) -> Any:
    return _unary(lambda x: fn(_float(x)), name)


softplus, silu, selu = (_activation(getattr(F, name), name) for name in (
    "softplus", "silu", "selu"))
swish = _activation(F.silu, "swish")
# the kinks' gradients are 0, as TF's and JAX's relu6 and torch's (hardtanh, not clip)
relu6 = _activation(lambda x: hardtanh(x, 0.0, 6.0), "relu6")
hard_tanh = _activation(hardtanh, "hard_tanh")


def _hard_sigmoid(x: Tensor) -> Tensor:
    return hardtanh(x + 3.0, 0.0, 6.0) * (1 / 6)  # relu6(x + 3) / 6


def _hard_silu(x: Tensor) -> Tensor:
    """x * relu6(x + 3) / 6 piece by piece: 0 up to -3, x from 3, x (x + 3) / 6 between
    (torch's gradient at the kinks: 0 and 1); the middle piece sees x clipped, so an infinite
    x never meets a zero slope (inf * 0 made its gradient NaN, and -inf's value NaN where
    the limit, 0, is what this gives)."""
    m = F.clip(x, -3.0, 3.0)
    return F.where(x >= 3.0, x, F.where(x <= -3.0, 0.0, m * (m + 3.0) * (1 / 6)))


hard_sigmoid = _activation(_hard_sigmoid, "hard_sigmoid")
hard_silu, hard_swish = (_activation(_hard_silu, name) for name in ("hard_silu", "hard_swish"))
softsign = _activation(lambda x: x / (F.abs(x) + 1), "softsign")
log_sigmoid = _activation(lambda x: -F.softplus(-x), "log_sigmoid")
erf = _activation(extra.erf, "erf")
rsqrt = _activation(lambda x: 1 / F.sqrt(x), "rsqrt")


def gelu(x: Any, approximate: bool = True) -> Tensor:
    """x Phi(x); Keras's default is the tanh approximation."""
    return F.gelu(_float(x), approximate=approximate)


def elu(x: Any, alpha: float = 1.0) -> Tensor:
    return F.elu(_float(x), alpha=alpha)


def celu(x: Any, alpha: float = 1.0) -> Tensor:
    """x for x > 0, else alpha (e**(x / alpha) - 1): alpha elu(x / alpha) (gradient 1 at 0)."""
    return F.elu(_float(x) * (1.0 / alpha)) * alpha


def leaky_relu(x: Any, negative_slope: float = 0.2) -> Tensor:
    return F.leaky_relu(_float(x), negative_slope=negative_slope)


def glu(x: Any, axis: int = -1) -> Tensor:
    """a sigmoid(b), a and b the halves of x along ``axis``."""
    a, b = F.split(_float(x), 2, axis=axis)
    return a * F.sigmoid(b)


def _mish(x: Tensor) -> Tensor:
    """x tanh(softplus(x)); float16 in float32 (its composition lost up to 29% of the
    gradient below -8, where softplus is subnormal)."""
    if x.dtype == np.float16:
        return F.cast(_mish(F.cast(x, np.float32)), np.float16)
    return x * F.tanh(F.softplus(x))


mish = _activation(_mish, "mish")
tanh_shrink = _activation(lambda x: x - F.tanh(x), "tanh_shrink")
sparse_plus = _activation(  # 0 below -1, (x + 1)**2 / 4 between, x above 1
    lambda x: F.where(x <= -1.0, 0.0, F.where(x >= 1.0, x, (x + 1.0) ** 2 * 0.25)), "sparse_plus")


def hard_shrink(x: Any, threshold: float = 0.5) -> Tensor:
    """x where |x| > threshold, else 0."""
    x = _float(x)
    return F.where(F.abs(x) > threshold, x, 0.0)


def soft_shrink(x: Any, threshold: float = 0.5) -> Tensor:
    """x moved ``threshold`` towards 0, and 0 within it."""
    x = _float(x)
    return F.where(x > threshold, x - threshold, F.where(x < -threshold, x + threshold, 0.0))


def squareplus(x: Any, b: float = 4.0) -> Tensor:
    """(x + sqrt(x**2 + b)) / 2: a smooth ReLU built from algebra alone (Barron, 2021)."""
    x = _float(x)
    return (x + F.sqrt(x * x + b)) * 0.5


def threshold(x: Any, threshold: float, default_value: float) -> Tensor:
    """x where x > threshold, else ``default_value``."""
    x = _float(x)
    return F.where(x > threshold, x, default_value)


def sparsemax(x: Any, axis: int = -1) -> Tensor:
    """The Euclidean projection of x onto the probability simplex along ``axis`` (Martins &
    Astudillo, 2016): sums to 1 as softmax does, but low scores get exactly 0. The output is
    relu(x - tau); tau, the mean of the kept scores less 1/k, is a recorded function of x on
    the kept set (found without gradient), which gives sparsemax's Jacobian."""
    x = _float(x)
    z, xp = x.data, x.xp
    ranked = -xp.sort(-z, axis=axis)
    shape = [1] * z.ndim
    shape[axis] = z.shape[axis]
    k = xp.arange(1, z.shape[axis] + 1, dtype=z.dtype).reshape(shape)
    kept = xp.sum(1 + k * ranked > xp.cumsum(ranked, axis=axis), axis=axis, keepdims=True)
    tau_data = (xp.take_along_axis(xp.cumsum(ranked, axis=axis), kept - 1, axis=axis) - 1) / kept
    in_set = Tensor._wrap((z > tau_data).astype(z.dtype))
    tau = (F.sum(x * in_set, axis=axis, keepdims=True) - 1.0) / Tensor._wrap(kept.astype(z.dtype))
    return F.relu(x - tau)


# -- losses: Keras's ops-level signatures, one value per element (binary) or per sample --------
def binary_crossentropy(target: Any, output: Any, from_logits: bool = False) -> Tensor:
    """Element-wise -(t ln p + (1 - t) ln(1 - p)); p clipped to [1e-7, 1 - 1e-7] as Keras, or
    from logits by the stable fused form."""
    output, target = _tensors(_float(output), target)
    if from_logits:
        return F.binary_cross_entropy_with_logits(output, target, reduction="none")
    p = F.clip(output, EPSILON, 1 - EPSILON)
    return -(target * F.log(p) + (1 - target) * F.log(1 - p))


def categorical_crossentropy(target: Any, output: Any, from_logits: bool = False,
                             axis: int = -1) -> Tensor:
    """-sum(t ln p) over ``axis``, per sample (probabilities renormalized and clipped)."""
    output, target = _tensors(_float(output), target)
    return F.categorical_crossentropy(target, output, from_logits=from_logits, axis=axis,
                                      reduction="none")


def sparse_categorical_crossentropy(target: Any, output: Any, from_logits: bool = False,
                                    axis: int = -1) -> Tensor:
    """-ln p[target] over the classes on ``axis``, for integer targets of output's shape
    without that axis (or with it of size 1)."""
    output = _float(output)
    axis = axis_index(axis, output.ndim)
    if axis != output.ndim - 1:
        output = F.transpose(output, [i for i in range(output.ndim) if i != axis] + [axis])
    ids = target.data if isinstance(target, Tensor) else output.xp.asarray(target)
    if ids.ndim == output.ndim and ids.shape[-1] == 1:
        ids = ids[..., 0]
    if ids.shape != output.shape[:-1]:
        raise ValueError(f"sparse_categorical_crossentropy: target of shape {ids.shape} does "
                         f"not match output of shape {output.shape} (classes on axis {axis})")
    flat = F.sparse_categorical_crossentropy(ids.reshape(-1), F.reshape(output,
                                             (-1, output.shape[-1])), from_logits=from_logits,
                                             reduction="none")
    return F.reshape(flat, ids.shape)


# -- normalization -----------------------------------------------------------------------------
def moments(x: Any, axes: Any, keepdims: bool = False,
            synchronized: bool = False) -> tuple[Tensor, Tensor]:
    """(mean, variance) over ``axes`` (the biased variance); ``synchronized`` is for
    multi-device training and changes nothing here."""
    x = _float(x)
    return F.mean(x, axis=axes, keepdims=keepdims), F.var(x, axis=axes, keepdims=keepdims)


def batch_normalization(x: Any, mean: Any, variance: Any, axis: int, offset: Any = None,
                        scale: Any = None, epsilon: float = 1e-3) -> Tensor:
    """(x - mean) / sqrt(variance + epsilon) * scale + offset, the statistics given as 1-D
    tensors along ``axis``."""
    x = _float(x)
    axis = axis_index(axis, x.ndim)
    shape = [-1 if i == axis else 1 for i in range(x.ndim)]

    def along(v: Any) -> Tensor:
        return F.reshape(_tensors(x, v)[1], shape)

    out = (x - along(mean)) / F.sqrt(along(variance) + epsilon)
    if scale is not None:
        out = out * along(scale)
    return out if offset is None else out + along(offset)


def normalize(x: Any, axis: int = -1, order: int = 2, epsilon: float | None = None) -> Tensor:
    """x divided by its ``order``-norm along ``axis``, the norm at least ``epsilon`` (1e-7).
    For order 2 this is x / sqrt(max(sum x**2, epsilon**2)): Keras's value, with a finite
    gradient at the zero vector."""
    if not isinstance(order, int) or order < 1:
        raise ValueError(f"normalize: order must be an int >= 1, got {order!r}")
    x = _float(x)
    eps = EPSILON if epsilon is None else epsilon
    if order == 2:
        return x / F.sqrt(F.maximum(F.sum(x * x, axis=axis, keepdims=True), eps * eps))
    return x / F.maximum(F.norm(x, order, axis, keepdim=True), eps)


# -- convolution and pooling (channels_last; 1-D inputs run as height-1 images) ----------------
def _channels_last(op: str, data_format: str | None, x: Tensor, rank: str) -> bool:
    """Whether x is 1-D (batch, steps, channels); checks the layout and rank."""
    if data_format not in (None, "channels_last"):
        raise ValueError(f"{op}: data_format={data_format!r} is not supported: shenjing's "
                         "convolutions and poolings are channels_last (NHWC); move the channels "
                         "last (ops.moveaxis(x, 1, -1))")
    if x.ndim not in (3, 4):
        raise ValueError(f"{op}: expected a 1-D or 2-D {rank} input, shape (batch, steps, "
                         f"channels) or (batch, height, width, channels), got shape {x.shape}")
    return x.ndim == 3


def _as_2d(value: Any, one_d: bool) -> Any:
    """A 1-D op's int or 1-tuple argument as the 2-D op's (1, n)."""
    if not one_d:
        return value
    return (1, value if isinstance(value, int) else tuple(value)[0])


def _spatial(op: str, fn: Any, inputs: Any, kernel: Any, strides: Any, padding: str,
             data_format: str | None, dilation_rate: Any) -> Tensor:
    x, w = _tensors(_float(inputs), kernel)
    one_d = _channels_last(op, data_format, x, "convolution")
    if one_d:
        x, w = F.expand_dims(x, 1), F.expand_dims(w, 0)
    y = fn(x, w, strides=_as_2d(strides, one_d), padding=padding.lower(),
           dilation_rate=_as_2d(dilation_rate, one_d))
    return F.squeeze(y, 1) if one_d else y


def conv(inputs: Any, kernel: Any, strides: Any = 1, padding: str = "valid",
         data_format: str | None = None, dilation_rate: Any = 1) -> Tensor:
    """1-D or 2-D convolution; kernel (spatial..., in_channels, filters), Keras's layout."""
    return _spatial("conv", F.conv2d, inputs, kernel, strides, padding, data_format,
                    dilation_rate)


def depthwise_conv(inputs: Any, kernel: Any, strides: Any = 1, padding: str = "valid",
                   data_format: str | None = None, dilation_rate: Any = 1) -> Tensor:
    """Each channel convolved with its own filters; kernel (spatial..., channels, multiplier)."""
    return _spatial("depthwise_conv", F.depthwise_conv2d, inputs, kernel, strides, padding,
                    data_format, dilation_rate)


def separable_conv(inputs: Any, depthwise_kernel: Any, pointwise_kernel: Any, strides: Any = 1,
                   padding: str = "valid", data_format: str | None = None,
                   dilation_rate: Any = 1) -> Tensor:
    """A depthwise convolution followed by a 1x1 (pointwise) one."""
    y = depthwise_conv(inputs, depthwise_kernel, strides, padding, data_format, dilation_rate)
    return conv(y, pointwise_kernel, 1, "valid", data_format, 1)


def _pool(op: str, fn: Any) -> Any:
    def pool(inputs: Any, pool_size: Any, strides: Any = None, padding: str = "valid",
             data_format: str | None = None) -> Tensor:
        x = _float(inputs)
        one_d = _channels_last(op, data_format, x, "pooling")
        y = fn(F.expand_dims(x, 1) if one_d else x, _as_2d(pool_size, one_d),
               None if strides is None else _as_2d(strides, one_d), padding.lower())
        return F.squeeze(y, 1) if one_d else y

    pool.__name__ = pool.__qualname__ = op
    pool.__doc__ = (f"{'Max' if op == 'max_pool' else 'Average'} pooling of 1-D or 2-D inputs "
                    "(strides default to pool_size).")
    return pool


max_pool, average_pool = _pool("max_pool", F.max_pool2d), _pool("average_pool", F.avg_pool2d)


# -- math --------------------------------------------------------------------------------------
def ctc_loss(target: Any, output: Any, target_length: Any, output_length: Any,
             mask_index: int = 0) -> Tensor:
    """Keras 3's ``ops.ctc_loss``: per-sample CTC loss of (batch, frames, classes) logits
    (see :func:`shenjing.functional.ctc.ctc_loss`)."""
    from .functional import ctc

    return ctc.ctc_loss(target, output, target_length, output_length, mask_index)


def ctc_decode(inputs: Any, sequence_lengths: Any, strategy: str = "greedy",
               beam_width: int = 100, top_paths: int = 1, merge_repeated: bool = True,
               mask_index: int = 0) -> tuple[Tensor, Tensor]:
    """Keras 3's ``ops.ctc_decode`` (see :func:`shenjing.functional.ctc_decoding.ctc_decode`):
    ``(paths (top_paths, batch, frames), scores)`` as Tensors."""
    from .functional.ctc_decoding import ctc_decode as decode

    paths, scores = decode(inputs, sequence_lengths, strategy, beam_width, top_paths,
                           merge_repeated, mask_index)
    return Tensor(paths), Tensor(scores)


def top_k(x: Any, k: int, sorted: bool = True) -> tuple[Tensor, Tensor]:  # noqa: A002
    """The k largest values along the last axis, in decreasing order, and their int32 indices
    (ties: the lower index first; NaN the largest, as JAX's); the gradient goes to the chosen
    positions."""
    x = _t(x)
    n = x.shape[-1] if x.ndim else 0
    if not 0 <= k <= n:
        raise ValueError(f"top_k: k={k} is out of range for a last axis of size {n}")
    idx = descending_order(x.data, -1)[..., :k]
    from ._ops_numpy import take_along_axis

    return take_along_axis(x, idx, -1), Tensor._wrap(idx.astype(np.int32))


def in_top_k(targets: Any, predictions: Any, k: int) -> Tensor:
    """Whether each target class is among the k highest predictions of its row (ties at the
    k-th value count as in, as TF's)."""
    p = _t(predictions).data
    t = _t(targets).data.astype(np.int64).reshape(-1)
    score = p[np.arange(len(t)), t][:, None]
    return Tensor._wrap((p > score).sum(axis=-1) < k)


def segment_sum(data: Any, segment_ids: Any, num_segments: int | None = None,
                sorted: bool = False) -> Tensor:  # noqa: A002
    """Sums of the rows of ``data`` sharing a segment id (rows with an id outside
    [0, num_segments) are dropped)."""
    x, ids, n = _segments(data, segment_ids, num_segments)
    return scatter_into(x, (ids,), (n, *x.shape[1:]))


def _segments(data: Any, segment_ids: Any, num_segments: int | None
              ) -> tuple[Tensor, Any, int]:
    """(the rows, their ids, the number of segments): rows whose id is outside [0, n) left
    out, n = num_segments or the largest id + 1."""
    x = _t(data)
    ids = _t(segment_ids).data.astype(np.int64)
    n = int(ids.max()) + 1 if num_segments is None else int(num_segments)
    keep = (ids >= 0) & (ids < n)
    if not keep.all():
        x, ids = F.getitem(x, keep), ids[keep]
    return x, ids, n


def segment_reduce(data: Any, segment_ids: Any, num_segments: int | None, reduce: str,
                   empty: float) -> Tensor:
    """The rows of ``data`` reduced per segment id by ``scatter_reduce``'s ``reduce`` (its
    gradients: ties share, as JAX's), ``empty`` where a segment has none; rows with an id
    outside [0, num_segments) are dropped."""
    from ._scatter_reduce import scatter_reduce

    x, ids, n = _segments(_float(data), segment_ids, num_segments)
    index = x.xp.broadcast_to(ids.reshape((-1,) + (1,) * (x.ndim - 1)), x.shape)
    start = Tensor._wrap(x.xp.full((n, *x.shape[1:]), empty, x.dtype))
    return scatter_reduce(start, 0, index, x, reduce, include_self=False)


def segment_max(data: Any, segment_ids: Any, num_segments: int | None = None,
                sorted: bool = False) -> Tensor:  # noqa: A002
    """The largest row of ``data`` per segment id (-inf where a segment has none; rows with an
    id outside [0, num_segments) are dropped)."""
    return segment_reduce(data, segment_ids, num_segments, "amax", -np.inf)


def _indices(indices: Any, rank: int, name: str) -> tuple[Any, ...]:
    """Keras's (N, k) index rows (k <= rank) as a tuple of k index arrays."""
    idx = _t(indices).data.astype(np.int64)
    if idx.ndim == 1:
        idx = idx[:, None]
    if idx.ndim != 2 or idx.shape[1] > rank:
        raise ValueError(f"{name}: indices must be (N, k) rows of k <= {rank} coordinates, got "
                         f"shape {idx.shape}")
    return tuple(idx.T)


def scatter(indices: Any, values: Any, shape: Sequence[int]) -> Tensor:
    """zeros(shape) with ``values`` added at the rows of ``indices`` (N, k): a repeated index
    sums its values (Keras 3 on JAX), differentiable to ``values``."""
    index = _indices(indices, len(shape), "scatter")
    return scatter_into(_t(values), index, tuple(int(n) for n in shape))


def scatter_update(inputs: Any, indices: Any, updates: Any) -> Tensor:
    """A copy of ``inputs`` with the entries (or slices) at the rows of ``indices`` (N, k)
    replaced by ``updates``, differentiable to both."""
    x = _t(inputs)
    return index_put(x, _indices(indices, x.ndim, "scatter_update"), _tensors(x, updates)[1])


# -- core --------------------------------------------------------------------------------------
def stop_gradient(variable: Any) -> Tensor:
    """The same values, cut from the graph: no gradient flows back through it."""
    return _t(variable).detach()


def cond(pred: Any, true_fn: Any, false_fn: Any) -> Any:
    """``true_fn()`` if ``pred`` else ``false_fn()`` (eager: one branch runs)."""
    return true_fn() if builtins.bool(pred) else false_fn()


def slice(inputs: Any, start_indices: Sequence[int], shape: Sequence[int]) -> Tensor:  # noqa: A001
    """The block of ``shape`` starting at ``start_indices``."""
    index = tuple(builtins.slice(int(s), int(s) + int(n))
                  for s, n in zip(start_indices, shape))
    return F.getitem(_t(inputs), index)


def slice_update(inputs: Any, start_indices: Sequence[int], updates: Any) -> Tensor:
    """A copy of ``inputs`` with the block at ``start_indices`` replaced by ``updates``
    (differentiable to both)."""
    x = _t(inputs)
    u = _tensors(x, updates)[1]
    index = tuple(builtins.slice(int(s), int(s) + n) for s, n in zip(start_indices, u.shape))
    return index_put(x, index, u)


__all__ = [n for n, v in list(globals().items()) if callable(v) and not n.startswith("_")
           and getattr(v, "__module__", None) in (__name__, "shenjing._ops_common")]
