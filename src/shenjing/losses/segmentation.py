"""Overlap losses for segmentation masks: Dice and Tversky."""

from __future__ import annotations

from typing import Any

from .. import functional as F
from ..autograd import Tensor
from ..functional.loss import EPSILON
from .base import LossFunctionWrapper, _prepare


def dice(y_true: Any, y_pred: Any, axis: Any = None) -> Tensor:
    """Dice loss ``1 - 2 sum(t p) / (sum(t) + sum(p) + 1e-7)`` (Keras 3's), the sums over
    ``axis``: None sums everything (one value for the batch); e.g. (1, 2, 3) gives one value
    per image of an (N, H, W, C) segmentation."""
    t, p = _prepare(y_true, y_pred)
    intersection = F.sum(t * p, axis=axis)
    return 1.0 - 2.0 * intersection / (F.sum(t, axis=axis) + F.sum(p, axis=axis) + EPSILON)


def tversky(y_true: Any, y_pred: Any, alpha: float = 0.5, beta: float = 0.5,
            axis: Any = None) -> Tensor:
    """Tversky loss (Salehi et al., 2017) as Keras 3 computes it:
    ``1 - sum(t p) / (sum(t p) + alpha sum(t (1 - p)) + beta sum((1 - t) p) + 1e-7)``, sums
    over ``axis`` (None: everything). Note that Keras's ``alpha`` multiplies the missed
    positives ``sum(t (1 - p))`` and ``beta`` the false alarms; with ``alpha = beta = 0.5`` it
    is the Dice loss."""
    t, p = _prepare(y_true, y_pred)
    tp = F.sum(t * p, axis=axis)
    missed = F.sum(t * (1.0 - p), axis=axis)
    false_alarms = F.sum((1.0 - t) * p, axis=axis)
    return 1.0 - tp / (tp + alpha * missed + beta * false_alarms + EPSILON)


class Dice(LossFunctionWrapper):
    """Dice loss for segmentation masks; see :func:`dice`. The default ``axis=None`` gives one
    value for the whole batch; ``axis=(1, 2, 3)`` one per (N, H, W, C) image, which
    ``sample_weight`` and the reduction then weigh and average."""

    def __init__(self, reduction: str | None = "sum_over_batch_size", name: str = "dice",
                 axis: Any = None, dtype: Any = None) -> None:
        super().__init__(dice, reduction=reduction, name=name, dtype=dtype, axis=_axis(axis))


class Tversky(LossFunctionWrapper):
    """Tversky loss, Dice with separate weights for missed positives and false alarms; see
    :func:`tversky`."""

    def __init__(self, alpha: float = 0.5, beta: float = 0.5,
                 reduction: str | None = "sum_over_batch_size", name: str = "tversky",
                 axis: Any = None, dtype: Any = None) -> None:
        super().__init__(tversky, reduction=reduction, name=name, dtype=dtype, alpha=alpha,
                         beta=beta, axis=_axis(axis))


def _axis(axis: Any) -> Any:
    """An axis or a tuple of axes (a JSON config gives a list back)."""
    return tuple(axis) if isinstance(axis, list) else axis
