"""Metrics of weighted confusion counts at thresholds: ``TruePositives``..., ``Precision``,
``Recall``, ``AUC``; their count keeping is shared with the F-scores and with the rates at a
constraint (``constrained.py``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .._checks import typed_arg
from ..losses import _weights
from .base import _EPSILON, Metric, _np, _pair


def _divide_no_nan(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a / b, 0 where b is 0 (Keras's divide_no_nan)."""
    return np.divide(a, b, out=np.zeros(np.broadcast_shapes(np.shape(a), np.shape(b))),
                     where=b != 0)


class _Counts(Metric):
    """Weighted true/false positive/negative counts, one of each per row of the boolean
    predictions that a subclass hands to :meth:`_count` (and per label, for AUC's
    ``multi_label``)."""

    def _rows(self) -> int | tuple[int, ...]:
        """The shape of each kind of count (the state's shape)."""
        raise NotImplementedError

    def reset_state(self) -> None:
        n = self._rows()
        self.true_positives = np.zeros(n)
        self.false_positives = np.zeros(n)
        self.false_negatives = np.zeros(n)
        self.true_negatives = np.zeros(n)

    def _count(self, predicted: np.ndarray, actual: np.ndarray, w: np.ndarray) -> None:
        """Add the counts of ``predicted`` (rows, M) against ``actual`` (M,) or (rows, M),
        booleans, each of the M elements weighted by ``w`` (M,) float64; or, per label,
        ``predicted`` (rows, N, L) against ``actual`` and ``w`` (N, L)."""
        if predicted.ndim == 3:
            def add(p: np.ndarray, a: np.ndarray) -> np.ndarray:
                return np.einsum("tnl,nl->tl", (p & a).astype(np.float64), w)
        else:
            def add(p: np.ndarray, a: np.ndarray) -> np.ndarray:
                return (p & a) @ w
        self.true_positives += add(predicted, actual)
        self.false_positives += add(predicted, ~actual)
        self.false_negatives += add(~predicted, actual)
        self.true_negatives += add(~predicted, ~actual)


_NEG_INF = -1e10  # Keras's NEG_INF: what top_k filtering gives the scores it drops


def _filter_top_k(p: np.ndarray, k: int) -> np.ndarray:
    """``p`` with all but the ``k`` largest scores of each row (the last axis) set to -1e10
    (Keras's ``_filter_top_k``; among equal scores the first ones are kept)."""
    top = np.argsort(-p, axis=-1, kind="stable")[..., :k]
    keep = np.zeros(p.shape, bool)
    np.put_along_axis(keep, top, True, axis=-1)
    return np.where(keep, p, _NEG_INF)


