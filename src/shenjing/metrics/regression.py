"""Regression metrics: squared, absolute, percentage, logarithmic and log-cosh errors,
cosine similarity, R2, and the Pearson and concordance correlations."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import losses
from .._checks import typed_arg
from ..losses import _weights
from .base import (
    _EPSILON,
    Mean,
    MeanMetricWrapper,
    Metric,
    _from_loss,
    _MeanOf,
    _np,
    _pair,
)


def _per_sample(x: np.ndarray) -> np.ndarray:
    return x.mean(axis=-1) if x.ndim > 1 else x


def mean_squared_error(y_true: Any, y_pred: Any) -> np.ndarray:
    """Per-sample mean of squared errors over the last axis, in float64."""
    t, p = _pair(y_true, y_pred, "mean_squared_error")
    return _per_sample(np.square(p.astype(np.float64) - t))


def mean_absolute_error(y_true: Any, y_pred: Any) -> np.ndarray:
    """Per-sample mean of absolute errors over the last axis, in float64."""
    t, p = _pair(y_true, y_pred, "mean_absolute_error")
    return _per_sample(np.abs(p.astype(np.float64) - t))


def mean_absolute_percentage_error(y_true: Any, y_pred: Any) -> np.ndarray:
    """Per-sample ``100 * mean(|y_true - y_pred| / max(|y_true|, 1e-7))`` over the last axis,
    in float64 (Keras's)."""
    t, p = _pair(y_true, y_pred, "mean_absolute_percentage_error")
    t = t.astype(np.float64)
    return 100.0 * _per_sample(np.abs(t - p) / np.maximum(np.abs(t), _EPSILON))


def _deviations(y_true: Any, y_pred: Any, axis: Any, who: str) -> tuple[np.ndarray, ...]:
    """Targets and predictions (float64, one shape) less their means along ``axis`` (an int,
    or several as a list or tuple), the two means, and ``axis`` as NumPy takes it."""
    t, p = _pair(y_true, y_pred, who)
    axis = tuple(axis) if isinstance(axis, list) else axis
    t, p = t.astype(np.float64), p.astype(np.float64)
    t_mean, p_mean = t.mean(axis, keepdims=True), p.mean(axis, keepdims=True)
    return t - t_mean, p - p_mean, t_mean, p_mean, axis


def pearson_correlation(y_true: Any, y_pred: Any, axis: Any = -1) -> np.ndarray:
    """Per-sample Pearson correlation along ``axis``, in float64 (Keras 3's: each deviation
    from the mean over its standard deviation + 1e-7, the products averaged).

    >>> pearson_correlation([[0, 1, 0.5], [1, 1, 0.2]], [[0.1, 0.9, 0.5], [1, 0.9, 0.2]])
    array([0.9999..., 0.9933...])
    """
    t, p, _, _, axis = _deviations(y_true, y_pred, axis, "pearson_correlation")
    t = t / (t.std(axis, keepdims=True) + _EPSILON)
    p = p / (p.std(axis, keepdims=True) + _EPSILON)
    return (t * p).mean(axis)


def concordance_correlation(y_true: Any, y_pred: Any, axis: Any = -1) -> np.ndarray:
    """Per-sample concordance correlation (Lin's) along ``axis``, in float64 (Keras 3's:
    ``2 cov / (var_t + var_p + (mean_t - mean_p)**2 + 1e-7)``, population moments), which
    is 1 only where the predictions equal the targets, not just correlate with them."""
    t, p, t_mean, p_mean, axis = _deviations(y_true, y_pred, axis, "concordance_correlation")
    norm = (t * t).mean(axis) + (p * p).mean(axis) + np.square(t_mean - p_mean).squeeze(axis)
    return 2.0 * (t * p).mean(axis) / (norm + _EPSILON)


mean_squared_logarithmic_error = _from_loss(losses.mean_squared_logarithmic_error)
log_cosh = _from_loss(losses.log_cosh)
cosine_similarity = _from_loss(losses.cosine_similarity, sign=-1.0)  # 1: the same direction

mse = mean_squared_error
mae = mean_absolute_error
mape = mean_absolute_percentage_error
msle = mean_squared_logarithmic_error


class MeanSquaredError(_MeanOf):
    """Mean squared error over all samples seen; see :func:`mean_squared_error`."""
    direction = "down"

    fn = staticmethod(mean_squared_error)


class RootMeanSquaredError(Mean):
    """The square root of the (weighted) mean squared error over all samples seen (Keras's:
    each sample's squared errors are averaged first, so weights are per sample).

    >>> RootMeanSquaredError()(np.array([[0, 1], [0, 0]]), np.array([[1, 1], [0, 0]]))
    0.5
    """
    direction = "down"

    def __init__(self, name: str = "root_mean_squared_error", dtype: Any = None) -> None:
        super().__init__(name, dtype)

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        t, p = _pair(y_true, y_pred, self.name)
        super().update_state(np.square(p.astype(np.float64) - t), sample_weight)

    def result(self) -> float:
        return float(np.sqrt(super().result()))


class MeanAbsoluteError(_MeanOf):
    """Mean absolute error over all samples seen; see :func:`mean_absolute_error`."""
    direction = "down"

    fn = staticmethod(mean_absolute_error)


class MeanAbsolutePercentageError(_MeanOf):
    """Mean absolute percentage error over all samples seen; see
    :func:`mean_absolute_percentage_error`."""
    direction = "down"

    fn = staticmethod(mean_absolute_percentage_error)


class MeanSquaredLogarithmicError(_MeanOf):
    """Mean squared logarithmic error over all samples seen; see
    :func:`shenjing.losses.mean_squared_logarithmic_error`."""
    direction = "down"

    fn = staticmethod(mean_squared_logarithmic_error)


class LogCoshError(_MeanOf):
    """Mean log-cosh error; see :func:`shenjing.losses.log_cosh` (Keras names it 'logcosh')."""
    direction = "down"

    fn = staticmethod(log_cosh)
    default_name = "logcosh"


class CosineSimilarity(MeanMetricWrapper):
    """Mean cosine similarity along ``axis``, positive (1 for the same direction), unlike the
    loss :class:`shenjing.losses.CosineSimilarity`, which is its negative (Keras)."""
    direction = "up"

    def __init__(self, name: str = "cosine_similarity", dtype: Any = None,
                 axis: int = -1) -> None:
        super().__init__(cosine_similarity, name, dtype,
                         axis=typed_arg(name, "axis", axis, "integer"))


def _axes(who: str, axis: Any) -> Any:
    """An axis, or several as a list (a JSON config's form)."""
    if isinstance(axis, (list, tuple)):
        return [typed_arg(who, "axis", a, "integer") for a in axis]
    return typed_arg(who, "axis", axis, "integer")


class PearsonCorrelation(MeanMetricWrapper):
    """The mean over samples of their Pearson correlation along ``axis`` (Keras 3's, which
    correlates each sample's values, e.g. a sequence's steps); see
    :func:`pearson_correlation`. Streamed batches give the value of one call on all the data.
    For one output per sample, (N,) or (N, 1), ``axis=0`` correlates over each batch, and
    the result is the mean over the batches (Keras's).

    >>> PearsonCorrelation()([[0, 1, 0.5], [1, 1, 0.2]], [[0.1, 0.9, 0.5], [1, 0.9, 0.2]])
    0.996699...
    """
    direction = "up"

    def __init__(self, name: str = "pearson_correlation", dtype: Any = None,
                 axis: Any = -1) -> None:
        super().__init__(pearson_correlation, name, dtype, axis=_axes(name, axis))


class ConcordanceCorrelation(MeanMetricWrapper):
    """The mean over samples of their concordance correlation along ``axis`` (Keras 3's);
    see :func:`concordance_correlation` and, for the axis, :class:`PearsonCorrelation`.

    >>> ConcordanceCorrelation()([[0, 1, 0.5], [1, 1, 0.2]], [[0.1, 0.9, 0.5], [1, 0.9, 0.2]])
    0.98163167...
    """
    direction = "up"

    def __init__(self, name: str = "concordance_correlation", dtype: Any = None,
                 axis: Any = -1) -> None:
        super().__init__(concordance_correlation, name, dtype, axis=_axes(name, axis))


class R2Score(Metric):
    """The coefficient of determination ``1 - SS_res / SS_tot`` per output column (Keras 3's
    ``R2Score``, scikit-learn's ``r2_score``), from running weighted sums, so streaming over
    batches gives the value of one call on all the data.

    Targets and predictions are (samples, outputs); (samples,) counts as one output. A column
    whose targets are all equal has no variance: its score is 0, or NaN if the predictions
    are exact (Keras's; scikit-learn gives 1 there).

    Args:
        class_aggregation: 'uniform_average' (the mean over columns), 'variance_weighted_average'
            (weighted by each column's target variance) or None (a list, one per column).
        num_regressors: p > 0 gives the adjusted score ``1 - (1 - R2) (n - 1) / (n - p - 1)``,
            where ``n`` counts the target values seen, as Keras (the samples, for one output).
        name: the key in training logs.
        dtype: kept in the config (Keras 3's); the sums are float64.

    >>> R2Score()(np.array([[1.0], [4.0], [3.0]]), np.array([[2.0], [4.0], [4.0]]))
    0.5714285...
    """
    direction = "up"

    _AGGREGATIONS = (None, "uniform_average", "variance_weighted_average")

    def __init__(self, class_aggregation: str | None = "uniform_average",
                 num_regressors: int = 0, name: str = "r2_score", dtype: Any = None) -> None:
        if class_aggregation not in self._AGGREGATIONS:
            raise ValueError(f"R2Score: class_aggregation must be one of {self._AGGREGATIONS}, "
                             f"got {class_aggregation!r}")
        if typed_arg("R2Score", "num_regressors", num_regressors, "integer") < 0:
            raise ValueError(f"R2Score: num_regressors must be >= 0, got {num_regressors}")
        self.class_aggregation, self.num_regressors = class_aggregation, int(num_regressors)
        self._outputs = 0  # known at the first update_state, kept by reset_state
        super().__init__(dtype, name)

    def reset_state(self) -> None:
        n = self._outputs
        self.sum, self.squared_sum = np.zeros(n), np.zeros(n)
        self.total_mse, self.count = np.zeros(n), np.zeros(n)
        self.num_samples = 0

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        t, p = _pair(y_true, y_pred, self.name)
        t, p = t.astype(np.float64), p.astype(np.float64)
        if p.ndim == 1:
            t, p = t[:, None], p[:, None]
        if p.ndim != 2:
            raise ValueError(f"{self.name}: expects y_true and y_pred of shape (samples, "
                             f"outputs), got y_pred of shape {p.shape}")
        if not self._outputs:
            self._outputs = p.shape[1]
            self.reset_state()
        elif p.shape[1] != self._outputs:
            raise ValueError(f"{self.name}: y_pred has {p.shape[1]} outputs, earlier batches "
                             f"had {self._outputs}")
        w = np.ones(p.shape) if sample_weight is None else np.broadcast_to(
            _weights(_np(sample_weight), p.shape, self.name), p.shape).astype(np.float64)
        self.sum += (w * t).sum(axis=0)
        self.squared_sum += (w * t * t).sum(axis=0)
        self.total_mse += (w * (t - p) ** 2).sum(axis=0)
        self.count += w.sum(axis=0)
        self.num_samples += t.size

    def result(self) -> float | list[float]:
        if not self._outputs:
            return 0.0
        with np.errstate(divide="ignore", invalid="ignore"):
            total = self.squared_sum - self.sum * (self.sum / self.count)
            raw = 1.0 - self.total_mse / total
        raw = np.where(np.isinf(raw), 0.0, raw)  # no variance, inexact predictions: 0
        if self.class_aggregation is None:
            score: Any = raw
        elif self.class_aggregation == "uniform_average":
            score = np.mean(raw)
        else:
            score = np.sum(total * raw) / np.sum(total)
        n, k = self.num_samples, self.num_regressors
        if k and k < n - 1:  # Keras falls back to the plain score otherwise
            score = 1.0 - (1.0 - score) * (n - 1) / (n - k - 1)
        return score.tolist() if self.class_aggregation is None else float(score)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "class_aggregation": self.class_aggregation,
                "num_regressors": self.num_regressors}
