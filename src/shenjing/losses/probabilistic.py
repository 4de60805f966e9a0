"""Losses between distributions: the binary, categorical and sparse cross-entropies, their
focal forms, the generalized cross-entropy, Kullback-Leibler divergence and Poisson."""

from __future__ import annotations

from typing import Any

from .. import functional as F
from .._checks import typed_arg
from ..autograd import Tensor
from ..backend import get_xp
from ..functional._util import axis_index, class_ids
from ..functional.loss import EPSILON, _binary
from .base import (
    LossFunctionWrapper,
    _as_pred,
    _mean_last,
    _OneFunction,
    _prepare,
    _sparse_labels,
)


def binary_crossentropy(y_true: Any, y_pred: Any, from_logits: bool = False,
                        label_smoothing: float = 0.0, axis: int = -1) -> Tensor:
    """Per-sample binary cross-entropy, averaged over ``axis``.

    Args:
        y_true: targets in [0, 1], shaped like ``y_pred``.
        y_pred: probabilities, or logits when ``from_logits``.
        from_logits: use the fused, overflow-free form on logits.
        label_smoothing: squeeze targets towards 0.5: ``t (1 - s) + s / 2`` (Keras).
        axis: the axis averaged over (Keras 3's; the last by default).

    Returns:
        One loss per sample, shaped as for :func:`mean_squared_error` (without ``axis``).
    """
    t, p = _prepare(y_true, y_pred)
    if label_smoothing:
        t = t * (1.0 - label_smoothing) + 0.5 * label_smoothing
    return _mean_last(_binary(t, p, from_logits), axis)


def categorical_crossentropy(
    y_true: Any,
    y_pred: Any,
    from_logits: bool = False,
    label_smoothing: float = 0.0,
    axis: int = -1,
) -> Tensor:
    """Per-sample ``-sum(t log p, axis)`` for one-hot (or soft) targets.

    Args:
        y_true: one-hot or soft targets, shaped like ``y_pred``.
        y_pred: probabilities (renormalized and clipped to [1e-7, 1 - 1e-7] as Keras does), or
            logits when ``from_logits``.
        from_logits: use the fused softmax form on logits.
        label_smoothing: mix targets with the uniform distribution: ``t (1 - s) + s / K`` over
            ``K`` classes (Keras; also torch's ``cross_entropy(label_smoothing=s)``).
        axis: the class axis.

    Returns:
        One loss per sample: ``y_pred``'s shape without ``axis``.
    """
    return F.categorical_crossentropy(*_prepare(y_true, y_pred), from_logits=from_logits,
                                      label_smoothing=label_smoothing, axis=axis, reduction="none")


def sparse_categorical_crossentropy(y_true: Any, y_pred: Any, from_logits: bool = False,
                                    ignore_class: int | None = None, axis: int = -1) -> Tensor:
    """Per-sample cross-entropy against integer class labels.

    Args:
        y_true: class ids shaped as ``y_pred`` without ``axis``, or that plus a trailing 1
            (Keras's CIFAR-10 labels are (N, 1)).
        y_pred: probabilities, or logits when ``from_logits``, classes along ``axis``.
        from_logits: use the fused softmax form on logits.
        ignore_class: a label (e.g. a segmentation 'void' class, -1 or 255) whose entries
            get loss 0 and are marked in the result's mask (``_keras_mask``), so that a loss
            object's mean divides by the number of the other entries (Keras 3; torch's
            ``ignore_index``).
        axis: the class axis of ``y_pred`` (Keras 3's; e.g. 1 for (N, C, H, W) scores).

    Returns:
        One loss per sample, shaped as ``y_pred`` without ``axis`` (e.g. (batch, time) for
        sequences).
    """
    y_pred = _as_pred(y_pred)
    axis = typed_arg("sparse_categorical_crossentropy", "axis", axis, "integer")
    if y_pred.ndim > 1 and (axis := axis_index(axis, y_pred.ndim)) != y_pred.ndim - 1:
        y_pred = F.transpose(y_pred, [a for a in range(y_pred.ndim) if a != axis] + [axis])
    labels = _sparse_labels(y_true, y_pred.shape, "sparse_categorical_crossentropy",
                            like=y_pred.data)
    valid = None
    if ignore_class is not None:
        xp = get_xp(labels)
        valid = labels != ignore_class
        labels = xp.where(valid, labels, 0)
    flat = y_pred if y_pred.ndim == 2 else y_pred.reshape(-1, y_pred.shape[-1])
    per = F.sparse_categorical_crossentropy(labels.reshape(-1), flat, from_logits=from_logits,
                                            reduction="none")
    per = per if y_pred.ndim == 2 else per.reshape(y_pred.shape[:-1])
    if valid is not None:
        per = per * Tensor(valid, dtype=per.dtype)
        per._keras_mask = valid
    return per


