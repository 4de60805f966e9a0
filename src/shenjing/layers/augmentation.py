"""Geometric image augmentation (Keras 3's RandomRotation and RandomZoom): each image is
resampled through its own affine map, active in training (by default, as Keras 3).

Both layers draw one transform per image and hand it to :func:`affine_sample`, which maps
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


def _range(factor: Any, name: str, layer: str, minimum: float | None = None) -> tuple[float,
                                                                                     float]:
    """Keras's factor: a number f for [-f, f], or (lower, upper)."""
    if isinstance(factor, (int, float)) and not isinstance(factor, bool):
        lower, upper = -abs(float(factor)), abs(float(factor))
    elif isinstance(factor, (tuple, list)) and len(factor) == 2:
        lower, upper = float(factor[0]), float(factor[1])
    else:
        raise ValueError(f"{layer} {name} must be a number or a (lower, upper) pair, "
                         f"got {factor!r}")
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

    def call(self, x: Tensor, training: bool = True) -> Tensor:
        self._check_images(x)
        x = _as_float(self, x)
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

    Input shape: (batch, height, width, channels) or (height, width, channels).
    Output shape: the same, float32.
    """

    def __init__(self, factor: Any, fill_mode: str = "reflect", interpolation: str = "bilinear",
                 seed: int | None = None, fill_value: float = 0.0, **kwargs: Any) -> None:
        super().__init__(seed, **kwargs)
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
        fill_mode, interpolation, seed, fill_value: as in RandomRotation.

    Input shape: (batch, height, width, channels) or (height, width, channels).
    Output shape: the same, float32.
    """

    def __init__(self, height_factor: Any, width_factor: Any = None, fill_mode: str = "reflect",
                 interpolation: str = "bilinear", seed: int | None = None,
                 fill_value: float = 0.0, **kwargs: Any) -> None:
        super().__init__(seed, **kwargs)
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
