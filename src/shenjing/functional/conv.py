"""2-D convolution, channels-last (NHWC) with Keras's kernel layout (kh, kw, in, out).

The forward is im2col + one GEMM: a strided *view* of the padded input has shape
(N, Ho, Wo, kh, kw, C) without copying anything; copying it as (N*Ho*Wo, kh*kw*C) makes the one
copy (the "columns"), and ``cols @ W`` with W reshaped to (kh*kw*C, F) is the whole convolution.
The backward is two more GEMMs and col2im: the column gradient is added back into the padded
input gradient one kernel offset at a time (kh*kw strided-slice ``+=``), never with
``np.add.at``, whose unbuffered element-by-element scatter is far slower. A fused ReLU is
applied in place on the output, and its mask is read back from it.

Both directions run per slice of the batch on the intra-op threads (:mod:`shenjing.parallel`):
each core copies, multiplies, adds the bias and activates its own images (and in the backward
masks, multiplies and scatters them, returning partial sums of gW and gb).

Padding follows TensorFlow exactly (see :func:`conv_output_size`), including 'same' with an odd
amount of padding, where the extra row/column goes at the bottom/right.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.lib.stride_tricks import as_strided

from .. import native, parallel
from ..autograd import Function, Tensor
from ..backend import get_xp
from ..native import address
from . import elementwise as E
from . import linalg as L
from . import reduction as R
from . import shape as S
from ._util import activation_bias_grads, add_bias_activate, check_fused_activation


def ints(value: Any, rank: int, name: str, minimum: int = 1) -> tuple[int, ...]:
    """``value`` (an int, or ``rank`` ints) as ``rank`` ints of at least ``minimum``: 1
    (positive: sizes and strides) or 0 (non-negative: paddings and croppings)."""
    values = (value,) * rank if isinstance(value, (int, np.integer)) else (
        tuple(value) if hasattr(value, "__iter__") else ())
    if len(values) != rank or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool)
                                      and v >= minimum for v in values):
        kind = "positive" if minimum else "non-negative"
        several = f" or a pair of {kind} ints" if rank == 2 else ""
        raise ValueError(f"{name} must be a {kind} int{several}, got {value!r}")
    return tuple(int(v) for v in values)


def pair(value: Any, name: str) -> tuple[int, int]:
    """``value`` (an int or a pair of ints) as a pair of positive ints."""
    return ints(value, 2, name)  # type: ignore[return-value]


def conv_output_size(size: int, window: int, stride: int, dilation: int,
                     padding: str) -> tuple[int, int, int]:
    """Output length and (before, after) padding of one spatial axis, as TensorFlow computes them.

    'valid': out = ceil((size - (window - 1) * dilation) / stride), no padding.
    'same':  out = ceil(size / stride); total padding = max((out - 1) * stride + effective
             window - size, 0), split with the odd pixel after (bottom/right).
    """
    span = (window - 1) * dilation + 1  # the effective (dilated) window
    if padding == "valid":
        return (size - span) // stride + 1 if size >= span else 0, 0, 0
    if padding == "same":
        out = -(-size // stride)
        total = max((out - 1) * stride + span - size, 0)
        return out, total // 2, total - total // 2
    raise ValueError(f"padding must be 'valid' or 'same', got {padding!r}")


def pad_hw(x: Any, pads: tuple[int, int, int, int], value: float = 0.0) -> Any:
    """``x`` (N, H, W, C) with (top, bottom, left, right) rows/columns of ``value`` around it;
    ``x`` itself (no copy) when there is nothing to pad."""
    top, bottom, left, right = pads
    if not any(pads):
        return x
    xp = get_xp(x)
    n, h, w, c = x.shape
    out = xp.empty((n, h + top + bottom, w + left + right, c), dtype=x.dtype)
    # Fill only the border, then copy x once into the middle.
    out[:, :top] = value
    out[:, top + h:] = value
    out[:, top:top + h, :left] = value
    out[:, top:top + h, left + w:] = value
    out[:, top:top + h, left:left + w] = x
    return out


def window_slices(offset: tuple[int, int], out_hw: tuple[int, int], strides: tuple[int, int],
                  dilation: tuple[int, int] = (1, 1)) -> tuple[slice, slice]:
    """The (rows, columns) strided slices of the padded input that kernel offset (i, j) meets,
    one element per output pixel."""
    (i, j), (ho, wo), (sh, sw), (dh, dw) = offset, out_hw, strides, dilation
    return (slice(i * dh, i * dh + (ho - 1) * sh + 1, sh),
            slice(j * dw, j * dw + (wo - 1) * sw + 1, sw))


def _strided_view(a: Any, shape: tuple[int, ...], strides: tuple[int, ...]) -> Any:
    """A read-only view of ``a`` with the given shape and byte strides (NumPy or CuPy)."""
    xp = get_xp(a)
    if xp is np:
        return as_strided(a, shape=shape, strides=strides, writeable=False)
    return xp.lib.stride_tricks.as_strided(a, shape=shape, strides=strides)


def window_view(xpad: Any, out_hw: tuple[int, int], kernel_hw: tuple[int, int],
                strides: tuple[int, int], dilation: tuple[int, int]) -> Any:
    """The (N, Ho, Wo, kh, kw, C) read-only view of the padded input ``xpad`` in which output
    pixel (p, q) and kernel offset (i, j) read xpad[p*sh + i*dh, q*sw + j*dw]: im2col, uncopied."""
    s_n, s_h, s_w, s_c = xpad.strides
    return _strided_view(xpad, (xpad.shape[0], *out_hw, *kernel_hw, xpad.shape[3]),
                         (s_n, s_h * strides[0], s_w * strides[1], s_h * dilation[0],
                          s_w * dilation[1], s_c))


def _add_columns(target: Any, gcols: Any, out_hw: tuple[int, int], strides: tuple[int, int],
                 dilation: tuple[int, int]) -> None:
    """col2im: add each column entry of ``gcols`` (N, Ho, Wo, kh, kw, C) back into ``target``
    (the padded input's gradient) where it was read from: one C pass over gcols where the
    kernels apply, else a loop over the kernel offsets (strided ``+=``, never ``add.at``)."""
    kernels = native.kernels_for(gcols, target)
    if kernels is not None:
        kernels.sj_col2im(*target.shape[:3], target.shape[3], *out_hw, *gcols.shape[3:5],
                          *strides, *dilation, address(gcols), address(target))
        return
    for i in range(gcols.shape[3]):
        for j in range(gcols.shape[4]):
            rows, cols_ = window_slices((i, j), out_hw, strides, dilation)
            target[:, rows, cols_] += gcols[:, :, :, i, j]


def geometry(kernel_hw: tuple[int, int], strides: tuple[int, int], dilation: tuple[int, int],
              pads: tuple[int, int, int, int], out_hw: tuple[int, int]) -> dict[str, Any]:
    """A convolution's geometry, as :func:`_im2col` and :func:`_col2im` take it."""
    return {"kernel_hw": kernel_hw, "strides": strides, "dilation": dilation, "pads": pads,
            "out_hw": out_hw}


def _fill_columns(cols: Any, xpad: Any, strides: tuple[int, int],
                  dilation: tuple[int, int]) -> None:
    """im2col: ``cols`` (N, Ho, Wo, kh, kw, C) made from the padded input ``xpad``, in one C
    pass where the kernels apply (NumPy's strided copy runs c-long loops: slow for RGB)."""
    kernels = native.kernels_for(cols, xpad)
    if kernels is not None:
        kernels.sj_im2col(*xpad.shape, *cols.shape[1:5], *strides, *dilation,
                          address(xpad), address(cols))
    else:
        cols[...] = window_view(xpad, cols.shape[1:3], cols.shape[3:5], strides, dilation)


def _im2col(x: Any, geom: dict[str, Any]) -> Any:
    """The columns (N, Ho, Wo, kh, kw, C) of ``x`` for the convolution geometry ``geom``."""
    xp, xpad = get_xp(x), pad_hw(x, geom["pads"])
    cols = xp.empty((x.shape[0], *geom["out_hw"], *geom["kernel_hw"], x.shape[3]), x.dtype)
    parallel.over_batch(lambda a, b: _fill_columns(cols[a:b], xpad[a:b], geom["strides"],
                                                   geom["dilation"]),
                        len(x), cols.size, xp is np)
    return cols


def _col2im(cols: Any, x_shape: tuple[int, ...], geom: dict[str, Any]) -> Any:
    """The input gradient of :func:`_im2col`: columns added back, the padding cropped off."""
    top, bottom, left, right = geom["pads"]
    n, h, w, c = x_shape
    xp = get_xp(cols)
    gxpad = xp.zeros((n, h + top + bottom, w + left + right, c), dtype=cols.dtype)
    cols = xp.ascontiguousarray(cols)  # the C pass reads it in order
    parallel.over_batch(lambda a, b: _add_columns(gxpad[a:b], cols[a:b], geom["out_hw"],
                                                  geom["strides"], geom["dilation"]),
                        n, cols.size, xp is np)
    return gxpad[:, top:top + h, left:left + w]


class _Im2Col(Function):
    """cols[n, p, q, i, j, c] = xpad[n, p*sh + i*dh, q*sw + j*dw, c]: the convolutions' columns
    as an op of their own, for their recorded backward (create_graph); backward col2im."""

    def forward(self, x, geom=None):
        self.save_for_backward(x.shape, geom)
        return _im2col(x, geom)

    def backward(self, g):
        return _col2im(g, *self.saved)

    def differentiable_backward(self, g):
        return _Col2Im.apply(g, x_shape=self.saved[0], geom=self.saved[1])


class _Col2Im(Function):
    """col2im as an op: the recorded input gradient of the convolutions; backward im2col."""

    def forward(self, cols, x_shape=(), geom=None):
        self.save_for_backward(geom)
        return _col2im(cols, x_shape, geom)

    def backward(self, g):
        return _im2col(g, self.saved[0])

    def differentiable_backward(self, g):
        return _Im2Col.apply(g, geom=self.saved[0])


def recorded_im2col(x: Tensor, geom: dict[str, Any]) -> Tensor:
    """im2col of an NHWC Tensor as an op: its columns (N, Ho, Wo, kh, kw, C), differentiable
    (torch's ``unfold`` is made of it)."""
    return _Im2Col.apply(x, geom=geom)


def recorded_col2im(cols: Tensor, x_shape: tuple[int, ...], geom: dict[str, Any]) -> Tensor:
    """col2im of a Tensor of columns, recorded: the input gradient of the convolutions and
    poolings under create_graph=True."""
    return _Col2Im.apply(cols, x_shape=x_shape, geom=geom)


class _Conv2D(Function):
    """y[n, p, q, f] = sum_{i, j, c} xpad[n, p*sh + i*dh, q*sw + j*dw, c] W[i, j, c, f] + b[f].

    As matrices, with cols = im2col(xpad) of shape (N*Ho*Wo, kh*kw*C): y = cols @ W2 + b, so
    gW2 = cols^T @ g,  gb = sum of g over N, Ho, Wo,  gcols = g @ W2^T, and gx = col2im(gcols)
    (each column entry added back where it was read from) with the padding cropped off.
    """

    saves_outputs = True
    folds_relu = True  # (its saved values end with (y, activation): _util.fold_relu)

    def forward(self, x, w, b=None, strides=(1, 1), dilation=(1, 1), pads=(0, 0, 0, 0),
                out_hw=(1, 1), activation=None):
        xp = get_xp(x)
        n, _, _, c = x.shape
        kh, kw, _, f = w.shape
        ho, wo = out_hw
        xpad = pad_hw(x, pads)
        k = kh * kw * c
        w2 = w.reshape(k, f)
        need_x, need_w = self.needs_input_grad[0], self.needs_input_grad[1]
        # The columns are kept only for gW (not when the kernel is frozen or nothing is
        # recorded: then each slice's are dropped after its GEMM); W only for gx (not needed for
        # the first layer, whose input needs no gradient).
        cols = xp.empty((n, ho, wo, kh, kw, c), dtype=x.dtype) if need_w else None
        y = xp.empty((n, ho, wo, f), dtype=x.dtype)

        def part(start, stop):  # im2col (the one copy), GEMM, bias, activation of a slice
            batch = slice(start, stop)
            part_cols = (cols[batch] if cols is not None
                         else xp.empty((stop - start, ho, wo, kh, kw, c), dtype=x.dtype))
            _fill_columns(part_cols, xpad[batch], strides, dilation)
            out = y[batch].reshape(-1, f)
            parallel.gemm(part_cols.reshape(-1, k), w2, out)
            add_bias_activate(out, b, activation)

        parallel.over_batch(part, n, n * ho * wo * k, xp is np)
        self.save_for_backward(cols if need_w else None, w2 if need_x else None,
                               x.shape, xpad.shape, w.shape, strides, dilation, pads, out_hw,
                               y if activation else None, activation)
        return y

    def backward(self, g):
        (cols, w2, x_shape, xpad_shape, w_shape, strides, dilation, pads, out_hw, y,
         activation) = self.saved
        need = self.needs_input_grad  # may be narrower than in the forward (grad()'s inputs)
        cols, w2 = (cols if need[1] else None), (w2 if need[0] else None)
        xp = get_xp(g)
        kh, kw, c, f = w_shape
        n = g.shape[0]
        need_b = len(self.needs_input_grad) == 3 and self.needs_input_grad[2]
        gxpad = xp.empty(xpad_shape, dtype=g.dtype) if w2 is not None else None

        def part(start, stop):  # mask, gW and gb partial sums, gcols GEMM and col2im of a slice
            batch = slice(start, stop)
            g2, gb = activation_bias_grads(
                g[batch].reshape(-1, f), y[batch].reshape(-1, f) if y is not None else None,
                activation, need_b)
            gw = parallel.gemm(cols[batch].reshape(len(g2), -1).T, g2) if cols is not None else None
            if gxpad is not None:
                gcols = parallel.gemm(g2, w2.T).reshape(stop - start, *g.shape[1:3], kh, kw, c)
                target = gxpad[batch]
                target[...] = 0
                _add_columns(target, gcols, out_hw, strides, dilation)
            return gw, gb

        partials = parallel.over_batch(part, n, g.size * kh * kw, xp is np)
        gw, gb = (parallel.summed([p[i] for p in partials]) for i in range(2))
        gw = gw.reshape(w_shape) if gw is not None else None
        gx = None
        if gxpad is not None:
            top, _, left, _ = pads
            gx = gxpad[:, top:top + x_shape[1], left:left + x_shape[2]]
        return (gx, gw) if len(self.needs_input_grad) == 2 else (gx, gw, gb)

    def differentiable_backward(self, g):
        x, w = self.inputs[:2]
        need, (strides, dilation, pads, out_hw, y, activation) = (self.needs_input_grad,
                                                                  self.saved[5:])
        kh, kw, c, f = w.shape
        geom = geometry((kh, kw), strides, dilation, pads, out_hw)
        g2 = S.reshape(g, (-1, f))
        if activation:  # the fused ReLU: a constant mask
            g2 = g2 * (y.reshape(-1, f) > 0)
        gx = gw = None
        if need[0]:
            gcols = L.matmul_t(g2, S.reshape(w, (-1, f)), tb=True)
            gx = recorded_col2im(S.reshape(gcols, (*g.shape[:3], kh, kw, c)), x.shape, geom)
        if need[1]:
            cols = S.reshape(_Im2Col.apply(x, geom=geom), (-1, kh * kw * c))
            gw = S.reshape(L.matmul_t(cols, g2, ta=True), w.shape)
        return (gx, gw) if len(need) == 2 else (gx, gw, R.sum(g2, 0) if need[2] else None)


def conv2d(x: Tensor, kernel: Tensor, bias: Tensor | None = None, strides: Any = (1, 1),
           padding: str = "valid", dilation_rate: Any = (1, 1),
           activation: str | None = None) -> Tensor:
    """2-D convolution (cross-correlation, as in Keras and torch) of NHWC images.

    Args:
        x: images, shape (batch, height, width, channels).
        kernel: shape (kernel_h, kernel_w, channels, filters) (Keras's layout).
        bias: shape (filters,), or None.
        strides: an int or (stride_h, stride_w).
        padding: 'valid' (no padding) or 'same' (output = ceil(input / stride), TensorFlow's
            padding, the odd pixel at the bottom/right).
        dilation_rate: an int or (dilation_h, dilation_w); the kernel taps are this far apart.
        activation: None, or 'relu' fused into the op (applied in place on the output; its
            backward masks the gradient with output > 0): one array and one pass fewer each way.

    Returns:
        Shape (batch, out_h, out_w, filters), in x's dtype.

    >>> y = F.conv2d(x, kernel, bias, padding="same")   # (8, 32, 32, 3) -> (8, 32, 32, 16)
    """
    geom = _checked_geometry("conv2d", "filters", x, kernel, bias, kernel.shape[-1],
                                 strides, padding, dilation_rate)
    check_fused_activation(activation, "conv2d")
    x = E.floating_like(x, kernel)
    inputs = (x, kernel) if bias is None else (x, kernel, bias)
    return _Conv2D.apply(*inputs, **geom, activation=activation)


def conv2d_transpose(x: Tensor, kernel: Tensor, strides: tuple[int, int] = (1, 1),
                     dilation_rate: tuple[int, int] = (1, 1),
                     windows: Any = None) -> Tensor:
    """The transposed 2-D convolution (the gradient of :func:`conv2d` with respect to its
    input) of NHWC ``x`` by ``kernel`` (kh, kw, out, in), Keras's layout: each input pixel adds
    ``kernel * x`` to a window of the output, windows ``strides`` apart. The full output has
    ``(h - 1) * s + d * (k - 1) + 1`` rows; ``windows``, ((first, length) of rows, of
    columns), cuts it (Keras's 'same', torch's padding), zeros past its end (an
    ``output_padding``). Computed as one GEMM, each input pixel times the kernel, (N*H*W, in)
    @ (in, kh*kw*out), whose columns col2im adds into the full output, windows ``strides``
    apart: a convolution of the input spread out by zeros did 4x the multiply-adds at
    stride 2. Both steps are recorded ops (matmul; col2im, whose backward is im2col)."""
    n, h, w, c = x.shape
    kh, kw, out, _ = kernel.shape
    (sh, sw), (dh, dw) = strides, dilation_rate
    full = ((h - 1) * sh + dh * (kh - 1) + 1, (w - 1) * sw + dw * (kw - 1) + 1)
    weights = S.reshape(S.transpose(kernel, (3, 0, 1, 2)), (c, kh * kw * out))
    columns = L.matmul(S.reshape(x, (n * h * w, c)), weights)
    y = recorded_col2im(S.reshape(columns, (n, h, w, kh, kw, out)), (n, *full, out),
                        geometry((kh, kw), strides, dilation_rate, (0, 0, 0, 0), (h, w)))
    if windows is None:
        return y
    (top, rows), (left, cols) = windows
    short_h, short_w = top + rows - y.shape[1], left + cols - y.shape[2]
    if short_h > 0 or short_w > 0:  # strides above the kernel: rows no window reaches
        y = S.pad(y, ((0, 0), (0, max(short_h, 0)), (0, max(short_w, 0)), (0, 0)))
    return y[:, top:top + rows, left:left + cols]


def _checked_geometry(op: str, last: str, x: Tensor, kernel: Tensor, bias: Tensor | None,
                      out_channels: int, strides: Any, padding: str,
                      dilation_rate: Any) -> dict[str, Any]:
    """Shape checks shared by the 2-D convolutions, and their strides, dilation, TensorFlow
    pads and output size as keyword arguments of the op."""
    strides_ = pair(strides, "strides")
    dilation = pair(dilation_rate, "dilation_rate")
    if x.ndim != 4:
        raise ValueError(f"{op}: expected input of shape (batch, height, width, channels), "
                         f"got shape {x.shape}")
    if kernel.ndim != 4:
        raise ValueError(f"{op}: expected kernel of shape (kernel_h, kernel_w, in_channels, "
                         f"{last}), got shape {kernel.shape}")
    kh, kw, c, _ = kernel.shape
    if x.shape[3] != c:
        raise ValueError(f"{op}: kernel {kernel.shape} expects {c} input channels, "
                         f"got input of shape {x.shape} with {x.shape[3]} channels")
    if bias is not None and bias.shape != (out_channels,):
        raise ValueError(f"{op}: bias of shape {bias.shape}, expected ({out_channels},)")
    ho, top, bottom = conv_output_size(x.shape[1], kh, strides_[0], dilation[0], padding)
    wo, left, right = conv_output_size(x.shape[2], kw, strides_[1], dilation[1], padding)
    if ho < 1 or wo < 1:
        raise ValueError(f"{op}: input of shape {x.shape} is too small for a {kh}x{kw} kernel "
                         f"with dilation {dilation} and padding {padding!r} (output size "
                         f"{ho}x{wo}; expected at least 1x1)")
    return {"strides": strides_, "dilation": dilation, "pads": (top, bottom, left, right),
            "out_hw": (ho, wo)}


class _DepthwiseConv2D(Function):
    """y[n, p, q, c*M + m] = sum_{i, j} xpad[n, p*sh + i*dh, q*sw + j*dw, c] W[i, j, c, m] + b.

    Where the C kernels are built, native/depthwise.c runs it straight over NHWC memory: each
    tap one multiply-add over a pixel's contiguous channels, both ways, per slice of images
    (5-20x faster than the NumPy path). Else each channel is its own small convolution, so
    im2col is taken per channel, as cols (C, N*Ho*Wo, kh*kw), and the whole op is one batched
    GEMM over the channels: y_c = cols_c @ W_c with W_c (kh*kw, M). Backward: gW_c = cols_c^T
    @ g_c, gb = sum of g, gcols_c = g_c @ W_c^T, and gx = col2im(gcols) as in :class:`_Conv2D`.
    """

    def forward(self, x, w, b=None, strides=(1, 1), dilation=(1, 1), pads=(0, 0, 0, 0),
                out_hw=(1, 1)):
        xp = get_xp(x)
        n, _, _, c = x.shape
        kh, kw, _, m = w.shape
        ho, wo = out_hw
        xpad = xp.ascontiguousarray(pad_hw(x, pads))
        kernels = native.kernels_for(xpad, w)
        if kernels is not None:  # straight over NHWC memory (native/depthwise.c), per image
            y = xp.empty((n, ho, wo, c * m), x.dtype)
            geom = (*xpad.shape[1:], m, ho, wo, kh, kw, *strides, *dilation)
            parallel.over_batch(lambda a, z: kernels.sj_depthwise_fwd(
                z - a, *geom, address(xpad[a:z]), address(w), address(y[a:z])),
                n, 2 * y.size * kh * kw, True)
            if b is not None:
                y += b
            self.save_for_backward(None, w, x.shape, xpad.shape, w.shape, strides, dilation,
                                   pads, out_hw, xpad)
            return y
        cols, w3 = _depthwise_operands(xpad, w, out_hw, strides, dilation)
        y = xp.matmul(cols, w3)  # (C, N*Ho*Wo, M)
        y = y.transpose(1, 0, 2).reshape(n, ho, wo, c * m)
        if b is not None:
            y += b
        self.save_for_backward(cols if self.needs_input_grad[1] else None,
                               w3 if self.needs_input_grad[0] else None,
                               x.shape, xpad.shape, w.shape, strides, dilation, pads, out_hw,
                               None)
        return y

    def _native_grads(self, g, kernels):
        """(gxpad, gw) by native/depthwise.c, per slice of images; gw summed in double."""
        _, w, _, xpad_shape, w_shape, strides, dilation, _, out_hw, xpad = self.saved
        need = self.needs_input_grad
        n = g.shape[0]
        g = np.ascontiguousarray(g)
        gxpad = np.zeros(xpad_shape, dtype=g.dtype) if need[0] else None
        geom = (*xpad_shape[1:], w_shape[3], *out_hw, *w_shape[:2], *strides, *dilation)

        def part(a, z):
            gw = np.zeros(w_shape, np.float64) if need[1] else None
            kernels.sj_depthwise_bwd(z - a, *geom, address(xpad[a:z]), address(w),
                                     address(g[a:z]),
                                     None if gxpad is None else address(gxpad[a:z]),
                                     address(gw))
            return gw

        parts = parallel.over_batch(part, n, 2 * g.size * w_shape[0] * w_shape[1], True)
        return gxpad, (parallel.summed(parts).astype(g.dtype) if need[1] else None)

    def _numpy_grads(self, g, cols, w3):
        """(gxpad, gw) as batched GEMMs over the channels and col2im."""
        _, _, _, xpad_shape, w_shape, strides, dilation, _, out_hw, _ = self.saved
        need = self.needs_input_grad
        cols, w3 = (cols if need[1] else None), (w3 if need[0] else None)
        xp = get_xp(g)
        kh, kw, c, m = w_shape
        n, ho, wo, _ = g.shape
        g3 = g.reshape(n * ho * wo, c, m).transpose(1, 0, 2)  # (C, N*Ho*Wo, M)
        gw = gxpad = None
        if cols is not None:
            gw = xp.matmul(cols.transpose(0, 2, 1), g3).transpose(1, 0, 2).reshape(w_shape)
        if w3 is not None:
            gcols = xp.matmul(g3, w3.transpose(0, 2, 1)).reshape(c, n, ho, wo, kh, kw)
            gcols = gcols.transpose(1, 2, 3, 4, 5, 0)  # (N, Ho, Wo, kh, kw, C)
            gxpad = xp.zeros(xpad_shape, dtype=g.dtype)
            _add_columns(gxpad, gcols, out_hw, strides, dilation)
        return gxpad, gw

    def backward(self, g):
        cols, w3, x_shape, _, _, strides, dilation, pads, out_hw, xpad = self.saved
        kernels = native.kernels_for(xpad) if xpad is not None else None
        if kernels is not None:  # the forward ran natively (and saved w itself where w3 goes)
            gxpad, gw = self._native_grads(g, kernels)
        else:
            if xpad is not None:  # native code turned off since: NumPy's operands from w
                cols, w3 = _depthwise_operands(xpad, w3, out_hw, strides, dilation)
            gxpad, gw = self._numpy_grads(g, cols, w3)
        top, _, left, _ = pads
        gx = None if gxpad is None else gxpad[:, top:top + x_shape[1], left:left + x_shape[2]]
        need = self.needs_input_grad
        gb = g.reshape(-1, g.shape[-1]).sum(axis=0) if len(need) == 3 and need[2] else None
        return (gx, gw) if len(need) == 2 else (gx, gw, gb)

    def differentiable_backward(self, g):
        x, w = self.inputs[:2]
        need, (strides, dilation, pads, out_hw) = self.needs_input_grad, self.saved[5:9]
        kh, kw, c, m = w.shape
        n, ho, wo, _ = g.shape
        geom = geometry((kh, kw), strides, dilation, pads, out_hw)
        g3 = S.transpose(S.reshape(g, (n * ho * wo, c, m)), (1, 0, 2))  # (C, N*Ho*Wo, M)
        w3 = S.transpose(S.reshape(w, (kh * kw, c, m)), (1, 0, 2))  # (C, kh*kw, M)
        gx = gw = None
        if need[0]:
            gcols = S.reshape(L.matmul_t(g3, w3, tb=True), (c, n, ho, wo, kh, kw))
            gx = recorded_col2im(S.transpose(gcols, (1, 2, 3, 4, 5, 0)), x.shape, geom)
        if need[1]:
            cols = S.transpose(_Im2Col.apply(x, geom=geom), (5, 0, 1, 2, 3, 4))
            cols = S.reshape(cols, (c, n * ho * wo, kh * kw))
            gw = S.reshape(S.transpose(L.matmul_t(cols, g3, ta=True), (1, 0, 2)),
                           w.shape)
        gb = R.sum(S.reshape(g, (-1, c * m)), 0) if len(need) == 3 and need[2] else None
        return (gx, gw) if len(need) == 2 else (gx, gw, gb)


def _depthwise_operands(xpad: Any, w: Any, out_hw: tuple[int, int], strides: tuple[int, int],
                        dilation: tuple[int, int]) -> tuple[Any, Any]:
    """NumPy's path's operands: the per-channel columns (C, N*Ho*Wo, kh*kw), copied once from
    the (C, N, Ho, Wo, kh, kw) view of the padded input, and the kernel as (C, kh*kw, M)."""
    kh, kw, c, m = w.shape
    n = xpad.shape[0]
    view = window_view(xpad, out_hw, (kh, kw), strides, dilation).transpose(5, 0, 1, 2, 3, 4)
    cols = get_xp(xpad).ascontiguousarray(view).reshape(c, n * out_hw[0] * out_hw[1], kh * kw)
    return cols, w.reshape(kh * kw, c, m).transpose(1, 0, 2)


def depthwise_conv2d(x: Tensor, kernel: Tensor, bias: Tensor | None = None,
                     strides: Any = (1, 1), padding: str = "valid",
                     dilation_rate: Any = (1, 1)) -> Tensor:
    """Depthwise 2-D convolution of NHWC images: each input channel convolved with its own
    ``depth_multiplier`` filters (torch's ``conv2d(groups=in_channels)``, Keras's
    DepthwiseConv2D).

    Args:
        x: images, shape (batch, height, width, channels).
        kernel: shape (kernel_h, kernel_w, channels, depth_multiplier) (Keras's layout).
        bias: shape (channels * depth_multiplier,), or None.
        strides, padding, dilation_rate: as in :func:`conv2d`.

    Returns:
        Shape (batch, out_h, out_w, channels * depth_multiplier); output channel
        ``c * depth_multiplier + m`` is input channel c under filter m.

    >>> y = F.depthwise_conv2d(x, kernel, padding="same")   # (8, 32, 32, 3), (3, 3, 3, 2) -> 6
    """
    geom = _checked_geometry("depthwise_conv2d", "depth_multiplier", x, kernel, bias,
                                 int(np.prod(kernel.shape[2:])), strides, padding,
                                 dilation_rate)
    x = E.floating_like(x, kernel)
    inputs = (x, kernel) if bias is None else (x, kernel, bias)
    return _DepthwiseConv2D.apply(*inputs, **geom)
