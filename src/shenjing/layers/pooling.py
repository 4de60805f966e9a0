"""Pooling layers: max, average, and their global forms, over sequences (1-D, viewed as images
of height 1), images (2-D) and volumes (3-D, two 2-D poolings). ``data_format`` is Keras's:
"channels_last" (the default: (batch, steps, features), (batch, h, w, channels)) or
"channels_first" ((batch, features, steps), (batch, channels, h, w)), which the window poolings
run as channels-last between two transposes."""

from __future__ import annotations

from typing import Any

from .. import functional as F
from ..autograd import Tensor
from ..functional.conv import ints
from .conv import _padding, as_image, as_sequence
from .layer import InputSpec, Layer


def _data_format(value: str | None) -> str:
    """Keras's ``data_format``; None means "channels_last"."""
    layout = value.lower() if isinstance(value, str) else value or "channels_last"
    if layout not in ("channels_last", "channels_first"):
        raise ValueError(f"data_format must be 'channels_last' or 'channels_first', got {value!r}")
    return layout


class _Pooling(Layer):
    rank = 2
    pool = staticmethod(F.max_pool2d)

    def __init__(self, pool_size: Any = 2, strides: Any = None, padding: str = "valid",
                 data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.data_format = _data_format(data_format)
        self.pool_size = ints(pool_size, self.rank, "pool_size")
        self.strides = self.pool_size if strides is None else ints(strides, self.rank, "strides")
        self.padding = _padding(padding)

    def build(self, input_shape: tuple) -> None:
        self.input_spec = InputSpec(ndim=self.rank + 2)

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        return None  # as Keras: pooling does not support masking and ends the mask

    def call(self, x: Tensor) -> Tensor:
        first = self.data_format == "channels_first"
        if first:  # (batch, c, *spatial) -> (batch, *spatial, c)
            x = F.transpose(x, (0, *range(2, self.rank + 2), 1))
        if self.rank == 2:
            y = type(self).pool(x, self.pool_size, self.strides, self.padding)
        elif self.rank == 3:
            y = self._pool3d(x)
        else:
            y = as_sequence(type(self).pool(as_image(x), (1, *self.pool_size),
                                            (1, *self.strides), self.padding))
        return F.transpose(y, (0, self.rank + 1, *range(1, self.rank + 1))) if first else y

    def _pool3d(self, x: Tensor) -> Tensor:
        """A 3-D window pooled as two 2-D poolings: over (height, width) for every depth slice,
        then over depth (a (depth, 1) window on the (batch, depth, h'*w', c) result). Max and
        mean over a box are separable, and TensorFlow's padding is per axis, so this is the
        3-D pooling exactly ('same' averages count the real voxels of each axis: their product
        is the box's count)."""
        pool = type(self).pool
        n, d, h, w, c = x.shape
        y = pool(F.reshape(x, (n * d, h, w, c)), self.pool_size[1:], self.strides[1:],
                 self.padding)
        ho, wo = y.shape[1:3]
        y = pool(F.reshape(y, (n, d, ho * wo, c)), (self.pool_size[0], 1), (self.strides[0], 1),
                 self.padding)
        return F.reshape(y, (n, y.shape[1], ho, wo, c))


class MaxPooling1D(_Pooling):
    """The maximum over each pool_size window of (batch, steps, channels) sequences (stride
    defaults to pool_size)."""

    rank = 1


class AveragePooling1D(_Pooling):
    """The mean over each pool_size window of (batch, steps, channels) sequences ('same'
    padding averages only real steps)."""

    rank = 1
    pool = staticmethod(F.avg_pool2d)


class MaxPooling2D(_Pooling):
    """The maximum over each pool_size window (stride defaults to pool_size)."""


class AveragePooling2D(_Pooling):
    """The mean over each pool_size window ('same' padding averages only real pixels)."""

    pool = staticmethod(F.avg_pool2d)


class MaxPooling3D(_Pooling):
    """The maximum over each pool_size window of (batch, depth, height, width, channels)
    volumes (stride defaults to pool_size)."""

    rank = 3


class AveragePooling3D(_Pooling):
    """The mean over each pool_size window of (batch, depth, height, width, channels) volumes
    ('same' padding averages only real voxels)."""

    rank = 3
    pool = staticmethod(F.avg_pool2d)


class _GlobalPooling(Layer):
    rank = 2
    reduce = staticmethod(F.mean)

    def __init__(self, data_format: str | None = None, keepdims: bool = False,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.data_format = _data_format(data_format)
        self.keepdims = keepdims

    def build(self, input_shape: tuple) -> None:
        self.input_spec = InputSpec(ndim=self.rank + 2)

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        return None  # the pooled axes are gone, and the mask with them

    @property
    def _axes(self) -> tuple[int, ...]:
        """The pooled (spatial) axes."""
        start = 2 if self.data_format == "channels_first" else 1
        return tuple(range(start, start + self.rank))

    def call(self, x: Tensor) -> Tensor:
        return type(self).reduce(x, axis=self._axes, keepdims=self.keepdims)


class GlobalAveragePooling1D(_GlobalPooling):
    """(batch, steps, c) -> (batch, c) (channels_first: (batch, c, steps)): the mean of each
    channel over the steps; with a mask (batch, steps) (True at real steps, e.g. from
    ``Embedding(mask_zero=True)``) the mean over the real steps only, as Keras (a row with no
    real step gives NaN, as Keras)."""

    rank = 1

    def call(self, x: Tensor, mask: Any = None) -> Tensor:
        if mask is None:
            return super().call(x)
        mask = mask.data if isinstance(mask, Tensor) else mask
        (axis,) = self._axes
        if tuple(mask.shape) != (x.shape[0], x.shape[axis]):
            raise ValueError(f"Layer '{self.name}' ({type(self).__name__}): mask of shape "
                             f"{tuple(mask.shape)} does not match the input's (batch, steps) "
                             f"{(x.shape[0], x.shape[axis])}")
        mask = mask.astype(x.dtype)
        weights = Tensor(mask[:, None] if axis == 2 else mask[..., None])  # beside the steps
        return (F.sum(x * weights, axis=axis, keepdims=self.keepdims)
                / F.sum(weights, axis=axis, keepdims=self.keepdims))


class GlobalMaxPooling1D(_GlobalPooling):
    """(batch, steps, c) -> (batch, c) (channels_first: (batch, c, steps)): the maximum of
    each channel over the steps."""

    rank = 1
    reduce = staticmethod(F.max)


class GlobalAveragePooling2D(_GlobalPooling):
    """(batch, h, w, c) -> (batch, c) (channels_first: (batch, c, h, w)): the mean of each
    channel."""


class GlobalMaxPooling2D(_GlobalPooling):
    """(batch, h, w, c) -> (batch, c) (channels_first: (batch, c, h, w)): the maximum of each
    channel."""

    reduce = staticmethod(F.max)


class GlobalAveragePooling3D(_GlobalPooling):
    """(batch, d, h, w, c) -> (batch, c) (channels_first: (batch, c, d, h, w)): the mean of
    each channel."""

    rank = 3


class GlobalMaxPooling3D(_GlobalPooling):
    """(batch, d, h, w, c) -> (batch, c) (channels_first: (batch, c, d, h, w)): the maximum of
    each channel."""

    rank = 3
    reduce = staticmethod(F.max)
