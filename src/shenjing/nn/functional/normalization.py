"""torch's normalizations (channels on axis 1, torch's momentum and eps) and dropouts, over
shenjing's fused batch and layer norm kernels."""

from __future__ import annotations

from typing import Any

import numpy as np

from ...autograd import Tensor
from ...backend import get_xp
from ...functional import elementwise as E
from ...functional import normalization as N
from ...functional import reduction as R
from ...functional import shape as S
from ...functional.dropout import dropout as _dropout
from ._layout import as_float, channels_first, channels_last, honours_inplace


def batch_norm(input: Tensor, running_mean: Tensor | None,  # noqa: A002
               running_var: Tensor | None, weight: Tensor | None = None,
               bias: Tensor | None = None, training: bool = False, momentum: float = 0.1,
               eps: float = 1e-5) -> Tensor:
    """torch's ``F.batch_norm`` on (N, C), (N, C, L) or (N, C, H, W): per channel (axis 1).

    In training, normalizes with the batch's statistics and, where given, updates the running
    ones in place with torch's rule: running = (1 - momentum) running + momentum batch, the
    variance being the unbiased one (M / (M - 1) times the biased, over the M values of a
    channel). Unlike torch, a batch with NaN or inf leaves them as they were (shenjing's
    ``F.batch_norm`` rule). ``momentum=None`` (the cumulative average, which needs the module's
    batch counter) is not supported.

    >>> y = F.batch_norm(x, running_mean, running_var, weight, bias, training=True)
    """
    x = as_float(input)
    if x.ndim < 2:
        raise ValueError(f"batch_norm: expected input of shape (N, C, ...), got shape {x.shape}")
    if momentum is None:
        raise NotImplementedError("batch_norm: momentum=None (cumulative average) is not "
                                  "supported")
    _check_per_channel("batch_norm", x, running_mean=running_mean, running_var=running_var,
                       weight=weight, bias=bias)
    if training and (running_mean is None) != (running_var is None):
        raise ValueError("batch_norm: give both running_mean and running_var, or neither")
    xl = channels_last(x) if x.ndim > 2 else x
    if not training:
        y = N.batch_norm(xl, weight, bias, running_mean, running_var, False, epsilon=eps)
        return channels_first(y) if x.ndim > 2 else y
    m = x.size // x.shape[1]
    if m < 2:
        raise ValueError(f"Expected more than 1 value per channel when training, got input "
                         f"size {x.shape}")
    # shenjing's kernel updates with Keras's rule (biased variance): given zeros, its variance
    # becomes momentum * (biased batch variance), from which torch's update follows.
    scratch = None if running_var is None else Tensor._wrap(
        get_xp(running_var.data).zeros_like(running_var.data))
    y = N.batch_norm(xl, weight, bias, running_mean, scratch, True, momentum=1.0 - momentum,
                     epsilon=eps)
    if scratch is not None and (scratch.data.any() or bool(get_xp(x.data).isfinite(x.data).all())):
        running_var.data *= 1.0 - momentum
        running_var.data += scratch.data * (m / (m - 1))
    return channels_first(y) if x.ndim > 2 else y


