"""Losses of regression: squared, absolute, percentage and squared-log errors, Huber,
log-cosh and (negative) cosine similarity."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import functional as F
from ..autograd import Tensor
from ..functional.loss import EPSILON
from .base import LossFunctionWrapper, _mean_last, _OneFunction, _prepare


def mean_squared_error(y_true: Any, y_pred: Any) -> Tensor:
    """Per-sample ``mean((y_pred - y_true)**2, axis=-1)`` (element-wise for 1-D inputs).

    Args:
        y_true: targets, shaped like ``y_pred`` (or differing by a trailing axis of size 1).
        y_pred: predictions.

    Returns:
        One loss per sample: ``y_pred.shape[:-1]``, or ``y_pred.shape`` for 1-D predictions.

    >>> mean_squared_error(np.array([[0.0, 1.0]]), Tensor([[1.0, 1.0]]))
    Tensor([0.5])
    """
    return F.mean_squared_error(*_prepare(y_true, y_pred), reduction="none")


def mean_absolute_error(y_true: Any, y_pred: Any) -> Tensor:
    """Per-sample ``mean(|y_pred - y_true|, axis=-1)``; shapes as :func:`mean_squared_error`."""
    return F.mean_absolute_error(*_prepare(y_true, y_pred), reduction="none")


def huber(y_true: Any, y_pred: Any, delta: float = 1.0) -> Tensor:
    """Per-sample Huber loss: ``0.5 d**2`` where ``|d| <= delta``, else ``delta (|d| - delta / 2)``,
    averaged over the last axis; shapes as :func:`mean_squared_error`."""
    return F.huber(*_prepare(y_true, y_pred), delta=delta, reduction="none")


def mean_absolute_percentage_error(y_true: Any, y_pred: Any) -> Tensor:
    """Per-sample ``100 * mean(|y_true - y_pred| / max(|y_true|, 1e-7), axis=-1)`` (Keras's;
    element-wise for 1-D inputs); shapes as :func:`mean_squared_error`."""
    t, p = _prepare(y_true, y_pred)
    return 100.0 * _mean_last(F.abs(t - p) / F.maximum(F.abs(t), EPSILON))


# Keras 3's other losses, composed of F's ops (autograd differentiates them). Each follows Keras's
# formula, clipping and epsilon; per-sample means are over the last axis, sums too.
def mean_squared_logarithmic_error(y_true: Any, y_pred: Any) -> Tensor:
    """Per-sample ``mean((log(max(p, 1e-7) + 1) - log(max(t, 1e-7) + 1))**2, axis=-1)``
    (Keras's: values below 1e-7, negative ones too, count as 1e-7); shapes as
    :func:`mean_squared_error`."""
    t, p = _prepare(y_true, y_pred)
    d = F.log(F.maximum(p, EPSILON) + 1.0) - F.log(F.maximum(t, EPSILON) + 1.0)
    return _mean_last(d * d)


def log_cosh(y_true: Any, y_pred: Any) -> Tensor:
    """Per-sample ``mean(log(cosh(p - t)), axis=-1)``, computed as ``x + softplus(-2x) - log 2``
    (Keras's form, which cannot overflow); about ``x**2 / 2`` near 0, ``|x| - log 2`` far off."""
    t, p = _prepare(y_true, y_pred)
    x = p - t
    return _mean_last(x + F.softplus(-2.0 * x) - float(np.log(2.0)))


def cosine_similarity(y_true: Any, y_pred: Any, axis: int = -1) -> Tensor:
    """Per-sample **negative** cosine similarity ``-sum(t / |t| * p / |p|, axis)`` (Keras's loss:
    -1 for the same direction, so minimizing it aligns the vectors; the metric
    :class:`shenjing.metrics.CosineSimilarity` reports it positive). Norms below 1e-7 count as
    1e-7 (Keras), so a zero vector gives 0.

    Returns:
        ``y_pred``'s shape without ``axis``.
    """
    t, p = _prepare(y_true, y_pred)
    return -F.sum(_l2_normalize(t, axis) * _l2_normalize(p, axis), axis=axis)


def _l2_normalize(x: Tensor, axis: int) -> Tensor:
    """``x / max(|x|, 1e-7)`` along ``axis`` (Keras's ``normalize``)."""
    return x / F.sqrt(F.maximum(F.sum(x * x, axis=axis, keepdims=True), EPSILON * EPSILON))


mse = mean_squared_error
mae = mean_absolute_error
mape = mean_absolute_percentage_error
msle = mean_squared_logarithmic_error


class MeanSquaredError(_OneFunction):
    """Mean of squared errors; see :func:`mean_squared_error`."""

    fn = staticmethod(mean_squared_error)


class MeanAbsoluteError(_OneFunction):
    """Mean of absolute errors; see :func:`mean_absolute_error`."""

    fn = staticmethod(mean_absolute_error)


class MeanAbsolutePercentageError(_OneFunction):
    """Mean absolute percentage error; see :func:`mean_absolute_percentage_error`."""

    fn = staticmethod(mean_absolute_percentage_error)


class MeanSquaredLogarithmicError(_OneFunction):
    """Mean squared logarithmic error; see :func:`mean_squared_logarithmic_error`."""

    fn = staticmethod(mean_squared_logarithmic_error)


class LogCosh(_OneFunction):
    """Logarithm of the hyperbolic cosine of the error; see :func:`log_cosh`."""

    fn = staticmethod(log_cosh)


class CosineSimilarity(LossFunctionWrapper):
    """Negative cosine similarity along ``axis`` (Keras's sign: -1 is a perfect match); see
    :func:`cosine_similarity`."""

    def __init__(self, axis: int = -1, reduction: str | None = "sum_over_batch_size",
                 name: str = "cosine_similarity", dtype: Any = None) -> None:
        super().__init__(cosine_similarity, reduction=reduction, name=name, dtype=dtype,
                         axis=axis)


class Huber(LossFunctionWrapper):
    """Huber loss, quadratic within ``delta`` of the target, linear beyond; see :func:`huber`."""

    def __init__(self, delta: float = 1.0, reduction: str | None = "sum_over_batch_size",
                 name: str = "huber_loss", dtype: Any = None) -> None:
        super().__init__(huber, reduction=reduction, name=name, dtype=dtype, delta=delta)
