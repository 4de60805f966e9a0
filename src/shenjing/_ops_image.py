"""``keras.ops.image``: ``resize`` (the ``Resizing`` layer's separable maps: TensorFlow's
half-pixel bilinear, nearest and area, differentiable in the images) and ``rgb_to_grayscale``
(Keras's weights 0.2989, 0.5870, 0.1140), on channels-last images, batched or single."""

from __future__ import annotations

from typing import Any

import numpy as np

from . import functional as F
from ._ops_common import _float
from .autograd import Tensor


def _batched(images: Any, data_format: str | None, fn: Any) -> Tensor:
    """``fn`` on (N, H, W, C) images; one image (H, W, C) gets a batch axis for the call, and
    'channels_first' is moved to channels last and back."""
    x = _float(images)
    if x.ndim not in (3, 4):
        raise ValueError(f"ops.image: expected images (batch, height, width, channels) or one "
                         f"image (height, width, channels), got shape {x.shape}")
    first = data_format == "channels_first"
    if first:
        x = F.transpose(x, (0, 2, 3, 1) if x.ndim == 4 else (1, 2, 0))
    single = x.ndim == 3
    y = fn(F.expand_dims(x, 0) if single else x)
    y = F.squeeze(y, 0) if single else y
    if first:
        y = F.transpose(y, (0, 3, 1, 2) if y.ndim == 4 else (2, 0, 1))
    return y


def resize(images: Any, size: Any, interpolation: str = "bilinear", antialias: bool = False,
           crop_to_aspect_ratio: bool = False, pad_to_aspect_ratio: bool = False,
           fill_mode: str = "constant", fill_value: float = 0.0,
           data_format: str | None = None) -> Tensor:
    """Images resized to ``size`` (height, width) with 'bilinear', 'nearest' or 'area'
    sampling, as the ``Resizing`` layer (TensorFlow's ``resize`` without antialias)."""
    from .layers.resizing import INTERPOLATIONS
    from .layers.resizing import resize as resize_nhwc

    if interpolation not in INTERPOLATIONS:
        raise ValueError(f"ops.image.resize: interpolation must be one of {INTERPOLATIONS}, "
                         f"got {interpolation!r}")
    if antialias or crop_to_aspect_ratio or pad_to_aspect_ratio:
        raise NotImplementedError("ops.image.resize: antialias, crop_to_aspect_ratio and "
                                  "pad_to_aspect_ratio are not supported (the Resizing layer "
                                  "crops to the aspect ratio)")
    height, width = (int(n) for n in size)
    return _batched(images, data_format,
                    lambda x: resize_nhwc(x, height, width, interpolation))


def rgb_to_grayscale(images: Any, data_format: str | None = None) -> Tensor:
    """One channel of luminance, ``0.2989 R + 0.5870 G + 0.1140 B`` (Keras's weights)."""
    def gray(x: Tensor) -> Tensor:
        if x.shape[-1] != 3:
            raise ValueError(f"ops.image.rgb_to_grayscale: expected 3 channels, got "
                             f"{x.shape[-1]}")
        weights = np.array([0.2989, 0.5870, 0.1140], dtype=x.dtype)
        return F.sum(x * weights, axis=-1, keepdims=True)

    return _batched(images, data_format, gray)


__all__ = ["resize", "rgb_to_grayscale"]