class _Confusion(_Counts):
    """Confusion counts of binary predictions ``y_pred > threshold``, for one or several
    thresholds. Every element counts (Keras), unless ``top_k`` keeps only each row's ``k``
    best scores or ``class_id`` picks one column."""

    def __init__(self, thresholds: float | Sequence[float] | None = None,
                 top_k: int | None = None, class_id: int | None = None,
                 name: str | None = None, dtype: Any = None) -> None:
        who = name or type(self).__name__
        if np.ndim(thresholds) > 1 or isinstance(thresholds, (str, bytes)):
            raise ValueError(f"{who}: thresholds must be a number or a list, got {thresholds!r}")
        self._given_thresholds = thresholds
        if thresholds is None:  # Keras: 0.5, or, with top_k, every kept score is positive
            thresholds = 0.5 if top_k is None else _NEG_INF
        self.thresholds = typed_arg(who, "thresholds", thresholds, "number") if np.ndim(
            thresholds) == 0 else [typed_arg(who, "thresholds", t, "number") for t in thresholds]
        if top_k is not None and not (isinstance(top_k, (int, np.integer)) and top_k > 0):
            raise ValueError(f"{who}: top_k must be None or an integer > 0, got {top_k!r}")
        self.top_k = top_k
        self.class_id = typed_arg(who, "class_id", class_id, "integer", optional=True)
        super().__init__(dtype, name)

    def _rows(self) -> int:
        return int(np.size(self.thresholds))

    def _prepared(self, y_true: Any, y_pred: Any,
                  sample_weight: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Targets, scores (top-k filtered, the class_id column) and weights, one shape."""
        t, p = _pair(y_true, y_pred, self.name)
        w = (np.ones(p.shape) if sample_weight is None else np.broadcast_to(
            _weights(_np(sample_weight), p.shape, self.name), p.shape).astype(np.float64))
        if self.top_k is not None:
            p = _filter_top_k(p, self.top_k)
        if self.class_id is not None:
            if p.ndim < 2:
                raise ValueError(f"{self.name}: class_id needs y_pred of shape (samples, "
                                 f"classes), got shape {p.shape}")
            t, p, w = t[..., self.class_id], p[..., self.class_id], w[..., self.class_id]
        return t, p, w

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        t, p, w = self._prepared(y_true, y_pred, sample_weight)
        predicted = p.reshape(1, -1) > np.reshape(self.thresholds, (-1, 1))  # (thresholds, M)
        self._count(predicted, t.reshape(-1).astype(bool), w.reshape(-1))

    def _per_threshold(self, values: np.ndarray) -> float | list[float]:
        """One number for one threshold (a list of one too, as Keras), else a list."""
        return float(values[0]) if np.size(self.thresholds) == 1 else values.tolist()

    def _ratio(self, other: np.ndarray) -> float | list[float]:
        """tp / (tp + other), 0 where nothing was counted (Keras's divide_no_nan)."""
        return self._per_threshold(
            _divide_no_nan(self.true_positives, self.true_positives + other))

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "thresholds": self._given_thresholds,
                "top_k": self.top_k, "class_id": self.class_id}


class Precision(_Confusion):
    """tp / (tp + fp) of binary predictions ``y_pred > thresholds`` against 0/1 targets.

    Args:
        thresholds: a number or a list (giving a list of results); None is 0.5, or with
            ``top_k`` every kept score counts as positive (Keras).
        top_k: count only each sample's ``k`` highest scores (multi-class or multi-label
            outputs, (samples, classes)) as positive.
        class_id: the column (class) whose precision to report.
        name: the key in training logs.
        dtype: kept in the config (Keras 3's); the counts are float64.

    >>> Precision()(np.array([0, 1, 1]), np.array([0.9, 0.8, 0.1]))
    0.5
    """
    direction = "up"

    def __init__(self, thresholds: float | Sequence[float] | None = None,
                 top_k: int | None = None, class_id: int | None = None,
                 name: str = "precision", dtype: Any = None) -> None:
        super().__init__(thresholds, top_k, class_id, name, dtype)

    def result(self) -> float | list[float]:
        return self._ratio(self.false_positives)


class Recall(_Confusion):
    """tp / (tp + fn) of binary predictions ``y_pred > thresholds`` against 0/1 targets;
    arguments as :class:`Precision`."""
    direction = "up"

    def __init__(self, thresholds: float | Sequence[float] | None = None,
                 top_k: int | None = None, class_id: int | None = None,
                 name: str = "recall", dtype: Any = None) -> None:
        super().__init__(thresholds, top_k, class_id, name, dtype)

    def result(self) -> float | list[float]:
        return self._ratio(self.false_negatives)


class _ConditionCount(_Confusion):
    """The weighted count of one cell of the confusion matrix, at each threshold (Keras's
    ``TruePositives``...: every element counts; a number for one threshold, else a list)."""

    _cell = "true_positives"

    def __init__(self, thresholds: float | Sequence[float] | None = None,
                 name: str | None = None, dtype: Any = None) -> None:
        super().__init__(thresholds, name=name, dtype=dtype)

    def result(self) -> float | list[float]:
        return self._per_threshold(getattr(self, self._cell))

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "dtype": self.dtype.name, "thresholds": self._given_thresholds}


class TruePositives(_ConditionCount):
    """The (weighted) number of elements with ``y_pred > threshold`` and target 1.

    >>> TruePositives()(np.array([0, 1, 1, 1]), np.array([1.0, 0.0, 1.0, 1.0]))
    2.0
    """