def kl_divergence(y_true: Any, y_pred: Any) -> Tensor:
    """Per-sample Kullback-Leibler divergence ``sum(t log(t / p), axis=-1)``, with both
    distributions clipped to [1e-7, 1] first (Keras), so a zero of either adds nothing wrong.

    Returns:
        One value per sample, ``y_pred.shape[:-1]`` (a scalar for 1-D inputs).
    """
    t, p = _prepare(y_true, y_pred)
    t, p = F.clip(t, EPSILON, 1.0), F.clip(p, EPSILON, 1.0)
    return F.sum(t * F.log(t / p), axis=-1)


def poisson(y_true: Any, y_pred: Any) -> Tensor:
    """Per-sample Poisson loss ``mean(p - t log(p + 1e-7), axis=-1)`` for predicted rates
    ``p >= 0`` (Keras's; torch's ``poisson_nll_loss(log_input=False, eps=1e-7)`` up to its
    Stirling term)."""
    t, p = _prepare(y_true, y_pred)
    return _mean_last(p - t * F.log(p + EPSILON))


def binary_focal_crossentropy(y_true: Any, y_pred: Any, apply_class_balancing: bool = False,
                              alpha: float = 0.25, gamma: float = 2.0, from_logits: bool = False,
                              label_smoothing: float = 0.0, axis: int = -1) -> Tensor:
    """Per-sample focal loss (Lin et al., 2017) for 0/1 targets, averaged over ``axis``:
    ``(1 - p_t)**gamma * bce``, where ``p_t = t p + (1 - t)(1 - p)``, so well-classified
    elements count less; with ``apply_class_balancing`` also times ``alpha`` for positives and
    ``1 - alpha`` for negatives (Keras 3's formula: logits go through a sigmoid, then the
    clipped binary cross-entropy of :func:`binary_crossentropy`).

    Args:
        y_true: targets in [0, 1], shaped like ``y_pred``.
        y_pred: probabilities, or logits when ``from_logits``.
        apply_class_balancing: weight by ``alpha`` / ``1 - alpha``.
        alpha: the weight of positives when balancing.
        gamma: the focusing power; 0 gives binary cross-entropy.
        from_logits: ``y_pred`` are logits.
        label_smoothing: squeeze targets towards 0.5: ``t (1 - s) + s / 2``.
        axis: the axis averaged over (the last by default).
    """
    t, p = _prepare(y_true, y_pred)
    if label_smoothing:
        t = t * (1.0 - label_smoothing) + 0.5 * label_smoothing
    if from_logits:
        p = F.sigmoid(p)
    q = F.clip(p, EPSILON, 1.0 - EPSILON)
    bce = -(t * F.log(q) + (1.0 - t) * F.log(1.0 - q))
    p_t = t * p + (1.0 - t) * (1.0 - p)
    focal = (1.0 - p_t) ** gamma * bce
    if apply_class_balancing:
        focal = (t * alpha + (1.0 - t) * (1.0 - alpha)) * focal
    return _mean_last(focal, axis)


