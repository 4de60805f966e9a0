"""The best value of one rate where another reaches a given level, at Keras's thresholds:
``SensitivityAtSpecificity``, ``SpecificityAtSensitivity``, ``PrecisionAtRecall``,
``RecallAtPrecision`` (Keras 3's), on the confusion counts of ``confusion.py``."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._checks import typed_arg
from .base import _np
from .confusion import _Confusion, _divide_no_nan


class _AtConstraint(_Confusion):
    """Keras 3's ``SensitivitySpecificityBase``: the best value of the rate ``_reported`` among
    the thresholds where the rate ``_given`` (the constructor's first argument) is at least
    the value given."""
    direction = "up"

    _given = _reported = ""  # 'sensitivity' (= 'recall'), 'specificity' or 'precision'

    def __init__(self, value: float, num_thresholds: int = 200, class_id: int | None = None,
                 name: str | None = None, dtype: Any = None) -> None:
        who = name or type(self).__name__
        value = typed_arg(who, self._given, value, "number")
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"{who}: {self._given} must lie in [0, 1], got {value}")
        num_thresholds = typed_arg(who, "num_thresholds", num_thresholds, "integer")
        if num_thresholds < 1:
            raise ValueError(f"{who}: num_thresholds must be an integer > 0, got "
                             f"{num_thresholds}")
        setattr(self, self._given, value)
        self.num_thresholds = num_thresholds
        thresholds = [0.5] if num_thresholds == 1 else [
            0.0, *((i + 1) * 1.0 / (num_thresholds - 1) for i in range(num_thresholds - 2)), 1.0]
        super().__init__(thresholds, class_id=class_id, name=name, dtype=dtype)

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        p = _np(y_pred)
        super().update_state(y_true, np.clip(p, 0.0, 1.0) if self.num_thresholds > 1 else p,
                             sample_weight)

    def result(self) -> float:
        tp, fp = self.true_positives, self.false_positives
        tn, fn = self.true_negatives, self.false_negatives
        rates = {"sensitivity": _divide_no_nan(tp, tp + fn),
                 "specificity": _divide_no_nan(tn, tn + fp),
                 "precision": _divide_no_nan(tp, tp + fp)}
        rates["recall"] = rates["sensitivity"]
        feasible = rates[self._given] >= getattr(self, self._given)
        return float(rates[self._reported][feasible].max(initial=0.0))

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "dtype": self.dtype.name, "class_id": self.class_id,
                "num_thresholds": self.num_thresholds, self._given: getattr(self, self._given)}


class SensitivityAtSpecificity(_AtConstraint):
    """The best sensitivity ``tp / (tp + fn)`` at a threshold where the specificity
    ``tn / (tn + fp)`` is at least ``specificity``, 0 where none is (Keras 3's). The counts are
    kept at ``num_thresholds`` thresholds evenly spaced over [0, 1], ends included (one
    threshold: 0.5); with two or more, predictions are clipped to [0, 1] first, as Keras's
    evenly spaced path does. Elements are flattened, as for :class:`Precision`.

    Args:
        specificity: the least specificity, in [0, 1].
        num_thresholds: how many thresholds to try, evenly spaced over [0, 1].
        class_id: the column (class) of (samples, classes) data to score.
        name: the key in training logs.
        dtype: kept in the config (Keras 3's); the counts are float64.

    >>> SensitivityAtSpecificity(0.5)([0, 0, 0, 1, 1], [0, 0.3, 0.8, 0.3, 0.8])
    0.5
    """

    _given, _reported = "specificity", "sensitivity"

    def __init__(self, specificity: float, num_thresholds: int = 200,
                 class_id: int | None = None, name: str | None = None,
                 dtype: Any = None) -> None:
        super().__init__(specificity, num_thresholds, class_id, name, dtype)


class SpecificityAtSensitivity(_AtConstraint):
    """The best specificity at a threshold where the sensitivity is at least ``sensitivity``;
    arguments as :class:`SensitivityAtSpecificity`.

    >>> SpecificityAtSensitivity(0.5)([0, 0, 0, 1, 1], [0, 0.3, 0.8, 0.3, 0.8])
    0.666666...
    """

    _given, _reported = "sensitivity", "specificity"

    def __init__(self, sensitivity: float, num_thresholds: int = 200,
                 class_id: int | None = None, name: str | None = None,
                 dtype: Any = None) -> None:
        super().__init__(sensitivity, num_thresholds, class_id, name, dtype)


class PrecisionAtRecall(_AtConstraint):
    """The best precision ``tp / (tp + fp)`` at a threshold where the recall is at least
    ``recall``; arguments as :class:`SensitivityAtSpecificity`.

    >>> PrecisionAtRecall(0.5)([0, 0, 0, 1, 1], [0, 0.3, 0.8, 0.3, 0.8])
    0.5
    """

    _given, _reported = "recall", "precision"

    def __init__(self, recall: float, num_thresholds: int = 200, class_id: int | None = None,
                 name: str | None = None, dtype: Any = None) -> None:
        super().__init__(recall, num_thresholds, class_id, name, dtype)


class RecallAtPrecision(_AtConstraint):
    """The best recall at a threshold where the precision is at least ``precision`` (0 when
    no threshold reaches it); arguments as :class:`SensitivityAtSpecificity`.

    >>> RecallAtPrecision(0.8)([0, 0, 1, 1], [0, 0.5, 0.3, 0.9])
    0.5
    """

    _given, _reported = "precision", "recall"

    def __init__(self, precision: float, num_thresholds: int = 200,
                 class_id: int | None = None, name: str | None = None,
                 dtype: Any = None) -> None:
        super().__init__(precision, num_thresholds, class_id, name, dtype)
