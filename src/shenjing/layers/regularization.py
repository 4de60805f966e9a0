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


class _GaussianNoiseLayer(Layer):
    """A layer that, in training, combines its input with Gaussian noise drawn from its own
    stream (``seed``, else the root seed, as ``Dropout``), and at inference passes it on."""

    def __init__(self, seed: int | None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.seed = seed
        self._generator = np.random.default_rng(seed) if seed is not None else new_generator()

    def _noise(self, mean: float, stddev: float, x: Tensor) -> np.ndarray:
        return self._generator.normal(mean, stddev, x.shape).astype(x.dtype)


class GaussianNoise(_GaussianNoiseLayer):
    """In training, add zero-mean Gaussian noise of standard deviation ``stddev`` (a
    regularizer, and data augmentation for real-valued inputs); at inference, the identity. The
    gradient passes through unchanged."""

    def __init__(self, stddev: float, seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(seed, **kwargs)
        if not stddev >= 0:
            raise ValueError(f"GaussianNoise: stddev must be >= 0, got {stddev!r}")
        self.stddev = float(stddev)

    def call(self, x: Tensor, training: bool = False) -> Tensor:
        if not training or self.stddev == 0:
            return x
        return x + self._noise(0.0, self.stddev, x)


class GaussianDropout(_GaussianNoiseLayer):
    """In training, multiply by noise N(1, rate / (1 - rate)) (Keras's: the variance of
    inverted dropout at ``rate``, without zeros); at inference, the identity."""

    def __init__(self, rate: float, seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(seed, **kwargs)
        if not 0 <= rate < 1:
            raise ValueError(f"GaussianDropout: rate must be in [0, 1), got {rate!r}")
        self.rate = float(rate)

    def call(self, x: Tensor, training: bool = False) -> Tensor:
        if not training or self.rate == 0:
            return x
        return x * self._noise(1.0, (self.rate / (1.0 - self.rate)) ** 0.5, x)


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
