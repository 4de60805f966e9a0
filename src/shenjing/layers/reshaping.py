"""Reshaping layers, channels-last: Permute, RepeatVector, and the padding, cropping and
up-sampling of sequences (1D) and images (2D) (Keras's ``keras.layers`` names, arguments and
defaults). They hold no weights and no gradient code: each is a few shape ops of
``shenjing.functional``, whose backward passes undo them (a pad's gradient is its interior, a
crop's is padded back with zeros, a repeat's is summed over its copies)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import functional as F
from ..autograd import Tensor
from ..functional.conv import ints
from .conv import _channels_last
from .layer import InputSpec, Layer


def _sides(value: Any, name: str) -> tuple[tuple[int, int], tuple[int, int]]:
    """Keras's padding/cropping argument as ((top, bottom), (left, right)): an int for all four
    sides, 2 ints (symmetric height, symmetric width), or 2 pairs."""
    if isinstance(value, (int, np.integer)):
        (n,) = ints(value, 1, name, minimum=0)
        return (n, n), (n, n)
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise ValueError(f"{name} must be an int, a tuple of 2 ints (height, width) or a tuple "
                         f"of 2 pairs ((top, bottom), (left, right)), got {value!r}")
    top_bottom, left_right = (ints(v, 2, f"{name}[{i}]", minimum=0) for i, v in enumerate(value))
    return top_bottom, left_right  # type: ignore[return-value]


class _Reshaping(Layer):
    """A weightless layer on inputs of ``ndim`` axes; it ends a mask (Keras's reshaping layers
    do not support masking)."""

    ndim = 3

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.input_spec = InputSpec(ndim=self.ndim)

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        return None


class _Image(_Reshaping):
    """A weightless layer on (batch, height, width, channels) images."""

    ndim = 4

    def __init__(self, data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.data_format = _channels_last(data_format)


def _repeat(x: Tensor, axis: int, times: int) -> Tensor:
    """Each entry of ``x`` repeated ``times`` times along ``axis``: a broadcast view whose
    backward sums the copies."""
    shape = x.shape
    y = F.broadcast_to(F.expand_dims(x, axis + 1), (*shape[:axis + 1], times, *shape[axis + 1:]))
    return F.reshape(y, (*shape[:axis], shape[axis] * times, *shape[axis + 1:]))


class Permute(Layer):
    """Permute the axes of each sample: ``dims`` is a permutation of 1..rank-1 (the batch axis
    stays first), as Keras's; ``Permute((2, 1))`` swaps the steps and features of a sequence.

    >>> Permute((2, 1))(np.zeros((4, 10, 64))).shape
    (4, 64, 10)
    """

    def __init__(self, dims: tuple[int, ...], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.dims = tuple(int(d) for d in dims)
        if sorted(self.dims) != list(range(1, len(self.dims) + 1)):
            raise ValueError(f"Permute: dims must be a permutation of 1..{len(self.dims)} (the "
                             f"axes after the batch's), got {dims!r}")
        self.input_spec = InputSpec(ndim=len(self.dims) + 1)

    def call(self, x: Tensor) -> Tensor:
        return F.transpose(x, (0, *self.dims))


class RepeatVector(_Reshaping):
    """Repeat each (batch, features) input ``n`` times: (batch, n, features), as an encoder's
    summary is fed to each step of a decoder.

    >>> RepeatVector(3)(np.zeros((2, 5))).shape
    (2, 3, 5)
    """

    ndim = 2

    def __init__(self, n: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        (self.n,) = ints(n, 1, "RepeatVector n")

    def call(self, x: Tensor) -> Tensor:
        return _repeat(F.expand_dims(x, 1), 1, self.n)


class ZeroPadding1D(_Reshaping):
    """Add steps of zeros at the start and end of each (batch, steps, features) sequence:
    ``padding`` an int (both ends) or a pair (start, end); default 1.

    Output shape: (batch, start + steps + end, features).
    """

    def __init__(self, padding: Any = 1, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.padding = ints(padding, 2, "padding", minimum=0)

    def call(self, x: Tensor) -> Tensor:
        return F.pad(x, ((0, 0), self.padding, (0, 0)))


class Cropping1D(_Reshaping):
    """Remove steps at the start and end of each (batch, steps, features) sequence:
    ``cropping`` an int (both ends) or a pair (start, end); default (1, 1). At least one step
    must remain.

    Output shape: (batch, steps - start - end, features).
    """

    def __init__(self, cropping: Any = (1, 1), **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.cropping = ints(cropping, 2, "cropping", minimum=0)

    def call(self, x: Tensor) -> Tensor:
        start, end = self.cropping
        steps = x.shape[1]
        if start + end >= steps:
            raise ValueError(f"Layer '{self.name}' (Cropping1D) cannot crop {self.cropping} "
                             f"from sequences of {steps} steps: at least one step must remain")
        return x[:, start:steps - end]


class UpSampling1D(_Reshaping):
    """Repeat each step of (batch, steps, features) sequences ``size`` times (default 2).

    Output shape: (batch, steps * size, features).
    """

    def __init__(self, size: int = 2, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        (self.size,) = ints(size, 1, "size")

    def call(self, x: Tensor) -> Tensor:
        return _repeat(x, 1, self.size)


class ZeroPadding2D(_Image):
    """Add rows and columns of zeros around each image.

    Args:
        padding: an int (the same on all four sides), a tuple of 2 ints (symmetric height and
            width padding) or a tuple of 2 pairs ``((top, bottom), (left, right))``; default 1.
        data_format: 'channels_last' only.

    Input shape: (batch, height, width, channels).
    Output shape: (batch, top + height + bottom, left + width + right, channels).

    >>> ZeroPadding2D(((1, 0), (2, 2)))(np.ones((1, 2, 2, 3))).shape
    (1, 3, 6, 3)
    """

    def __init__(self, padding: Any = (1, 1), data_format: str | None = None,
                 **kwargs: Any) -> None:
        super().__init__(data_format, **kwargs)
        self.padding = _sides(padding, "padding")

    def call(self, x: Tensor) -> Tensor:
        return F.pad(x, ((0, 0), *self.padding, (0, 0)))


class Cropping2D(_Image):
    """Remove rows and columns at the borders of each image: the inverse of
    :class:`ZeroPadding2D`, with ``cropping`` in the forms of its ``padding`` (default: nothing
    removed) and ``data_format`` 'channels_last' only. At least one row and one column must
    remain.

    Input shape: (batch, height, width, channels).
    Output shape: (batch, height - top - bottom, width - left - right, channels).
    """

    def __init__(self, cropping: Any = ((0, 0), (0, 0)), data_format: str | None = None,
                 **kwargs: Any) -> None:
        super().__init__(data_format, **kwargs)
        self.cropping = _sides(cropping, "cropping")

    def call(self, x: Tensor) -> Tensor:
        (top, bottom), (left, right) = self.cropping
        h, w = x.shape[1:3]
        if top + bottom >= h or left + right >= w:
            raise ValueError(f"Layer '{self.name}' (Cropping2D) cannot crop "
                             f"{self.cropping} from images of height {h} and width {w}: "
                             "at least one row and one column must remain")
        return x[:, top:h - bottom, left:w - right]


class UpSampling2D(_Image):
    """Enlarge each image by integer factors: every pixel repeated ``size`` times
    ('nearest'), or interpolated linearly between pixel centres ('bilinear', as Keras's
    image resize and ``torch.nn.functional.interpolate(mode='bilinear',
    align_corners=False)``: the borders repeat the edge pixels).

    Args:
        size: an int or a pair (rows, columns) of positive ints; default (2, 2).
        data_format: 'channels_last' only.
        interpolation: 'nearest' (default) or 'bilinear'. Keras's 'bicubic', 'lanczos3' and
            'lanczos5' are not implemented.

    Input shape: (batch, height, width, channels).
    Output shape: (batch, height * size[0], width * size[1], channels).
    """

    _METHODS = ("nearest", "bilinear")

    def __init__(self, size: Any = (2, 2), data_format: str | None = None,
                 interpolation: str = "nearest", **kwargs: Any) -> None:
        super().__init__(data_format, **kwargs)
        self.size = ints(size, 2, "size")
        method = interpolation.lower() if isinstance(interpolation, str) else interpolation
        if method in ("bicubic", "lanczos3", "lanczos5"):
            raise NotImplementedError(f"UpSampling2D: interpolation={interpolation!r} is not "
                                      f"implemented; use one of {self._METHODS}")
        if method not in self._METHODS:
            raise ValueError(f"UpSampling2D: interpolation must be one of {self._METHODS}, got "
                             f"{interpolation!r}")
        self.interpolation = method

    def call(self, x: Tensor) -> Tensor:
        n, h, w, c = x.shape
        sh, sw = self.size
        if self.interpolation == "nearest":  # a broadcast view; its backward sums the copies
            y = F.broadcast_to(F.reshape(x, (n, h, 1, w, 1, c)), (n, h, sh, w, sw, c))
            return F.reshape(y, (n, h * sh, w * sw, c))
        # bilinear is separable: one (out, in) interpolation matrix per axis, two matmuls
        rows = F.matmul(_linear_weights(h, sh, x), F.reshape(x, (n, h, w * c)))
        y = F.matmul(_linear_weights(w, sw, x), F.reshape(rows, (n * h * sh, w, c)))
        return F.reshape(y, (n, h * sh, w * sw, c))


def _linear_weights(n: int, scale: int, like: Tensor) -> Tensor:
    """The (n * scale, n) matrix of linear interpolation with half-pixel centres: output i reads
    the input at ``(i + 0.5) / scale - 0.5``, clamped to the first and last pixel."""
    xp = like.xp
    src = xp.maximum((xp.arange(n * scale) + 0.5) / scale - 0.5, 0.0)
    lo = xp.floor(src).astype(np.intp)
    hi = xp.minimum(lo + 1, n - 1)
    frac = (src - lo).astype(like.dtype)
    weights = xp.zeros((n * scale, n), dtype=like.dtype)
    rows = xp.arange(n * scale)
    weights[rows, lo] = 1 - frac
    weights[rows, hi] += frac  # hi == lo at the last pixel: the two weights add up to 1
    return Tensor(weights, dtype=like.dtype)


def _sides3(value: Any, name: str) -> tuple[tuple[int, int], ...]:
    """Keras's 3-D padding/cropping argument as ((front, back), (top, bottom), (left, right)):
    an int for all six sides, 3 ints (symmetric per axis), or 3 pairs."""
    if isinstance(value, (int, np.integer)):
        (n,) = ints(value, 1, name, minimum=0)
        return ((n, n),) * 3
    if not isinstance(value, (tuple, list)) or len(value) != 3:
        raise ValueError(f"{name} must be an int, a tuple of 3 ints (depth, height, width) or a "
                         f"tuple of 3 pairs, got {value!r}")
    return tuple(ints(v, 2, f"{name}[{i}]", minimum=0)  # type: ignore[misc]
                 for i, v in enumerate(value))


class _Volume(_Reshaping):
    """A weightless layer on (batch, depth, height, width, channels) volumes."""

    ndim = 5

    def __init__(self, data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.data_format = _channels_last(data_format)


class ZeroPadding3D(_Volume):
    """Add zeros around each volume: ``padding`` an int, 3 ints (symmetric per axis) or 3
    pairs ``((front, back), (top, bottom), (left, right))``; ``data_format`` 'channels_last'.

    Input shape: (batch, depth, height, width, channels).
    Output shape: (batch, depth + front + back, height + top + bottom, width + left + right,
    channels).
    """

    def __init__(self, padding: Any = ((1, 1), (1, 1), (1, 1)), data_format: str | None = None,
                 **kwargs: Any) -> None:
        super().__init__(data_format, **kwargs)
        self.padding = _sides3(padding, "padding")

    def call(self, x: Tensor) -> Tensor:
        return F.pad(x, ((0, 0), *self.padding, (0, 0)))


class Cropping3D(_Volume):
    """Remove voxels at the borders of each volume: the inverse of :class:`ZeroPadding3D`,
    ``cropping`` in the forms of its ``padding`` (Keras's default: one on every side).

    Input shape: (batch, depth, height, width, channels).
    Output shape: (batch, depth - front - back, height - top - bottom, width - left - right,
    channels).
    """

    def __init__(self, cropping: Any = ((1, 1), (1, 1), (1, 1)), data_format: str | None = None,
                 **kwargs: Any) -> None:
        super().__init__(data_format, **kwargs)
        self.cropping = _sides3(cropping, "cropping")

    def call(self, x: Tensor) -> Tensor:
        sizes = x.shape[1:4]
        if any(a + b >= n for (a, b), n in zip(self.cropping, sizes)):
            raise ValueError(f"Layer '{self.name}' (Cropping3D) cannot crop {self.cropping} from "
                             f"volumes of size {tuple(sizes)}: at least one voxel per axis must "
                             "remain")
        (f0, f1), (t0, t1), (l0, l1) = self.cropping
        d, h, w = sizes
        return x[:, f0:d - f1, t0:h - t1, l0:w - l1]


class UpSampling3D(_Volume):
    """Repeat each voxel ``size`` (an int or 3 ints, default (2, 2, 2)) times along depth,
    height and width (nearest neighbour: a broadcast view whose backward sums the copies).

    Input shape: (batch, depth, height, width, channels).
    Output shape: (batch, depth * size[0], height * size[1], width * size[2], channels).
    """

    def __init__(self, size: Any = (2, 2, 2), data_format: str | None = None,
                 **kwargs: Any) -> None:
        super().__init__(data_format, **kwargs)
        self.size = ints(size, 3, "size")

    def call(self, x: Tensor) -> Tensor:
        n, d, h, w, c = x.shape
        sd, sh, sw = self.size
        y = F.broadcast_to(F.reshape(x, (n, d, 1, h, 1, w, 1, c)), (n, d, sd, h, sh, w, sw, c))
        return F.reshape(y, (n, d * sd, h * sh, w * sw, c))
