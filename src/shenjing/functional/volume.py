"""3-D convolution of channels-last volumes (N, D, H, W, C), Keras's kernel layout
(kd, kh, kw, in // groups, out): conv2d's method one dimension up.

The forward is im2col + one GEMM: a strided *view* of the padded input has shape
(N, Do, Ho, Wo, kd, kh, kw, C) without copying; copying it once makes the columns
(N*Do*Ho*Wo, kd*kh*kw*C), and ``cols @ W`` with W as (kd*kh*kw*C, F) is the convolution. With
``groups`` > 1 the columns and the kernel are split by channel group and the GEMM is one batched
matmul over the groups. The backward is two more GEMMs and col2im: the column gradient is added
back into the padded input's gradient one kernel offset at a time (kd*kh*kw strided ``+=``,
never ``np.add.at``). Padding is TensorFlow's on each axis (:func:`conv_output_size`).
"""

from __future__ import annotations

from typing import Any

from ..autograd import Function, Tensor
from ..backend import get_xp
from . import elementwise as E
from .conv import _strided_view, conv_output_size, ints


def _pad3(x: Any, pads: tuple[tuple[int, int], ...]) -> Any:
    """``x`` (N, D, H, W, C) with zeros before/after each spatial axis (no copy if none)."""
    if not any(a or b for a, b in pads):
        return x
    xp = get_xp(x)
    n, d, h, w, c = x.shape
    (f0, f1), (t0, t1), (l0, l1) = pads
    out = xp.zeros((n, d + f0 + f1, h + t0 + t1, w + l0 + l1, c), dtype=x.dtype)
    out[:, f0:f0 + d, t0:t0 + h, l0:l0 + w] = x
    return out


def _window_view3(xpad: Any, out: tuple[int, ...], kernel: tuple[int, ...],
                  strides: tuple[int, ...], dilation: tuple[int, ...]) -> Any:
    """The (N, Do, Ho, Wo, kd, kh, kw, C) read-only view in which output voxel (p, q, r) and
    kernel offset (a, b, e) read xpad[p*sd + a*dd, q*sh + b*dh, r*sw + e*dw]."""
    s_n, *s_dhw, s_c = xpad.strides
    return _strided_view(xpad, (xpad.shape[0], *out, *kernel, xpad.shape[4]),
                         (s_n, *(s * k for s, k in zip(s_dhw, strides)),
                          *(s * k for s, k in zip(s_dhw, dilation)), s_c))


def _offset_slices(offset: tuple[int, ...], out: tuple[int, ...], strides: tuple[int, ...],
                   dilation: tuple[int, ...]) -> tuple[slice, ...]:
    """The strided slices of the padded input that kernel offset ``offset`` meets."""
    return tuple(slice(i * d, i * d + (o - 1) * s + 1, s)
                 for i, o, s, d in zip(offset, out, strides, dilation))


