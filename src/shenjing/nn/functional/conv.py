"""torch's convolutions and poolings on NCHW (and NCL) tensors, over shenjing's NHWC kernels.

Each call moves the channel axis last (a view), pads explicitly where torch pads (zeros for
convolution and average pooling, -inf for max pooling), runs the kernel with 'valid' padding
and moves the channels back. The 1-D forms are the 2-D ones on a height of 1.
"""

from __future__ import annotations

import operator
from typing import Any

from ...autograd import Tensor
from ...backend import get_xp
from ...functional import conv as C
from ...functional import pooling as P
from ...functional import shape as S
from ._layout import batched, channels_first, channels_last, nhwc_pad, ntuple


def _conv_pads(padding: Any, kernel: tuple[int, ...], dilation: tuple[int, ...],
               stride: tuple[int, ...]) -> tuple[tuple[int, int], ...]:
    if padding == "valid":
        return ((0, 0),) * len(kernel)
    if padding == "same":
        if any(s != 1 for s in stride):
            raise ValueError("padding='same' is not supported for strided convolutions")
        # torch's split: the odd pixel of an even kernel goes after (right/bottom)
        totals = [d * (k - 1) for k, d in zip(kernel, dilation)]
        return tuple((t // 2, t - t // 2) for t in totals)
    if isinstance(padding, str):
        raise ValueError(f"Invalid padding string {padding!r}, should be one of "
                         "{'valid', 'same'}")
    return tuple((p, p) for p in ntuple(padding, len(kernel), "padding"))


def _grouped_conv(x: Tensor, weight: Tensor, bias: Tensor | None, stride: tuple[int, int],
                  dilation: tuple[int, int], groups: int) -> Tensor:
    """NHWC x with torch's (out, in/groups, kh, kw) weight: one conv2d, one depthwise conv2d
    (groups == channels), or one conv2d per group, concatenated."""
    out_ch, per_group, kh, kw = weight.shape
    channels = x.shape[-1]
    geometry = {"strides": stride, "padding": "valid", "dilation_rate": dilation}
    if groups == 1:
        return C.conv2d(x, S.transpose(weight, (2, 3, 1, 0)), bias, **geometry)
    if per_group == 1:
        # output channel c * multiplier + m is channel c under its filter m (both frameworks)
        kernel = S.transpose(S.reshape(weight, (channels, out_ch // channels, kh, kw)),
                             (2, 3, 0, 1))
        return C.depthwise_conv2d(x, kernel, bias, **geometry)
    xs = S.split(x, groups, axis=3)
    ws = S.split(weight, groups, axis=0)
    bs = [None] * groups if bias is None else S.split(bias, groups, axis=0)
    return S.concatenate([C.conv2d(xg, S.transpose(wg, (2, 3, 1, 0)), bg, **geometry)
                          for xg, wg, bg in zip(xs, ws, bs)], axis=3)


def _check_conv(name: str, x: Any, weight: Tensor, bias: Tensor | None, groups: Any) -> int:
    """torch's checks of a convolution's shapes, on the shapes as the caller gave them
    (before the channels-last layout and conv1d's extra axis, which made the messages name
    shapes nobody passed). Returns ``groups`` as an int: a NumPy integer passes, as torch."""
    out_ch, per_group = weight.shape[:2]
    count = operator.index(groups) if hasattr(type(groups), "__index__") else 0
    if count < 1 or out_ch % count:
        raise ValueError(f"{name}: groups={groups} must be a positive divisor of the weight's "
                         f"out channels (dim 0 of its shape {weight.shape})")
    groups = count
    spatial = weight.ndim - 2
    shape = tuple(getattr(x, "shape", ()))
    if len(shape) in (spatial + 1, spatial + 2) and shape[-spatial - 1] != per_group * groups:
        raise ValueError(f"{name}: weight of shape {weight.shape} with groups={groups} expects "
                         f"input with {per_group * groups} channels, got input of shape {shape} "
                         f"({shape[-spatial - 1]} channels)")
    if bias is not None and bias.shape != (out_ch,):
        raise ValueError(f"{name}: bias of shape {bias.shape}, expected ({out_ch},) for weight "
                         f"of shape {weight.shape}")
    return groups


def conv2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1,  # noqa: A002
           padding: Any = 0, dilation: Any = 1, groups: int = 1) -> Tensor:
    """torch's ``F.conv2d``: input (N, C, H, W) or (C, H, W), weight (out, C / groups, kh, kw).

    Args:
        stride, dilation: an int or a pair.
        padding: an int, a pair, 'valid' or 'same' (stride 1 only; the odd pixel of an even
            kernel after, as torch).
        groups: channels split into this many groups, each with its own filters.

    >>> y = F.conv2d(x, w, b, padding=1)   # (8, 3, 32, 32), w (16, 3, 3, 3) -> (8, 16, 32, 32)
    """
    if weight.ndim != 4:
        raise ValueError(f"conv2d: expected weight of shape (out_channels, in_channels / groups, "
                         f"kh, kw), got shape {weight.shape}")
    groups = _check_conv("conv2d", input, weight, bias, groups)
    stride_ = ntuple(stride, 2, "stride")
    dilation_ = ntuple(dilation, 2, "dilation")
    pads = _conv_pads(padding, tuple(weight.shape[2:]), dilation_, stride_)

    def run(x: Tensor) -> Tensor:
        x = nhwc_pad(channels_last(x), pads)
        return channels_first(_grouped_conv(x, weight, bias, stride_, dilation_, groups))

    return batched("conv2d", run, input, 2)


def conv1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1,  # noqa: A002
           padding: Any = 0, dilation: Any = 1, groups: int = 1) -> Tensor:
    """torch's ``F.conv1d``: input (N, C, L) or (C, L), weight (out, C / groups, k); the
    arguments as :func:`conv2d`'s, one int each.

    >>> y = F.conv1d(x, w, padding="same")   # (8, 4, 100), w (6, 4, 5) -> (8, 6, 100)
    """
    if weight.ndim != 3:
        raise ValueError(f"conv1d: expected weight of shape (out_channels, in_channels / groups, "
                         f"k), got shape {weight.shape}")
    groups = _check_conv("conv1d", input, weight, bias, groups)
    pad = padding if isinstance(padding, str) else (0, ntuple(padding, 1, "padding")[0])

    def run(x: Tensor) -> Tensor:
        y = conv2d(S.expand_dims(x, 2), S.expand_dims(weight, 2), bias,
                   (1, ntuple(stride, 1, "stride")[0]), pad,
                   (1, ntuple(dilation, 1, "dilation")[0]), groups)
        return S.squeeze(y, 2)

    return batched("conv1d", run, input, 1)


def conv_transpose2d(input: Tensor, weight: Tensor, bias: Tensor | None = None,  # noqa: A002
                     stride: Any = 1, padding: Any = 0, output_padding: Any = 0, groups: int = 1,
                     dilation: Any = 1) -> Tensor:
    """torch's ``F.conv_transpose2d`` (DCGAN's generator, decoders): input (N, C, H, W) or
    (C, H, W), weight (C, out / groups, kh, kw); output size ``(H - 1) * stride - 2 * padding
    + dilation * (kh - 1) + output_padding + 1``. Over :func:`F.conv2d_transpose`.

    >>> y = F.conv_transpose2d(z, w, stride=2, padding=1)  # (8, 64, 4, 4) -> (8, 32, 8, 8)
    """
    if weight.ndim != 4:
        raise ValueError(f"conv_transpose2d: expected weight of shape (in_channels, "
                         f"out_channels / groups, kh, kw), got shape {weight.shape}")
    groups = _transpose_groups("conv_transpose2d", input, weight, bias, groups)
    stride_, dilation_ = ntuple(stride, 2, "stride"), ntuple(dilation, 2, "dilation")
    pads = ntuple(padding, 2, "padding")
    extra = ntuple(output_padding, 2, "output_padding")
    if any(e >= max(s, d) for e, s, d in zip(extra, stride_, dilation_)):
        raise ValueError(f"conv_transpose2d: output_padding {extra} must be smaller than "
                         f"either stride {stride_} or dilation {dilation_}")

    def run(x: Tensor) -> Tensor:
        x = channels_last(x)
        windows = [(p, (n - 1) * s - 2 * p + d * (k - 1) + e + 1) for n, s, p, d, k, e in zip(
            x.shape[1:3], stride_, pads, dilation_, weight.shape[2:], extra)]
        if any(rows <= 0 for _, rows in windows):
            raise ValueError(f"conv_transpose2d: padding {pads} leaves no output for input "
                             f"{tuple(x.shape[1:3])} and kernel {tuple(weight.shape[2:])}")
        parts = zip(S.split(x, groups, axis=3), S.split(weight, groups, axis=0))
        y = S.concatenate([C.conv2d_transpose(xg, S.transpose(wg, (2, 3, 1, 0)), stride_,
                                              dilation_, windows) for xg, wg in parts], axis=3)
        return channels_first(y if bias is None else y + bias)

    return batched("conv_transpose2d", run, input, 2)


def conv_transpose1d(input: Tensor, weight: Tensor, bias: Tensor | None = None,  # noqa: A002
                     stride: Any = 1, padding: Any = 0, output_padding: Any = 0, groups: int = 1,
                     dilation: Any = 1) -> Tensor:
    """torch's ``F.conv_transpose1d``: input (N, C, L) or (C, L), weight (C, out / groups, k);
    the arguments as :func:`conv_transpose2d`'s, one int each (on a height of 1)."""
    if weight.ndim != 3:
        raise ValueError(f"conv_transpose1d: expected weight of shape (in_channels, "
                         f"out_channels / groups, k), got shape {weight.shape}")

    def one(value: Any, name: str, height: int) -> tuple[int, int]:  # the height's, then ours
        return (height, ntuple(value, 1, name)[0])

    def run(x: Tensor) -> Tensor:
        y = conv_transpose2d(S.expand_dims(x, 2), S.expand_dims(weight, 2), bias,
                             one(stride, "stride", 1), one(padding, "padding", 0),
                             one(output_padding, "output_padding", 0), groups,
                             one(dilation, "dilation", 1))
        return S.squeeze(y, 2)

    return batched("conv_transpose1d", run, input, 1)


def _unfold_geometry(name: str, spatial: tuple[int, int], kernel_size: Any, dilation: Any,
                     padding: Any, stride: Any) -> dict[str, Any]:
    kernel = ntuple(kernel_size, 2, "kernel_size")
    dil, pad, step = (ntuple(v, 2, n) for v, n in ((dilation, "dilation"),
                                                   (padding, "padding"), (stride, "stride")))
    out = tuple((n + 2 * p - d * (k - 1) - 1) // s + 1
                for n, p, d, k, s in zip(spatial, pad, dil, kernel, step))
    if min(out) < 1:
        raise ValueError(f"{name}: kernel {kernel} (dilation {dil}) does not fit the padded "
                         f"size {tuple(n + 2 * p for n, p in zip(spatial, pad))}")
    return C.geometry(kernel, step, dil, (pad[0], pad[0], pad[1], pad[1]), out)


def unfold(input: Tensor, kernel_size: Any, dilation: Any = 1, padding: Any = 0,  # noqa: A002
           stride: Any = 1) -> Tensor:
    """torch's ``F.unfold`` (im2col): (N, C, H, W) -> (N, C * kh * kw, L), each column one
    sliding window's values, channel-major (c * kh * kw + i * kw + j), L windows in row-major
    order. The convolutions' own im2col, so its gradient is col2im."""
    def run(x: Tensor) -> Tensor:
        n, c = x.shape[:2]
        geom = _unfold_geometry("unfold", x.shape[2:], kernel_size, dilation, padding, stride)
        cols = C.recorded_im2col(channels_last(x), geom)  # (N, Ho, Wo, kh, kw, C)
        cols = S.transpose(cols, (0, 5, 3, 4, 1, 2))
        return S.reshape(cols, (n, c * cols.shape[2] * cols.shape[3], -1))

    return batched("unfold", run, input, 2)


def fold(input: Tensor, output_size: Any, kernel_size: Any, dilation: Any = 1,  # noqa: A002
         padding: Any = 0, stride: Any = 1) -> Tensor:
    """torch's ``F.fold`` (col2im), the adjoint of :func:`unfold`: (N, C * kh * kw, L) ->
    (N, C, *output_size), each window's values added back where it was taken from (so
    overlapping windows sum)."""
    size = ntuple(output_size, 2, "output_size")
    kh, kw = ntuple(kernel_size, 2, "kernel_size")

    def run(cols: Tensor) -> Tensor:
        n, depth, count = cols.shape
        geom = _unfold_geometry("fold", size, kernel_size, dilation, padding, stride)
        ho, wo = geom["out_hw"]
        if depth % (kh * kw) or count != ho * wo:
            raise ValueError(f"fold: input of shape {tuple(cols.shape)} does not hold "
                             f"C * {kh} * {kw} values for each of the {ho * wo} windows of "
                             f"output_size {size}")
        c = depth // (kh * kw)
        grid = S.transpose(S.reshape(cols, (n, c, kh, kw, ho, wo)), (0, 4, 5, 2, 3, 1))
        return channels_first(C.recorded_col2im(grid, (n, *size, c), geom))

    return batched("fold", run, input, 1)


def _transpose_groups(name: str, x: Any, weight: Tensor, bias: Tensor | None, groups: Any
                      ) -> int:
    """torch's checks of a transposed convolution: ``groups`` divides the weight's in
    channels (its dim 0), which are the input's; the bias has out = dim 1 * groups."""
    in_ch = weight.shape[0]
    count = operator.index(groups) if hasattr(type(groups), "__index__") else 0
    if count < 1 or in_ch % count:
        raise ValueError(f"{name}: groups={groups} must be a positive divisor of the weight's "
                         f"in channels (dim 0 of its shape {weight.shape})")
    spatial = weight.ndim - 2
    shape = tuple(getattr(x, "shape", ()))
    if len(shape) in (spatial + 1, spatial + 2) and shape[-spatial - 1] != in_ch:
        raise ValueError(f"{name}: input of shape {shape} has {shape[-spatial - 1]} channels, "
                         f"but the weight of shape {weight.shape} takes {in_ch}")
    out_ch = weight.shape[1] * count
    if bias is not None and bias.shape != (out_ch,):
        raise ValueError(f"{name}: bias of shape {bias.shape}, expected ({out_ch},) for weight "
                         f"of shape {weight.shape} and groups={count}")
    return count


def _pool_geometry(name: str, kernel_size: Any, stride: Any, padding: Any, dilation: Any,
                   ceil_mode: bool, n: int) -> tuple[tuple[int, ...], ...]:
    kernel = ntuple(kernel_size, n, "kernel_size")
    stride_ = kernel if stride is None or stride == [] else ntuple(stride, n, "stride")
    pads = ntuple(padding, n, "padding")
    if ntuple(dilation, n, "dilation") != (1,) * n:
        raise NotImplementedError(f"{name}: dilation is not supported")
    if ceil_mode:
        raise NotImplementedError(f"{name}: ceil_mode=True is not supported (pad the input)")
    if any(p > k // 2 for p, k in zip(pads, kernel)):
        raise ValueError(f"{name}: pad should be at most half of effective kernel size, got "
                         f"padding={padding} and kernel_size={kernel_size}")
    return kernel, stride_, tuple((p, p) for p in pads)


def max_pool2d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,  # noqa: A002
               dilation: Any = 1, ceil_mode: bool = False,
               return_indices: bool = False) -> Tensor:
    """torch's ``F.max_pool2d`` on (N, C, H, W) or (C, H, W); ``stride`` defaults to
    ``kernel_size``; padded cells are -inf, so they never win. A tie's gradient goes to the
    first maximum, as torch's. Not supported: dilation, ceil_mode, return_indices.

    >>> y = F.max_pool2d(x, 2)   # (8, 16, 32, 32) -> (8, 16, 16, 16)
    """
    if return_indices:
        raise NotImplementedError("max_pool2d: return_indices=True is not supported")
    kernel, stride_, pads = _pool_geometry("max_pool2d", kernel_size, stride, padding, dilation,
                                           ceil_mode, 2)

    def run(x: Tensor) -> Tensor:  # padded inside, where it never takes the gradient
        return channels_first(P.max_pool2d(channels_last(x), kernel, stride_, pads))

    return batched("max_pool2d", run, input, 2)


def avg_pool2d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,  # noqa: A002
               ceil_mode: bool = False, count_include_pad: bool = True,
               divisor_override: int | None = None) -> Tensor:
    """torch's ``F.avg_pool2d`` on (N, C, H, W) or (C, H, W): zero padding counted in the
    average unless ``count_include_pad=False``; ``divisor_override`` divides the window's sum
    instead. Not supported: ceil_mode.

    >>> y = F.avg_pool2d(x, 3, stride=1, padding=1)   # same height and width
    """
    kernel, stride_, pads = _pool_geometry("avg_pool2d", kernel_size, stride, padding, 1,
                                           ceil_mode, 2)

    def run(x: Tensor) -> Tensor:
        y = P.avg_pool2d(nhwc_pad(channels_last(x), pads), kernel, stride_, "valid")
        if divisor_override:
            y = y * (kernel[0] * kernel[1] / divisor_override)
        elif not count_include_pad and pads != ((0, 0), (0, 0)):
            # the fraction of each window that is real input: the mean of a padded ones map
            real = get_xp(x.data).ones((1, *x.shape[2:], 1), dtype=x.dtype)
            ones = nhwc_pad(Tensor._wrap(real), pads)
            y = y / P.avg_pool2d(ones, kernel, stride_, "valid")
        return channels_first(y)

    return batched("avg_pool2d", run, input, 2)


def _pool1d(pool2d: Any, name: str, input: Tensor, kernel_size: Any, stride: Any,  # noqa: A002
            padding: Any, **options: Any) -> Tensor:
    """A 1-D pooling as the 2-D one over a height of 1."""
    stride_ = None if stride is None or stride == [] else (1, ntuple(stride, 1, "stride")[0])

    def run(x: Tensor) -> Tensor:
        y = pool2d(S.expand_dims(x, 2), (1, ntuple(kernel_size, 1, "kernel_size")[0]),
                   stride_, (0, ntuple(padding, 1, "padding")[0]), **options)
        return S.squeeze(y, 2)

    return batched(name, run, input, 1)


def max_pool1d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,  # noqa: A002
               dilation: Any = 1, ceil_mode: bool = False,
               return_indices: bool = False) -> Tensor:
    """torch's ``F.max_pool1d`` on (N, C, L) or (C, L), as :func:`max_pool2d`."""
    return _pool1d(max_pool2d, "max_pool1d", input, kernel_size, stride, padding,
                   dilation=dilation, ceil_mode=ceil_mode, return_indices=return_indices)


def avg_pool1d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,  # noqa: A002
               ceil_mode: bool = False, count_include_pad: bool = True) -> Tensor:
    """torch's ``F.avg_pool1d`` on (N, C, L) or (C, L), as :func:`avg_pool2d`."""
    return _pool1d(avg_pool2d, "avg_pool1d", input, kernel_size, stride, padding,
                   ceil_mode=ceil_mode, count_include_pad=count_include_pad)
