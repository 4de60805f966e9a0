"""Image augmentation (Keras 3's RandomRotation, RandomZoom and RandomTranslation, each image
resampled through its own affine map; RandomBrightness and RandomContrast), active in training
(by default, as Keras 3), and the deterministic CenterCrop.

The affine layers draw one transform per image and hand it to :func:`affine_sample`, which maps
every output pixel (x, y) to an input point ``(a0 x + a1 y + a2, b0 x + b1 y + b2)`` (Keras's
transform layout) and reads it there with nearest or bilinear interpolation. Each interpolation
neighbour outside the image is mapped back by the fill mode, as Keras's ``map_coordinates``
does: 'reflect' (d c b a | a b c d | d c b a), 'wrap' (a b c d | a b c d), 'nearest'
(a a a a | a b c d | d d d d) or 'constant' (``fill_value``). The sampling is a gather and a
weighted sum of existing ops, so a gradient reaches the input when it needs one.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import functional as F
from ..autograd import Tensor
from .layer import Layer
from .pooling import _data_format
from .preprocessing import _as_float, _RandomImageLayer

FILL_MODES = ("reflect", "wrap", "constant", "nearest")
INTERPOLATIONS = ("nearest", "bilinear")


def _fixed_index(index: np.ndarray, size: int, fill_mode: str) -> np.ndarray:
    """Integer pixel indices, possibly outside [0, size), mapped back inside by the fill mode
    ('constant' clips them; the caller masks those that were outside)."""
    if fill_mode == "reflect":  # half-sample symmetric: period 2 * size
        index = index % (2 * size)
        return np.where(index >= size, 2 * size - 1 - index, index)
    if fill_mode == "wrap":
        return index % size
    return np.clip(index, 0, size - 1)


def _neighbours(coord: np.ndarray, interpolation: str) -> list[tuple[np.ndarray, np.ndarray]]:
    """(integer index, weight) pairs that interpolate at ``coord`` along one axis."""
    if interpolation == "nearest":
        return [(np.round(coord).astype(np.int64), np.ones_like(coord))]
    low = np.floor(coord)
    frac = coord - low
    return [(low.astype(np.int64), 1 - frac), (low.astype(np.int64) + 1, frac)]


def affine_sample(x: Tensor, transforms: np.ndarray, fill_mode: str = "reflect",
                  interpolation: str = "bilinear", fill_value: float = 0.0) -> Tensor:
    """Resample NHWC images ``x`` through one affine map each.

    Args:
        x: images, shape (batch, height, width, channels).
        transforms: shape (batch, 6), rows [a0, a1, a2, b0, b1, b2]: output pixel (x, y) (column,
            row) reads the input at (a0 x + a1 y + a2, b0 x + b1 y + b2).
        fill_mode, interpolation, fill_value: as in RandomRotation.

    Returns:
        Shape and dtype of x.
    """
    n, h, w, _ = x.shape
    ys, xs = np.meshgrid(np.arange(h, dtype=np.float64), np.arange(w, dtype=np.float64),
                         indexing="ij")
    a0, a1, a2, b0, b1, b2 = (transforms[:, k, None, None] for k in range(6))
    col = a0 * xs + a1 * ys + a2  # (N, H, W) input coordinates
    row = b0 * xs + b1 * ys + b2
    batch = np.arange(n)[:, None, None]
    out: Tensor | None = None
    filled = np.zeros((n, h, w), dtype=np.float64)  # weight given to fill_value ('constant')
    for r, wr in _neighbours(row, interpolation):
        for c, wc in _neighbours(col, interpolation):
            weight = wr * wc
            if fill_mode == "constant":
                inside = (r >= 0) & (r < h) & (c >= 0) & (c < w)
                filled += np.where(inside, 0.0, weight)
                weight = np.where(inside, weight, 0.0)
            index = (batch, _fixed_index(r, h, fill_mode), _fixed_index(c, w, fill_mode))
            term = F.mul(F.getitem(x, index), weight[..., None].astype(x.dtype))
            out = term if out is None else F.add(out, term)
    assert out is not None
    if fill_mode == "constant" and fill_value != 0:
        out = F.add(out, (filled[..., None] * fill_value).astype(x.dtype))
    return out


def _range(factor: Any, name: str, layer: str, minimum: float | None = None,
           within_one: bool = False) -> tuple[float, float]:
    """Keras's factor: a number f for [-f, f], or (lower, upper). ``within_one``
    (RandomTranslation's rule): each value in [-1, 1], and a pair given either way round."""
    if isinstance(factor, (int, float)) and not isinstance(factor, bool):
        lower, upper = -abs(float(factor)), abs(float(factor))
    elif isinstance(factor, (tuple, list)) and len(factor) == 2:
        lower, upper = float(factor[0]), float(factor[1])
    else:
        raise ValueError(f"{layer} {name} must be a number or a (lower, upper) pair, "
                         f"got {factor!r}")
    if within_one:
        if max(abs(lower), abs(upper)) > 1.0:
            raise ValueError(f"{layer} {name} must be a number (or a pair of numbers) in "
                             f"[-1.0, 1.0], got {factor!r}")
        lower, upper = sorted((lower, upper))
    if lower > upper:
        raise ValueError(f"{layer} {name}: lower bound {lower} is above upper bound {upper}")
    if minimum is not None and lower < minimum:
        raise ValueError(f"{layer} {name}: the lower bound must be at least {minimum}, "
                         f"got {lower}")
    return lower, upper


class _RandomAffine(_RandomImageLayer):
    """Shared checks and the training/inference switch; subclasses draw the transforms."""

    def _check_modes(self, fill_mode: str, interpolation: str, fill_value: float) -> None:
        if fill_mode not in FILL_MODES:
            raise ValueError(f"{type(self).__name__} fill_mode must be one of {FILL_MODES}, "
                             f"got {fill_mode!r}")
        if interpolation not in INTERPOLATIONS:
            raise ValueError(f"{type(self).__name__} interpolation must be one of "
                             f"{INTERPOLATIONS}, got {interpolation!r}")
        self.fill_mode, self.interpolation = fill_mode, interpolation
        self.fill_value = float(fill_value)

    def _transforms(self, n: int, h: int, w: int) -> np.ndarray:
        raise NotImplementedError

    def _augment(self, x: Tensor, training: bool) -> Tensor:
        if not training:
            return x
        single = x.ndim == 3
        images = F.expand_dims(x, 0) if single else x
        n, h, w, _ = images.shape
        y = affine_sample(images, self._transforms(n, h, w), self.fill_mode,
                          self.interpolation, self.fill_value)
        return F.squeeze(y, 0) if single else y


class RandomRotation(_RandomAffine):
    """In training, rotate each image about its centre by its own random angle, drawn
    uniformly from ``factor * 2 pi`` (Keras 3's; positive is counter-clockwise); at
    inference, the identity.

    Args:
        factor: a fraction of a full turn: f for [-f, f], or (lower, upper); 0.1 rotates by up
            to 36 degrees either way.
        fill_mode: how points outside the image are read: 'reflect', 'wrap', 'constant' or
            'nearest'.
        interpolation: 'bilinear' or 'nearest'.
        seed: the layer's own random stream (None: spawned from ``set_random_seed``).
        fill_value: the value outside the image for fill_mode='constant'.
        data_format: 'channels_last' (default) or 'channels_first'.

    Input shape: (batch, height, width, channels) or (height, width, channels); channels
        first with 'channels_first'. Output shape: the same, float32.
    """

    def __init__(self, factor: Any, fill_mode: str = "reflect", interpolation: str = "bilinear",
                 seed: int | None = None, fill_value: float = 0.0,
                 data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(seed, data_format, **kwargs)
        self.factor = factor
        self._lower, self._upper = _range(factor, "factor", "RandomRotation")
        self._check_modes(fill_mode, interpolation, fill_value)

    def _transforms(self, n: int, h: int, w: int) -> np.ndarray:
        angle = self._generator.uniform(self._lower, self._upper, size=n) * 2 * np.pi
        cos, sin = np.cos(angle), np.sin(angle)
        # about the centre ((w - 1) / 2, (h - 1) / 2): Keras's offsets
        x_offset = ((w - 1) - (cos * (w - 1) - sin * (h - 1))) / 2
        y_offset = ((h - 1) - (sin * (w - 1) + cos * (h - 1))) / 2
        return np.stack([cos, -sin, x_offset, sin, cos, y_offset], axis=1)


class RandomZoom(_RandomAffine):
    """In training, zoom each image about its centre by its own random factors; at inference,
    the identity (Keras 3's). A factor f scales the read window by 1 + f: positive zooms out,
    negative zooms in.

    Args:
        height_factor: f for [-f, f], or (lower, upper), lower at least -1: the vertical zoom.
        width_factor: the same for the horizontal zoom; None keeps the aspect ratio (the
            vertical factor is used for both).
        fill_mode, interpolation, seed, fill_value, data_format: as in RandomRotation.

    Input shape: (batch, height, width, channels) or (height, width, channels); channels
        first with 'channels_first'. Output shape: the same, float32.
    """

    def __init__(self, height_factor: Any, width_factor: Any = None, fill_mode: str = "reflect",
                 interpolation: str = "bilinear", seed: int | None = None,
                 fill_value: float = 0.0, data_format: str | None = None,
                 **kwargs: Any) -> None:
        super().__init__(seed, data_format, **kwargs)
        self.height_factor, self.width_factor = height_factor, width_factor
        self._height = _range(height_factor, "height_factor", "RandomZoom", minimum=-1.0)
        self._width = None if width_factor is None else _range(
            width_factor, "width_factor", "RandomZoom", minimum=-1.0)
        self._check_modes(fill_mode, interpolation, fill_value)

    def _transforms(self, n: int, h: int, w: int) -> np.ndarray:
        zoom_h = 1 + self._generator.uniform(*self._height, size=n)
        zoom_w = zoom_h if self._width is None else 1 + self._generator.uniform(*self._width,
                                                                                size=n)
        zeros = np.zeros(n)
        return np.stack([zoom_w, zeros, (w - 1) / 2 * (1 - zoom_w),
                         zeros, zoom_h, (h - 1) / 2 * (1 - zoom_h)], axis=1)


class RandomTranslation(_RandomAffine):
    """In training, shift each image by its own random fraction of its height and width; at
    inference, the identity (Keras 3's). A positive height shift moves the content down, a
    positive width shift moves it right; the uncovered part is filled by ``fill_mode``.

    Args:
        height_factor: f for [-f, f], or (lower, upper): the vertical shift as a fraction of
            the height (0.2: up to 20 % either way).
        width_factor: the same for the horizontal shift.
        fill_mode, interpolation, seed, fill_value, data_format: as in RandomRotation.

    Input shape: (batch, height, width, channels) or (height, width, channels); channels
        first with 'channels_first'. Output shape: the same, float32.
    """

    def __init__(self, height_factor: Any, width_factor: Any, fill_mode: str = "reflect",
                 interpolation: str = "bilinear", seed: int | None = None,
                 fill_value: float = 0.0, data_format: str | None = None,
                 **kwargs: Any) -> None:
        super().__init__(seed, data_format, **kwargs)
        self.height_factor, self.width_factor = height_factor, width_factor
        self._height = _range(height_factor, "height_factor", "RandomTranslation",
                              within_one=True)
        self._width = _range(width_factor, "width_factor", "RandomTranslation", within_one=True)
        self._check_modes(fill_mode, interpolation, fill_value)

    def _transforms(self, n: int, h: int, w: int) -> np.ndarray:
        dy = self._generator.uniform(*self._height, size=n) * h
        dx = self._generator.uniform(*self._width, size=n) * w
        ones, zeros = np.ones(n), np.zeros(n)
        # output pixel (x, y) reads the input at (x - dx, y - dy): Keras's translation matrix
        return np.stack([ones, zeros, -dx, zeros, ones, -dy], axis=1)


def _symmetric_factor(factor: Any, layer: str) -> tuple[float, float]:
    """Keras 3's image factor: f for [-|f|, |f|] or a (lower, upper) pair, sorted, in [-1, 1]."""
    if isinstance(factor, (int, float)) and not isinstance(factor, bool):
        lower, upper = -abs(factor), abs(factor)
    elif isinstance(factor, (tuple, list)) and len(factor) == 2:
        lower, upper = sorted(float(f) for f in factor)
    else:
        raise ValueError(f"{layer} factor must be a number or a (lower, upper) pair, got "
                         f"{factor!r}")
    if not -1 <= lower <= upper <= 1:
        raise ValueError(f"{layer} factor must lie in [-1, 1], got {factor!r}")
    return float(lower), float(upper)


class RandomBrightness(_RandomImageLayer):
    """In training, add to each image its own random brightness delta, drawn uniformly from
    ``factor`` times the width of ``value_range``, then clip to ``value_range``; at inference,
    the identity (Keras 3's).

    Args:
        factor: f in [0, 1] for deltas in [-f, f], or (lower, upper) in [-1, 1]; 0.2 changes
            0..255 images by up to 51 either way.
        value_range: (low, high), the range of the inputs: (0, 255) by default, (0, 1) for
            rescaled images.
        seed: the layer's own random stream (None: spawned from ``set_random_seed``).
        data_format (keyword): 'channels_last' (default) or 'channels_first'.

    Input shape: (batch, height, width, channels) or (height, width, channels); channels
        first with 'channels_first'. Output shape: the same, float32.
    """

    def __init__(self, factor: Any, value_range: Any = (0, 255), seed: int | None = None,
                 **kwargs: Any) -> None:
        super().__init__(seed, **kwargs)
        self.factor, self.value_range = factor, _value_range(value_range, "RandomBrightness")
        self._lower, self._upper = _symmetric_factor(factor, "RandomBrightness")

    def _augment(self, x: Tensor, training: bool) -> Tensor:
        if not training:
            return x
        low, high = self.value_range
        delta = self._generator.uniform(self._lower, self._upper, size=x.shape[:-3])
        delta = np.reshape(delta * (high - low), (*delta.shape, 1, 1, 1))
        return F.clip(F.add(x, delta.astype(x.dtype)), low, high)


class RandomContrast(_RandomImageLayer):
    """In training, scale each image's distance from its per-channel mean by its own random
    factor drawn from ``[1 - lower, 1 + upper]``: ``(x - mean) * factor + mean``, clipped to
    ``value_range``; at inference, the identity (Keras 3's).

    Args:
        factor: f in [0, 1] for [1 - f, 1 + f], or (lower, upper) for [1 - lower, 1 + upper].
        value_range: (low, high), the range of the inputs: (0, 255) by default.
        seed: the layer's own random stream (None: spawned from ``set_random_seed``).
        data_format (keyword): 'channels_last' (default) or 'channels_first'.

    Input shape: (batch, height, width, channels) or (height, width, channels); channels
        first with 'channels_first'. Output shape: the same, float32.
    """

    def __init__(self, factor: Any, value_range: Any = (0, 255), seed: int | None = None,
                 **kwargs: Any) -> None:
        super().__init__(seed, **kwargs)
        if isinstance(factor, (tuple, list)) and len(factor) == 2:
            lower, upper = float(factor[0]), float(factor[1])
        elif isinstance(factor, (int, float)) and not isinstance(factor, bool):
            lower = upper = float(factor)
        else:
            raise ValueError(f"RandomContrast factor must be a number or a (lower, upper) pair, "
                             f"got {factor!r}")
        if lower < 0 or upper < 0 or lower > 1:
            raise ValueError(f"RandomContrast factor must be in [0, 1] (upper may exceed 1), "
                             f"got {factor!r}")
        self.factor, self.value_range = factor, _value_range(value_range, "RandomContrast")
        self._lower, self._upper = lower, upper

    def _augment(self, x: Tensor, training: bool) -> Tensor:
        if not training:
            return x
        contrast = self._generator.uniform(1 - self._lower, 1 + self._upper, size=x.shape[:-3])
        contrast = np.reshape(contrast, (*contrast.shape, 1, 1, 1)).astype(x.dtype)
        mean = F.mean(x, axis=(-3, -2), keepdims=True)
        y = F.add(F.mul(F.sub(x, mean), contrast), mean)
        return F.clip(y, *self.value_range)


def _value_range(value_range: Any, layer: str) -> tuple[float, float]:
    if not isinstance(value_range, (tuple, list)) or len(value_range) != 2 or not (
            value_range[0] < value_range[1]):
        raise ValueError(f"{layer} value_range must be (low, high) with low < high, got "
                         f"{value_range!r}")
    return float(value_range[0]), float(value_range[1])


class CenterCrop(Layer):
    """Crop the centre ``height`` x ``width`` of each image (Keras 3's; not random, so the
    same in training and inference). An image smaller than the target on either side is
    resized to it instead, through its largest centred window of the target's aspect ratio
    (Keras's ``smart_resize``, bilinear).

    Args:
        height, width: the output size.
        data_format: 'channels_last' (default) or 'channels_first'.

    Input shape: (batch, H, W, channels) or (H, W, channels); channels first with
        'channels_first'. Output shape: (..., height, width, channels), float32.

    >>> CenterCrop(2, 2)(np.arange(16.0).reshape(1, 4, 4, 1)).numpy()[0, :, :, 0]
    array([[ 5.,  6.],
           [ 9., 10.]], dtype=float32)
    """

    def __init__(self, height: int, width: int, data_format: str | None = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if min(height, width) < 1:
            raise ValueError(f"CenterCrop needs a positive height and width, got "
                             f"{height}x{width}")
        self.height, self.width = int(height), int(width)
        self.data_format = _data_format(data_format)
        self._resize: Any = None

    def call(self, x: Tensor) -> Tensor:
        if x.ndim not in (3, 4):
            raise ValueError(f"Layer '{self.name}' (CenterCrop) expects images (batch, height, "
                             f"width, channels) or (height, width, channels), got input of "
                             f"shape {x.shape}")
        x = _as_float(self, x)
        rows, cols = (-3, -2) if self.data_format == "channels_last" else (-2, -1)
        h, w = x.shape[rows], x.shape[cols]
        if h < self.height or w < self.width:  # too small to crop: resized, as Keras
            if self._resize is None:  # made once (a layer per call would use up names)
                from .resizing import Resizing

                self._resize = Resizing(self.height, self.width, crop_to_aspect_ratio=True,
                                        data_format=self.data_format, dtype=self.dtype)
            return self._resize(x)
        top, left = int((h - self.height) / 2), int((w - self.width) / 2)
        index = [slice(None)] * x.ndim
        index[rows] = slice(top, top + self.height)
        index[cols] = slice(left, left + self.width)
        return F.getitem(x, tuple(index))