def categorical_focal_crossentropy(y_true: Any, y_pred: Any, alpha: float = 0.25,
                                   gamma: float = 2.0, from_logits: bool = False,
                                   label_smoothing: float = 0.0, axis: int = -1) -> Tensor:
    """Per-sample categorical focal loss ``-sum(alpha (1 - p)**gamma t log p, axis)`` for
    one-hot (or soft) targets (Keras 3's: ``p`` is the softmax of logits, or probabilities
    renormalized and clipped to [1e-7, 1 - 1e-7]).

    Args:
        y_true: one-hot or soft targets, shaped like ``y_pred``.
        y_pred: probabilities, or logits when ``from_logits``.
        alpha: a weight on every class's term.
        gamma: the focusing power; 0 gives ``alpha`` times categorical cross-entropy.
        from_logits: ``y_pred`` are logits.
        label_smoothing: mix targets with the uniform distribution over the classes.
        axis: the class axis.

    Returns:
        One value per sample: ``y_pred``'s shape without ``axis``.
    """
    t, p = _prepare(y_true, y_pred)
    if label_smoothing:
        t = t * (1.0 - label_smoothing) + label_smoothing / p.shape[axis]
    if from_logits:
        p = F.softmax(p, axis=axis)
    p = F.clip(p / F.sum(p, axis=axis, keepdims=True), EPSILON, 1.0 - EPSILON)
    return F.sum(alpha * (1.0 - p) ** gamma * (-t * F.log(p)), axis=axis)


def categorical_generalized_cross_entropy(y_true: Any, y_pred: Any, q: float) -> Tensor:
    """Per-sample generalized cross-entropy (Zhang & Sabuncu, 2018) for integer labels, Keras
    3's: ``(1 - p**q) / q``, ``p`` the predicted probability of the true class; towards the
    cross-entropy as ``q`` goes to 0, the mean absolute error at 1, and robust to noisy labels
    in between.

    Args:
        y_true: class ids shaped ``y_pred.shape[:-1]``, or that plus a trailing 1.
        y_pred: probabilities, the classes on the last axis.
        q: in (0, 1).

    Returns:
        One value per sample, ``y_pred.shape[:-1]``.
    """
    y_pred = _as_pred(y_pred)
    name = "categorical_generalized_cross_entropy"
    labels = _sparse_labels(y_true, y_pred.shape, name, like=y_pred.data)
    ids, _ = class_ids(labels.reshape(-1), y_pred.shape[-1], name)
    p = F.take_along_axis(y_pred, ids.reshape(labels.shape)[..., None], axis=-1)[..., 0]
    return (1.0 - p**q) / q


kld = kl_divergence


class KLDivergence(_OneFunction):
    """Kullback-Leibler divergence of ``y_pred`` from ``y_true``; see :func:`kl_divergence`.

    >>> KLDivergence()(np.array([[0.5, 0.5]]), Tensor([[0.5, 0.5]]))
    Tensor(0.)
    """

    fn = staticmethod(kl_divergence)


class Poisson(_OneFunction):
    """Poisson loss for predicted rates; see :func:`poisson`."""

    fn = staticmethod(poisson)


class BinaryCrossentropy(LossFunctionWrapper):
    """Binary cross-entropy for 0/1 targets; see :func:`binary_crossentropy`.

    >>> BinaryCrossentropy(from_logits=True)(np.array([[1.0]]), Tensor([[0.0]]))  # ln 2
    Tensor(0.6931472)
    """

    def __init__(self, from_logits: bool = False, label_smoothing: float = 0.0, axis: int = -1,
                 reduction: str | None = "sum_over_batch_size",
                 name: str = "binary_crossentropy", dtype: Any = None) -> None:
        super().__init__(binary_crossentropy, reduction=reduction, name=name, dtype=dtype,
                         from_logits=from_logits, label_smoothing=label_smoothing,
                         axis=typed_arg(name, "axis", axis, "integer"))


