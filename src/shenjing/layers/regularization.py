"""Regularization layers (Keras 3's): GaussianNoise, active in training only, and
ActivityRegularization, which adds a penalty on its inputs to the loss. Both pass their inputs
on unchanged otherwise and hold no weights."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd import Tensor
from ..backend import new_generator
from . import regularizers
from .layer import Layer, activity_penalty


class GaussianNoise(Layer):
    """In training, add zero-mean Gaussian noise of standard deviation ``stddev`` (a
    regularizer, and data augmentation for real-valued inputs); at inference, the identity. The
    gradient passes through unchanged. Seeded as ``Dropout``: ``seed``, else the root seed."""

    def __init__(self, stddev: float, seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not stddev >= 0:
            raise ValueError(f"GaussianNoise: stddev must be >= 0, got {stddev!r}")
        self.stddev, self.seed = float(stddev), seed
        self._generator = np.random.default_rng(seed) if seed is not None else new_generator()

    def call(self, x: Tensor, training: bool = False) -> Tensor:
        if not training or self.stddev == 0:
            return x
        return x + self._generator.normal(0.0, self.stddev, x.shape).astype(x.dtype)


class GaussianDropout(Layer):
    """In training, multiply by noise N(1, rate / (1 - rate)) (Keras's: the variance of
    inverted dropout at ``rate``, without zeros); at inference, the identity. Seeded as
    ``Dropout``: ``seed``, else the root seed."""

    def __init__(self, rate: float, seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not 0 <= rate < 1:
            raise ValueError(f"GaussianDropout: rate must be in [0, 1), got {rate!r}")
        self.rate, self.seed = float(rate), seed
        self._generator = np.random.default_rng(seed) if seed is not None else new_generator()

    def call(self, x: Tensor, training: bool = False) -> Tensor:
        if not training or self.rate == 0:
            return x
        stddev = (self.rate / (1.0 - self.rate)) ** 0.5
        return x * self._generator.normal(1.0, stddev, x.shape).astype(x.dtype)


class ActivityRegularization(Layer):
    """Add ``l1 * sum(|x|) + l2 * sum(x**2)`` of its inputs, divided by the batch size (Keras
    3.15's, checked there), to the loss (``add_loss``) and return them unchanged."""

    def __init__(self, l1: float = 0.0, l2: float = 0.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._penalty = regularizers.L1L2(l1, l2)
        self.l1, self.l2 = self._penalty.l1, self._penalty.l2

    def call(self, x: Tensor) -> Tensor:
        self.add_loss(activity_penalty(self._penalty, x))
        return x
