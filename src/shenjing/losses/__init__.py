"""Loss objects, Keras style: ``loss = SparseCategoricalCrossentropy(from_logits=True)``, then
``loss(y_true, y_pred, sample_weight=None)`` gives a scalar Tensor to call ``backward()`` on.

Each class wraps a per-sample function of the same name in snake case (``mean_squared_error``,
``binary_crossentropy``...), which returns one loss per sample (the mean over the last axis, as
Keras does) and is built on the ops in :mod:`shenjing.functional.loss`. The object then weights
and reduces those values:

- ``'sum_over_batch_size'`` (default, Keras 3): ``sum(w * loss) / loss.size``. The divisor is the
  number of per-sample values, not the sum of the weights, as in Keras.
- ``'sum'``: ``sum(w * loss)``;  ``'none'``: the weighted per-sample values.
- ``'mean_with_sample_weight'``: ``sum(w * loss) / sum(w)``, a true weighted mean (without
  weights, as ``'sum_over_batch_size'``).

A padding mask carried by the prediction (``y_pred._keras_mask``, e.g. after
``Embedding(mask_zero=True)``) multiplies the weights, so padded steps add nothing, and the mean
divides by the number of unmasked values instead (Keras 3).

Targets may be NumPy arrays or Tensors; they never receive a gradient. As in Keras, a target that
differs from the prediction only by a trailing axis of size 1 ((N,) against (N, 1)) is reshaped
to the prediction's shape; any other mismatch is an error, never a silent broadcast.

>>> loss_fn = shenjing.losses.get("sparse_categorical_crossentropy")
>>> loss = loss_fn(labels, probabilities)
>>> loss.backward()
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .. import functional as F
from .base import (
    REDUCTIONS,
    Loss,
    LossFunctionWrapper,
    _FunctionWrapper,
    _snake,
    _sparse_labels,
    _target_shape,
    _weights,
    masked_weights,
)
from .hinges import CategoricalHinge, Hinge, SquaredHinge, categorical_hinge, hinge, squared_hinge
from .metric_learning import Circle, circle
from .probabilistic import (
    BinaryCrossentropy,
    BinaryFocalCrossentropy,
    CategoricalCrossentropy,
    CategoricalFocalCrossentropy,
    CategoricalGeneralizedCrossEntropy,
    KLDivergence,
    Poisson,
    SparseCategoricalCrossentropy,
    binary_crossentropy,
    binary_focal_crossentropy,
    categorical_crossentropy,
    categorical_focal_crossentropy,
    categorical_generalized_cross_entropy,
    kl_divergence,
    kld,
    poisson,
    sparse_categorical_crossentropy,
)
from .regression import (
    CosineSimilarity,
    Huber,
    LogCosh,
    MeanAbsoluteError,
    MeanAbsolutePercentageError,
    MeanSquaredError,
    MeanSquaredLogarithmicError,
    cosine_similarity,
    huber,
    log_cosh,
    mae,
    mape,
    mean_absolute_error,
    mean_absolute_percentage_error,
    mean_squared_error,
    mean_squared_logarithmic_error,
    mse,
    msle,
)
from .segmentation import Dice, Tversky, dice, tversky
from .sequence import CTC, ctc

# -- lookup ----------------------------------------------------------------------------------------
_CLASSES: tuple[type[LossFunctionWrapper], ...] = (
    MeanSquaredError, MeanAbsoluteError, MeanAbsolutePercentageError, Huber, BinaryCrossentropy,
    CategoricalCrossentropy, SparseCategoricalCrossentropy, MeanSquaredLogarithmicError,
    KLDivergence, Poisson, LogCosh, CosineSimilarity, Hinge, SquaredHinge, CategoricalHinge,
    BinaryFocalCrossentropy, CategoricalFocalCrossentropy, Dice, Tversky, CTC,
    CategoricalGeneralizedCrossEntropy, Circle,
)
# per-sample functions (ours and the functional ops) -> the class that wraps them
_FUNCTION_CLASSES: dict[Callable[..., Any], type[Loss]] = {
    **dict.fromkeys((mean_squared_error, F.mean_squared_error), MeanSquaredError),
    **dict.fromkeys((mean_absolute_error, F.mean_absolute_error), MeanAbsoluteError),
    mean_absolute_percentage_error: MeanAbsolutePercentageError,
    **dict.fromkeys((huber, F.huber), Huber),
    **dict.fromkeys((binary_crossentropy, F.binary_crossentropy), BinaryCrossentropy),
    **dict.fromkeys((categorical_crossentropy, F.categorical_crossentropy),
                    CategoricalCrossentropy),
    **dict.fromkeys((sparse_categorical_crossentropy, F.sparse_categorical_crossentropy),
                    SparseCategoricalCrossentropy),
    mean_squared_logarithmic_error: MeanSquaredLogarithmicError, kl_divergence: KLDivergence,
    poisson: Poisson, log_cosh: LogCosh, cosine_similarity: CosineSimilarity, hinge: Hinge,
    squared_hinge: SquaredHinge, categorical_hinge: CategoricalHinge,
    binary_focal_crossentropy: BinaryFocalCrossentropy,
    categorical_focal_crossentropy: CategoricalFocalCrossentropy, dice: Dice, tversky: Tversky,
    ctc: CTC, categorical_generalized_cross_entropy: CategoricalGeneralizedCrossEntropy,
    circle: Circle,
}
_FUNCTIONS = {fn.__name__: fn for fn in _FUNCTION_CLASSES if fn.__module__.startswith(__name__)}
LossFunctionWrapper._functions = _FUNCTIONS
_ALIASES = {"mse": MeanSquaredError, "mae": MeanAbsoluteError,
            "mape": MeanAbsolutePercentageError, "bce": BinaryCrossentropy,
            "huber_loss": Huber, "msle": MeanSquaredLogarithmicError, "kld": KLDivergence,
            "kullback_leibler_divergence": KLDivergence}


def _key(name: str) -> str:
    """'MeanSquaredError', 'mean_squared_error' and 'MEAN_SQUARED_ERROR' all give one key."""
    return name.replace("_", "").lower()


_BY_KEY: dict[str, type[Loss]] = {
    **{_key(cls.__name__): cls for cls in _CLASSES},
    **{_key(a): cls for a, cls in _ALIASES.items()},
}
KNOWN_NAMES = sorted({*_FUNCTIONS, *_ALIASES})


def get(identifier: Any) -> Loss | None:
    """Resolve a loss identifier to a :class:`Loss` object.

    Args:
        identifier: a name (``'mse'``, ``'mean_squared_error'``, ``'MeanSquaredError'``,
            ``'sparse_categorical_crossentropy'``...; case-insensitive), a ``Loss`` instance
            (returned as is) or class, a ``{'class_name', 'config'}`` dict, a function
            ``fn(y_true, y_pred)`` returning per-sample losses (wrapped in
            :class:`LossFunctionWrapper`), or None.

    Returns:
        A Loss, or None for None.

    Raises:
        ValueError: for an unknown name, listing the known ones.

    >>> get("categorical_crossentropy")
    CategoricalCrossentropy(name='categorical_crossentropy', ...)
    """
    if identifier is None or isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, Loss):
        return identifier()
    if isinstance(identifier, str):
        return _lookup(identifier)()
    if isinstance(identifier, dict):
        name = identifier.get("class_name", "")
        cls = LossFunctionWrapper if name == "LossFunctionWrapper" else _lookup(name)
        return cls.from_config(identifier.get("config", {}))
    if callable(identifier):
        cls = _FUNCTION_CLASSES.get(identifier)
        return cls() if cls is not None else LossFunctionWrapper(identifier)
    raise ValueError(f"cannot interpret {identifier!r} as a loss")


def _lookup(name: str) -> type[Loss]:
    cls = _BY_KEY.get(_key(name))
    if cls is None:
        raise ValueError(f"unknown loss {name!r}; known losses: {', '.join(KNOWN_NAMES)} "
                         "(or their CamelCase class names)")
    return cls


def serialize(loss: Loss) -> dict[str, Any]:
    """``{'class_name', 'config'}`` for a loss, JSON-ready; :func:`get` reads it back."""
    return {"class_name": type(loss).__name__, "config": loss.get_config()}


__all__ = [
    "BinaryCrossentropy", "BinaryFocalCrossentropy", "CTC", "CategoricalCrossentropy",
    "CategoricalFocalCrossentropy", "CategoricalGeneralizedCrossEntropy", "CategoricalHinge",
    "CosineSimilarity", "Dice", "Hinge",
    "Huber", "KLDivergence", "LogCosh", "Loss", "LossFunctionWrapper", "MeanAbsoluteError",
    "MeanAbsolutePercentageError", "MeanSquaredError", "MeanSquaredLogarithmicError",
    "Poisson", "SparseCategoricalCrossentropy", "SquaredHinge", "Tversky",
    "binary_crossentropy", "binary_focal_crossentropy", "categorical_crossentropy",
    "categorical_focal_crossentropy", "categorical_generalized_cross_entropy",
    "categorical_hinge", "cosine_similarity", "ctc", "dice",
    "get", "hinge", "huber", "kl_divergence", "kld", "log_cosh", "mae", "mape",
    "mean_absolute_error", "mean_absolute_percentage_error", "mean_squared_error",
    "mean_squared_logarithmic_error", "mse", "msle", "poisson", "serialize",
    "sparse_categorical_crossentropy", "squared_hinge", "tversky",
]
