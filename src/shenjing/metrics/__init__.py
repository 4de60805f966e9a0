"""Streaming metrics, Keras style: ``update_state(y_true, y_pred, sample_weight=None)`` once per
batch, ``result()`` for the value so far (a Python float), ``reset_state()`` between epochs.

Metrics read raw arrays (a Tensor's ``.data``) and record no graph. They accumulate in float64,
so a long epoch of float32 batches loses nothing, and streaming over batches gives the same
value as one call on all the data. Sparse labels may be shaped (N,) or (N, 1).

``get('accuracy', loss=..., output_shape=...)`` picks the accuracy the loss implies, as
``compile(metrics=['accuracy'])`` does in Keras.

>>> m = SparseCategoricalAccuracy()
>>> m.update_state(np.array([0, 1]), np.array([[0.9, 0.1], [0.8, 0.2]]))
>>> m.result()
0.5
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .. import losses
from ..losses import _key
from .accuracy import (
    Accuracy,
    BinaryAccuracy,
    CategoricalAccuracy,
    SparseCategoricalAccuracy,
    SparseTopKCategoricalAccuracy,
    TopKCategoricalAccuracy,
    acc,
    accuracy,
    binary_accuracy,
    categorical_accuracy,
    sparse_categorical_accuracy,
    sparse_top_k_categorical_accuracy,
    top_k_categorical_accuracy,
)
from .base import Mean, MeanMetricWrapper, Metric, Sum, _np
from .confusion import (
    AUC,
    FalseNegatives,
    FalsePositives,
    Precision,
    Recall,
    TrueNegatives,
    TruePositives,
)
from .constrained import (
    PrecisionAtRecall,
    RecallAtPrecision,
    SensitivityAtSpecificity,
    SpecificityAtSensitivity,
)
from .f_score import F1Score, FBetaScore
from .iou import BinaryIoU, IoU, MeanIoU, OneHotIoU, OneHotMeanIoU
from .loss_metrics import (
    BinaryCrossentropy,
    CategoricalCrossentropy,
    CategoricalHinge,
    Hinge,
    KLDivergence,
    Poisson,
    SparseCategoricalCrossentropy,
    SquaredHinge,
    binary_crossentropy,
    categorical_crossentropy,
    categorical_hinge,
    hinge,
    kl_divergence,
    kld,
    poisson,
    sparse_categorical_crossentropy,
    squared_hinge,
)
from .regression import (
    ConcordanceCorrelation,
    CosineSimilarity,
    LogCoshError,
    MeanAbsoluteError,
    MeanAbsolutePercentageError,
    MeanSquaredError,
    MeanSquaredLogarithmicError,
    PearsonCorrelation,
    R2Score,
    RootMeanSquaredError,
    concordance_correlation,
    cosine_similarity,
    log_cosh,
    mae,
    mape,
    mean_absolute_error,
    mean_absolute_percentage_error,
    mean_squared_error,
    mean_squared_logarithmic_error,
    mse,
    msle,
    pearson_correlation,
)


class _InferredAccuracy(Metric):
    """'accuracy' whose kind (binary, categorical, sparse) is chosen from the shapes of the
    first batch, when :func:`get` could not tell from the loss and the output shape."""
    direction = "up"

    def __init__(self, name: str = "accuracy") -> None:
        self.metric: Metric | None = None
        super().__init__(name=name)

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        if self.metric is None:
            kind = _kind_from_shapes(np.shape(_np(y_pred)), np.shape(_np(y_true)))
            self.metric = _ACCURACIES[kind](name=self.name)
        self.metric.update_state(y_true, y_pred, sample_weight)

    def result(self) -> float:
        return self.metric.result() if self.metric is not None else 0.0

    def reset_state(self) -> None:
        if self.metric is not None:
            self.metric.reset_state()


# -- lookup ----------------------------------------------------------------------------------------
_ACCURACIES: dict[str, type[Metric]] = {
    "binary": BinaryAccuracy, "categorical": CategoricalAccuracy,
    "sparse": SparseCategoricalAccuracy,
}
_LOSS_KINDS = {
    losses.binary_crossentropy: "binary", losses.categorical_crossentropy: "categorical",
    losses.sparse_categorical_crossentropy: "sparse",
}
_CLASSES: tuple[type[Metric], ...] = (
    Accuracy, BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy,
    TopKCategoricalAccuracy, SparseTopKCategoricalAccuracy, MeanSquaredError,
    RootMeanSquaredError, MeanAbsoluteError, MeanAbsolutePercentageError,
    MeanSquaredLogarithmicError, KLDivergence, Poisson, LogCoshError, CosineSimilarity, Hinge,
    SquaredHinge, CategoricalHinge, BinaryCrossentropy, CategoricalCrossentropy,
    SparseCategoricalCrossentropy, Precision, Recall, TruePositives, FalsePositives,
    TrueNegatives, FalseNegatives, AUC, FBetaScore, F1Score, R2Score, Mean, Sum,
    MeanMetricWrapper, IoU, MeanIoU, BinaryIoU, OneHotIoU, OneHotMeanIoU,
    SensitivityAtSpecificity, SpecificityAtSensitivity, PrecisionAtRecall, RecallAtPrecision,
    PearsonCorrelation, ConcordanceCorrelation,
)
_FUNCTIONS = {fn.__name__: fn for fn in (
    accuracy, binary_accuracy, categorical_accuracy, sparse_categorical_accuracy,
    top_k_categorical_accuracy, sparse_top_k_categorical_accuracy, mean_squared_error,
    mean_absolute_error, mean_absolute_percentage_error, mean_squared_logarithmic_error,
    kl_divergence, poisson, log_cosh, cosine_similarity, hinge, squared_hinge,
    categorical_hinge, binary_crossentropy, categorical_crossentropy,
    sparse_categorical_crossentropy, pearson_correlation, concordance_correlation)}
MeanMetricWrapper._functions = _FUNCTIONS
# IoU and its kin need num_classes, the rates at a constraint its value: by class name in
# configs, not by a bare string
_NEED_ARGUMENTS = (Accuracy, MeanMetricWrapper, IoU, MeanIoU, OneHotIoU, OneHotMeanIoU,
                   SensitivityAtSpecificity, SpecificityAtSensitivity, PrecisionAtRecall,
                   RecallAtPrecision)
_BY_KEY: dict[str, type[Metric]] = {
    **{_key(cls.__name__): cls for cls in _CLASSES if cls not in _NEED_ARGUMENTS},
    "mse": MeanSquaredError, "mae": MeanAbsoluteError, "mape": MeanAbsolutePercentageError,
    "msle": MeanSquaredLogarithmicError, "kld": KLDivergence,
    _key("kullback_leibler_divergence"): KLDivergence, "logcosh": LogCoshError,
    "rmse": RootMeanSquaredError, "bce": BinaryCrossentropy,
}
# how a metric named by a string reads logits: probability 0.5 is logit 0; AUC takes a sigmoid
_ON_LOGITS: dict[type[Metric], dict[str, Any]] = {
    BinaryAccuracy: {"threshold": 0.0}, Precision: {"thresholds": 0.0},
    Recall: {"thresholds": 0.0}, AUC: {"from_logits": True},
    BinaryCrossentropy: {"from_logits": True},
    **dict.fromkeys((TruePositives, FalsePositives, TrueNegatives, FalseNegatives),
                    {"thresholds": 0.0}),
}
KNOWN_NAMES = sorted({"accuracy", "acc", "mse", "mae", "mape", "msle", "kld", "logcosh",
                      "rmse", "bce", "mean", "sum", "precision", "recall", "auc", "f1_score",
                      "fbeta_score", "r2_score", "root_mean_squared_error", "true_positives",
                      "false_positives", "true_negatives", "false_negatives", "binary_io_u",
                      *(n for n in _FUNCTIONS if n != "accuracy")})


def _loss_kind(loss: Any) -> str | None:
    """'binary', 'categorical' or 'sparse' for a cross-entropy loss (any spelling), else None."""
    try:
        fn = getattr(losses.get(loss), "fn", None)
    except (ValueError, TypeError):
        return None
    return _LOSS_KINDS.get(fn) if fn is not None else None


def _binary_from_logits(loss: Any) -> bool:
    """Whether ``loss`` is binary cross-entropy on logits (``from_logits=True``)."""
    return _loss_kind(loss) == "binary" and bool(getattr(losses.get(loss), "from_logits", False))


def _kind_from_shapes(pred_shape: Sequence[Any] | None,
                      true_shape: Sequence[Any] | None) -> str | None:
    """Keras's rule: one output per sample is binary; labels with a trailing 1 or one axis fewer
    than many-class outputs are sparse; otherwise categorical. None when it cannot tell yet."""
    if pred_shape is None:
        return None
    if len(pred_shape) <= 1 or pred_shape[-1] == 1:
        return "binary"
    if true_shape is None:
        return None
    if len(true_shape) < len(pred_shape) or tuple(true_shape)[-1:] == (1,):
        return "sparse"
    return "categorical"


def get(identifier: Any, loss: Any = None, output_shape: Sequence[Any] | None = None,
        target_shape: Sequence[Any] | None = None) -> Metric | None:
    """Resolve a metric identifier to a :class:`Metric`, as ``compile(metrics=[...])`` does.

    ``'accuracy'`` (or ``'acc'``) becomes the accuracy the loss implies: sparse categorical
    cross-entropy gives :class:`SparseCategoricalAccuracy`, categorical cross-entropy
    :class:`CategoricalAccuracy`, binary cross-entropy :class:`BinaryAccuracy`. Otherwise the
    shapes decide: one output per sample is binary; labels with a trailing axis of size 1, or
    with fewer axes than the outputs, are sparse; labels shaped like the outputs are
    categorical. When the shapes are not known yet, the choice is made at the first
    ``update_state``. When the loss is binary cross-entropy with ``from_logits=True``, the
    thresholded metrics named by a string (binary accuracy, precision, recall) threshold the
    logits at 0, which is probability 0.5, and ``'auc'`` puts them through a sigmoid.

    Both rules are tf.keras 2's, on purpose: Keras 3 decides by shapes alone, so three
    sigmoid outputs trained with binary cross-entropy (multi-label) get categorical accuracy
    there, and logits are thresholded at 0.5 as if they were probabilities.

    Args:
        identifier: a name (``'accuracy'``, ``'mse'``, ``'mae'``, ``'precision'``, ``'recall'``,
            ``'auc'``, ``'f1_score'``, ``'fbeta_score'``,
            ``'sparse_categorical_accuracy'``, ``'top_k_categorical_accuracy'``...;
            case-insensitive, CamelCase class names too), a ``Metric`` instance or class, a
            ``{'class_name', 'config'}`` dict, a per-sample function (wrapped in
            :class:`MeanMetricWrapper`), or None.
        loss: the compiled loss (a name, function or Loss object), used for ``'accuracy'``
            and for thresholds on logits.
        output_shape: the shape of the model's predictions (the batch axis may be None).
        target_shape: the shape of the targets, if known.

    Returns:
        A Metric named as the string given (Keras's log keys), or None for None.

    Raises:
        ValueError: for an unknown name, listing the known ones.

    >>> get("accuracy", loss="sparse_categorical_crossentropy")
    SparseCategoricalAccuracy(name='accuracy', result=0.0)
    """
    if identifier is None or isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, Metric):
        return identifier()
    if isinstance(identifier, dict):
        name = identifier.get("class_name")
        cls = next((c for c in _CLASSES if c.__name__ == name), None)
        if cls is None:
            raise ValueError(f"unknown metric class {name!r}; known: "
                             f"{', '.join(c.__name__ for c in _CLASSES)}")
        return cls.from_config(identifier.get("config", {}))
    if isinstance(identifier, str):
        if identifier.lower() in ("accuracy", "acc"):
            kind = _loss_kind(loss) or _kind_from_shapes(output_shape, target_shape)
            if kind is None:
                return _InferredAccuracy(identifier)
            cls = _ACCURACIES[kind]
        else:
            cls = _BY_KEY.get(_key(identifier))
            if cls is None:
                raise ValueError(f"unknown metric {identifier!r}; known metrics: "
                                 f"{', '.join(KNOWN_NAMES)} (or their CamelCase class names)")
        on_logits = _ON_LOGITS.get(cls, {}) if _binary_from_logits(loss) else {}
        return cls(name=identifier, **on_logits)
    if callable(identifier):
        return MeanMetricWrapper(identifier)
    raise ValueError(f"cannot interpret {identifier!r} as a metric")


__all__ = [
    "AUC", "Accuracy", "BinaryAccuracy", "BinaryCrossentropy", "BinaryIoU", "CategoricalAccuracy",
    "CategoricalCrossentropy", "CategoricalHinge", "ConcordanceCorrelation", "CosineSimilarity",
    "F1Score", "FBetaScore", "FalseNegatives", "FalsePositives", "Hinge", "IoU", "KLDivergence",
    "LogCoshError", "Mean", "MeanAbsoluteError", "MeanAbsolutePercentageError", "MeanIoU",
    "MeanMetricWrapper", "MeanSquaredError", "MeanSquaredLogarithmicError", "Metric", "OneHotIoU",
    "OneHotMeanIoU", "PearsonCorrelation", "Poisson", "Precision", "PrecisionAtRecall", "R2Score",
    "Recall", "RecallAtPrecision", "RootMeanSquaredError", "SensitivityAtSpecificity",
    "SparseCategoricalAccuracy", "SparseCategoricalCrossentropy", "SparseTopKCategoricalAccuracy",
    "SpecificityAtSensitivity", "SquaredHinge", "Sum", "TopKCategoricalAccuracy", "TrueNegatives",
    "TruePositives", "accuracy", "binary_accuracy", "binary_crossentropy", "categorical_accuracy",
    "categorical_crossentropy", "categorical_hinge", "concordance_correlation", "cosine_similarity",
    "get", "hinge", "kl_divergence", "kld", "log_cosh", "mae", "mape", "mean_absolute_error",
    "mean_absolute_percentage_error", "mean_squared_error", "mean_squared_logarithmic_error", "mse",
    "msle", "pearson_correlation", "poisson", "sparse_categorical_accuracy",
    "sparse_categorical_crossentropy", "sparse_top_k_categorical_accuracy", "squared_hinge",
    "top_k_categorical_accuracy",
]