def layer_norm(input: Tensor, normalized_shape: Any, weight: Tensor | None = None,  # noqa: A002
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """torch's ``F.layer_norm``: normalize over the last ``len(normalized_shape)`` axes; weight
    and bias have ``normalized_shape``.

    >>> y = F.layer_norm(x, (512,), weight, bias)
    """
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    x = as_float(input)
    if tuple(x.shape[x.ndim - len(shape):]) != shape:
        raise ValueError(f"layer_norm: normalized_shape {shape} does not end input of shape "
                         f"{x.shape}")
    return N.layer_norm(x, weight, bias, axis=tuple(range(-len(shape), 0)), epsilon=eps)


def _check_per_channel(name: str, x: Tensor, **tensors: Any) -> None:
    """Each given tensor has one value per channel (axis 1 of x), named as torch's."""
    for key, t in tensors.items():
        if t is not None and tuple(t.shape) != (x.shape[1],):
            raise ValueError(f"{name}: {key} of shape {tuple(t.shape)}, expected ({x.shape[1]},) "
                             f"for input of shape {x.shape} (channels on axis 1)")


def _channel_affine(y: Tensor, weight: Tensor | None, bias: Tensor | None) -> Tensor:
    shape = (y.shape[1],) + (1,) * (y.ndim - 2)
    if weight is not None:
        y = y * S.reshape(weight, shape)
    if bias is not None:
        y = y + S.reshape(bias, shape)
    return y


def rms_norm(input: Tensor, normalized_shape: Any, weight: Tensor | None = None,  # noqa: A002
             eps: float | None = None) -> Tensor:
    """torch's ``F.rms_norm``: x / sqrt(mean(x**2) + eps) over the last len(normalized_shape)
    axes, times ``weight``; ``eps`` None is the dtype's machine epsilon, as torch's."""
    x = as_float(input)
    if x.dtype == np.float16:  # in float32, as torch: float16's squares overflow at 256
        return E.cast(rms_norm(E.cast(x, np.float32), normalized_shape,
                               None if weight is None else E.cast(weight, np.float32),
                               float(np.finfo(np.float16).eps) if eps is None else eps),
                      np.float16)
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    if tuple(x.shape[x.ndim - len(shape):]) != shape:
        raise ValueError(f"rms_norm: normalized_shape {shape} is not the end of the input's "
                         f"shape {x.shape}")
    eps = float(np.finfo(x.dtype).eps) if eps is None else eps
    axes = tuple(range(x.ndim - len(shape), x.ndim))
    y = x / E.sqrt(R.mean(x * x, axis=axes, keepdims=True) + eps)
    return y if weight is None else y * weight


def group_norm(input: Tensor, num_groups: int, weight: Tensor | None = None,  # noqa: A002
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """torch's ``F.group_norm``: the channels (axis 1) in ``num_groups`` groups, each sample's
    group normalized over its channels and positions; weight and bias per channel."""
    x = as_float(input)
    if x.ndim < 2 or x.shape[1] % num_groups:
        raise ValueError(f"group_norm: expected input (N, C, ...) with C divisible by "
                         f"num_groups={num_groups}, got shape {x.shape}")
    _check_per_channel("group_norm", x, weight=weight, bias=bias)
    grouped = S.reshape(x, (x.shape[0], num_groups, -1))
    y = S.reshape(N.layer_norm(grouped, None, None, axis=-1, epsilon=eps), x.shape)
    return _channel_affine(y, weight, bias)


def instance_norm(input: Tensor, running_mean: Tensor | None = None,  # noqa: A002
                  running_var: Tensor | None = None, weight: Tensor | None = None,
                  bias: Tensor | None = None, use_input_stats: bool = True,
                  momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """torch's ``F.instance_norm`` with the input's statistics (each sample's channel over its
    positions: group_norm with one channel per group); running statistics are not supported."""
    if running_mean is not None or running_var is not None or not use_input_stats:
        raise NotImplementedError("instance_norm: running statistics are not supported")
    x = as_float(input)
    return group_norm(x, x.shape[1], weight, bias, eps)


def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12,  # noqa: A002
              out: Any = None) -> Tensor:
    """x / max(||x||_p, eps) along ``dim`` (torch's ``F.normalize``)."""
    x = as_float(input)
    return x / E.clip(R.norm(x, p, dim, keepdim=True), eps, None)


@honours_inplace
def dropout(input: Tensor, p: float = 0.5, training: bool = True,  # noqa: A002
            inplace: bool = False) -> Tensor:
    """Zero each element with probability p, scale the rest by 1 / (1 - p) (torch's default
    ``training=True``, unlike a module's mode)."""
    return _dropout(as_float(input), p=p, training=training)


def _channel_dropout(input: Tensor, p: float, training: bool, spatial: int) -> Tensor:  # noqa: A002
    """Whole channels dropped: one draw per (sample, channel) of (N, C, *spatial)."""
    x = as_float(input)
    if x.ndim != spatial + 2:
        raise ValueError(f"dropout{spatial}d: expected input of {spatial + 2} dimensions (N, C, "
                         f"...), got shape {x.shape}")
    return _dropout(x, p=p, training=training, noise_shape=(None, None) + (1,) * spatial)


@honours_inplace
def dropout1d(input: Tensor, p: float = 0.5, training: bool = True,  # noqa: A002
              inplace: bool = False) -> Tensor:
    """torch's ``F.dropout1d`` on (N, C, L): whole channels."""
    return _channel_dropout(input, p, training, 1)


@honours_inplace
def dropout2d(input: Tensor, p: float = 0.5, training: bool = True,  # noqa: A002
              inplace: bool = False) -> Tensor:
    """torch's ``F.dropout2d`` on (N, C, H, W): whole feature maps."""
    return _channel_dropout(input, p, training, 2)
