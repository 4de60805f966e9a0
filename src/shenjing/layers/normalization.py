"""Normalization layers: BatchNormalization (per channel, over the batch) and
LayerNormalization (per sample, over the features)."""

from __future__ import annotations

from typing import Any

from .. import functional as F
from ..autograd import Tensor
from ..functional._util import normalize_axes
from .layer import InputSpec, Layer


class BatchNormalization(Layer):
    """Normalize each channel (the last axis) with the batch's mean and variance during training
    and with moving averages of them at inference, then scale by gamma and shift by beta.

    The moving statistics follow Keras: moving = moving * momentum + batch * (1 - momentum),
    with the biased batch variance (torch's running_var uses the unbiased one, and its momentum
    is 1 - Keras's).

    Args:
        momentum: for the moving averages (Keras default 0.99).
        epsilon: added to the variance (Keras default 1e-3).
        center, scale: whether to learn beta and gamma.
    """

    def __init__(self, axis: int = -1, momentum: float = 0.99, epsilon: float = 1e-3,
                 center: bool = True, scale: bool = True, beta_initializer: Any = "zeros",
                 gamma_initializer: Any = "ones", moving_mean_initializer: Any = "zeros",
                 moving_variance_initializer: Any = "ones", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if axis != -1:
            raise ValueError("BatchNormalization supports channels-last only (axis=-1)")
        self.axis, self.momentum, self.epsilon = axis, momentum, epsilon
        self.center, self.scale = center, scale
        self.initializers = (gamma_initializer, beta_initializer, moving_mean_initializer,
                             moving_variance_initializer)

    def build(self, input_shape: tuple) -> None:
        c = input_shape[-1]
        g_init, b_init, mm_init, mv_init = self.initializers
        self.gamma = self.add_weight((c,), g_init, name="gamma") if self.scale else None
        self.beta = self.add_weight((c,), b_init, name="beta") if self.center else None
        self.moving_mean = self.add_weight((c,), mm_init, trainable=False, name="moving_mean")
        self.moving_variance = self.add_weight((c,), mv_init, trainable=False,
                                               name="moving_variance")
        self.input_spec = InputSpec(min_ndim=2, axes={-1: c})

    def call(self, x: Tensor, training: bool = False) -> Tensor:
        return F.batch_norm(x, self.gamma, self.beta, self.moving_mean, self.moving_variance,
                            training=training and self.trainable, momentum=self.momentum,
                            epsilon=self.epsilon)


class LayerNormalization(Layer):
    """Normalize each sample over ``axis`` (default the features), then scale and shift."""

    def __init__(self, axis: Any = -1, epsilon: float = 1e-3, center: bool = True,
                 scale: bool = True, beta_initializer: Any = "zeros",
                 gamma_initializer: Any = "ones", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.axis, self.epsilon, self.center, self.scale = axis, epsilon, center, scale
        self.beta_initializer, self.gamma_initializer = beta_initializer, gamma_initializer

    def build(self, input_shape: tuple) -> None:
        axes = normalize_axes(self.axis, len(input_shape))  # sorted, as F.layer_norm wants
        shape = tuple(input_shape[a] for a in axes)
        self.gamma = self.add_weight(shape, self.gamma_initializer, name="gamma") if self.scale \
            else None
        self.beta = self.add_weight(shape, self.beta_initializer, name="beta") if self.center \
            else None
        self.input_spec = InputSpec(ndim=len(input_shape), axes=dict(zip(axes, shape)))

    def call(self, x: Tensor) -> Tensor:
        return F.layer_norm(x, self.gamma, self.beta, axis=self.axis, epsilon=self.epsilon)
