"""Metrics that are the per-sample losses of :mod:`shenjing.losses` under Keras's metric
names, run in float64: Kullback-Leibler divergence, Poisson, the hinge losses and the
cross-entropies."""

from __future__ import annotations

from typing import Any

from .. import losses
from .._checks import typed_arg
from .base import MeanMetricWrapper, _from_loss, _MeanOf

kl_divergence = _from_loss(losses.kl_divergence)
poisson = _from_loss(losses.poisson)
hinge = _from_loss(losses.hinge)
squared_hinge = _from_loss(losses.squared_hinge)
categorical_hinge = _from_loss(losses.categorical_hinge)
binary_crossentropy = _from_loss(losses.binary_crossentropy)
categorical_crossentropy = _from_loss(losses.categorical_crossentropy)
sparse_categorical_crossentropy = _from_loss(losses.sparse_categorical_crossentropy)

kld = kl_divergence


class KLDivergence(_MeanOf):
    """Mean Kullback-Leibler divergence; see :func:`shenjing.losses.kl_divergence`."""
    direction = "down"

    fn = staticmethod(kl_divergence)


class Poisson(_MeanOf):
    """Mean Poisson loss; see :func:`shenjing.losses.poisson`."""
    direction = "down"

    fn = staticmethod(poisson)


class Hinge(_MeanOf):
    """Mean hinge loss; see :func:`shenjing.losses.hinge`."""
    direction = "down"

    fn = staticmethod(hinge)


class SquaredHinge(_MeanOf):
    """Mean squared hinge loss; see :func:`shenjing.losses.squared_hinge`."""
    direction = "down"

    fn = staticmethod(squared_hinge)


class CategoricalHinge(_MeanOf):
    """Mean categorical hinge loss; see :func:`shenjing.losses.categorical_hinge`."""
    direction = "down"

    fn = staticmethod(categorical_hinge)


class BinaryCrossentropy(MeanMetricWrapper):
    """Mean binary cross-entropy; see :func:`shenjing.losses.binary_crossentropy`."""
    direction = "down"

    def __init__(self, name: str = "binary_crossentropy", dtype: Any = None,
                 from_logits: bool = False, label_smoothing: float = 0.0) -> None:
        super().__init__(binary_crossentropy, name, dtype,
                         from_logits=typed_arg(name, "from_logits", from_logits, "bool"),
                         label_smoothing=typed_arg(name, "label_smoothing", label_smoothing,
                                                   "number"))


class CategoricalCrossentropy(MeanMetricWrapper):
    """Mean categorical cross-entropy; see :func:`shenjing.losses.categorical_crossentropy`."""
    direction = "down"

    def __init__(self, name: str = "categorical_crossentropy", dtype: Any = None,
                 from_logits: bool = False, label_smoothing: float = 0.0, axis: int = -1) -> None:
        super().__init__(categorical_crossentropy, name, dtype,
                         from_logits=typed_arg(name, "from_logits", from_logits, "bool"),
                         label_smoothing=typed_arg(name, "label_smoothing", label_smoothing,
                                                   "number"),
                         axis=typed_arg(name, "axis", axis, "integer"))


class SparseCategoricalCrossentropy(MeanMetricWrapper):
    """Mean cross-entropy against integer labels; see
    :func:`shenjing.losses.sparse_categorical_crossentropy`."""
    direction = "down"

    def __init__(self, name: str = "sparse_categorical_crossentropy", dtype: Any = None,
                 from_logits: bool = False, axis: int = -1) -> None:
        super().__init__(sparse_categorical_crossentropy, name, dtype,
                         from_logits=typed_arg(name, "from_logits", from_logits, "bool"),
                         axis=typed_arg(name, "axis", axis, "integer"))
