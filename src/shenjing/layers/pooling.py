"""Pooling layers, channels-last: max, average, and their global forms, over sequences (1-D,
viewed as images of height 1) and images (2-D)."""

from __future__ import annotations

from typing import Any

from .. import functional as F
from ..autograd import Tensor
from ..functional.conv import ints
from .conv import _channels_last, _padding, as_image, as_sequence
from .layer import InputSpec, Layer


class _Pooling(Layer):
    rank = 2
    pool = staticmethod(F.max_pool2d)

    def __init__(self, pool_size: Any = 2, strides: Any = None, padding: str = "valid",
                 data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.data_format = _channels_last(data_format)
        self.pool_size = ints(pool_size, self.rank, "pool_size")
        self.strides = self.pool_size if strides is None else ints(strides, self.rank, "strides")
        self.padding = _padding(padding)

    def build(self, input_shape: tuple) -> None:
        self.input_spec = InputSpec(ndim=self.rank + 2)

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        return None  # as Keras: pooling does not support masking and ends the mask

    def call(self, x: Tensor) -> Tensor:
        if self.rank == 2:
            return type(self).pool(x, self.pool_size, self.strides, self.padding)
        y = type(self).pool(as_image(x), (1, *self.pool_size), (1, *self.strides), self.padding)
        return as_sequence(y)


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


class _GlobalPooling(Layer):
    rank = 2
    reduce = staticmethod(F.mean)

    def __init__(self, keepdims: bool = False, data_format: str | None = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.data_format = _channels_last(data_format)
        self.keepdims = keepdims

    def build(self, input_shape: tuple) -> None:
        self.input_spec = InputSpec(ndim=self.rank + 2)

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        return None  # the pooled axes are gone, and the mask with them

    def call(self, x: Tensor) -> Tensor:
        return type(self).reduce(x, axis=tuple(range(1, self.rank + 1)), keepdims=self.keepdims)


class GlobalAveragePooling1D(_GlobalPooling):
    """(batch, steps, c) -> (batch, c): the mean of each channel over the steps; with a mask
    (batch, steps) (True at real steps, e.g. from ``Embedding(mask_zero=True)``) the mean over
    the real steps only, as Keras (a row with no real step gives NaN, as Keras)."""

    rank = 1

    def call(self, x: Tensor, mask: Any = None) -> Tensor:
        if mask is None:
            return super().call(x)
        mask = mask.data if isinstance(mask, Tensor) else mask
        weights = Tensor(mask.astype(x.dtype)[..., None])
        return (F.sum(x * weights, axis=1, keepdims=self.keepdims)
                / F.sum(weights, axis=1, keepdims=self.keepdims))


class GlobalMaxPooling1D(_GlobalPooling):
    """(batch, steps, c) -> (batch, c): the maximum of each channel over the steps."""

    rank = 1
    reduce = staticmethod(F.max)


class GlobalAveragePooling2D(_GlobalPooling):
    """(batch, h, w, c) -> (batch, c): the mean of each channel."""


class GlobalMaxPooling2D(_GlobalPooling):
    """(batch, h, w, c) -> (batch, c): the maximum of each channel."""

    reduce = staticmethod(F.max)