class _Conv3D(Function):
    """y[n, p, q, r, f] = sum_{a, b, e, c} xpad[n, p*sd + a*dd, q*sh + b*dh, r*sw + e*dw, c]
    W[a, b, e, c, f] + bias[f] (within the channel group of f).

    As matrices per group g, with cols_g (M, K) the group's columns and W_g (K, F/G):
    y_g = cols_g @ W_g + b, so gW_g = cols_g^T @ g_g, gb = sum of g over N, Do, Ho, Wo,
    gcols_g = g_g @ W_g^T, and gx = col2im(gcols) with the padding cropped off.
    """

    def forward(self, x, w, b=None, strides=(1, 1, 1), dilation=(1, 1, 1), pads=((0, 0),) * 3,
                out=(1, 1, 1), groups=1):
        xp = get_xp(x)
        n, c = x.shape[0], x.shape[4]
        kernel, f = w.shape[:3], w.shape[4]
        k3 = kernel[0] * kernel[1] * kernel[2]
        m = n * out[0] * out[1] * out[2]
        xpad = _pad3(x, pads)
        cols = xp.ascontiguousarray(_window_view3(xpad, out, kernel, strides, dilation))
        # (G, M, K3*Cg) columns and (G, K3*Cg, F/G) kernels: a plain reshape when G == 1
        cols = cols.reshape(m, k3, groups, c // groups).transpose(2, 0, 1, 3).reshape(
            groups, m, -1)
        wg = w.reshape(k3, c // groups, groups, f // groups).transpose(2, 0, 1, 3).reshape(
            groups, -1, f // groups)
        y = xp.matmul(cols, wg).transpose(1, 0, 2).reshape(n, *out, f)
        if b is not None:
            y += b
        need = self.needs_input_grad
        self.save_for_backward(cols if need[1] else None, wg if need[0] else None, x.shape,
                               xpad.shape, w.shape, strides, dilation, pads, out, groups)
        return y

    def backward(self, g):
        cols, wg, x_shape, xpad_shape, w_shape, strides, dilation, pads, out, groups = self.saved
        need = self.needs_input_grad  # may be narrower than in the forward (grad()'s inputs)
        xp = get_xp(g)
        kernel, c, f = w_shape[:3], x_shape[4], w_shape[4]
        k3 = kernel[0] * kernel[1] * kernel[2]
        g2 = g.reshape(-1, f)
        gg = g2.reshape(len(g2), groups, f // groups).transpose(1, 0, 2)  # (G, M, F/G)
        gx = gw = gb = None
        if need[1] and cols is not None:
            gw = xp.matmul(cols.transpose(0, 2, 1), gg)  # (G, K3*Cg, F/G)
            gw = gw.reshape(groups, k3, c // groups, f // groups).transpose(1, 2, 0, 3)
            gw = gw.reshape(w_shape)
        if len(need) == 3 and need[2]:
            gb = g2.sum(axis=0)
        if need[0] and wg is not None:
            gcols = xp.matmul(gg, wg.transpose(0, 2, 1))  # (G, M, K3*Cg)
            gcols = gcols.reshape(groups, len(g2), k3, c // groups).transpose(1, 2, 0, 3)
            gcols = gcols.reshape(g.shape[0], *out, *kernel, c)
            gxpad = xp.zeros(xpad_shape, dtype=g.dtype)
            for a in range(kernel[0]):  # col2im: one strided += per kernel offset
                for b_ in range(kernel[1]):
                    for e in range(kernel[2]):
                        where = _offset_slices((a, b_, e), out, strides, dilation)
                        gxpad[(slice(None), *where)] += gcols[:, :, :, :, a, b_, e]
            (f0, _), (t0, _), (l0, _) = pads
            gx = gxpad[:, f0:f0 + x_shape[1], t0:t0 + x_shape[2], l0:l0 + x_shape[3]]
        return (gx, gw) if len(need) == 2 else (gx, gw, gb)


def conv3d(x: Tensor, kernel: Tensor, bias: Tensor | None = None, strides: Any = 1,
           padding: str = "valid", dilation_rate: Any = 1, groups: int = 1) -> Tensor:
    """3-D convolution (cross-correlation, as Keras and torch) of channels-last volumes.

    Args:
        x: volumes, shape (batch, depth, height, width, channels).
        kernel: shape (kernel_d, kernel_h, kernel_w, channels // groups, filters) (Keras's).
        bias: shape (filters,), or None.
        strides, dilation_rate: an int or 3 ints.
        padding: 'valid' or 'same' (TensorFlow's: output ceil(input / stride) per axis, the
            odd voxel after).
        groups: split the channels and filters into this many groups, each convolved on its
            own (torch's ``groups``); channels and filters must divide by it.

    Returns:
        Shape (batch, out_d, out_h, out_w, filters), in x's dtype.

    >>> y = F.conv3d(x, kernel, padding="same")   # (2, 8, 8, 8, 3), (3, 3, 3, 3, 4) -> 4 ch.
    """
    strides_ = ints(strides, 3, "strides")
    dilation = ints(dilation_rate, 3, "dilation_rate")
    if x.ndim != 5:
        raise ValueError(f"conv3d: expected input of shape (batch, depth, height, width, "
                         f"channels), got shape {x.shape}")
    if kernel.ndim != 5:
        raise ValueError(f"conv3d: expected kernel of shape (kernel_d, kernel_h, kernel_w, "
                         f"in_channels // groups, filters), got shape {kernel.shape}")
    if isinstance(groups, bool) or int(groups) != groups or groups < 1:
        raise ValueError(f"conv3d: groups must be a positive int, got {groups!r}")
    *kernel_dhw, cg, filters = kernel.shape
    if x.shape[4] != cg * groups or filters % groups:
        raise ValueError(f"conv3d: kernel {kernel.shape} with groups={groups} expects "
                         f"{cg * groups} input channels and filters divisible by {groups}, got "
                         f"input of shape {x.shape}")
    if bias is not None and bias.shape != (filters,):
        raise ValueError(f"conv3d: bias of shape {bias.shape}, expected ({filters},)")
    sizes = [conv_output_size(size, k, s, d, padding)
             for size, k, s, d in zip(x.shape[1:4], kernel_dhw, strides_, dilation)]
    out = tuple(o for o, _, _ in sizes)
    if min(out) < 1:
        raise ValueError(f"conv3d: input of shape {x.shape} is too small for a "
                         f"{'x'.join(map(str, kernel_dhw))} kernel with dilation {dilation} and "
                         f"padding {padding!r} (output size {out})")
    x = E.floating_like(x, kernel)
    inputs = (x, kernel) if bias is None else (x, kernel, bias)
    return _Conv3D.apply(*inputs, strides=strides_, dilation=dilation,
                         pads=tuple((a, b) for _, a, b in sizes), out=out, groups=int(groups))
