"""Pooling layers over NHWC images: max, average, and their global forms."""

from __future__ import annotations

from typing import Any

from .. import functional as F
from ..autograd import Tensor
from .conv import _padding, _pair
from .layer import InputSpec, Layer


class _Pooling2D(Layer):
    pool = staticmethod(F.max_pool2d)

    def __init__(self, pool_size: Any = (2, 2), strides: Any = None, padding: str = "valid",
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.pool_size = _pair(pool_size, "pool_size")
        self.strides = self.pool_size if strides is None else _pair(strides, "strides")
        self.padding = _padding(padding)

    def build(self, input_shape: tuple) -> None:
        self.input_spec = InputSpec(ndim=4)

    def call(self, x: Tensor) -> Tensor:
        return type(self).pool(x, self.pool_size, self.strides, self.padding)


class MaxPooling2D(_Pooling2D):
    """The maximum over each pool_size window (stride defaults to pool_size)."""


class AveragePooling2D(_Pooling2D):
    """The mean over each pool_size window ('same' padding averages only real pixels)."""

    pool = staticmethod(F.avg_pool2d)


class _GlobalPooling2D(Layer):
    reduce = staticmethod(F.mean)

    def __init__(self, keepdims: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.keepdims = keepdims

    def build(self, input_shape: tuple) -> None:
        self.input_spec = InputSpec(ndim=4)

    def call(self, x: Tensor) -> Tensor:
        return type(self).reduce(x, axis=(1, 2), keepdims=self.keepdims)


class GlobalAveragePooling2D(_GlobalPooling2D):
    """(batch, h, w, c) -> (batch, c): the mean of each channel."""


class GlobalMaxPooling2D(_GlobalPooling2D):
    """(batch, h, w, c) -> (batch, c): the maximum of each channel."""

    reduce = staticmethod(F.max)
