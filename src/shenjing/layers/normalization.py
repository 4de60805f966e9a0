"""Normalization layers: BatchNormalization (per channel, over the batch), LayerNormalization
(per sample, over the features) and UnitNormalization (each sample to unit L2 norm)."""

from __future__ import annotations

import operator
import warnings
from typing import Any

import numpy as np

from .. import functional as F
from ..autograd import Tensor
from ..functional._util import axis_index, normalize_axes
from . import constraints
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
        beta_regularizer, gamma_regularizer, beta_constraint, gamma_constraint: penalties
            and projections of beta and gamma, as a Dense layer's of its weights.
    """

    def __init__(self, axis: int = -1, momentum: float = 0.99, epsilon: float = 1e-3,
                 center: bool = True, scale: bool = True, beta_initializer: Any = "zeros",
                 gamma_initializer: Any = "ones", moving_mean_initializer: Any = "zeros",
                 moving_variance_initializer: Any = "ones", beta_regularizer: Any = None,
                 gamma_regularizer: Any = None, beta_constraint: Any = None,
                 gamma_constraint: Any = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.axis, self.momentum, self.epsilon = operator.index(axis), momentum, epsilon
        self.center, self.scale = center, scale
        self.initializers = (gamma_initializer, beta_initializer, moving_mean_initializer,
                             moving_variance_initializer)
        _affine_options(self, beta_regularizer, gamma_regularizer, beta_constraint,
                        gamma_constraint)

    def build(self, input_shape: tuple) -> None:
        if axis_index(self.axis, len(input_shape)) != len(input_shape) - 1:
            raise ValueError(f"BatchNormalization supports channels-last only: axis "
                             f"{self.axis} of a {len(input_shape)}-D input is not its last (-1)")
        c = input_shape[-1]
        g_init, b_init, mm_init, mv_init = self.initializers
        self.gamma, self.beta = _affine_weights(self, (c,), g_init, b_init)
        self.moving_mean = self.add_weight((c,), mm_init, trainable=False, name="moving_mean")
        self.moving_variance = self.add_weight((c,), mv_init, trainable=False,
                                               name="moving_variance")
        self.input_spec = InputSpec(min_ndim=2, axes={-1: c})

    def call(self, x: Tensor, training: bool = False) -> Tensor:
        return F.batch_norm(x, self.gamma, self.beta, self.moving_mean, self.moving_variance,
                            training=training and self.trainable, momentum=self.momentum,
                            epsilon=self.epsilon)


class LayerNormalization(Layer):
    """Normalize each sample over ``axis`` (default the features), then scale and shift.

    ``rms_scaling=True`` is Keras 3's deprecated form, kept for its models: no centering and no
    beta, ``x / sqrt(var(x) + epsilon) * gamma`` (the variance, not the mean square, as Keras
    computes it, with its warning); :class:`RMSNormalization` is the real one."""

    def __init__(self, axis: Any = -1, epsilon: float = 1e-3, center: bool = True,
                 scale: bool = True, rms_scaling: bool = False, beta_initializer: Any = "zeros",
                 gamma_initializer: Any = "ones", beta_regularizer: Any = None,
                 gamma_regularizer: Any = None, beta_constraint: Any = None,
                 gamma_constraint: Any = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.axis, self.epsilon, self.center, self.scale = axis, epsilon, center, scale
        self.rms_scaling = bool(rms_scaling)
        if self.rms_scaling:
            warnings.warn("LayerNormalization(rms_scaling=True) is deprecated (Keras 3): it "
                          "scales by the variance, not the root mean square; use "
                          "RMSNormalization", UserWarning, stacklevel=2)
        self.beta_initializer, self.gamma_initializer = beta_initializer, gamma_initializer
        _affine_options(self, beta_regularizer, gamma_regularizer, beta_constraint,
                        gamma_constraint)

    def build(self, input_shape: tuple) -> None:
        axes = normalize_axes(self.axis, len(input_shape))  # sorted, as F.layer_norm wants
        shape = tuple(input_shape[a] for a in axes)
        self.gamma, self.beta = _affine_weights(  # Keras: rms_scaling has gamma, no beta
            self, shape, self.gamma_initializer, self.beta_initializer,
            center=self.center and not self.rms_scaling, scale=self.scale or self.rms_scaling)
        self.input_spec = InputSpec(ndim=len(input_shape), axes=dict(zip(axes, shape)))

    def call(self, x: Tensor) -> Tensor:
        if self.rms_scaling:
            axes = normalize_axes(self.axis, x.ndim)
            y = x / F.sqrt(F.var(x, axis=axes, keepdims=True) + self.epsilon)
            return y if self.gamma is None else y * F.reshape(
                self.gamma, tuple(x.shape[a] if a in axes else 1 for a in range(x.ndim)))
        return F.layer_norm(x, self.gamma, self.beta, axis=self.axis, epsilon=self.epsilon)


class GroupNormalization(Layer):
    """Normalize each sample over groups of channels (Keras 3's; Wu and He 2018): the
    channels on ``axis`` in ``groups`` groups (-1: one per channel, instance normalization),
    each group normalized over its channels and every position, with the biased variance;
    then ``gamma`` and ``beta`` per channel. Batch statistics are not used, so it works the
    same at any batch size, in training and inference."""

    def __init__(self, groups: int = 32, axis: int = -1, epsilon: float = 1e-3,
                 center: bool = True, scale: bool = True, beta_initializer: Any = "zeros",
                 gamma_initializer: Any = "ones", beta_regularizer: Any = None,
                 gamma_regularizer: Any = None, beta_constraint: Any = None,
                 gamma_constraint: Any = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.groups, self.axis, self.epsilon = int(groups), int(axis), epsilon
        self.center, self.scale = center, scale
        self.beta_initializer, self.gamma_initializer = beta_initializer, gamma_initializer
        _affine_options(self, beta_regularizer, gamma_regularizer, beta_constraint,
                        gamma_constraint)

    def build(self, input_shape: tuple) -> None:
        axis = axis_index(self.axis, len(input_shape))
        channels = input_shape[axis]
        groups = channels if self.groups == -1 else self.groups
        if channels is None or groups < 1 or channels % groups:
            raise ValueError(f"Layer '{self.name}' (GroupNormalization): {channels} channels on "
                             f"axis {self.axis} cannot be split into groups={self.groups}")
        self._groups = groups
        self.gamma, self.beta = _affine_weights(self, (channels,), self.gamma_initializer,
                                                self.beta_initializer)
        self.input_spec = InputSpec(ndim=len(input_shape), axes={axis: channels})

    def call(self, x: Tensor) -> Tensor:
        axis = axis_index(self.axis, x.ndim)
        order = [a for a in range(x.ndim) if a != axis] + [axis]  # the channels last
        last = F.transpose(x, order) if axis != x.ndim - 1 else x
        channels = last.shape[-1]
        grouped = F.reshape(last, (last.shape[0], -1, self._groups, channels // self._groups))
        y = F.reshape(F.layer_norm(grouped, None, None, axis=(1, 3), epsilon=self.epsilon),
                      last.shape)
        if self.gamma is not None:
            y = y * self.gamma
        if self.beta is not None:
            y = y + self.beta
        return F.transpose(y, tuple(np.argsort(order))) if axis != x.ndim - 1 else y


class RMSNormalization(Layer):
    """Scale each sample by the inverse root mean square over ``axis`` (Keras 3's; Zhang and
    Sennrich 2019): ``x / sqrt(mean(x**2) + epsilon) * scale``, no centering and no shift, a
    ``scale`` weight per feature (LLaMA-style transformers)."""

    def __init__(self, axis: Any = -1, epsilon: float = 1e-6, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.axis = list(axis) if isinstance(axis, (list, tuple)) else [axis]
        self.epsilon = epsilon

    def build(self, input_shape: tuple) -> None:
        axes = normalize_axes(tuple(self.axis), len(input_shape))
        shape = tuple(input_shape[a] for a in axes)
        self.scale = self.add_weight(shape, "ones", name="scale")
        self._broadcast = tuple(input_shape[a] if a in axes else 1
                                for a in range(len(input_shape)))[1:]
        self.input_spec = InputSpec(ndim=len(input_shape), axes=dict(zip(axes, shape)))

    def call(self, x: Tensor) -> Tensor:
        axes = normalize_axes(tuple(self.axis), x.ndim)
        wide = F.cast(x, np.float32) if x.dtype == np.float16 else x  # (squares of 256 pass
        mean_square = F.mean(wide * wide, axis=axes, keepdims=True)  # float16's 65,504)
        y = wide / F.sqrt(mean_square + self.epsilon)
        return F.cast(y, x.dtype) * F.reshape(self.scale, self._broadcast)


class UnitNormalization(Layer):
    """Scale each sample to unit L2 norm over ``axis`` (an int or a list), as Keras 3's:
    ``x * min(1 / ||x||, 1e12)``, so ``x / max(||x||, 1e-12)`` (a zero vector stays zero, with
    a finite gradient). The embeddings a :class:`~shenjing.losses.Circle` loss compares come
    out of one."""

    def __init__(self, axis: Any = -1, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.axis = list(axis) if isinstance(axis, (list, tuple)) else axis

    def call(self, x: Tensor) -> Tensor:
        axes = tuple(self.axis) if isinstance(self.axis, list) else self.axis
        half = x.dtype == np.float16  # 1e12 and 1e-24 are out of float16's range: widen
        wide = F.cast(x, np.float32) if half else x
        squares = F.sum(wide * wide, axis=axes, keepdims=True)
        big = squares.data > 1e-24  # the norm over 1e-12; else the scale is 1e12
        out = wide * F.where(big, 1.0 / F.sqrt(F.where(big, squares, 1.0)), 1e12)
        return F.cast(out, np.float16) if half else out


def _affine_options(layer: Layer, beta_regularizer: Any, gamma_regularizer: Any,
                    beta_constraint: Any, gamma_constraint: Any) -> None:
    layer.beta_regularizer, layer.gamma_regularizer = beta_regularizer, gamma_regularizer
    layer.beta_constraint = constraints.get(beta_constraint)
    layer.gamma_constraint = constraints.get(gamma_constraint)


def _affine_weights(layer: Layer, shape: tuple[int, ...], gamma_initializer: Any,
                    beta_initializer: Any, center: bool | None = None,
                    scale: bool | None = None) -> tuple[Any, Any]:
    """(gamma, beta), each None when ``scale`` / ``center`` (the layer's unless given) is off,
    with their options."""
    gamma = layer.add_weight(shape, gamma_initializer, regularizer=layer.gamma_regularizer,
                             constraint=layer.gamma_constraint, name="gamma") \
        if (layer.scale if scale is None else scale) else None
    beta = layer.add_weight(shape, beta_initializer, regularizer=layer.beta_regularizer,
                            constraint=layer.beta_constraint, name="beta") \
        if (layer.center if center is None else center) else None
    return gamma, beta
