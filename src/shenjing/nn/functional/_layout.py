"""What the torch-signature adapters share: torch's int-or-tuple arguments, NCHW <-> NHWC, the
unbatched forms torch accepts, and resampling by per-axis matrices."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Sequence
from typing import Any

from ...autograd import Tensor
from ...backend import get_xp
from ...functional import elementwise as E
from ...functional import shape as S
from ...functional.linalg import matmul


def ntuple(value: Any, n: int, name: str) -> tuple[int, ...]:
    """torch's ``_pair``/``_single``: an int repeated ``n`` times, or a sequence of ``n`` ints."""
    if isinstance(value, int):
        return (value,) * n
    out = tuple(int(v) for v in value)
    if len(out) == 1:
        return out * n
    if len(out) != n:
        raise ValueError(f"{name} must be an int or {n} ints, got {value!r}")
    return out


def honours_inplace(fn: Callable[..., Tensor]) -> Callable[..., Tensor]:
    """torch's ``inplace=True`` (as argument or keyword) for an adapter that computes a new
    tensor: the result is written into the input (``copy_``, under autograd's in-place rules:
    a leaf that requires grad refuses, as torch's), which is returned."""
    position = list(inspect.signature(fn).parameters).index("inplace")

    @functools.wraps(fn)
    def adapter(*args: Any, **kwargs: Any) -> Tensor:
        inplace = kwargs.get("inplace", args[position] if len(args) > position else False)
        if not inplace:
            return fn(*args, **kwargs)
        target = args[0] if args else kwargs["input"]
        if not isinstance(target, Tensor):
            raise TypeError(f"{fn.__name__}(inplace=True) needs a Tensor to write into, got "
                            f"{type(target).__name__}")
        if target.requires_grad:  # computed from a copy: an op that keeps its input for the
            source = target.clone()  # backward (leaky_relu, elu) would find it overwritten
            args, kwargs = ((source, *args[1:]), kwargs) if args else (
                args, {**kwargs, "input": source})
        return target.copy_(fn(*args, **kwargs))

    return adapter


def as_float(x: Any) -> Tensor:
    """x as a Tensor (from an array or a number), integers and booleans cast to float32."""
    return E.floating(x if isinstance(x, Tensor) else Tensor(x))


def channels_last(x: Tensor) -> Tensor:
    """(N, C, *spatial) -> (N, *spatial, C): the layout of shenjing's kernels (a view)."""
    return S.transpose(x, (0, *range(2, x.ndim), 1))


def channels_first(y: Tensor) -> Tensor:
    """(N, *spatial, C) -> (N, C, *spatial): back to torch's layout (a view)."""
    return S.transpose(y, (0, y.ndim - 1, *range(1, y.ndim - 1)))


def batched(name: str, fn: Callable[[Tensor], Tensor], x: Any, spatial: int) -> Tensor:
    """``fn`` on (N, C, *spatial) inputs; an unbatched (C, *spatial) one (torch takes both) gets
    a batch axis of 1 for the call, dropped after. Integer inputs become float32."""
    x = as_float(x)
    if x.ndim == spatial + 1:
        return S.squeeze(fn(S.expand_dims(x, 0)), 0)
    if x.ndim != spatial + 2:
        dims = ", ".join(["C"] + [f"d{i}" for i in range(1, spatial + 1)])
        raise ValueError(f"{name}: expected input of shape (N, {dims}) or ({dims}), got shape "
                         f"{x.shape}")
    return fn(x)


def nhwc_pad(x: Tensor, pads: Sequence[tuple[int, int]], value: float = 0.0) -> Tensor:
    """Pad the spatial axes of a channels-last tensor (one (before, after) pair each)."""
    if not any(lo or hi for lo, hi in pads):
        return x
    return S.pad(x, ((0, 0), *pads, (0, 0)), constant_values=value)


def resample(x: Tensor, matrices: Sequence[Any]) -> Tensor:
    """x (N, C, *spatial) with spatial axis k mapped through ``matrices[k]`` (out_k, in_k): a
    linear map per axis, which adaptive average pooling and nearest/linear interpolation all
    are. One GEMM per axis; the gradient is the transposed maps, from matmul's backward."""
    xp = get_xp(x.data)
    for k, m in enumerate(matrices):
        a = Tensor._wrap(xp.asarray(m, dtype=x.dtype))
        axis = 2 + k
        last = axis == x.ndim - 1
        moved = x if last else S.transpose(x, _swap(x.ndim, axis))
        out = matmul(moved, S.transpose(a))  # (..., in_k) @ (in_k, out_k)
        x = out if last else S.transpose(out, _swap(x.ndim, axis))
    return x


def _swap(ndim: int, axis: int) -> tuple[int, ...]:
    order = list(range(ndim))
    order[axis], order[-1] = order[-1], order[axis]
    return tuple(order)