class FalsePositives(_ConditionCount):
    """The (weighted) number of elements with ``y_pred > threshold`` and target 0."""

    _cell = "false_positives"


class TrueNegatives(_ConditionCount):
    """The (weighted) number of elements with ``y_pred <= threshold`` and target 0."""

    _cell = "true_negatives"


class FalseNegatives(_ConditionCount):
    """The (weighted) number of elements with ``y_pred <= threshold`` and target 1."""

    _cell = "false_negatives"


class AUC(_Confusion):
    """Area under the ROC or precision-recall curve, approximated from confusion counts at
    ``num_thresholds`` thresholds (Keras). Predictions are probabilities (or logits with
    ``from_logits=True``); labels and predictions are flattened, so every element counts,
    unless ``multi_label``.

    Args:
        num_thresholds: how many thresholds, evenly spaced over [0, 1]; the end ones are
            -1e-7 and 1 + 1e-7 so that predictions of exactly 0 and 1 are counted.
        curve: 'ROC' (true- against false-positive rate) or 'PR' (precision against recall).
        summation_method: 'interpolation' (the trapezoid rule for ROC; for PR, Davis &
            Goadrich's interpolation of precision between thresholds), 'minoring' or
            'majoring' (left or right Riemann sums that under- or over-estimate).
        name: the key in training logs.
        dtype: kept in the config (Keras 3's); the counts are float64.
        thresholds: thresholds in (0, 1) to use instead of ``num_thresholds`` evenly spaced
            ones; -1e-7 and 1 + 1e-7 are added. With evenly spaced thresholds (the default
            ones, or given ones that are), predictions are clipped to [0, 1] first, as Keras's
            evenly spaced path does (a linear output's scores of -2 and 3 count as 0 and 1).
        multi_label: with (samples, labels) data, one curve per label (column) and the
            mean of their areas (weighted by ``label_weights``); False: one curve over all
            elements.
        num_labels: the number of labels, if known (checked against the data).
        label_weights: one weight per label: with ``multi_label`` the weights of the areas'
            mean, without it the weights of each label's elements in the one curve.
        from_logits: whether ``y_pred`` are logits, put through a sigmoid first.

    >>> AUC()(np.array([0, 0, 1, 1]), np.array([0.1, 0.6, 0.4, 0.8]))
    0.75
    """
    direction = "up"

    def __init__(self, num_thresholds: int = 200, curve: str = "ROC",
                 summation_method: str = "interpolation", name: str = "auc",
                 dtype: Any = None, thresholds: Sequence[float] | None = None,
                 multi_label: bool = False,
                 num_labels: int | None = None, label_weights: Sequence[float] | None = None,
                 from_logits: bool = False) -> None:
        if not isinstance(curve, str) or curve.upper() not in ("ROC", "PR"):
            raise ValueError(f"curve must be 'ROC' or 'PR', got {curve!r}")
        if not isinstance(summation_method, str) or summation_method.lower() not in (
                "interpolation", "minoring", "majoring"):
            raise ValueError("summation_method must be 'interpolation', 'minoring' or "
                             f"'majoring', got {summation_method!r}")
        if thresholds is not None:
            inner = sorted(float(t) for t in thresholds)
            num_thresholds = len(inner) + 2
        elif typed_arg(name, "num_thresholds", num_thresholds, "integer") > 1:
            inner = [i / (num_thresholds - 1) for i in range(1, num_thresholds - 1)]
        else:
            raise ValueError(f"num_thresholds must be an integer > 1, got {num_thresholds}")
        if label_weights is not None and np.any(np.asarray(label_weights) < 0):
            raise ValueError(f"label_weights must be >= 0, got {label_weights!r}")
        self.num_thresholds = num_thresholds
        self.curve = curve.upper()
        self.summation_method = summation_method.lower()
        self.multi_label = typed_arg(name, "multi_label", multi_label, "bool")
        self.num_labels = typed_arg(name, "num_labels", num_labels, "integer", optional=True)
        self.label_weights = None if label_weights is None else [float(w) for w in label_weights]
        self.from_logits = typed_arg(name, "from_logits", from_logits, "bool")
        self._labels = num_labels if multi_label else None  # the counts' second axis
        super().__init__([-_EPSILON, *inner, 1.0 + _EPSILON], name=name, dtype=dtype)
        self._given_thresholds = None if thresholds is None else inner
        ends = np.array([0.0, *inner, 1.0])
        self._clipped = np.allclose(ends, np.arange(len(ends)) / (len(ends) - 1), atol=1e-7)

    def _rows(self) -> int | tuple[int, ...]:
        n = int(np.size(self.thresholds))
        return (n, self._labels) if self._labels else n

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        p = _np(y_pred)
        if self.from_logits:
            p = 0.5 * (1.0 + np.tanh(0.5 * p.astype(np.float64)))  # sigmoid, without overflow
        if self._clipped:
            p = np.clip(p, 0.0, 1.0)
        t, p, w = self._prepared(y_true, p, sample_weight)
        if self.label_weights is not None and not self.multi_label:
            w = w * np.broadcast_to(self.label_weights, p.shape)
        if not self.multi_label:
            return super().update_state(t, p, w)
        if p.ndim != 2:
            raise ValueError(f"{self.name}: multi_label expects y_pred of shape (samples, "
                             f"labels), got shape {p.shape}")
        if not self._labels:
            self._labels = p.shape[1]
            self.reset_state()
        elif p.shape[1] != self._labels:
            raise ValueError(f"{self.name}: y_pred has {p.shape[1]} labels, expected "
                             f"{self._labels}")
        predicted = p[None] > np.reshape(self.thresholds, (-1, 1, 1))  # (thresholds, N, L)
        self._count(predicted, t.astype(bool), w)

    def result(self) -> float:
        if self.multi_label and not self._labels:
            return 0.0
        if self.curve == "PR" and self.summation_method == "interpolation":
            areas = self._interpolated_pr_auc()
        else:
            tp, fp, fn = self.true_positives, self.false_positives, self.false_negatives
            recall = _divide_no_nan(tp, tp + fn)
            if self.curve == "ROC":
                x, y = _divide_no_nan(fp, fp + self.true_negatives), recall
            else:
                x, y = recall, _divide_no_nan(tp, tp + fp)
            pairs = np.stack([y[:-1], y[1:]])
            heights = {"interpolation": pairs.mean(axis=0), "minoring": pairs.min(axis=0),
                       "majoring": pairs.max(axis=0)}[self.summation_method]
            areas = np.sum((x[:-1] - x[1:]) * heights, axis=0)
        if not self.multi_label:
            return float(areas)
        if self.label_weights is None:
            return float(np.mean(areas))
        return float(_divide_no_nan(np.sum(areas * self.label_weights),
                                    np.sum(self.label_weights)))

    def _interpolated_pr_auc(self) -> np.ndarray:
        """Davis & Goadrich (2006): between two thresholds, precision is interpolated along the
        line that takes the true positives linearly with the predicted positives ``p``; its
        integral over recall is ``slope * (dtp + intercept * log(p0 / p1)) / positives``."""
        tp = self.true_positives
        p = tp + self.false_positives
        dtp = tp[:-1] - tp[1:]
        slope = _divide_no_nan(dtp, p[:-1] - p[1:])
        intercept = tp[1:] - slope * p[1:]
        p_ratio = np.divide(p[:-1], p[1:], out=np.ones_like(p[1:]), where=p[1:] > 0)
        area = _divide_no_nan(slope * (dtp + intercept * np.log(p_ratio)),
                              tp[1:] + self.false_negatives[1:])
        return area.sum(axis=0)

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "dtype": self.dtype.name, "num_thresholds": self.num_thresholds,
                "curve": self.curve, "summation_method": self.summation_method,
                "thresholds": self._given_thresholds, "multi_label": self.multi_label,
                "num_labels": self.num_labels, "label_weights": self.label_weights,
                "from_logits": self.from_logits}
