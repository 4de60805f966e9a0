"""2-D max and average pooling of NHWC images, and their global versions.

Both loop over the ph*pw offsets of the pooling window (never over samples, pixels or channels):
offset (i, j) of every window at once is one strided slice of the (padded) input. The backward
adds the gradient back through the same slices with ``+=``, which also handles overlapping
windows (stride < pool size) correctly. Output sizes and 'same' padding are TensorFlow's.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import parallel
from ..autograd import Function, Tensor
from ..backend import get_xp
from . import shape as S
from .conv import conv_output_size, geometry, pad_hw, pair, recorded_col2im, window_slices
from .reduction import max as _reduce_max
from .reduction import mean as _reduce_mean


class _MaxPool2D(Function):
    """y = max over each window of x (padding is -inf, which no real value loses to).

    dy/dx = 1 at the window's maximum and 0 elsewhere. On ties the whole gradient goes to ONE
    element, the first maximum in row-major window order (as torch's max_pool2d), not split:
    the forward remembers which offset won (``arg``), and it changes only on a strictly larger
    value. As torch's CPU kernel (``val > max || isnan(val)``), a window with a NaN sends it to
    its last NaN, and one whose real values are all -inf to its first real element (not to the
    padding, where it was lost).
    """

    def forward(self, x, pool=(2, 2), strides=(2, 2), pads=(0, 0, 0, 0), out_hw=(1, 1)):
        xp = get_xp(x)
        xpad = pad_hw(x, pads, value=-np.inf)
        ph, pw = pool
        windows = [xpad[(slice(None), *window_slices(divmod(k, pw), out_hw, strides))]
                   for k in range(ph * pw)]
        y = xp.empty(windows[0].shape, dtype=x.dtype)
        track = any(self.needs_input_grad)  # the winners are needed only for a backward
        arg = xp.zeros(y.shape, dtype=np.uint8 if ph * pw < 256 else np.int32) if track else None

        def part(start, stop):  # one thread's images
            ys = y[start:stop]
            ys[...] = windows[0][start:stop]
            if track:
                args = arg[start:stop]
                larger = xp.empty(ys.shape, dtype=bool)
                candidate = xp.empty_like(args)
            for k in range(1, ph * pw):
                window = windows[k][start:stop]
                if track:
                    # arg = k where the window is strictly larger. k grows with the loop, so
                    # this is max(arg, larger * k): two cheap integer passes, 10x faster than a
                    # masked copyto/where, which NumPy runs element by element.
                    xp.greater(window, ys, out=larger)
                    xp.multiply(larger, args.dtype.type(k), out=candidate)
                    xp.maximum(args, candidate, out=args)
                xp.maximum(ys, window, out=ys)

        parallel.over_batch(part, len(x), xpad.size * (3 if track else 1), xp is np)
        if track:
            # NaN and -inf windows are rare: found in one pass over y (no sync on a GPU)
            if xp is not np or (not (y > -np.inf).all() if any(pads) else xp.isnan(y).any()):
                _torch_winners(arg, y, windows, x.shape, pads, pool, strides, out_hw)
            self.save_for_backward(arg, x.shape, xpad.shape, pool, strides, pads, out_hw)
        return y

    def backward(self, g):
        arg, x_shape, xpad_shape, pool, strides, pads, out_hw = self.saved
        xp = get_xp(g)

        def winner_grad(k, out, batch):  # g where offset k won the window, else 0
            xp.multiply(g[batch], arg[batch] == k, out=out)

        return _route_back(winner_grad, g, x_shape, xpad_shape, pool, strides, pads, out_hw)

    def differentiable_backward(self, g):
        arg, x_shape, _, pool, strides, pads, out_hw = self.saved
        n, ho, wo, c = g.shape
        offsets = get_xp(arg).arange(pool[0] * pool[1])[:, None]
        won = (arg[:, :, :, None, :] == offsets).reshape(n, ho, wo, *pool, c)  # a constant
        return recorded_col2im(S.reshape(g, (n, ho, wo, 1, 1, c)) * won, x_shape,
                               geometry(pool, strides, (1, 1), pads, out_hw))


def _torch_winners(arg, y, windows, x_shape, pads, pool, strides, out_hw):
    """``arg`` set where the strict comparison of the forward cannot pick torch's winner:
    where y is NaN, the last offset whose value is NaN (NaN > y is never true); where y is
    -inf, the first offset inside the image (a real -inf ties the -inf padding)."""
    xp = get_xp(y)
    inside = pad_hw(xp.ones((1, *x_shape[1:3], 1), bool), pads, value=False)
    won = xp.zeros_like(arg)
    offsets = range(pool[0] * pool[1])
    for k in reversed(offsets):  # the smallest offset inside the image, set last
        real = inside[(slice(None), *window_slices(divmod(k, pool[1]), out_hw, strides))]
        won = xp.where(real, arg.dtype.type(k), won)
    for k in offsets:  # then in NaN windows (only they hold a NaN) the largest NaN offset, last
        won = xp.where(xp.isnan(windows[k]), arg.dtype.type(k), won)
    arg[...] = xp.where(xp.isnan(y) | xp.isneginf(y), won, arg)


class _AvgPool2D(Function):
    """y = mean over each window of x, counting only real (unpadded) elements, as Keras/TF (torch's
    count_include_pad=False).

    dy/dx = 1 / count(window) for every element of the window, summed over the windows that
    contain it.
    """

    def forward(self, x, pool=(2, 2), strides=(2, 2), pads=(0, 0, 0, 0), out_hw=(1, 1)):
        xpad = pad_hw(x, pads)
        ph, pw = pool
        y = None
        for k in range(ph * pw):
            window = xpad[(slice(None), *window_slices(divmod(k, pw), out_hw, strides))]
            if y is None:
                y = window.copy()
            else:
                y += window
        inv_count = _inverse_counts(get_xp(x), x.shape, pool, strides, pads, out_hw, x.dtype)
        y *= inv_count
        self.save_for_backward(inv_count, x.shape, xpad.shape, pool, strides, pads, out_hw)
        return y

    def backward(self, g):
        inv_count, x_shape, xpad_shape, pool, strides, pads, out_hw = self.saved
        share = g * inv_count
        return _route_back(lambda k, out, batch: get_xp(g).copyto(out, share[batch]), g,
                           x_shape, xpad_shape, pool, strides, pads, out_hw)

    def differentiable_backward(self, g):
        inv_count, x_shape, _, pool, strides, pads, out_hw = self.saved
        n, ho, wo, c = g.shape
        cols = S.broadcast_to(S.reshape(g * inv_count, (n, ho, wo, 1, 1, c)),
                              (n, ho, wo, *pool, c))
        return recorded_col2im(cols, x_shape, geometry(pool, strides, (1, 1), pads, out_hw))


def _route_back(fill, g, x_shape, xpad_shape, pool, strides, pads, out_hw):
    """The backward of reading x through the window-offset slices: ``fill(k, out, batch)``
    writes offset k's gradient for the images ``batch`` into ``out``, which lands in k's slice
    of zeros of the padded shape — written in place when windows cannot overlap (each input cell
    is in one window at most), else added — and the padding is cropped off. Images are split
    over the intra-op threads."""
    xp = get_xp(g)
    gxpad = xp.empty(xpad_shape, dtype=g.dtype)
    ph, pw = pool
    overlap = strides[0] < ph or strides[1] < pw

    def part(start, stop):
        batch = slice(start, stop)
        gxpad[batch] = 0
        routed = xp.empty_like(g[batch]) if overlap else None
        for k in range(ph * pw):
            target = gxpad[(batch, *window_slices(divmod(k, pw), out_hw, strides))]
            if routed is None:
                fill(k, target, batch)
            else:
                fill(k, routed, batch)
                target += routed

    parallel.over_batch(part, len(g), gxpad.size * 2, xp is np)
    top, _, left, _ = pads
    return gxpad[:, top:top + x_shape[1], left:left + x_shape[2]]


def _inverse_counts(xp, x_shape, pool, strides, pads, out_hw, dtype):
    """1 / (number of unpadded elements) of each window, shaped (1, Ho, Wo, 1), or a plain scalar
    when no window touches the padding."""
    if not any(pads):
        return dtype.type(1.0 / (pool[0] * pool[1]))
    counts = []
    for axis in range(2):  # rows, then columns: the count is a product of the two
        start = xp.arange(out_hw[axis]) * strides[axis] - pads[2 * axis]
        taps = start[:, None] + xp.arange(pool[axis])[None, :]
        counts.append(((taps >= 0) & (taps < x_shape[1 + axis])).sum(axis=1))
    return (1.0 / xp.multiply.outer(counts[0], counts[1])).astype(dtype)[None, :, :, None]


def _pool(cls: type[Function], name: str, x: Tensor, pool_size: Any, strides: Any,
          padding: str) -> Tensor:
    pool = pair(pool_size, "pool_size")
    strides_ = pool if strides is None else pair(strides, "strides")
    if x.ndim != 4:
        raise ValueError(f"{name}: expected input of shape (batch, height, width, channels), "
                         f"got shape {x.shape}")
    if isinstance(padding, str):
        ho, top, bottom = conv_output_size(x.shape[1], pool[0], strides_[0], 1, padding)
        wo, left, right = conv_output_size(x.shape[2], pool[1], strides_[1], 1, padding)
    else:  # ((top, bottom), (left, right)): torch's explicit padding
        (top, bottom), (left, right) = padding
        ho, wo = ((n + a + b - k) // s + 1 for n, a, b, k, s in zip(
            x.shape[1:3], (top, left), (bottom, right), pool, strides_))
    if ho < 1 or wo < 1:
        raise ValueError(f"{name}: input of shape {x.shape} is too small for pool_size {pool} "
                         f"with padding {padding!r} (output size {ho}x{wo}; expected at least "
                         "1x1)")
    return cls.apply(x, pool=pool, strides=strides_, pads=(top, bottom, left, right),
                     out_hw=(ho, wo))


def max_pool2d(x: Tensor, pool_size: Any = (2, 2), strides: Any = None,
               padding: Any = "valid") -> Tensor:
    """Max pooling of NHWC images (Keras's MaxPooling2D).

    Args:
        x: shape (batch, height, width, channels).
        pool_size: an int or (pool_h, pool_w).
        strides: an int or a pair; None means pool_size (non-overlapping windows).
        padding: 'valid' or 'same' (TensorFlow's padding; padded cells never win), or
            ((top, bottom), (left, right)) rows and columns (torch's).

    Returns:
        Shape (batch, out_h, out_w, channels). The gradient of a window goes to its first
        maximum in row-major order.

    >>> y = F.max_pool2d(x)   # (8, 32, 32, 16) -> (8, 16, 16, 16)
    """
    return _pool(_MaxPool2D, "max_pool2d", x, pool_size, strides, padding)


def avg_pool2d(x: Tensor, pool_size: Any = (2, 2), strides: Any = None,
               padding: str = "valid") -> Tensor:
    """Average pooling of NHWC images (Keras's AveragePooling2D).

    Args:
        x: shape (batch, height, width, channels).
        pool_size: an int or (pool_h, pool_w).
        strides: an int or a pair; None means pool_size.
        padding: 'valid' or 'same'; with 'same', windows that overlap the padding average only
            their real elements (as Keras/TF; torch's ``count_include_pad=False``).

    Returns:
        Shape (batch, out_h, out_w, channels).

    >>> y = F.avg_pool2d(x, 3, strides=1, padding="same")   # (8, 32, 32, 16) -> same shape
    """
    return _pool(_AvgPool2D, "avg_pool2d", x, pool_size, strides, padding)


def global_avg_pool2d(x: Tensor, keepdims: bool = False) -> Tensor:
    """Mean over height and width of NHWC images (Keras's GlobalAveragePooling2D).

    Args:
        x: shape (batch, height, width, channels).
        keepdims: keep the pooled axes with size 1 (Keras's ``keepdims``).

    Returns:
        Shape (batch, channels), or (batch, 1, 1, channels) with ``keepdims``.

    >>> y = F.global_avg_pool2d(x)   # (8, 7, 7, 64) -> (8, 64)
    """
    if x.ndim != 4:
        raise ValueError(f"global_avg_pool2d: expected input of shape (batch, height, width, "
                         f"channels), got shape {x.shape}")
    return _reduce_mean(x, axis=(1, 2), keepdims=keepdims)


def global_max_pool2d(x: Tensor, keepdims: bool = False) -> Tensor:
    """Maximum over height and width of NHWC images (Keras's GlobalMaxPooling2D).

    Args:
        x: shape (batch, height, width, channels).
        keepdims: keep the pooled axes with size 1 (Keras's ``keepdims``).

    Returns:
        Shape (batch, channels), or (batch, 1, 1, channels) with ``keepdims``. Ties share the
        gradient evenly (``F.max``'s rule), unlike max_pool2d, which gives it to one element.

    >>> y = F.global_max_pool2d(x)   # (8, 7, 7, 64) -> (8, 64)
    """
    if x.ndim != 4:
        raise ValueError(f"global_max_pool2d: expected input of shape (batch, height, width, "
                         f"channels), got shape {x.shape}")
    return _reduce_max(x, axis=(1, 2), keepdims=keepdims)
