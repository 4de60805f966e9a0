"""torch's adaptive pooling and ``interpolate`` on (N, C, L) and (N, C, H, W) tensors.

Adaptive average pooling and nearest / (bi)linear interpolation are linear maps along each
spatial axis, so each is a small (out, in) matrix per axis applied by one GEMM
(``_layout.resample``); the gradient is matmul's. The matrices hold torch's index rules.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ...autograd import Tensor
from ...functional import reduction as R
from ...functional import shape as S
from ...functional._util import dtype_kept
from ._layout import batched, ntuple, resample
from .conv import max_pool2d


def _adaptive_matrix(n_in: int, n_out: int) -> np.ndarray:
    """Row i averages [floor(i n_in / n_out), ceil((i + 1) n_in / n_out)) (torch's windows)."""
    m = np.zeros((n_out, n_in))
    for i, (lo, hi) in enumerate(_adaptive_windows(n_in, n_out)):
        m[i, lo:hi] = 1.0 / (hi - lo)
    return m


def _output_sizes(output_size: Any, spatial: tuple[int, ...]) -> tuple[int, ...]:
    if isinstance(output_size, int):
        return (output_size,) * len(spatial)
    sizes = tuple(output_size)
    return tuple(n if o is None else int(o) for o, n in zip(sizes, spatial, strict=True))


def adaptive_avg_pool2d(input: Tensor, output_size: Any) -> Tensor:  # noqa: A002
    """torch's ``F.adaptive_avg_pool2d``: (N, C, H, W) or (C, H, W) averaged into
    ``output_size`` (an int, or a pair whose None keeps that size) windows, torch's
    (possibly overlapping) ones when the sizes do not divide.

    >>> y = F.adaptive_avg_pool2d(x, 1)   # (8, 512, 7, 7) -> (8, 512, 1, 1)
    """
    def run(x: Tensor) -> Tensor:
        out = _output_sizes(output_size, x.shape[2:])
        if out == (1,) * len(out):
            return R.mean(x, axis=tuple(range(2, x.ndim)), keepdims=True)
        return resample(x, [_adaptive_matrix(n, o) for n, o in zip(x.shape[2:], out)])

    return batched("adaptive_avg_pool2d", run, input, 2)


def adaptive_avg_pool1d(input: Tensor, output_size: Any) -> Tensor:  # noqa: A002
    """torch's ``F.adaptive_avg_pool1d`` on (N, C, L) or (C, L)."""
    def run(x: Tensor) -> Tensor:
        (out,) = _output_sizes(ntuple(output_size, 1, "output_size"), x.shape[2:])
        return resample(x, [_adaptive_matrix(x.shape[2], out)])

    return batched("adaptive_avg_pool1d", run, input, 1)


def adaptive_max_pool2d(input: Tensor, output_size: Any,  # noqa: A002
                        return_indices: bool = False) -> Tensor:
    """torch's ``F.adaptive_max_pool2d``: the maximum of each of torch's windows (rows
    floor(i * H / oh) to ceil((i + 1) * H / oh), and so for columns; they overlap when the
    sizes do not divide). Where they divide, max pooling with kernel = stride = input /
    output; else one max per output column, then per output row (a window is a rectangle)."""
    if return_indices:
        raise NotImplementedError("adaptive_max_pool2d: return_indices=True is not supported")

    def run(x: Tensor) -> Tensor:
        out = _output_sizes(output_size, x.shape[2:])
        if not any(n % o for n, o in zip(x.shape[2:], out)):
            return max_pool2d(x, tuple(n // o for n, o in zip(x.shape[2:], out)))
        for axis, (n, o) in reversed(list(enumerate(zip(x.shape[2:], out), start=2))):
            # the values at the first maximum (their gradient goes there alone, as torch's:
            # columns first, then rows, is row-major order's first)
            x = S.concatenate([S.getitem(x, (slice(None),) * axis + (slice(a, b),)).max(
                dim=axis, keepdim=True)[0] for a, b in _adaptive_windows(n, o)], axis=axis)
        return x

    return batched("adaptive_max_pool2d", run, input, 2)


def _adaptive_windows(n_in: int, n_out: int) -> list[tuple[int, int]]:
    """torch's adaptive pooling windows along one axis: [floor(i n / o), ceil((i + 1) n / o))."""
    return [(i * n_in // n_out, -(-(i + 1) * n_in // n_out)) for i in range(n_out)]


def _interpolation_matrix(n_in: int, n_out: int, scale: float, mode: str,
                          align_corners: bool) -> np.ndarray:
    """(n_out, n_in): row j holds the weights of output j; ``scale`` is in / out, or
    1 / scale_factor when torch is given one (as torch, not recomputed)."""
    dst = np.arange(n_out, dtype=np.float64)
    m = np.zeros((n_out, n_in))
    if mode in ("nearest", "nearest-exact"):
        shift = 0.5 if mode == "nearest-exact" else 0.0
        src = np.minimum(np.floor((dst + shift) * scale).astype(int), n_in - 1)
        m[np.arange(n_out), src] = 1.0
        return m
    if align_corners:
        src = dst * ((n_in - 1) / (n_out - 1) if n_out > 1 else 0.0)
    else:
        src = np.maximum((dst + 0.5) * scale - 0.5, 0.0)
    lo = np.minimum(np.floor(src).astype(int), n_in - 1)
    hi = np.minimum(lo + 1, n_in - 1)
    frac = src - lo
    rows = np.arange(n_out)
    np.add.at(m, (rows, lo), 1.0 - frac)
    np.add.at(m, (rows, hi), frac)
    return m


_MODE_RANK = {"nearest": None, "nearest-exact": None, "linear": 1, "bilinear": 2}


def interpolate(input: Tensor, size: Any = None, scale_factor: Any = None,  # noqa: A002
                mode: str = "nearest", align_corners: bool | None = None,
                recompute_scale_factor: bool | None = None, antialias: bool = False) -> Tensor:
    """torch's ``F.interpolate`` for (N, C, L) and (N, C, H, W): modes 'nearest',
    'nearest-exact', 'linear' (3-D) and 'bilinear' (4-D), with ``align_corners``.

    >>> y = F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)
    """
    if mode not in _MODE_RANK:
        raise NotImplementedError(f"interpolate: mode {mode!r} is not supported (nearest, "
                                  "nearest-exact, linear, bilinear)")
    if antialias:
        raise NotImplementedError("interpolate: antialias=True is not supported")
    linear = _MODE_RANK[mode] is not None
    if align_corners is not None and not linear:
        raise ValueError("align_corners option can only be set with the interpolating modes: "
                         "linear | bilinear | bicubic | trilinear")
    if (size is None) == (scale_factor is None):
        raise ValueError("interpolate: give exactly one of size and scale_factor")
    x = input if isinstance(input, Tensor) else Tensor(input)
    spatial = x.shape[2:]
    if len(spatial) not in (1, 2) or linear and _MODE_RANK[mode] != len(spatial):
        raise ValueError(f"interpolate: mode {mode!r} does not take input of shape {x.shape}")
    if size is not None:
        out = ntuple(size, len(spatial), "size")
        scales = [n / o for n, o in zip(spatial, out)]
    else:
        factors = [float(f) for f in (scale_factor if isinstance(scale_factor, (tuple, list))
                                      else [scale_factor] * len(spatial))]
        out = tuple(math.floor(n * f) for n, f in zip(spatial, factors))
        scales = ([n / o for n, o in zip(spatial, out)] if recompute_scale_factor
                  else [1.0 / f for f in factors])
    mats = [_interpolation_matrix(n, o, s, mode, bool(align_corners))
            for n, o, s in zip(spatial, out, scales)]
    return batched("interpolate", lambda t: resample(t, mats), x, len(spatial))


def pixel_shuffle(input: Tensor, upscale_factor: int) -> Tensor:  # noqa: A002
    """(*, C r**2, H, W) -> (*, C, H r, W r) (sub-pixel upsampling, Shi et al. 2016): channel
    c r**2 + i r + j becomes pixel (i, j) of the r x r block of channel c."""
    x, r = dtype_kept(input), int(upscale_factor)
    *lead, c, h, w = _image_shape("pixel_shuffle", x)
    if c % (r * r):
        raise ValueError(f"pixel_shuffle: {c} channels are not divisible by upscale_factor**2 "
                         f"= {r * r}")
    k = len(lead)
    y = S.reshape(x, (*lead, c // (r * r), r, r, h, w))
    y = S.transpose(y, (*range(k + 1), k + 3, k + 1, k + 4, k + 2))
    return S.reshape(y, (*lead, c // (r * r), h * r, w * r))


def pixel_unshuffle(input: Tensor, downscale_factor: int) -> Tensor:  # noqa: A002
    """The inverse of :func:`pixel_shuffle`: (*, C, H r, W r) -> (*, C r**2, H, W)."""
    x, r = dtype_kept(input), int(downscale_factor)
    *lead, c, h, w = _image_shape("pixel_unshuffle", x)
    if h % r or w % r:
        raise ValueError(f"pixel_unshuffle: height {h} and width {w} must be divisible by "
                         f"downscale_factor {r}")
    k = len(lead)
    y = S.reshape(x, (*lead, c, h // r, r, w // r, r))
    y = S.transpose(y, (*range(k + 1), k + 2, k + 4, k + 1, k + 3))
    return S.reshape(y, (*lead, c * r * r, h // r, w // r))


def _image_shape(name: str, x: Tensor) -> tuple[int, ...]:
    if x.ndim < 3:
        raise ValueError(f"{name}: expected input of shape (*, C, H, W), got shape {x.shape}")
    return x.shape


def channel_shuffle(input: Tensor, groups: int) -> Tensor:  # noqa: A002
    """(N, C, ...) with the channels of ``groups`` groups interleaved (ShuffleNet's)."""
    x = input
    n, c = x.shape[:2]
    if c % groups:
        raise ValueError(f"channel_shuffle: {c} channels are not divisible by groups={groups}")
    y = S.reshape(x, (n, groups, c // groups, *x.shape[2:]))
    return S.reshape(S.transpose(y, (0, 2, 1, *range(3, y.ndim))), x.shape)


def upsample(input: Tensor, size: Any = None, scale_factor: Any = None,  # noqa: A002
             mode: str = "nearest", align_corners: bool | None = None) -> Tensor:
    """torch's deprecated ``F.upsample``: :func:`interpolate`."""
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input: Tensor, size: Any = None, scale_factor: Any = None) -> Tensor:  # noqa: A002
    """torch's deprecated ``F.upsample_nearest``: :func:`interpolate`, mode 'nearest'."""
    return interpolate(input, size, scale_factor, "nearest")


def upsample_bilinear(input: Tensor, size: Any = None, scale_factor: Any = None) -> Tensor:  # noqa: A002
    """torch's deprecated ``F.upsample_bilinear``: bilinear with ``align_corners=True``."""
    return interpolate(input, size, scale_factor, "bilinear", True)
