"""Hinge losses for raw scores: hinge, squared hinge and categorical hinge."""

from __future__ import annotations

from typing import Any

from .. import functional as F
from ..autograd import Tensor
from ..backend import get_xp
from .base import _mean_last, _OneFunction, _prepare


def _hinge_margins(y_true: Any, y_pred: Any) -> Tensor:
    """``max(1 - t p, 0)``, with 0/1 labels first mapped to -1/1 (Keras: when every label of the
    batch is 0 or 1; labels already -1/1 are kept)."""
    t, p = _prepare(y_true, y_pred)
    xp = get_xp(t.data)
    if bool(xp.all((t.data == 0) | (t.data == 1))):
        t = Tensor(2 * t.data - 1, dtype=t.dtype)
    return F.relu(1.0 - t * p)


def hinge(y_true: Any, y_pred: Any) -> Tensor:
    """Per-sample ``mean(max(1 - t p, 0), axis=-1)`` for labels -1/1 (0/1 are mapped to -1/1)
    and raw scores ``p``; shapes as :func:`mean_squared_error`."""
    return _mean_last(_hinge_margins(y_true, y_pred))


def squared_hinge(y_true: Any, y_pred: Any) -> Tensor:
    """Per-sample ``mean(max(1 - t p, 0)**2, axis=-1)``; labels as :func:`hinge`."""
    m = _hinge_margins(y_true, y_pred)
    return _mean_last(m * m)


def categorical_hinge(y_true: Any, y_pred: Any) -> Tensor:
    """Per-sample ``max(neg - pos + 1, 0)`` for one-hot targets, where ``pos = sum(t p)`` is the
    true class's score and ``neg = max((1 - t) p)`` the best other one (Keras's, over the last
    axis).

    Returns:
        One value per sample, ``y_pred.shape[:-1]``.
    """
    t, p = _prepare(y_true, y_pred)
    pos = F.sum(t * p, axis=-1)
    neg = F.max((1.0 - t) * p, axis=-1)
    return F.relu(neg - pos + 1.0)


class Hinge(_OneFunction):
    """Hinge loss for -1/1 (or 0/1) labels and raw scores; see :func:`hinge`."""

    fn = staticmethod(hinge)


class SquaredHinge(_OneFunction):
    """Squared hinge loss; see :func:`squared_hinge`."""

    fn = staticmethod(squared_hinge)


class CategoricalHinge(_OneFunction):
    """Categorical hinge loss for one-hot targets; see :func:`categorical_hinge`."""

    fn = staticmethod(categorical_hinge)
