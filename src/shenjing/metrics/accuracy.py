"""Accuracy metrics: exact, binary, categorical, sparse and top-k, as functions and as
streaming means."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._checks import typed_arg
from ..losses import _sparse_labels
from .base import MeanMetricWrapper, _class_ids, _MeanOf, _np, _pair


def _in_top_k(labels: np.ndarray, scores: np.ndarray, k: int, who: str) -> np.ndarray:
    """1.0 where fewer than ``k`` classes score strictly higher than the label (so ties at the
    boundary count as hits, like TensorFlow's ``in_top_k``)."""
    labels = _class_ids(labels, scores.shape[-1], who)
    own = np.take_along_axis(scores, labels[..., None], axis=-1)
    return ((scores > own).sum(axis=-1) < k).astype(np.float64)


def accuracy(y_true: Any, y_pred: Any) -> np.ndarray:
    """1.0 where ``y_pred`` equals ``y_true`` exactly, element-wise."""
    t, p = _pair(y_true, y_pred, "accuracy")
    return (t == p).astype(np.float64)


def binary_accuracy(y_true: Any, y_pred: Any, threshold: float = 0.5) -> np.ndarray:
    """1.0 where ``y_pred > threshold`` agrees with the 0/1 target, element-wise. For a model
    that outputs logits, use ``threshold=0.0``."""
    t, p = _pair(y_true, y_pred, "binary_accuracy")
    return (t == (p > threshold).astype(t.dtype)).astype(np.float64)


def categorical_accuracy(y_true: Any, y_pred: Any) -> np.ndarray:
    """1.0 per sample where the arg-max of ``y_pred`` is the arg-max of the one-hot target."""
    t, p = _pair(y_true, y_pred, "categorical_accuracy")
    return (t.argmax(axis=-1) == p.argmax(axis=-1)).astype(np.float64)


def sparse_categorical_accuracy(y_true: Any, y_pred: Any) -> np.ndarray:
    """1.0 per sample where the arg-max of ``y_pred`` (probabilities or logits) is the label."""
    p = _np(y_pred)
    labels = _sparse_labels(_np(y_true), p.shape, "sparse_categorical_accuracy")
    return (labels == p.argmax(axis=-1)).astype(np.float64)


def top_k_categorical_accuracy(y_true: Any, y_pred: Any, k: int = 5) -> np.ndarray:
    """1.0 per sample where the one-hot target's class is among the ``k`` top scores."""
    t, p = _pair(y_true, y_pred, "top_k_categorical_accuracy")
    return _in_top_k(t.argmax(axis=-1), p, k, "top_k_categorical_accuracy")


def sparse_top_k_categorical_accuracy(y_true: Any, y_pred: Any, k: int = 5) -> np.ndarray:
    """1.0 per sample where the label is among the ``k`` top scores of ``y_pred``."""
    p = _np(y_pred)
    labels = _sparse_labels(_np(y_true), p.shape, "sparse_top_k_categorical_accuracy")
    return _in_top_k(labels, p, k, "sparse_top_k_categorical_accuracy")


acc = accuracy


class Accuracy(_MeanOf):
    """How often predictions equal targets exactly; see :func:`accuracy`."""
    direction = "up"

    fn = staticmethod(accuracy)


class BinaryAccuracy(MeanMetricWrapper):
    """How often ``y_pred > threshold`` matches 0/1 targets; see :func:`binary_accuracy`."""
    direction = "up"

    def __init__(self, name: str = "binary_accuracy", dtype: Any = None,
                 threshold: float = 0.5) -> None:
        super().__init__(binary_accuracy, name, dtype,
                         threshold=typed_arg(name, "threshold", threshold, "number"))


class CategoricalAccuracy(_MeanOf):
    """How often the arg-max matches one-hot targets; see :func:`categorical_accuracy`."""
    direction = "up"

    fn = staticmethod(categorical_accuracy)


class SparseCategoricalAccuracy(_MeanOf):
    """How often the arg-max matches integer labels; see :func:`sparse_categorical_accuracy`."""
    direction = "up"

    fn = staticmethod(sparse_categorical_accuracy)


class TopKCategoricalAccuracy(MeanMetricWrapper):
    """How often a one-hot target is among the top ``k``; see
    :func:`top_k_categorical_accuracy`."""
    direction = "up"

    def __init__(self, k: int = 5, name: str = "top_k_categorical_accuracy",
                 dtype: Any = None) -> None:
        super().__init__(top_k_categorical_accuracy, name, dtype,
                         k=typed_arg(name, "k", k, "integer"))


class SparseTopKCategoricalAccuracy(MeanMetricWrapper):
    """How often an integer label is among the top ``k``; see
    :func:`sparse_top_k_categorical_accuracy`."""
    direction = "up"

    def __init__(self, k: int = 5, name: str = "sparse_top_k_categorical_accuracy",
                 dtype: Any = None) -> None:
        super().__init__(sparse_top_k_categorical_accuracy, name, dtype,
                         k=typed_arg(name, "k", k, "integer"))
