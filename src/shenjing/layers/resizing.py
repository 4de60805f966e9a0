"""``Resizing``: Keras 3's image resize layer (loaded on first use, as the other image layers).

Each interpolation is separable: one (out, in) weight matrix per axis, applied by two matmuls
('bilinear', 'area') or two gathers ('nearest'), so the layer needs no op of its own and its
gradient with respect to the images is the transposed maps (autograd's matmul and getitem).
The sampling follows TensorFlow's ``tf.image.resize`` with ``antialias=False`` (Keras's
default), which is torch's ``F.interpolate(mode='bilinear', align_corners=False)`` and
``mode='nearest-exact'``: output pixel ``i`` reads the input at ``(i + 0.5) * in / out - 0.5``
(half-pixel centres), clamped to the edge pixels.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import functional as F
from ..autograd import Tensor
from .layer import Layer
from .pooling import _data_format

INTERPOLATIONS = ("bilinear", "nearest", "area")


def _weights(n_in: int, n_out: int, method: str) -> np.ndarray:
    """The (n_out, n_in) float64 matrix taking one axis of ``n_in`` pixels to ``n_out``."""
    scale = n_in / n_out
    rows = np.arange(n_out)
    weights = np.zeros((n_out, n_in))
    if method == "bilinear":  # TF's half-pixel bilinear: two neighbours, clamped at the edges
        src = np.maximum((rows + 0.5) * scale - 0.5, 0.0)
        lo = np.minimum(np.floor(src).astype(np.intp), n_in - 1)
        hi = np.minimum(lo + 1, n_in - 1)
        frac = np.clip(src - lo, 0.0, 1.0)
        weights[rows, lo] = 1 - frac
        weights[rows, hi] += frac  # hi == lo at the last pixel: the weights still add to 1
    else:  # 'area' (TF's resize_area): output i averages the input over [i, i + 1) * scale
        start, stop = rows * scale, (rows + 1) * scale
        cols = np.arange(n_in)
        overlap = np.minimum(stop[:, None], cols + 1) - np.maximum(start[:, None], cols)
        weights = np.maximum(overlap, 0.0) / scale
    return weights


def _nearest(n_in: int, n_out: int) -> np.ndarray:
    """TF's half-pixel nearest neighbour (torch's 'nearest-exact'): floor((i + 0.5) * scale)."""
    return np.minimum(np.floor((np.arange(n_out) + 0.5) * (n_in / n_out)).astype(np.intp),
                      n_in - 1)


def resize(images: Tensor, height: int, width: int, interpolation: str = "bilinear") -> Tensor:
    """Resize NHWC ``images`` to ``height`` x ``width`` (differentiable in the images)."""
    n, h, w, c = images.shape
    if interpolation == "nearest":  # two gathers; their backward adds each copy's gradient
        if h != height:
            images = F.getitem(images, (slice(None), _nearest(h, height)))
        if w != width:
            images = F.getitem(images, (slice(None), slice(None), _nearest(w, width)))
        return images
    xp, dtype = images.xp, images.dtype
    if h != height:  # (height, h) @ (n, h, w * c): rows of every image at once
        rows = Tensor(xp.asarray(_weights(h, height, interpolation), dtype=dtype))
        images = F.reshape(F.matmul(rows, F.reshape(images, (n, h, w * c))),
                           (n, height, w, c))
    if w != width:  # (width, w) @ (n * height, w, c): then the columns
        cols = Tensor(xp.asarray(_weights(w, width, interpolation), dtype=dtype))
        images = F.reshape(F.matmul(cols, F.reshape(images, (n * height, w, c))),
                           (n, height, width, c))
    return images


class Resizing(Layer):
    """Resize images to ``height`` x ``width`` (Keras 3's ``Resizing``), optionally keeping
    their aspect ratio by first cropping the largest centred window of the target's ratio
    (``crop_to_aspect_ratio``) or padding with ``fill_value`` to it (``pad_to_aspect_ratio``).

    Args:
        height, width: the output size.
        interpolation: 'bilinear' (default), 'nearest' or 'area' (TF's: each output pixel the
            mean of the input area it covers). Keras's 'bicubic' and 'lanczos3/5' are not
            implemented.
        crop_to_aspect_ratio: crop to the target's aspect ratio before resizing.
        pad_to_aspect_ratio: pad to it (the same on both sides) before resizing.
        fill_mode: how padding is filled: 'constant' only (as Keras).
        fill_value: the padding's value.
        antialias: False only (Keras's default; True, a filter when downsampling, is not
            implemented).
        data_format: 'channels_last' (default) or 'channels_first'.

    Input shape: (batch, H, W, channels) or (H, W, channels); channels first with
        'channels_first'. Integer images become the layer's float dtype.
    Output shape: (batch, height, width, channels) or (height, width, channels).

    >>> Resizing(224, 224, crop_to_aspect_ratio=True)(images)
    """

    def __init__(self, height: int, width: int, interpolation: str = "bilinear",
                 crop_to_aspect_ratio: bool = False, pad_to_aspect_ratio: bool = False,
                 fill_mode: str = "constant", fill_value: float = 0.0, antialias: bool = False,
                 data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        method = interpolation.lower() if isinstance(interpolation, str) else interpolation
        if method in ("bicubic", "lanczos3", "lanczos5"):
            raise NotImplementedError(f"Resizing: interpolation={interpolation!r} is not "
                                      f"implemented; use one of {INTERPOLATIONS}")
        if method not in INTERPOLATIONS:
            raise ValueError(f"Resizing: interpolation must be one of {INTERPOLATIONS}, got "
                             f"{interpolation!r}")
        if crop_to_aspect_ratio and pad_to_aspect_ratio:
            raise ValueError("Resizing: only one of crop_to_aspect_ratio and "
                             "pad_to_aspect_ratio can be True")
        if fill_mode != "constant":
            raise ValueError(f"Resizing: fill_mode must be 'constant' (the only one Keras "
                             f"supports), got {fill_mode!r}")
        if antialias:
            raise NotImplementedError("Resizing: antialias=True is not implemented")
        if min(height, width) < 1:
            raise ValueError(f"Resizing needs a positive height and width, got {height}x{width}")
        self.height, self.width = int(height), int(width)
        self.interpolation = method
        self.crop_to_aspect_ratio = bool(crop_to_aspect_ratio)
        self.pad_to_aspect_ratio = bool(pad_to_aspect_ratio)
        self.fill_mode, self.fill_value, self.antialias = fill_mode, fill_value, bool(antialias)
        self.data_format = _data_format(data_format)

    def call(self, x: Tensor) -> Tensor:
        if x.ndim not in (3, 4):
            raise ValueError(f"Layer '{self.name}' (Resizing) expects images (batch, height, "
                             f"width, channels) or (height, width, channels), got input of "
                             f"shape {x.shape}")
        if x.dtype.kind != "f":  # uint8 images (Keras: the compute dtype)
            x = F.cast(x, self.dtype)
        single = x.ndim == 3
        if single:
            x = F.reshape(x, (1, *x.shape))
        if self.data_format == "channels_first":
            x = F.transpose(x, (0, 2, 3, 1))
        x = self._to_aspect_ratio(x)
        y = resize(x, self.height, self.width, self.interpolation)
        if self.data_format == "channels_first":
            y = F.transpose(y, (0, 3, 1, 2))
        return F.reshape(y, y.shape[1:]) if single else y

    def _to_aspect_ratio(self, x: Tensor) -> Tensor:
        """Keras 3's centred crop or symmetric pad to the target's aspect ratio (its formulas,
        truncating as ``int(float(...))``)."""
        h, w = x.shape[1], x.shape[2]
        if self.crop_to_aspect_ratio:
            crop_h = max(min(h, int(w * self.height / self.width)), 1)
            crop_w = max(min(w, int(h * self.width / self.height)), 1)
            top, left = int((h - crop_h) / 2), int((w - crop_w) / 2)
            if (crop_h, crop_w) != (h, w):
                x = F.getitem(x, (slice(None), slice(top, top + crop_h),
                                  slice(left, left + crop_w)))
        elif self.pad_to_aspect_ratio:
            pad_h = max(h, int(w * self.height / self.width))
            pad_w = max(w, int(h * self.width / self.height))
            top, left = int((pad_h - h) / 2), int((pad_w - w) / 2)
            if top or left:
                x = F.pad(x, ((0, 0), (top, top), (left, left), (0, 0)),
                          constant_values=self.fill_value)
        return x
