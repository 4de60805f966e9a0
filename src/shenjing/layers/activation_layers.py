"""Activation layers beyond ``ReLU``/``LeakyReLU`` (Keras 3's names and defaults): Softmax with an
axis and a mask, ELU, and PReLU with a learned slope. Each composes differentiable ops of ``F``."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import functional as F
from ..autograd import Tensor
from ..functional._util import mask_scores
from .layer import InputSpec, Layer


class Softmax(Layer):
    """``exp(x) / sum(exp(x))`` along ``axis`` (an int, or a list of axes normalized together).

    Called with ``mask`` (broadcastable to the inputs, True to keep), masked positions get -1e9
    added first, as Keras's layer does, so they take (almost) no probability.

    >>> Softmax()(np.array([[1.0, 2.0, 1.0]])).numpy().round(4)
    array([[0.2119, 0.5761, 0.2119]], dtype=float32)
    """

    def __init__(self, axis: int | list[int] = -1, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.axis = list(axis) if isinstance(axis, (list, tuple)) else axis

    def call(self, x: Tensor, mask: Any = None) -> Tensor:
        if mask is not None:
            keep = np.asarray(mask.numpy() if isinstance(mask, Tensor) else mask, bool)
            x = mask_scores(x, keep)
        if isinstance(self.axis, list) and len(self.axis) > 1:
            return F.exp(x - F.logsumexp(x, axis=tuple(self.axis), keepdims=True))
        return F.softmax(x, self.axis[0] if isinstance(self.axis, list) else self.axis)


class ELU(Layer):
    """x for x > 0, else ``alpha * (exp(x) - 1)`` (Clevert et al., 2015); Keras's default
    alpha 1.0."""

    def __init__(self, alpha: float = 1.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.alpha = float(alpha)

    def call(self, x: Tensor) -> Tensor:
        return F.elu(x, self.alpha)


class PReLU(Layer):
    """A leaky ReLU whose negative slope is learned: x for x > 0, else ``alpha * x`` (He et al.,
    2015), with one ``alpha`` per input position (Keras 3), shared along ``shared_axes``.

    Args:
        alpha_initializer: Keras's default 'Zeros' starts as a ReLU.
        alpha_regularizer: a penalty on ``alpha`` added to the loss.
        alpha_constraint: applied to ``alpha`` after each optimizer step (``'non_neg'``).
        shared_axes: axes (1 = the first after the batch) sharing one alpha: ``[1, 2]`` for
            one slope per channel of (batch, height, width, channels) images.

    Input shape: (batch, ...). Output shape: the same.
    """

    def __init__(self, alpha_initializer: Any = "Zeros", alpha_regularizer: Any = None,
                 alpha_constraint: Any = None, shared_axes: int | list[int] | None = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.alpha_initializer, self.alpha_regularizer = alpha_initializer, alpha_regularizer
        self.alpha_constraint = alpha_constraint
        self.shared_axes = None if shared_axes is None else list(
            shared_axes if isinstance(shared_axes, (list, tuple)) else [shared_axes])

    def build(self, input_shape: tuple) -> None:
        shape = list(input_shape[1:])
        for axis in self.shared_axes or []:
            if not 1 <= axis < len(input_shape):
                raise ValueError(f"Layer '{self.name}' (PReLU): shared_axes {self.shared_axes} "
                                 f"must be between 1 and {len(input_shape) - 1} for inputs of "
                                 f"shape {input_shape}")
            shape[axis - 1] = 1
        if None in shape:
            raise ValueError(f"Layer '{self.name}' (PReLU) needs known sizes on the axes it "
                             f"does not share, got inputs of shape {input_shape}")
        self.alpha = self.add_weight(tuple(shape), self.alpha_initializer,
                                     regularizer=self.alpha_regularizer,
                                     constraint=self.alpha_constraint, name="alpha")
        self.input_spec = InputSpec(ndim=len(input_shape))

    def call(self, x: Tensor) -> Tensor:
        return F.relu(x) - self.alpha * F.relu(-x)
