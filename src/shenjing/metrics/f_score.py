"""F-scores of multi-class or multi-label predictions: ``FBetaScore`` and ``F1Score``."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..losses import _weights
from .base import _EPSILON, _np, _pair
from .confusion import _Counts


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)


class FBetaScore(_Counts):
    """The F-beta score of multi-class or multi-label predictions, per class or averaged:
    ``(1 + beta**2) * precision * recall / (beta**2 * precision + recall)``, the harmonic mean
    of precision and recall that counts recall ``beta`` times as much (Keras 3).

    Targets are one-hot or multi-hot, shaped like the predictions (batch, classes). Counts are
    kept per class; as Keras, each ratio adds 1e-7 to its denominator, so a class never
    predicted nor present scores 0.

    Args:
        average: None (a list with each class's score), 'micro' (one score from the counts
            summed over classes), 'macro' (the mean of the classes' scores) or 'weighted' (their
            mean weighted by each class's (weighted) number of true instances).
        beta: how many times recall counts as much as precision; > 0.
        threshold: a prediction above it is positive; None (default) makes each sample's
            largest prediction its one positive (unless it is 0).
        name: the key in training logs.
        dtype: kept in the config (Keras 3's); the counts are float64.

    >>> FBetaScore(beta=2.0, threshold=0.5)(np.array([[1, 0], [1, 1]]),
    ...                                     np.array([[0.9, 0.2], [0.3, 0.8]]))
    [0.5555555..., 0.9999998...]
    """
    direction = "up"

    _AVERAGES = (None, "micro", "macro", "weighted")

    def __init__(self, average: str | None = None, beta: float = 1.0,
                 threshold: float | None = None, name: str = "fbeta_score",
                 dtype: Any = None) -> None:
        if average not in self._AVERAGES:
            raise ValueError(f"{type(self).__name__}: average must be one of {self._AVERAGES}, "
                             f"got {average!r}")
        if not _is_number(beta) or not beta > 0:
            raise ValueError(f"{type(self).__name__}: beta must be a number > 0, got {beta!r}")
        if threshold is not None and not (_is_number(threshold) and 0 < threshold <= 1):
            raise ValueError(f"{type(self).__name__}: threshold must be None or a number in "
                             f"(0, 1], got {threshold!r}")
        self.average, self.beta = average, float(beta)
        self.threshold = None if threshold is None else float(threshold)
        self._classes = 0  # known at the first update_state, kept by reset_state
        super().__init__(dtype, name)

    def _rows(self) -> int:
        return self._classes

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        t, p = _pair(y_true, y_pred, self.name)
        if p.ndim != 2:
            raise ValueError(f"{self.name}: expects y_true and y_pred of shape (batch, classes), "
                             f"got y_pred of shape {p.shape} (a binary model's (N,) outputs "
                             "are (N, 1))")
        if not self._classes:
            self._classes = p.shape[1]
            self.reset_state()
        elif p.shape[1] != self._classes:
            raise ValueError(f"{self.name}: y_pred has {p.shape[1]} classes, earlier batches "
                             f"had {self._classes}")
        if self.threshold is None:  # the arg-max is the one positive, unless it is 0
            predicted = (p >= p.max(axis=-1, keepdims=True)) & (np.abs(p) > 1e-9)
        else:
            predicted = p > self.threshold
        w = np.ones(len(p)) if sample_weight is None else np.broadcast_to(
            _weights(_np(sample_weight), p.shape[:1], self.name), p.shape[:1])
        self._count(predicted.T, t.T.astype(bool), w.astype(np.float64))

    def result(self) -> float | list[float]:
        if not self._classes:
            return 0.0
        tp, fp, fn = self.true_positives, self.false_positives, self.false_negatives
        if self.average == "micro":
            tp, fp, fn = tp.sum(), fp.sum(), fn.sum()
        precision = tp / (tp + fp + _EPSILON)
        recall = tp / (tp + fn + _EPSILON)
        b2 = self.beta ** 2
        score = (1 + b2) * precision * recall / (b2 * precision + recall + _EPSILON)
        if self.average is None:
            return score.tolist()
        if self.average == "weighted":
            support = self.true_positives + self.false_negatives
            return float(np.sum(score * support / (support.sum() + _EPSILON)))
        return float(np.mean(score))

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "average": self.average, "beta": self.beta,
                "threshold": self.threshold}


class F1Score(FBetaScore):
    """The F1 score, ``2 * precision * recall / (precision + recall)``: :class:`FBetaScore`
    with ``beta=1``.

    >>> F1Score(average="macro", threshold=0.5)(np.array([[1, 0], [1, 1]]),
    ...                                         np.array([[0.9, 0.2], [0.3, 0.8]]))
    0.8333332...
    """

    def __init__(self, average: str | None = None, threshold: float | None = None,
                 name: str = "f1_score", dtype: Any = None) -> None:
        super().__init__(average, 1.0, threshold, name, dtype)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        del config["beta"]
        return config
