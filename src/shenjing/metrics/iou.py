"""Intersection-over-union metrics of class predictions: ``IoU``, ``MeanIoU``, ``BinaryIoU``
and the one-hot ones, from one confusion matrix."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .._checks import typed_arg
from ..losses import _weights
from .base import _EPSILON, Metric, _class_ids, _np


class IoU(Metric):
    """Intersection over union ``tp / (tp + fp + fn)`` of class predictions, per target class,
    from a (weighted) confusion matrix accumulated over batches; the mean over
    ``target_class_ids`` of the classes that occur (in targets or predictions) (Keras 3).

    Every element counts: labels and predictions of any shape (e.g. (N, H, W) segmentation
    maps) are flattened. Weights are per element, or per sample (broadcast over the rest).

    Args:
        num_classes: the number of classes, C (the confusion matrix is C x C).
        target_class_ids: the classes whose IoUs are averaged.
        name: the key in training logs (Keras's default names, 'io_u', 'mean_io_u'...).
        dtype: kept in the config (Keras 3's); the confusion matrix is float64.
        ignore_class: a label whose elements are left out (a segmentation 'void' class).
        sparse_y_true: targets are class ids; False: one-hot or scores, arg-max over ``axis``.
        sparse_y_pred: predictions are class ids; False: scores, arg-max over ``axis``.
        axis: the class axis of non-sparse targets or predictions.

    >>> IoU(num_classes=2, target_class_ids=[0])([0, 0, 1, 1], [0, 1, 0, 1])
    0.333333...
    """
    direction = "up"

    def __init__(self, num_classes: int, target_class_ids: Sequence[int],
                 name: str | None = None, dtype: Any = None, ignore_class: int | None = None,
                 sparse_y_true: bool = True, sparse_y_pred: bool = True, axis: int = -1) -> None:
        who = type(self).__name__
        num_classes = typed_arg(who, "num_classes", num_classes, "integer")
        target_class_ids = [typed_arg(who, "target_class_ids", c, "integer")
                            for c in target_class_ids]
        if not target_class_ids or min(target_class_ids) < 0 or (
                max(target_class_ids) >= num_classes):
            raise ValueError(f"{who}: target_class_ids must lie in [0, {num_classes}), got "
                             f"{target_class_ids}")
        self.num_classes, self.target_class_ids = num_classes, target_class_ids
        self.ignore_class = typed_arg(who, "ignore_class", ignore_class, "integer", optional=True)
        self.axis = typed_arg(who, "axis", axis, "integer")
        self.sparse_y_true = typed_arg(who, "sparse_y_true", sparse_y_true, "bool")
        self.sparse_y_pred = typed_arg(who, "sparse_y_pred", sparse_y_pred, "bool")
        super().__init__(dtype, name)

    def reset_state(self) -> None:
        self.total_cm = np.zeros((self.num_classes, self.num_classes))

    def _class_ids(self, y_true: Any, y_pred: Any) -> tuple[np.ndarray, np.ndarray]:
        t, p = _np(y_true), _np(y_pred)
        if not self.sparse_y_true:
            t = t.argmax(axis=self.axis)
        if not self.sparse_y_pred:
            p = p.argmax(axis=self.axis)
        return t, p

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        t, p = self._class_ids(y_true, y_pred)
        if t.size != p.size:
            raise ValueError(f"{self.name}: y_true of shape {t.shape} and y_pred of shape "
                             f"{p.shape} hold different numbers of elements")
        w = np.ones(t.size) if sample_weight is None else np.broadcast_to(
            _weights(_np(sample_weight), t.shape, self.name), t.shape).reshape(-1)
        t, p = t.reshape(-1), p.reshape(-1)
        if self.ignore_class is not None:
            keep = t != self.ignore_class
            t, p, w = t[keep], p[keep], w[keep]
        c = self.num_classes
        t, p = _class_ids(t, c, self.name), _class_ids(p, c, self.name)
        self.total_cm += np.bincount(t * c + p, weights=w.astype(np.float64),
                                     minlength=c * c).reshape(c, c)

    def result(self) -> float:
        cm = self.total_cm
        tp = np.diag(cm)
        denominator = (cm.sum(axis=0) + cm.sum(axis=1) - tp)[self.target_class_ids]
        present = np.sum(denominator > 1e-9)  # classes never seen nor predicted don't count
        iou = tp[self.target_class_ids] / (denominator + _EPSILON)
        return float(iou.sum() / (present + _EPSILON))

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "num_classes": self.num_classes,
                "target_class_ids": self.target_class_ids, "ignore_class": self.ignore_class,
                "sparse_y_true": self.sparse_y_true, "sparse_y_pred": self.sparse_y_pred,
                "axis": self.axis}


class MeanIoU(IoU):
    """The mean IoU over all ``num_classes`` classes that occur; see :class:`IoU`.

    >>> MeanIoU(num_classes=2)([0, 0, 1, 1], [0, 1, 0, 1])
    0.333333...
    """

    def __init__(self, num_classes: int, name: str | None = None, dtype: Any = None,
                 ignore_class: int | None = None, sparse_y_true: bool = True,
                 sparse_y_pred: bool = True, axis: int = -1) -> None:
        num_classes = typed_arg(type(self).__name__, "num_classes", num_classes, "integer")
        super().__init__(num_classes, range(num_classes), name, dtype, ignore_class,
                         sparse_y_true, sparse_y_pred, axis)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        del config["target_class_ids"]
        return config


class BinaryIoU(IoU):
    """IoU of binary predictions: ``y_pred >= threshold`` is class 1 (Keras's ``>=``), the
    rest class 0; the mean over ``target_class_ids`` ((0, 1), (0,) or (1,)); see :class:`IoU`.
    """

    def __init__(self, target_class_ids: Sequence[int] = (0, 1), threshold: float = 0.5,
                 name: str | None = None, dtype: Any = None) -> None:
        self.threshold = typed_arg("BinaryIoU", "threshold", threshold, "number")
        super().__init__(2, target_class_ids, name, dtype)

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        predicted = (_np(y_pred) >= self.threshold).astype(np.intp)
        super().update_state(_np(y_true), predicted, sample_weight)

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "dtype": self.dtype.name,
                "target_class_ids": self.target_class_ids, "threshold": self.threshold}


class OneHotIoU(IoU):
    """:class:`IoU` for one-hot targets and class scores (both arg-maxed over ``axis``)."""

    def __init__(self, num_classes: int, target_class_ids: Sequence[int],
                 name: str | None = None, dtype: Any = None, ignore_class: int | None = None,
                 sparse_y_pred: bool = False, axis: int = -1) -> None:
        super().__init__(num_classes, target_class_ids, name, dtype, ignore_class, False,
                         sparse_y_pred, axis)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        del config["sparse_y_true"]
        return config


class OneHotMeanIoU(MeanIoU):
    """:class:`MeanIoU` for one-hot targets and class scores (both arg-maxed over ``axis``)."""

    def __init__(self, num_classes: int, name: str | None = None, dtype: Any = None,
                 ignore_class: int | None = None, sparse_y_pred: bool = False,
                 axis: int = -1) -> None:
        super().__init__(num_classes, name, dtype, ignore_class, False, sparse_y_pred, axis)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        del config["sparse_y_true"]
        return config