class CategoricalCrossentropy(LossFunctionWrapper):
    """Cross-entropy for one-hot or soft targets; see :func:`categorical_crossentropy`."""

    def __init__(self, from_logits: bool = False, label_smoothing: float = 0.0, axis: int = -1,
                 reduction: str | None = "sum_over_batch_size",
                 name: str = "categorical_crossentropy", dtype: Any = None) -> None:
        super().__init__(categorical_crossentropy, reduction=reduction, name=name, dtype=dtype,
                         from_logits=from_logits, label_smoothing=label_smoothing,
                         axis=typed_arg(name, "axis", axis, "integer"))


class SparseCategoricalCrossentropy(LossFunctionWrapper):
    """Cross-entropy for integer labels, (N,) or (N, 1); see
    :func:`sparse_categorical_crossentropy`.

    >>> loss_fn = SparseCategoricalCrossentropy(from_logits=True)
    >>> loss_fn(np.array([0, 1]), Tensor([[2.0, 0.0], [0.0, 2.0]]))
    Tensor(0.126928...)
    """

    def __init__(self, from_logits: bool = False, ignore_class: int | None = None,
                 reduction: str | None = "sum_over_batch_size",
                 name: str = "sparse_categorical_crossentropy", dtype: Any = None) -> None:
        super().__init__(sparse_categorical_crossentropy, reduction=reduction, name=name,
                         dtype=dtype, from_logits=from_logits, ignore_class=ignore_class)


class BinaryFocalCrossentropy(LossFunctionWrapper):
    """Focal loss for 0/1 targets, which down-weights well-classified elements; see
    :func:`binary_focal_crossentropy`."""

    def __init__(self, apply_class_balancing: bool = False, alpha: float = 0.25,
                 gamma: float = 2.0, from_logits: bool = False, label_smoothing: float = 0.0,
                 axis: int = -1, reduction: str | None = "sum_over_batch_size",
                 name: str = "binary_focal_crossentropy", dtype: Any = None) -> None:
        super().__init__(binary_focal_crossentropy, reduction=reduction, name=name, dtype=dtype,
                         apply_class_balancing=apply_class_balancing, alpha=alpha, gamma=gamma,
                         from_logits=from_logits, label_smoothing=label_smoothing,
                         axis=typed_arg(name, "axis", axis, "integer"))


class CategoricalFocalCrossentropy(LossFunctionWrapper):
    """Focal loss for one-hot targets; see :func:`categorical_focal_crossentropy`."""

    def __init__(self, alpha: float = 0.25, gamma: float = 2.0, from_logits: bool = False,
                 label_smoothing: float = 0.0, axis: int = -1,
                 reduction: str | None = "sum_over_batch_size",
                 name: str = "categorical_focal_crossentropy", dtype: Any = None) -> None:
        super().__init__(categorical_focal_crossentropy, reduction=reduction, name=name,
                         dtype=dtype, alpha=alpha, gamma=gamma, from_logits=from_logits,
                         label_smoothing=label_smoothing,
                         axis=typed_arg(name, "axis", axis, "integer"))


class CategoricalGeneralizedCrossEntropy(LossFunctionWrapper):
    """Generalized cross-entropy for integer labels, robust to noisy ones; see
    :func:`categorical_generalized_cross_entropy`.

    >>> CategoricalGeneralizedCrossEntropy(q=0.5)(np.array([0]), Tensor([[0.25, 0.75]]))
    Tensor(1.)
    """

    def __init__(self, q: float = 0.5, reduction: str | None = "sum_over_batch_size",
                 name: str = "categorical_generalized_cross_entropy", dtype: Any = None) -> None:
        if isinstance(q, bool) or not isinstance(q, (int, float)) or not 0 < q < 1:
            raise ValueError(f"{name}: q must lie in the interval (0, 1), got {q!r}")
        super().__init__(categorical_generalized_cross_entropy, reduction=reduction, name=name,
                         dtype=dtype, q=q)
